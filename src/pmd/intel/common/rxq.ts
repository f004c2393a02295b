// The RX queue every Intel family shares: one class, parameterised by the family's descriptor codec (codec.ts).
//
// Hot-path rules kept here, with their reasons:
// - no allocation: the burst arrays are the caller's, replacement buffers come into a per-queue array made once;
// - DD polled with Atomics.load (the NIC writes the ring behind the JIT's back), everything else plain typed-array
//   access (about 0.8 ns each here, so fields are read once and written once);
// - one RDT doorbell once a quarter of the ring (at most 32) is re-armed: an MMIO write is the costliest step of
//   a burst, and under QEMU every one is a trap (DPDK's rx_free_thresh). The doorbell is a plain store, not
//   Atomics.store: V8 emits a seq-cst store as XCHG, a locked read-modify-write that reaches the device as a read
//   and a write (measured under QEMU's register trace: one read per doorbell), and on real hardware a locked access
//   to uncached memory stalls. A plain store is ordered after the descriptor stores by x86's store ordering and by
//   V8, which keeps typed-array stores in program order on its effect chain (DPDK's rte_write32: compiler barrier,
//   plain store);
// - 64-bit IOVAs handled as two u32 halves (no BigInt);
// - frames longer than a buffer arrive as several descriptors and leave as one mbuf chain; a chain still open at
//   the end of a burst waits in the queue's state words for its last descriptor.
import { mem } from '../../../eal/memory.js';
import * as ffi from '../../../eal/ffi.js';
import { mempoolLookup, type Mempool } from '../../../mempool/mempool.js';
import {
  M, mbufBind, pktmbufFree, RX_VLAN, RX_VLAN_STRIPPED, RX_IP_CKSUM_BAD, RX_IP_CKSUM_GOOD, RX_L4_CKSUM_BAD,
  RX_L4_CKSUM_GOOD, RX_RSS_HASH, RX_IEEE1588_PTP, RX_IEEE1588_TMST, PTYPE_L2_ETHER, PTYPE_L2_ETHER_TIMESYNC, PTYPE_L3_IPV4, PTYPE_L3_IPV4_EXT, PTYPE_L3_IPV6, PTYPE_L3_IPV6_EXT,
  PTYPE_L4_TCP, PTYPE_L4_UDP, PTYPE_L4_SCTP,
} from '../../../mempool/mbuf.js';
import { QS_PACKETS, QS_BYTES, QS_ERRORS, QS_NOMBUF, specNumber, specString, type QueueStats, type RxQueue } from '../../driver.js';
import { RX_CODECS, DESC_WORDS, type RxCodecName } from './codec.js';
import { STATE_BYTES, RXS_NEXT, RXS_HOLD, RXS_FIRST, RXS_LAST, observableDoorbells, type IntelRxSpec } from './layout.js';

const TWO32 = 4294967296;

/**
 * Advanced pkt_info bits 15:4 -> DPDK packet type. Bits 11:4 are IPV4, IPV4E, IPV6, IPV6E, TCP, UDP, SCTP, NFS;
 * with bit 15 (packet type bit 11, "ETQF") set the frame matched EtherType filter (bits 6:4) instead, and filter 3
 * is the one the drivers give IEEE 1588 (E1000_ETQF_FILTER_1588 / IXGBE_ETQF_FILTER_1588).
 */
const ETQF_MATCH = 0x800;
const ETQF_INDEX_1588 = 3;
const PTYPES = (() => {
  const t = new Uint32Array(4096);
  for (let i = 0; i < 4096; i++) {
    if ((i & ETQF_MATCH) !== 0) {
      t[i] = (i & 7) === ETQF_INDEX_1588 ? PTYPE_L2_ETHER_TIMESYNC : PTYPE_L2_ETHER;
      continue;
    }
    let p = PTYPE_L2_ETHER;
    if (i & 0x01) p |= i & 0x02 ? PTYPE_L3_IPV4_EXT : PTYPE_L3_IPV4;
    else if (i & 0x04) p |= i & 0x08 ? PTYPE_L3_IPV6_EXT : PTYPE_L3_IPV6;
    if (i & 0x10) p |= PTYPE_L4_TCP;
    else if (i & 0x20) p |= PTYPE_L4_UDP;
    else if (i & 0x40) p |= PTYPE_L4_SCTP;
    t[i] = p;
  }
  return t;
})();

/** Checks a spec read back from shared memory; returns it typed. */
export function checkRxSpec(driver: string, spec: unknown): IntelRxSpec {
  for (const f of ['port', 'queue', 'barLen', 'ring', 'sw', 'nb', 'rdt', 'headroom']) specNumber(driver, spec, f);
  for (const f of ['bar', 'pool', 'codec']) specString(driver, spec, f);
  const s = spec as IntelRxSpec;
  if (!(s.codec in RX_CODECS)) throw new Error(`${driver}: unknown RX descriptor format '${s.codec}'`);
  return s;
}

