// Test frames for a generator: Ethernet II + IPv4 + UDP headers whose addresses and ports walk ranges (each field
// steps on its own, as pktgen-dpdk's "range" mode does), and a 16-byte stamp right after the UDP header:
//
//   offset 42  u16 magic 0x5047 ("PG")   44 u16 stream id   46 u32 sequence number   50 u32+u32 TX time (ns, hi:lo)
//
// 42 + 16 = 58 bytes fit the smallest frame (64 bytes on the wire = 60 bytes + FCS). All fields big-endian, so
// tshark shows them as written. Frame sizes here are on-the-wire sizes with the 4-byte FCS, as RFC 2544 counts
// them; the mbuf holds size - 4 bytes (the NIC adds the FCS). Payload bytes past the stamp are left as the buffer
// had them: writing 1.4 KB per packet would measure the generator's memset, not the device under test.
// Byte-wise loads and stores: the frame start need not be 4-byte aligned (a PMD may deliver it at any offset).

export const ETH_HLEN = 14;
/** <linux/if_ether.h> */
export const ETH_P_IPV4 = 0x0800;
/** <netinet/in.h> */
export const IPPROTO_UDP = 17;
export const IP_HLEN = 20;
export const UDP_HLEN = 8;
export const STAMP_OFF = ETH_HLEN + IP_HLEN + UDP_HLEN;
export const STAMP_MAGIC = 0x5047;
export const STAMP_LEN = 16;
/** Ethernet FCS, counted in frame sizes, added by the NIC */
export const FCS_LEN = 4;
export const MIN_FRAME = 64;
/** preamble + start delimiter (8) and the minimum inter-frame gap (12): bytes a frame costs on the wire besides itself */
export const WIRE_OVERHEAD = 20;

/** RFC 2544 section 9's frame sizes for Ethernet */
export const RFC2544_SIZES = [64, 128, 256, 512, 1024, 1280, 1518];
/** "simple IMIX" (7:4:1 of 64, 594 and 1518-byte frames), interleaved so no size runs long */
export const IMIX_SIZES = [64, 594, 64, 594, 64, 1518, 64, 594, 64, 594, 64, 64];

export class FrameError extends Error {}

/** A field that walks `count` values from `start` (count 1: fixed). */
export interface Range { start: number; count: number }

export interface FlowSpec {
  srcMac: number[];
  dstMac: number[];
  /** IPv4 addresses as unsigned 32-bit numbers */
  srcIp: Range;
  dstIp: Range;
  srcPort: Range;
  dstPort: Range;
}

export function parseIp(s: string): number {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m || m.slice(1).some((x) => Number(x) > 255)) throw new FrameError(`invalid IPv4 address '${s}': expected a.b.c.d, e.g. 10.0.0.1`);
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

