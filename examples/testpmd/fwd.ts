// testpmd's forwarding engines, run on each forwarding lcore (app/test-pmd/{iofwd,macfwd,macswap,rxonly,txonly,csumonly}.c).
//
// An lcore polls its streams, each (RX port, RX queue) -> (TX port, TX queue), round-robin until the main lcore sets
// the lcore's stop word in the "testpmd_fwd" memzone. There is one loop and one burst function per engine, so each
// call site sees one function (monomorphic). Nothing is allocated in the loops: stream parameters sit in typed
// arrays, one burst array is reused, and the per-stream counters are f64 words of the memzone that the main lcore
// reads for its statistics.
import { mem, memzoneLookup, lcoreId } from '../../src/eal/index.js';
import { rxBurst, txBurst } from '../../src/ethdev/ethdev.js';
import {
  M, mbufBind, pktmbufFreeBulk, pktmbufAllocPackets, pktmbufAllocBurst, pktmbufFree,
  RX_IP_CKSUM_MASK, RX_IP_CKSUM_BAD, RX_L4_CKSUM_MASK, RX_L4_CKSUM_BAD, TX_IPV4, TX_IPV6, TX_IP_CKSUM, TX_UDP_CKSUM, TX_TCP_CKSUM,
} from '../../src/mempool/mbuf.js';
import { mempoolLookup, type Mempool } from '../../src/mempool/mempool.js';
import { TX_OFFLOAD_IPV4_CKSUM, TX_OFFLOAD_UDP_CKSUM, TX_OFFLOAD_TCP_CKSUM } from '../../src/pmd/driver.js';
import type { FwdMode } from './params.js';

export const ZONE = 'testpmd_fwd';
export const MAX_PORTS = 32;
export const MAX_STREAMS = MAX_PORTS * 16;
export const MAX_FWD_LCORES = 128;
/** i32 index of forwarding lcore slot i's stop word: 0 forward, 1 stop */
export const CTL_STOP = 0;
/** i32 index of slot i's running word: the lcore sets it to 1 when it enters its forwarding loop */
export const CTL_RUNNING = MAX_FWD_LCORES;
/** byte offset of the stream counters (f64 words) in the memzone */
export const STATS_OFF = 2 * MAX_FWD_LCORES * 4;
/** f64 words per stream */
export const SW = 8;
export const FS_RX = 0;
export const FS_TX = 1;
export const FS_DROP = 2;
export const FS_BAD_IP = 3;
export const FS_BAD_L4 = 4;
export const FS_BAD_OUTER_L4 = 5;
export const FS_BAD_OUTER_IP = 6;
export const ZONE_BYTES = STATS_OFF + MAX_STREAMS * SW * 8;

export interface StreamSpec {
  /** index of the stream's counters */
  id: number;
  rxPort: number;
  rxQueue: number;
  txPort: number;
  txQueue: number;
}

export interface FwdLaunch {
  engine: FwdMode;
  /** forwarding lcore index: its stop word */
  slot: number;
  streams: StreamSpec[];
  burst: number;
  /** bursts of txonly packets to send on every stream before forwarding (start tx_first N) */
  txFirst: number;
  /** txonly segment lengths */
  txPkts: number[];
  pool: string;
  /** MAC of every port id (6 bytes; empty for no port) */
  macs: number[][];
  /** peer MAC (the destination address) of every port id */
  peers: number[][];
  /** TX_OFFLOAD_* enabled on every port id (csum uses the checksum ones) */
  txOffloads: number[];
}