export class IntelRxQueue implements RxQueue {
  private readonly u32: Uint32Array;
  private readonly u16: Uint16Array;
  private readonly i32: Int32Array;
  private readonly bar: Int32Array;
  private readonly stats: QueueStats;
  /** doorbells through Atomics.store, for tests that watch them (layout.ts) */
  private readonly atomicBell: boolean;
  private readonly pool: Mempool;
  /** u32 index of the descriptor ring, of the shadow ring, of the state words */
  private readonly ring: number;
  private readonly shadow: number;
  private readonly st: number;
  private readonly nb: number;
  private readonly rdt: number;
  private readonly port: number;
  private readonly headroom: number;
  /** RDT is written once this many descriptors are re-armed */
  private readonly holdThresh: number;
  /** replacement buffers of one burst */
  private readonly fresh: Uint32Array;
  // the codec, as plain numbers
  private readonly SW: number;
  private readonly LW: number;
  private readonly DD: number;
  private readonly EOP: number;
  private readonly VP: number;
  private readonly IPCS: number;
  private readonly L4CS: number;
  private readonly IPE: number;
  private readonly L4E: number;
  private readonly FRAME_ERR: number;
  /** IEEE 1588 receive time latched (0: the format has no such bit) */
  private readonly TS: number;
  /** read w0/w1 of a frame's last descriptor (RSS hash, packet type) */
  private readonly meta: boolean;
  private readonly pktInfo: boolean;
  private readonly rssHash: boolean;
  private readonly vlanStrip: boolean;
  private readonly cksum: boolean;
  /**
   * RX interrupt arm / disarm (RxQueue.intrEnable / intrDisable): one write of the queue's bit to the mask set /
   * clear register. Made once at attach (closures over the BAR view); undefined when the queue has no interrupt.
   * Not on the per-burst path: called when the lcore goes to sleep and when it wakes. Atomics.store here, since
   * these writes must not be reordered with the last poll before sleeping (no lost wake-up).
   */
  readonly intrEnable: (() => void) | undefined;
  readonly intrDisable: (() => void) | undefined;

  constructor(raw: unknown, stats: QueueStats) {
    const spec = checkRxSpec(String((raw as { driver?: unknown })?.driver ?? 'intel'), raw);
    const pool = mempoolLookup(spec.pool);
    if (!pool) throw new Error(`${spec.driver}: no mempool '${spec.pool}'`);
    const r = mem();
    mbufBind(r);
    this.u32 = r.u32;
    this.u16 = r.u16;
    this.i32 = r.i32;
    this.bar = new Int32Array(ffi.view(BigInt(spec.bar), spec.barLen));
    this.stats = stats;
    this.atomicBell = observableDoorbells();
    this.pool = pool;
    this.ring = spec.ring >> 2;
    this.shadow = (spec.sw + STATE_BYTES) >> 2;
    this.st = spec.sw >> 2;
    this.nb = spec.nb;
    this.rdt = spec.rdt >> 2;
    this.port = spec.port;
    this.headroom = spec.headroom;
    this.holdThresh = Math.min(32, spec.nb >> 2);
    this.fresh = new Uint32Array(spec.nb);
    const c = RX_CODECS[spec.codec as RxCodecName];
    this.SW = c.statWord;
    this.LW = c.lenWord;
    this.DD = c.DD;
    this.EOP = c.EOP;
    this.VP = c.VP;
    this.IPCS = c.IPCS;
    this.L4CS = c.L4CS | c.UDPCS;
    this.IPE = c.IPE;
    this.L4E = c.L4E;
    this.FRAME_ERR = c.FRAME_ERR;
    this.TS = c.TS;
    this.pktInfo = c.pktInfo;
    this.rssHash = spec.rssHash && c.rssInW1;
    this.meta = this.pktInfo || this.rssHash;
    this.vlanStrip = spec.vlanStrip;
    this.cksum = spec.cksum;
    const it = spec.intr;
    if (it) {
      const bar = this.bar;
      const set = specNumber(spec.driver, it, 'set') >> 2;
      const clear = specNumber(spec.driver, it, 'clear') >> 2;
      const bit = specNumber(spec.driver, it, 'bit') | 0;
      this.intrEnable = () => { Atomics.store(bar, set, bit); };
      this.intrDisable = () => { Atomics.store(bar, clear, bit); };
    } else {
      this.intrEnable = undefined;
      this.intrDisable = undefined;
    }
  }