export function formatIp(v: number): string {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

/** "10.0.0.1" or "10.0.0.1-10.0.0.254" */
export function parseIpRange(s: string): Range {
  const [a, b] = s.split('-');
  const start = parseIp(a);
  const end = b === undefined ? start : parseIp(b);
  if (end < start) throw new FrameError(`invalid address range '${s}': the end is below the start`);
  return { start, count: end - start + 1 };
}

/** "1024" or "1024-1087" */
export function parsePortRange(s: string): Range {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  const start = m ? Number(m[1]) : -1;
  const end = m && m[2] !== undefined ? Number(m[2]) : start;
  if (!m || start > 65535 || end > 65535 || end < start) throw new FrameError(`invalid UDP port range '${s}': expected N or N-M within 0..65535, e.g. 1024-1087`);
  return { start, count: end - start + 1 };
}

export function parseMac(s: string): number[] {
  const m = /^([0-9a-fA-F]{2})(?::([0-9a-fA-F]{2})){5}$/.test(s) ? s.split(':').map((x) => parseInt(x, 16)) : null;
  if (!m) throw new FrameError(`invalid MAC address '${s}': expected six hex bytes, e.g. 02:00:00:00:00:01`);
  return m;
}

/** "64", "64,128,1518" or "imix": frame sizes with FCS, 64 .. maxFrame */
export function parseSizes(s: string, maxFrame = 1518): number[] {
  if (s.toLowerCase() === 'imix') return IMIX_SIZES.slice();
  const out = s.split(',').map((x) => Number(x.trim()));
  for (const n of out) {
    if (!Number.isInteger(n) || n < MIN_FRAME || n > maxFrame) {
      throw new FrameError(`invalid frame size in '${s}': sizes are ${MIN_FRAME} to ${maxFrame} bytes with FCS (or 'imix'; larger with --max-frame)`);
    }
  }
  return out;
}

/** Average on-the-wire frame size of a size list. */
export const meanSize = (sizes: readonly number[]) => sizes.reduce((a, b) => a + b, 0) / sizes.length;

/** Packets per second that fill a link of `mbps` with frames of the given sizes (preamble and gap included). */
export function lineRatePps(mbps: number, sizes: readonly number[]): number {
  return (mbps * 1e6) / ((meanSize(sizes) + WIRE_OVERHEAD) * 8);
}

/** FrameWriter's int32 words: the next sequence number, the index into the size list */
const W_SEQ = 0;
const W_SIZE = 1;
/** FrameWriter's cursors (f64 words): the four flow fields' steps */
const C_SRC_IP = 0;
const C_DST_IP = 1;
const C_SRC_PORT = 2;
const C_DST_PORT = 3;
const CURSORS = 4;

/**
 * Writes the frames of one stream, one packet after the other: it keeps the stream's next sequence number and where
 * every stepped field is. Nothing in write() grows without bound or leaves the function: the sequence number is an
 * int32 that wraps as the wire's u32 does (`| 0`, in an Int32Array), the size index stays below the list's length,
 * and the field cursors (a step goes up to 2^32 - 1 for a /0 address range) are doubles in a Float64Array. A
 * counter kept in a class field or a local would change representation when it outgrows int32 (2^31 packets, 8
 * minutes at 4.7 Mpps) and could cost a heap number per packet from then on (examples/l2fwd/fwd.ts loop()).
 */
export class FrameWriter {
  private readonly spec: FlowSpec;
  private readonly sizes: Int32Array;
  private readonly streamId: number;
  /** [W_SEQ] the next packet's sequence number (the u32 on the wire, as an int32), [W_SIZE] its size's index */
  private readonly w = new Int32Array(2);
  /** C_* cursors and, at the same index, how many values each one walks */
  private readonly cur = new Float64Array(CURSORS);
  private readonly cnt = new Float64Array(CURSORS);

  /** @param seqStart the first packet's sequence number (0 .. 2^32 - 1) */
  constructor(spec: FlowSpec, sizes: readonly number[], streamId: number, seqStart = 0) {
    if (streamId < 0 || streamId > 0xffff) throw new FrameError(`stream id ${streamId}: 0 to 65535`);
    if (sizes.length === 0) throw new FrameError('no frame sizes: give at least one, e.g. [64]');
    if (!Number.isInteger(seqStart) || seqStart < 0 || seqStart > 0xffffffff) {
      throw new FrameError(`sequence start ${seqStart}: an integer from 0 to 4294967295`);
    }
    this.spec = spec;
    this.sizes = Int32Array.from(sizes);
    this.streamId = streamId;
    this.w[W_SEQ] = seqStart | 0;
    this.cnt.set([spec.srcIp.count, spec.dstIp.count, spec.srcPort.count, spec.dstPort.count]);
  }

  /** The next packet's sequence number (0 .. 2^32 - 1). */
  get seq(): number { return this.w[W_SEQ] >>> 0; }

  /**
   * Writes the next packet's headers and stamp (TX time 0) at u8[e..] and moves on to the packet after it; returns
   * its length without FCS.
   */
  write(u8: Uint8Array, e: number): number {
    const s = this.spec;
    const cur = this.cur;
    const w = this.w;
    const seq = w[W_SEQ];
    const si = w[W_SIZE];
    w[W_SEQ] = (seq + 1) | 0;
    w[W_SIZE] = si + 1 === this.sizes.length ? 0 : si + 1;
    const len = this.sizes[si] - FCS_LEN;
    const dm = s.dstMac;
    const sm = s.srcMac;
    u8[e] = dm[0]; u8[e + 1] = dm[1]; u8[e + 2] = dm[2]; u8[e + 3] = dm[3]; u8[e + 4] = dm[4]; u8[e + 5] = dm[5];
    u8[e + 6] = sm[0]; u8[e + 7] = sm[1]; u8[e + 8] = sm[2]; u8[e + 9] = sm[3]; u8[e + 10] = sm[4]; u8[e + 11] = sm[5];
    u8[e + 12] = ETH_P_IPV4 >> 8; u8[e + 13] = ETH_P_IPV4 & 255;
    const ip = e + ETH_HLEN;
    const ipLen = len - ETH_HLEN;
    put16(u8, ip, 0x4500); // version 4, IHL 5, DSCP 0
    put16(u8, ip + 2, ipLen);
    put16(u8, ip + 4, 0); // identification
    put16(u8, ip + 6, 0x4000); // don't fragment
    put16(u8, ip + 8, (64 << 8) | IPPROTO_UDP); // TTL 64, UDP
    put16(u8, ip + 10, 0);
    const sip = s.srcIp.start + cur[C_SRC_IP];
    const dip = s.dstIp.start + cur[C_DST_IP];
    // the addresses are below 2^32: the bit operators take their halves without a floating-point division
    put16(u8, ip + 12, sip >>> 16);
    put16(u8, ip + 14, sip & 0xffff);
    put16(u8, ip + 16, dip >>> 16);
    put16(u8, ip + 18, dip & 0xffff);
    put16(u8, ip + 10, ipChecksum(u8, ip));
    const udp = ip + IP_HLEN;
    put16(u8, udp, s.srcPort.start + cur[C_SRC_PORT]);
    put16(u8, udp + 2, s.dstPort.start + cur[C_DST_PORT]);
    put16(u8, udp + 4, ipLen - IP_HLEN);
    put16(u8, udp + 6, 0); // no UDP checksum (allowed over IPv4, RFC 768)
    const st = e + STAMP_OFF;
    put16(u8, st, STAMP_MAGIC);
    put16(u8, st + 2, this.streamId);
    put16(u8, st + 4, seq >>> 16);
    put16(u8, st + 6, seq & 0xffff);
    put16(u8, st + 8, 0); put16(u8, st + 10, 0); put16(u8, st + 12, 0); put16(u8, st + 14, 0);
    this.step();
    return len;
  }

  /** Every field cursor one value on (each field walks its range on its own, as pktgen-dpdk's range mode). */
  private step(): void {
    const cur = this.cur;
    const cnt = this.cnt;
    for (let f = 0; f < CURSORS; f++) {
      const x = cur[f] + 1;
      cur[f] = x < cnt[f] ? x : 0;
    }
  }

  /**
   * Takes the last n packets back (the TX queue refused them): their sequence numbers, sizes and field values go
   * to the next n packets written. n is at most a burst.
   */
  rewind(n: number): void {
    const w = this.w;
    const ns = this.sizes.length;
    w[W_SEQ] = (w[W_SEQ] - n) | 0;
    const si = w[W_SIZE] - (n % ns);
    w[W_SIZE] = si < 0 ? si + ns : si;
    const cur = this.cur;
    const cnt = this.cnt;
    for (let f = 0; f < CURSORS; f++) {
      const x = cur[f] - (n % cnt[f]);
      cur[f] = x < 0 ? x + cnt[f] : x;
    }
  }
}

/** Writes the TX time t[i] (ns, below 2^53) into a frame's stamp (in an array: see NsClock.nowInto). */
export function stampTimeAt(u8: Uint8Array, e: number, t: Float64Array, i: number): void {
  const ns = t[i];
  const hi = Math.floor(ns / 4294967296);
  const lo = ns - hi * 4294967296;
  const o = e + STAMP_OFF + 8;
  put16(u8, o, Math.floor(hi / 65536));
  put16(u8, o + 2, hi % 65536);
  put16(u8, o + 4, Math.floor(lo / 65536));
  put16(u8, o + 6, lo % 65536);
}

/**
 * The time since a frame's TX stamp at the time t[i]: a small number, where the times themselves are not.
 * Each product starts from a half (x + 0.5), so it is a double in every call, and V8 never compiles it as a small
 * integer product that overflows later: the low word's high half times 65536 passes 2^31 every 4.3 s, and a stamp's
 * high word passes 0 once. Exact: every intermediate is a multiple of 0.5 below 2^53.
 */
export function stampAge(u8: Uint8Array, e: number, t: Float64Array, i: number): number {
  const o = e + STAMP_OFF + 8;
  const hi = (get16(u8, o) * 65536 + get16(u8, o + 2) + 0.5) * 4294967296 - 2147483648;
  const lo = (get16(u8, o + 4) + 0.5) * 65536 - 32768 + get16(u8, o + 6);
  return t[i] - hi - lo;
}

/** Writes the TX time (ns, below 2^53) into a frame's stamp. */
export function stampTime(u8: Uint8Array, e: number, ns: number): void {
  const hi = Math.floor(ns / 4294967296);
  put32(u8, e + STAMP_OFF + 8, hi);
  put32(u8, e + STAMP_OFF + 12, ns - hi * 4294967296);
}

/** The stream id of a frame of len bytes carrying a stamp, else -1. */
export function stampStream(u8: Uint8Array, e: number, len: number): number {
  if (len < STAMP_OFF + STAMP_LEN) return -1;
  if (u8[e + 12] !== ETH_P_IPV4 >> 8 || u8[e + 13] !== (ETH_P_IPV4 & 255) || u8[e + ETH_HLEN + 9] !== IPPROTO_UDP) return -1;
  if (get16(u8, e + STAMP_OFF) !== STAMP_MAGIC) return -1;
  return get16(u8, e + STAMP_OFF + 2);
}

/**
 * A frame's sequence number: the u32's bits as an int32 (`>>> 0` gives the unsigned number). Returned as an int32
 * because a number above 2^31 returned from a call that is not inlined is a heap number, one per packet.
 */
export function stampSeq(u8: Uint8Array, e: number): number {
  return (get16(u8, e + STAMP_OFF + 4) << 16) | get16(u8, e + STAMP_OFF + 6);
}

export function stampTimeOf(u8: Uint8Array, e: number): number {
  return get32(u8, e + STAMP_OFF + 8) * 4294967296 + get32(u8, e + STAMP_OFF + 12);
}

function put16(u8: Uint8Array, o: number, v: number): void {
  u8[o] = v >>> 8;
  u8[o + 1] = v;
}

// Stores and loads go through 16-bit halves: an integer above 2^30 is not a small integer in V8 (pointer
// compression), so passing it to or returning it from a call that is not inlined would box it in a heap number.
function put32(u8: Uint8Array, o: number, v: number): void {
  put16(u8, o, Math.floor(v / 65536) & 0xffff);
  put16(u8, o + 2, v % 65536);
}

function get16(u8: Uint8Array, o: number): number {
  return (u8[o] << 8) | u8[o + 1];
}

function get32(u8: Uint8Array, o: number): number {
  return get16(u8, o) * 65536 + get16(u8, o + 2);
}

/** The IPv4 header checksum (RFC 791, RFC 1071): ones' complement of the ones' complement sum of its 16-bit words. */
export function ipChecksum(u8: Uint8Array, ip: number): number {
  let sum = 0;
  for (let i = 0; i < IP_HLEN; i += 2) sum += (u8[ip + i] << 8) | u8[ip + i + 1];
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