/** Everything a burst function reads, as fields of one object of one shape. */
class Ctx {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly st: Float64Array;
  readonly ctl: Int32Array;
  readonly slot: number;
  readonly n: number;
  readonly rxp: Int32Array;
  readonly rxq: Int32Array;
  readonly txp: Int32Array;
  readonly txq: Int32Array;
  /** f64 index of each stream's counters */
  readonly sb: Int32Array;
  readonly burst: number;
  readonly pkts: Uint32Array;
  readonly segs: Uint32Array;
  readonly pool: Mempool;
  /** Ethernet header bytes 0..11 of frames sent by each port, as three LE words: dst[0..3], dst[4..5]src[0..1], src[2..5] */
  readonly mac0: Int32Array;
  readonly mac1: Int32Array;
  readonly mac2: Int32Array;
  readonly txOff: Int32Array;
  /** txonly: the 44 first bytes of each stream's packet as 11 LE words (42 header bytes, 2 payload bytes) */
  readonly tmpl: Int32Array;
  /** txonly: the same template as bytes, for multi-segment packets */
  readonly tmplBytes: Uint8Array;
  readonly segLens: Int32Array;
  readonly pktLen: number;

  constructor(a: FwdLaunch) {
    const r = mem();
    mbufBind(r);
    const z = memzoneLookup(ZONE);
    if (!z) throw new Error(`testpmd: memzone ${ZONE} missing`);
    const pool = mempoolLookup(a.pool);
    if (!pool) throw new Error(`testpmd: mbuf pool ${a.pool} missing`);
    this.u8 = r.u8;
    this.u16 = r.u16;
    this.u32 = r.u32;
    this.ctl = new Int32Array(r.buf, z.off, 2 * MAX_FWD_LCORES);
    this.st = new Float64Array(r.buf, z.off + STATS_OFF, MAX_STREAMS * SW);
    this.slot = a.slot;
    const n = a.streams.length;
    this.n = n;
    this.rxp = Int32Array.from(a.streams, (s) => s.rxPort);
    this.rxq = Int32Array.from(a.streams, (s) => s.rxQueue);
    this.txp = Int32Array.from(a.streams, (s) => s.txPort);
    this.txq = Int32Array.from(a.streams, (s) => s.txQueue);
    this.sb = Int32Array.from(a.streams, (s) => s.id * SW);
    this.burst = a.burst;
    this.pkts = new Uint32Array(a.burst);
    this.segs = new Uint32Array(Math.max(a.txPkts.length, 1));
    this.pool = pool;
    this.mac0 = new Int32Array(MAX_PORTS);
    this.mac1 = new Int32Array(MAX_PORTS);
    this.mac2 = new Int32Array(MAX_PORTS);
    this.txOff = new Int32Array(MAX_PORTS);
    for (let p = 0; p < MAX_PORTS; p++) {
      const d = a.peers[p];
      const s = a.macs[p];
      if (!d || !s || d.length !== 6 || s.length !== 6) continue;
      this.mac0[p] = d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24);
      this.mac1[p] = d[4] | (d[5] << 8) | (s[0] << 16) | (s[1] << 24);
      this.mac2[p] = s[2] | (s[3] << 8) | (s[4] << 16) | (s[5] << 24);
      this.txOff[p] = a.txOffloads[p] ?? 0;
    }
    this.segLens = Int32Array.from(a.txPkts);
    this.pktLen = a.txPkts.reduce((x, y) => x + y, 0);
    this.tmplBytes = new Uint8Array(n * 44);
    for (let s = 0; s < n; s++) {
      this.tmplBytes.set(txonlyHeader(a.peers[a.streams[s].txPort], a.macs[a.streams[s].txPort], this.pktLen), s * 44);
    }
    this.tmpl = new Int32Array(this.tmplBytes.buffer.slice(0));
  }
}

/**
 * testpmd's default txonly packet headers (44 bytes: 42 of Ethernet/IPv4/UDP, then two payload bytes of 0):
 * 198.18.0.1 -> 198.18.0.2, UDP 9 -> 9 (RFC 863 discard), TTL 64, UDP checksum 0, IP checksum set.
 */
export function txonlyHeader(dst: number[], src: number[], pktLen: number): Uint8Array {
  const h = new Uint8Array(44);
  h.set(dst, 0);
  h.set(src, 6);
  h[12] = 0x08;
  h[13] = 0x00;
  const ipLen = pktLen - 14;
  const udpLen = ipLen - 20;
  h.set([0x45, 0, ipLen >> 8, ipLen & 0xff, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2], 14);
  const c = ipv4Cksum(h, 14, 20);
  h[24] = c >> 8;
  h[25] = c & 0xff;
  h.set([0, 9, 0, 9, udpLen >> 8, udpLen & 0xff, 0, 0], 34);
  return h;
}