  rxBurst(mbufs: Uint32Array, n: number): number {
    const i32 = this.i32;
    const ring = this.ring;
    const nb = this.nb;
    const st = this.st;
    const SW = this.SW;
    let idx = i32[st + RXS_NEXT];
    let k = this.written(idx, n > nb - 1 ? nb - 1 : n);
    if (k === 0) return 0;
    // one replacement buffer per descriptor, in one go; with too few, leave the rest for the next burst
    const fresh = this.fresh;
    const got = this.pool.getBurst(fresh, k, 0);
    if (got < k) {
      this.stats[QS_NOMBUF] += k - got;
      if (got === 0) return 0;
      k = got;
    }
    const u32 = this.u32;
    const u16 = this.u16;
    const sh = this.shadow;
    const LW = this.LW;
    const EOP = this.EOP;
    const headroom = this.headroom;
    let first = i32[st + RXS_FIRST];
    let last = i32[st + RXS_LAST];
    let nrx = 0;
    let bytes = 0;
    let errors = 0;
    for (let j = 0; j < k; j++) {
      const w = ring + idx * DESC_WORDS;
      const stat = u32[w + SW];
      const lw = u32[w + LW];
      const m = u32[sh + idx];
      const len = lw & 0xffff;
      let meta0 = 0;
      let meta1 = 0;
      if (this.meta && (stat & EOP) !== 0) {
        meta0 = u32[w];
        meta1 = u32[w + 1];
      }
      // re-arm the descriptor with a fresh buffer (read format: address, then zeros: clears DD)
      const nm = fresh[j];
      u32[sh + idx] = nm;
      const iova = u32[nm + M.BUF_IOVA_HI] * TWO32 + u32[nm + M.BUF_IOVA_LO] + headroom;
      u32[w] = iova >>> 0;
      u32[w + 1] = (iova / TWO32) >>> 0;
      u32[w + 2] = 0;
      u32[w + 3] = 0;
      if (++idx === nb) idx = 0;
      // the buffer joins its frame
      u32[m + M.DATA] = len | (headroom << 16);
      if (first === 0) {
        first = m;
        u32[m + M.PKT_LEN] = len;
      } else {
        u32[last + M.NEXT] = m;
        u32[first + M.PKT_LEN] += len;
        u16[(first << 1) + M.H_NB_SEGS]++;
      }
      last = m;
      if ((stat & EOP) === 0) continue;
      if ((stat & this.FRAME_ERR) !== 0) {
        pktmbufFree(first); // a bad frame: its buffers go back to the pool
        errors++;
      } else {
        bytes += u32[first + M.PKT_LEN];
        this.finish(first, stat, lw, meta0, meta1);
        mbufs[nrx++] = first;
      }
      first = 0;
      last = 0;
    }
    i32[st + RXS_NEXT] = idx;
    i32[st + RXS_FIRST] = first;
    i32[st + RXS_LAST] = last;
    this.handBack(idx, k);
    const s = this.stats;
    s[QS_PACKETS] += nrx;
    s[QS_BYTES] += bytes;
    if (errors !== 0) s[QS_ERRORS] += errors;
    return nrx;
  }

  /** How many descriptors from idx on (at most n) the NIC has written back. */
  private written(idx: number, n: number): number {
    const i32 = this.i32;
    const ring = this.ring;
    const nb = this.nb;
    const SW = this.SW;
    const DD = this.DD;
    let k = 0;
    let d = idx;
    while (k < n && (Atomics.load(i32, ring + d * DESC_WORDS + SW) & DD) !== 0) {
      k++;
      if (++d === nb) d = 0;
    }
    return k;
  }

  /**
   * Counts k more re-armed descriptors; once holdThresh have gathered, hands them to the NIC with one RDT write:
   * the NIC owns [RDH, RDT), so RDT goes to the descriptor before idx, the next one to look at.
   */
  private handBack(idx: number, k: number): void {
    const i32 = this.i32;
    const st = this.st;
    const hold = i32[st + RXS_HOLD] + k;
    if (hold < this.holdThresh) {
      i32[st + RXS_HOLD] = hold;
      return;
    }
    const tail = idx === 0 ? this.nb - 1 : idx - 1;
    if (this.atomicBell) Atomics.store(this.bar, this.rdt, tail);
    else this.bar[this.rdt] = tail;
    i32[st + RXS_HOLD] = 0;
  }

  /** Fills a received frame's header from its last descriptor's write-back. */
  private finish(m: number, stat: number, lw: number, w0: number, w1: number): void {
    const u32 = this.u32;
    let ol = 0;
    let vlan = 0;
    if (this.vlanStrip && (stat & this.VP) !== 0) {
      ol = RX_VLAN | RX_VLAN_STRIPPED;
      vlan = lw >>> 16;
    }
    if (this.cksum) {
      if ((stat & this.IPCS) !== 0) ol |= (stat & this.IPE) !== 0 ? RX_IP_CKSUM_BAD : RX_IP_CKSUM_GOOD;
      if ((stat & this.L4CS) !== 0) ol |= (stat & this.L4E) !== 0 ? RX_L4_CKSUM_BAD : RX_L4_CKSUM_GOOD;
    }
    if (this.rssHash && (w0 & 0xf) !== 0) {
      u32[m + M.RSS] = w1;
      ol |= RX_RSS_HASH;
    }
    // IEEE 1588: one test of the status word already in hand (the NIC sets TS only after timesyncEnable)
    if ((stat & this.TS) !== 0) ol |= RX_IEEE1588_PTP | RX_IEEE1588_TMST;
    this.u16[(m << 1) + M.H_PORT] = this.port;
    u32[m + M.OL_FLAGS] = ol;
    u32[m + M.TX_OFFLOAD] = 0;
    u32[m + M.PACKET_TYPE] = this.pktInfo ? PTYPES[(w0 >>> 4) & 0xfff] : 0;
    u32[m + M.VLAN] = vlan;
  }
}