// ---- checksums (big-endian 16-bit ones' complement sums over the region's bytes) ----------------------------------

/** Adds n bytes at p to a ones' complement sum; `odd` says the first byte is the low half of a 16-bit word. */
function addBytes(u8: Uint8Array, p: number, n: number, odd: number, sum: number): number {
  let i = 0;
  if (odd !== 0 && n > 0) {
    sum += u8[p];
    i = 1;
  }
  for (; i + 1 < n; i += 2) {
    sum += (u8[p + i] << 8) | u8[p + i + 1];
    if (sum > 0x3fff0000) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (i < n) sum += u8[p + i] << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** rte_ipv4_cksum: the header checksum of `len` bytes at p (with its checksum field as it is). */
export function ipv4Cksum(u8: Uint8Array, p: number, len: number): number {
  return ~fold(addBytes(u8, p, len, 0, 0)) & 0xffff;
}

/** Sum of len bytes of a (possibly chained) packet from byte `off` of its data. -1 when the packet is shorter. */
function pktSum(c: Ctx, m: number, off: number, len: number, sum: number): number {
  const u32 = c.u32;
  const u16 = c.u16;
  let seg = m;
  while (seg !== 0 && off >= u16[(seg << 1) + M.H_DATA_LEN]) {
    off -= u16[(seg << 1) + M.H_DATA_LEN];
    seg = u32[seg + M.NEXT];
  }
  let done = 0;
  while (seg !== 0 && done < len) {
    const dl = u16[(seg << 1) + M.H_DATA_LEN] - off;
    const take = dl < len - done ? dl : len - done;
    sum = addBytes(c.u8, u32[seg + M.BUF_OFF] + u16[(seg << 1) + M.H_DATA_OFF] + off, take, done & 1, sum);
    done += take;
    off = 0;
    seg = u32[seg + M.NEXT];
  }
  return done < len ? -1 : sum;
}

/**
 * The UDP/TCP checksum of a packet whose L3 header starts at byte `ip` of the region and at `l3off` of the packet
 * (pseudo header included; rte_ipv4/ipv6_udptcp_cksum). -1 when the packet is shorter than its IP length says.
 */
function l4Cksum(c: Ctx, m: number, ip: number, l3off: number, l3len: number, v4: boolean, proto: number): number {
  const u8 = c.u8;
  let l4len: number;
  let sum: number;
  if (v4) {
    const tot = (u8[ip + 2] << 8) | u8[ip + 3];
    if (tot < l3len) return -1;
    l4len = tot - l3len;
    sum = addBytes(u8, ip + 12, 8, 0, proto + l4len);
  } else {
    l4len = (u8[ip + 4] << 8) | u8[ip + 5];
    sum = addBytes(u8, ip + 8, 32, 0, proto + l4len);
  }
  sum = pktSum(c, m, l3off + l3len, l4len, sum);
  if (sum < 0) return -1;
  const r = ~fold(sum) & 0xffff;
  return r === 0 && proto === 17 ? 0xffff : r;
}

// ---- helpers ------------------------------------------------------------------------------------------------------

/** Frees what the TX queue did not take and counts it as dropped for the stream. */
function dropRest(c: Ctx, b: number, n: number, sent: number): void {
  pktmbufFreeBulk(c.pkts, n - sent, sent);
  c.st[b + FS_DROP] += n - sent;
}

/** Rewrites dst to the TX port's peer and src to the TX port's MAC (mac engine, csum's mac-swap). */
function macRewrite(c: Ctx, m: number, p: number): void {
  const e = c.u32[m + M.BUF_OFF] + c.u16[(m << 1) + M.H_DATA_OFF];
  const w0 = c.mac0[p];
  const w1 = c.mac1[p];
  const w2 = c.mac2[p];
  if ((e & 3) === 0) {
    const w = e >> 2;
    c.u32[w] = w0;
    c.u32[w + 1] = w1;
    c.u32[w + 2] = w2;
  } else {
    const u8 = c.u8;
    u8[e] = w0; u8[e + 1] = w0 >> 8; u8[e + 2] = w0 >> 16; u8[e + 3] = w0 >> 24;
    u8[e + 4] = w1; u8[e + 5] = w1 >> 8; u8[e + 6] = w1 >> 16; u8[e + 7] = w1 >> 24;
    u8[e + 8] = w2; u8[e + 9] = w2 >> 8; u8[e + 10] = w2 >> 16; u8[e + 11] = w2 >> 24;
  }
}

// ---- engines: one burst function per engine -----------------------------------------------------------------------

function ioBurst(c: Ctx, s: number): void {
  const pkts = c.pkts;
  const n = rxBurst(c.rxp[s], c.rxq[s], pkts, c.burst);
  if (n === 0) return;
  const b = c.sb[s];
  const sent = txBurst(c.txp[s], c.txq[s], pkts, n, 0);
  const st = c.st;
  st[b + FS_RX] += n;
  st[b + FS_TX] += sent;
  if (sent < n) dropRest(c, b, n, sent);
}

function macBurst(c: Ctx, s: number): void {
  const pkts = c.pkts;
  const n = rxBurst(c.rxp[s], c.rxq[s], pkts, c.burst);
  if (n === 0) return;
  const b = c.sb[s];
  const tp = c.txp[s];
  const u32 = c.u32;
  const u16 = c.u16;
  const w0 = c.mac0[tp];
  const w1 = c.mac1[tp];
  const w2 = c.mac2[tp];
  for (let i = 0; i < n; i++) {
    const m = pkts[i];
    const e = u32[m + M.BUF_OFF] + u16[(m << 1) + M.H_DATA_OFF];
    if ((e & 3) === 0) {
      const w = e >> 2;
      u32[w] = w0;
      u32[w + 1] = w1;
      u32[w + 2] = w2;
    } else {
      macRewrite(c, m, tp);
    }
  }
  const sent = txBurst(tp, c.txq[s], pkts, n, 0);
  const st = c.st;
  st[b + FS_RX] += n;
  st[b + FS_TX] += sent;
  if (sent < n) dropRest(c, b, n, sent);
}

function macswapOne(u8: Uint8Array, e: number): void {
  for (let k = 0; k < 6; k++) {
    const t = u8[e + k];
    u8[e + k] = u8[e + 6 + k];
    u8[e + 6 + k] = t;
  }
}

function macswapBurst(c: Ctx, s: number): void {
  const pkts = c.pkts;
  const n = rxBurst(c.rxp[s], c.rxq[s], pkts, c.burst);
  if (n === 0) return;
  const b = c.sb[s];
  const u32 = c.u32;
  const u16 = c.u16;
  for (let i = 0; i < n; i++) {
    const m = pkts[i];
    const e = u32[m + M.BUF_OFF] + u16[(m << 1) + M.H_DATA_OFF];
    if ((e & 3) === 0) {
      // bytes 0..11 as LE words: [d0 d1 d2 d3] [d4 d5 s0 s1] [s2 s3 s4 s5] -> [s0..s3] [s4 s5 d0 d1] [d2..d5]
      const w = e >> 2;
      const a0 = u32[w];
      const a1 = u32[w + 1];
      const a2 = u32[w + 2];
      u32[w] = (a1 >>> 16) | (a2 << 16);
      u32[w + 1] = (a2 >>> 16) | (a0 << 16);
      u32[w + 2] = (a0 >>> 16) | (a1 << 16);
    } else {
      macswapOne(c.u8, e);
    }
  }
  const sent = txBurst(c.txp[s], c.txq[s], pkts, n, 0);
  const st = c.st;
  st[b + FS_RX] += n;
  st[b + FS_TX] += sent;
  if (sent < n) dropRest(c, b, n, sent);
}

function rxonlyBurst(c: Ctx, s: number): void {
  const n = rxBurst(c.rxp[s], c.rxq[s], c.pkts, c.burst);
  if (n === 0) return;
  c.st[c.sb[s] + FS_RX] += n;
  pktmbufFreeBulk(c.pkts, n, 0);
}

/** txonly, one-segment packets: allocate and initialise a burst in one pass, write the 44 template bytes, send. */
function txonlyBurst(c: Ctx, s: number): void {
  const pkts = c.pkts;
  const tp = c.txp[s];
  const n = pktmbufAllocPackets(c.pool, pkts, c.burst, c.pktLen, tp);
  if (n === 0) return;
  const u32 = c.u32;
  const u16 = c.u16;
  const t = c.tmpl;
  const to = s * 11;
  // l2_len 14, l3_len 20, as testpmd sets them
  const lens = 14 | (20 << 7);
  for (let i = 0; i < n; i++) {
    const m = pkts[i];
    u32[m + M.TX_OFFLOAD] = lens;
    const e = u32[m + M.BUF_OFF] + u16[(m << 1) + M.H_DATA_OFF];
    if ((e & 3) === 0) {
      const w = e >> 2;
      u32[w] = t[to]; u32[w + 1] = t[to + 1]; u32[w + 2] = t[to + 2]; u32[w + 3] = t[to + 3];
      u32[w + 4] = t[to + 4]; u32[w + 5] = t[to + 5]; u32[w + 6] = t[to + 6]; u32[w + 7] = t[to + 7];
      u32[w + 8] = t[to + 8]; u32[w + 9] = t[to + 9]; u32[w + 10] = t[to + 10];
    } else {
      copyTemplate(c, s, m);
    }
  }
  const sent = txBurst(tp, c.txq[s], pkts, n, 0);
  const b = c.sb[s];
  c.st[b + FS_TX] += sent;
  if (sent < n) dropRest(c, b, n, sent);
}

/** Copies stream s's 42 header bytes into a (possibly chained) packet, across its segments. */
function copyTemplate(c: Ctx, s: number, m: number): void {
  const u8 = c.u8;
  const u16 = c.u16;
  const u32 = c.u32;
  const tb = c.tmplBytes;
  const base = s * 44;
  let seg = m;
  let k = 0;
  while (seg !== 0 && k < 42) {
    const dl = u16[(seg << 1) + M.H_DATA_LEN];
    const e = u32[seg + M.BUF_OFF] + u16[(seg << 1) + M.H_DATA_OFF];
    for (let j = 0; j < dl && k < 42; j++) u8[e + j] = tb[base + k++];
    seg = u32[seg + M.NEXT];
  }
}

/** txonly with --txpkts of several segments: a head and nb_segs - 1 segments chained per packet. */
function txonlySegsBurst(c: Ctx, s: number): void {
  const pkts = c.pkts;
  const tp = c.txp[s];
  const lens = c.segLens;
  const nsegs = lens.length;
  const u32 = c.u32;
  const u16 = c.u16;
  const segs = c.segs;
  let n = pktmbufAllocPackets(c.pool, pkts, c.burst, lens[0], tp);
  for (let i = 0; i < n; i++) {
    const m = pkts[i];
    const got = pktmbufAllocBurst(c.pool, segs, nsegs - 1, 0);
    if (got !== nsegs - 1) {
      // the pool ran dry: give back this packet's partial segments and the rest of the burst
      pktmbufFreeBulk(segs, got, 0);
      pktmbufFreeBulk(pkts, n - i, i);
      n = i;
      break;
    }
    let last = m;
    for (let k = 1; k < nsegs; k++) {
      const sg = segs[k - 1];
      u16[(sg << 1) + M.H_DATA_LEN] = lens[k];
      u32[sg + M.PKT_LEN] = lens[k];
      u32[last + M.NEXT] = sg;
      last = sg;
    }
    u16[(m << 1) + M.H_NB_SEGS] = nsegs;
    u32[m + M.PKT_LEN] = c.pktLen;
    u32[m + M.TX_OFFLOAD] = 14 | (20 << 7);
    copyTemplate(c, s, m);
  }
  if (n === 0) return;
  const sent = txBurst(tp, c.txq[s], pkts, n, 0);
  const b = c.sb[s];
  c.st[b + FS_TX] += sent;
  if (sent < n) {
    for (let i = sent; i < n; i++) pktmbufFree(pkts[i]);
    c.st[b + FS_DROP] += n - sent;
  }
}

/** csum: count bad checksums the RX port flagged, rewrite MACs, then checksum in software or flag for the TX port. */
function csumBurst(c: Ctx, s: number): void {
  const pkts = c.pkts;
  const n = rxBurst(c.rxp[s], c.rxq[s], pkts, c.burst);
  if (n === 0) return;
  const b = c.sb[s];
  const tp = c.txp[s];
  const txOff = c.txOff[tp];
  const u8 = c.u8;
  const u16 = c.u16;
  const u32 = c.u32;
  let badIp = 0;
  let badL4 = 0;
  for (let i = 0; i < n; i++) {
    const m = pkts[i];
    const rxf = u32[m + M.OL_FLAGS];
    if ((rxf & RX_IP_CKSUM_MASK) === RX_IP_CKSUM_BAD) badIp++;
    if ((rxf & RX_L4_CKSUM_MASK) === RX_L4_CKSUM_BAD) badL4++;
    macRewrite(c, m, tp);
    const e = u32[m + M.BUF_OFF] + u16[(m << 1) + M.H_DATA_OFF];
    const dl = u16[(m << 1) + M.H_DATA_LEN];
    // Ethernet, then any number of VLAN / QinQ tags
    let l2 = 14;
    let et = (u8[e + 12] << 8) | u8[e + 13];
    while ((et === 0x8100 || et === 0x88a8) && l2 + 4 <= dl) {
      et = (u8[e + l2 + 2] << 8) | u8[e + l2 + 3];
      l2 += 4;
    }
    const ip = e + l2;
    let l3 = 0;
    let proto = 0;
    let l4 = 0;
    let ol = 0;
    const v4 = et === 0x0800;
    if (v4 || et === 0x86dd) {
      l3 = v4 ? (u8[ip] & 0xf) << 2 : 40;
      proto = v4 ? u8[ip + 9] : u8[ip + 6];
      if (proto === 6) l4 = (u8[ip + l3 + 12] & 0xf0) >> 2;
      else if (proto === 17) l4 = 8;
    }
    // headers outside the first segment (or a runt): forward it untouched, as a NIC would get it
    if (l3 !== 0 && l2 + l3 + (l4 === 0 ? 0 : l4) <= dl && (!v4 || l3 >= 20)) {
      if (v4) {
        ol = TX_IPV4;
        if ((txOff & TX_OFFLOAD_IPV4_CKSUM) !== 0) {
          ol |= TX_IP_CKSUM;
        } else {
          u8[ip + 10] = 0;
          u8[ip + 11] = 0;
          const ck = ipv4Cksum(u8, ip, l3);
          u8[ip + 10] = ck >> 8;
          u8[ip + 11] = ck;
        }
      } else {
        ol = TX_IPV6;
      }
      const l4p = ip + l3;
      if (proto === 17 && l4 !== 0) {
        // a UDP checksum of 0 means none: left as it is
        if ((u8[l4p + 6] | u8[l4p + 7]) !== 0) {
          if ((txOff & TX_OFFLOAD_UDP_CKSUM) !== 0) {
            ol |= TX_UDP_CKSUM;
          } else {
            u8[l4p + 6] = 0;
            u8[l4p + 7] = 0;
            const ck = l4Cksum(c, m, ip, l2, l3, v4, 17);
            if (ck >= 0) {
              u8[l4p + 6] = ck >> 8;
              u8[l4p + 7] = ck;
            }
          }
        }
      } else if (proto === 6 && l4 !== 0) {
        if ((txOff & TX_OFFLOAD_TCP_CKSUM) !== 0) {
          ol |= TX_TCP_CKSUM;
        } else {
          u8[l4p + 16] = 0;
          u8[l4p + 17] = 0;
          const ck = l4Cksum(c, m, ip, l2, l3, v4, 6);
          if (ck >= 0) {
            u8[l4p + 16] = ck >> 8;
            u8[l4p + 17] = ck;
          }
        }
      }
    }
    u32[m + M.TX_OFFLOAD] = (l2 & 0x7f) | ((l3 & 0x1ff) << 7) | ((l4 & 0xff) << 16);
    u32[m + M.OL_FLAGS] = ol;
  }
  const sent = txBurst(tp, c.txq[s], pkts, n, 0);
  const st = c.st;
  st[b + FS_RX] += n;
  st[b + FS_TX] += sent;
  st[b + FS_BAD_IP] += badIp;
  st[b + FS_BAD_L4] += badL4;
  if (sent < n) dropRest(c, b, n, sent);
}

// ---- loops: one per engine, each calling only its own burst function ---------------------------------------------

function ioLoop(c: Ctx): void {
  const ctl = c.ctl;
  const slot = c.slot;
  const n = c.n;
  while (Atomics.load(ctl, CTL_STOP + slot) === 0) for (let s = 0; s < n; s++) ioBurst(c, s);
}

function macLoop(c: Ctx): void {
  const ctl = c.ctl;
  const slot = c.slot;
  const n = c.n;
  while (Atomics.load(ctl, CTL_STOP + slot) === 0) for (let s = 0; s < n; s++) macBurst(c, s);
}

function macswapLoop(c: Ctx): void {
  const ctl = c.ctl;
  const slot = c.slot;
  const n = c.n;
  while (Atomics.load(ctl, CTL_STOP + slot) === 0) for (let s = 0; s < n; s++) macswapBurst(c, s);
}

function rxonlyLoop(c: Ctx): void {
  const ctl = c.ctl;
  const slot = c.slot;
  const n = c.n;
  while (Atomics.load(ctl, CTL_STOP + slot) === 0) for (let s = 0; s < n; s++) rxonlyBurst(c, s);
}

function txonlyLoop(c: Ctx): void {
  const ctl = c.ctl;
  const slot = c.slot;
  const n = c.n;
  while (Atomics.load(ctl, CTL_STOP + slot) === 0) for (let s = 0; s < n; s++) txonlyBurst(c, s);
}

function txonlySegsLoop(c: Ctx): void {
  const ctl = c.ctl;
  const slot = c.slot;
  const n = c.n;
  while (Atomics.load(ctl, CTL_STOP + slot) === 0) for (let s = 0; s < n; s++) txonlySegsBurst(c, s);
}

function csumLoop(c: Ctx): void {
  const ctl = c.ctl;
  const slot = c.slot;
  const n = c.n;
  while (Atomics.load(ctl, CTL_STOP + slot) === 0) for (let s = 0; s < n; s++) csumBurst(c, s);
}

/** Entry point for remoteLaunch: tx_first bursts, then the engine until the main lcore sets this slot's stop word. */
export default function fwdLcore(a: FwdLaunch): { lcore: number; streams: number } {
  const c = new Ctx(a);
  Atomics.store(c.ctl, CTL_RUNNING + a.slot, 1);
  for (let k = 0; k < a.txFirst; k++) {
    for (let s = 0; s < c.n; s++) {
      if (c.segLens.length === 1) txonlyBurst(c, s);
      else txonlySegsBurst(c, s);
    }
  }
  switch (a.engine) {
    case 'io': ioLoop(c); break;
    case 'mac': macLoop(c); break;
    case 'macswap': macswapLoop(c); break;
    case 'rxonly': rxonlyLoop(c); break;
    case 'txonly': if (c.segLens.length === 1) txonlyLoop(c); else txonlySegsLoop(c); break;
    case 'csum': csumLoop(c); break;
  }
  // hand this lcore's cached mbufs back to the pool so the main lcore sees them all
  c.pool.cacheFlush();
  return { lcore: lcoreId(), streams: c.n };
}
