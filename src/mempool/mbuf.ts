// Packet buffers (DPDK's rte_mbuf). An mbuf is an integer handle: the u32 index of its 64-byte header in the EAL
// region. The header holds what every lcore and every driver needs; the private area, the headroom and the data
// follow it in the same mempool object:
//
//   [ header 64 B | private area (privSize) | headroom (128 B) + data room ]
//
// Header words (u32 index = handle + word; 16-bit fields at u16 index = handle * 2 + half-word):
//   0  buf IOVA, low 32 bits          1  buf IOVA, high bits
//   2  byte offset of the buffer in the EAL region
//   3  refcnt (u16 6)     | nb_segs (u16 7)
//   4  port (u16 8)       | buf_len (u16 9)
//   5  ol_flags           6  tx offload lengths (l2_len, l3_len, l4_len, ...)
//   7  packet_type        8  pkt_len
//   9  data_len (u16 18)  | data_off (u16 19)
//   10 RSS hash           11 vlan_tci (u16 22) | vlan_tci_outer (u16 23)
//   12 next segment (handle, 0 = none)
//   13 pool id            14 priv_size (u16 28)
//   15 free for the application (DPDK's dynfield)
// Fields that change together share a word, so a driver initialises a received packet with few stores.
// A free mbuf (in its pool) always has next = 0, nb_segs = 1 and refcnt = 1.
import { mem, type Region } from '../eal/memory.js';
import { Mempool, mempoolCreate, mempoolById, MEMPOOL_F_PKTMBUF, MempoolError } from './mempool.js';

export const MBUF_HDR = 64;
export const PKTMBUF_HEADROOM = 128;
export const MBUF_DEFAULT_DATAROOM = 2048;
export const MBUF_DEFAULT_BUF_SIZE = MBUF_DEFAULT_DATAROOM + PKTMBUF_HEADROOM;
export const MBUF_PORT_INVALID = 0xffff;

export const M = {
  BUF_IOVA_LO: 0,
  BUF_IOVA_HI: 1,
  BUF_OFF: 2,
  /** refcnt in the low half, nb_segs in the high half: 0x10001 is an unshared one-segment packet */
  REFCNT_SEGS: 3,
  PORT_BUFLEN: 4,
  OL_FLAGS: 5,
  TX_OFFLOAD: 6,
  PACKET_TYPE: 7,
  PKT_LEN: 8,
  /** data_len in the low half, data_off in the high half */
  DATA: 9,
  RSS: 10,
  VLAN: 11,
  NEXT: 12,
  POOL: 13,
  DYN: 15,
  // u16 half-word offsets from handle * 2
  H_REFCNT: 6,
  H_NB_SEGS: 7,
  H_PORT: 8,
  H_BUF_LEN: 9,
  H_DATA_LEN: 18,
  H_DATA_OFF: 19,
  H_VLAN_TCI: 22,
  H_VLAN_TCI_OUTER: 23,
  H_PRIV_SIZE: 28,
} as const;

// Offload flags (low word), DPDK's RTE_MBUF_F_* names
export const RX_VLAN = 1 << 0;
export const RX_RSS_HASH = 1 << 1;
export const RX_IP_CKSUM_BAD = 1 << 4;
export const RX_L4_CKSUM_BAD = 1 << 3;
export const RX_IP_CKSUM_GOOD = 1 << 7;
export const RX_L4_CKSUM_GOOD = 1 << 8;
export const RX_VLAN_STRIPPED = 1 << 6;
/** an IEEE 1588 (PTP) frame, recognised by the NIC's EtherType filter (RTE_MBUF_F_RX_IEEE1588_PTP) */
export const RX_IEEE1588_PTP = 1 << 9;
/** the NIC latched this frame's receive time: read it with timesyncReadRxTimestamp (RTE_MBUF_F_RX_IEEE1588_TMST) */
export const RX_IEEE1588_TMST = 1 << 10;
export const RX_IP_CKSUM_MASK = RX_IP_CKSUM_BAD | RX_IP_CKSUM_GOOD;
export const RX_L4_CKSUM_MASK = RX_L4_CKSUM_BAD | RX_L4_CKSUM_GOOD;

// TX requests (high half of ol_flags; DPDK keeps them in the upper 32 bits of its 64-bit word). A driver that
// offers the matching TX offload acts on them; l2/l3/l4 lengths come from the tx_offload word (setTxLens).
export const TX_VLAN = 1 << 16;
export const TX_IP_CKSUM = 1 << 17;
export const TX_IPV4 = 1 << 18;
export const TX_IPV6 = 1 << 19;
export const TX_L4_MASK = 3 << 20;
export const TX_TCP_CKSUM = 1 << 20;
export const TX_SCTP_CKSUM = 2 << 20;
export const TX_UDP_CKSUM = 3 << 20;
/**
 * latch this frame's transmit time (RTE_MBUF_F_TX_IEEE1588_TMST, bit 51 in DPDK's 64-bit word): read it with
 * timesyncReadTxTimestamp once the frame is out; the port needs timesyncEnable
 */
export const TX_IEEE1588_TMST = 1 << 22;
/** every TX request bit */
export const TX_OFFLOAD_MASK = TX_VLAN | TX_IP_CKSUM | TX_IPV4 | TX_IPV6 | TX_L4_MASK | TX_IEEE1588_TMST;

// Packet types (DPDK's RTE_PTYPE_* values) for packet_type.
export const PTYPE_L2_ETHER = 0x1;
/** an IEEE 1588 frame over Ethernet (EtherType 0x88F7) */
export const PTYPE_L2_ETHER_TIMESYNC = 0x2;
export const PTYPE_L2_ETHER_VLAN = 0x6;
export const PTYPE_L3_IPV4 = 0x10;
export const PTYPE_L3_IPV4_EXT = 0x30;
export const PTYPE_L3_IPV6 = 0x40;
export const PTYPE_L3_IPV6_EXT = 0xc0;
export const PTYPE_L4_TCP = 0x100;
export const PTYPE_L4_UDP = 0x200;
export const PTYPE_L4_SCTP = 0x400;

let U32: Uint32Array = new Uint32Array(0);
let U16: Uint16Array = new Uint16Array(0);
let U8: Uint8Array = new Uint8Array(0);
let bound: Region | null = null;

/** Binds the accessors to this thread's view of the EAL region (done by pool create/lookup). */
export function mbufBind(r: Region = mem()): void {
  if (bound === r) return;
  bound = r;
  U32 = r.u32;
  U16 = r.u16;
  U8 = r.u8;
}

// --- accessors (small, monomorphic, inlined by the JIT) ---------------------------------------------------------
export function dataOff(m: number): number { return U16[(m << 1) + M.H_DATA_OFF]; }
export function setDataOff(m: number, v: number): void { U16[(m << 1) + M.H_DATA_OFF] = v; }
export function dataLen(m: number): number { return U16[(m << 1) + M.H_DATA_LEN]; }
export function setDataLen(m: number, v: number): void { U16[(m << 1) + M.H_DATA_LEN] = v; }
export function pktLen(m: number): number { return U32[m + M.PKT_LEN]; }
export function setPktLen(m: number, v: number): void { U32[m + M.PKT_LEN] = v; }
export function port(m: number): number { return U16[(m << 1) + M.H_PORT]; }
export function setPort(m: number, v: number): void { U16[(m << 1) + M.H_PORT] = v; }
export function nbSegs(m: number): number { return U16[(m << 1) + M.H_NB_SEGS]; }
export function next(m: number): number { return U32[m + M.NEXT]; }
export function refcnt(m: number): number { return U16[(m << 1) + M.H_REFCNT]; }
export function setRefcnt(m: number, v: number): void { U16[(m << 1) + M.H_REFCNT] = v; }
export function refcntUpdate(m: number, d: number): number {
  const i = (m << 1) + M.H_REFCNT;
  return (Atomics.add(U16, i, d) + d) & 0xffff;
}
export function olFlags(m: number): number { return U32[m + M.OL_FLAGS]; }
export function setOlFlags(m: number, v: number): void { U32[m + M.OL_FLAGS] = v; }
export function packetType(m: number): number { return U32[m + M.PACKET_TYPE]; }
export function setPacketType(m: number, v: number): void { U32[m + M.PACKET_TYPE] = v; }
export function rssHash(m: number): number { return U32[m + M.RSS]; }
export function vlanTci(m: number): number { return U16[(m << 1) + M.H_VLAN_TCI]; }
export function txOffload(m: number): number { return U32[m + M.TX_OFFLOAD]; }
export function setTxOffload(m: number, v: number): void { U32[m + M.TX_OFFLOAD] = v; }
export function setVlanTci(m: number, v: number): void { U16[(m << 1) + M.H_VLAN_TCI] = v; }
/** tx_offload lengths: l2_len bits 6:0, l3_len bits 15:7, l4_len bits 23:16 (DPDK's bit-field order). */
export function setTxLens(m: number, l2: number, l3: number, l4 = 0): void {
  U32[m + M.TX_OFFLOAD] = (l2 & 0x7f) | ((l3 & 0x1ff) << 7) | ((l4 & 0xff) << 16);
}
export function l2Len(m: number): number { return U32[m + M.TX_OFFLOAD] & 0x7f; }
export function l3Len(m: number): number { return (U32[m + M.TX_OFFLOAD] >>> 7) & 0x1ff; }
export function l4Len(m: number): number { return (U32[m + M.TX_OFFLOAD] >>> 16) & 0xff; }
export function bufLen(m: number): number { return U16[(m << 1) + M.H_BUF_LEN]; }
export function poolId(m: number): number { return U32[m + M.POOL]; }
/** Byte offset in the EAL region of the buffer's first byte. */
export function bufOff(m: number): number { return U32[m + M.BUF_OFF]; }
/** Byte offset in the EAL region of the packet's first byte (rte_pktmbuf_mtod). */
export function mtod(m: number): number { return U32[m + M.BUF_OFF] + U16[(m << 1) + M.H_DATA_OFF]; }
/** IOVA of the packet data (rte_pktmbuf_iova) as a Number. */
export function dataIova(m: number): number {
  return U32[m + M.BUF_IOVA_HI] * 4294967296 + U32[m + M.BUF_IOVA_LO] + U16[(m << 1) + M.H_DATA_OFF];
}
export function headroom(m: number): number { return U16[(m << 1) + M.H_DATA_OFF]; }
export function tailroom(m: number): number {
  return U16[(m << 1) + M.H_BUF_LEN] - U16[(m << 1) + M.H_DATA_OFF] - U16[(m << 1) + M.H_DATA_LEN];
}
/** Byte offset of the private area. */
export function privOff(m: number): number { return m * 4 + MBUF_HDR; }

/** The packet data of one segment, as a fresh Uint8Array view (allocates: control path and tests only). */
export function dataView(m: number): Uint8Array {
  const o = mtod(m);
  return U8.subarray(o, o + dataLen(m));
}

/** Copies a whole (possibly chained) packet out (allocates: control path and tests only). */
export function packetBytes(m: number): Uint8Array {
  const out = new Uint8Array(pktLen(m));
  let at = 0;
  for (let s = m; s !== 0; s = next(s)) {
    const o = mtod(s);
    out.set(U8.subarray(o, o + dataLen(s)), at);
    at += dataLen(s);
  }
  return out;
}

/** Resets a header to a fresh one-segment empty packet (rte_pktmbuf_reset). */
export function reset(m: number): void {
  U32[m + M.NEXT] = 0;
  U32[m + M.PKT_LEN] = 0;
  U32[m + M.REFCNT_SEGS] = (U32[m + M.REFCNT_SEGS] & 0xffff) | 0x10000; // nb_segs = 1, refcnt kept
  U16[(m << 1) + M.H_PORT] = MBUF_PORT_INVALID;
  U32[m + M.OL_FLAGS] = 0;
  U32[m + M.TX_OFFLOAD] = 0;
  U32[m + M.PACKET_TYPE] = 0;
  U32[m + M.VLAN] = 0;
  const buf = U16[(m << 1) + M.H_BUF_LEN];
  U32[m + M.DATA] = (buf < PKTMBUF_HEADROOM ? buf : PKTMBUF_HEADROOM) << 16; // data_len 0
}

/** Appends len bytes to the last segment; returns the byte offset of the new room or -1 (rte_pktmbuf_append). */
export function append(m: number, len: number): number {
  let last = m;
  while (U32[last + M.NEXT] !== 0) last = U32[last + M.NEXT];
  if (len > tailroom(last)) return -1;
  const at = mtod(last) + dataLen(last);
  setDataLen(last, dataLen(last) + len);
  U32[m + M.PKT_LEN] += len;
  return at;
}

/** Removes len bytes from the front; returns the new data offset in the region, or -1 (rte_pktmbuf_adj). */
export function adj(m: number, len: number): number {
  if (len > dataLen(m)) return -1;
  setDataOff(m, dataOff(m) + len);
  setDataLen(m, dataLen(m) - len);
  U32[m + M.PKT_LEN] -= len;
  return mtod(m);
}

/** Prepends len bytes; returns the new data offset in the region, or -1 (rte_pktmbuf_prepend). */
export function prepend(m: number, len: number): number {
  if (len > headroom(m)) return -1;
  setDataOff(m, dataOff(m) - len);
  setDataLen(m, dataLen(m) + len);
  U32[m + M.PKT_LEN] += len;
  return mtod(m);
}

/** Chains tail's segments after head's (rte_pktmbuf_chain). false when the segment count would overflow. */
export function chain(head: number, tail: number): boolean {
  const segs = nbSegs(head) + nbSegs(tail);
  if (segs > 0xffff) return false;
  let last = head;
  while (U32[last + M.NEXT] !== 0) last = U32[last + M.NEXT];
  U32[last + M.NEXT] = tail;
  U16[(head << 1) + M.H_NB_SEGS] = segs;
  U32[head + M.PKT_LEN] += U32[tail + M.PKT_LEN];
  return true;
}

/** Copies bytes into the packet at its data start (single segment; tests and control path). */
export function writeData(m: number, bytes: ArrayLike<number>, at = 0): void {
  const o = mtod(m) + at;
  for (let i = 0; i < bytes.length; i++) U8[o + i] = bytes[i];
}

// --- pools ----------------------------------------------------------------------------------------------------

/**
 * Creates a pool of packet buffers (rte_pktmbuf_pool_create). dataRoomSize includes the 128-byte headroom
 * (DPDK's RTE_MBUF_DEFAULT_BUF_SIZE = 2176). Each buffer's IOVA is computed here, once.
 */
export function pktmbufPoolCreate(name: string, n: number, cacheSize = 0, privSize = 0,
  dataRoomSize: number = MBUF_DEFAULT_BUF_SIZE): Mempool {
  if (!Number.isInteger(privSize) || privSize < 0 || privSize % 8 !== 0 || privSize > 0xffff) {
    throw new MempoolError(`bad private size ${privSize}: a multiple of 8 below 65536`);
  }
  if (!Number.isInteger(dataRoomSize) || dataRoomSize < 0 || dataRoomSize > 0xffff) {
    throw new MempoolError(`bad data room size ${dataRoomSize}: 0 to 65535 bytes`);
  }
  const r = mem();
  mbufBind(r);
  let id = 0;
  const pool = mempoolCreate(name, n, {
    eltSize: MBUF_HDR + privSize + dataRoomSize, cacheSize, flags: MEMPOOL_F_PKTMBUF, privSize, dataRoom: dataRoomSize,
    objInit: (off) => {
      const m = off >>> 2;
      const buf = off + MBUF_HDR + privSize;
      const iova = r.iova(buf);
      U32[m + M.BUF_IOVA_LO] = iova >>> 0;
      U32[m + M.BUF_IOVA_HI] = Math.floor(iova / 4294967296);
      U32[m + M.BUF_OFF] = buf;
      U16[(m << 1) + M.H_BUF_LEN] = dataRoomSize;
      U16[(m << 1) + M.H_PRIV_SIZE] = privSize;
      U32[m + M.REFCNT_SEGS] = 0x10001;
      U32[m + M.POOL] = 0; // set below, when the id is known
      reset(m);
    },
  });
  id = pool.id;
  pool.objIter((m) => {
    U32[m + M.POOL] = id;
  });
  return pool;
}

/**
 * Allocates up to n fresh mbufs into mbufs[from..] and resets them; returns how many (rte_pktmbuf_alloc_bulk is
 * all-or-nothing: use pktmbufAllocBulk for that).
 */
export function pktmbufAllocBurst(pool: Mempool, mbufs: Uint32Array, n: number, from = 0): number {
  mbufBind();
  const got = pool.getBurst(mbufs, n, from);
  for (let i = 0; i < got; i++) reset(mbufs[from + i]);
  return got;
}

export function pktmbufAllocBulk(pool: Mempool, mbufs: Uint32Array, n: number, from = 0): boolean {
  mbufBind();
  if (!pool.getBulk(mbufs, n, from)) return false;
  for (let i = 0; i < n; i++) reset(mbufs[from + i]);
  return true;
}

function initPacket(u32: Uint32Array, u16: Uint16Array, m: number, port: number, len: number, data: number): void {
  u16[(m << 1) + M.H_PORT] = port;
  u32[m + M.OL_FLAGS] = 0;
  u32[m + M.TX_OFFLOAD] = 0;
  u32[m + M.PACKET_TYPE] = 0;
  u32[m + M.PKT_LEN] = len;
  u32[m + M.DATA] = data;
  u32[m + M.VLAN] = 0;
}

/**
 * Allocates up to n mbufs into mbufs[0..) and makes each a one-segment packet of `len` bytes received on `port`,
 * in one pass over this lcore's cache (what a receive path does). Returns how many.
 */
export function pktmbufAllocPackets(pool: Mempool, mbufs: Uint32Array, n: number, len: number, port: number): number {
  const cl = pool.cacheLen;
  if (cl < 0 || n > pool.cacheCap) {
    const got = pktmbufAllocBurst(pool, mbufs, n, 0);
    for (let i = 0; i < got; i++) {
      const m = mbufs[i];
      U32[m + M.PKT_LEN] = len;
      U16[(m << 1) + M.H_PORT] = port;
      U16[(m << 1) + M.H_DATA_LEN] = len;
    }
    return got;
  }
  const u32 = pool.u32;
  let clen = u32[cl];
  if (clen < n) {
    clen = pool.cacheRefill(n);
    if (clen < n) n = clen;
  }
  clen -= n;
  const co = pool.cacheObjs + clen;
  const u16 = pool.u16;
  const data = (len | (Math.min(PKTMBUF_HEADROOM, pool.dataRoom) << 16)) >>> 0;
  let i = 0;
  // four at a time: the handle loads grouped ahead of the stores
  for (; i + 4 <= n; i += 4) {
    const m0 = u32[co + i];
    const m1 = u32[co + i + 1];
    const m2 = u32[co + i + 2];
    const m3 = u32[co + i + 3];
    mbufs[i] = m0;
    mbufs[i + 1] = m1;
    mbufs[i + 2] = m2;
    mbufs[i + 3] = m3;
    initPacket(u32, u16, m0, port, len, data);
    initPacket(u32, u16, m1, port, len, data);
    initPacket(u32, u16, m2, port, len, data);
    initPacket(u32, u16, m3, port, len, data);
  }
  for (; i < n; i++) {
    const m = u32[co + i];
    mbufs[i] = m;
    initPacket(u32, u16, m, port, len, data);
  }
  u32[cl] = clen;
  return n;
}

/** One fresh mbuf, or 0 when the pool is empty (rte_pktmbuf_alloc). */
export function pktmbufAlloc(pool: Mempool): number {
  mbufBind();
  const m = pool.get();
  if (m < 0) return 0;
  reset(m);
  return m;
}

/** Drops one reference to a segment; true when it reached zero and the segment may go back to its pool. */
function releaseSeg(m: number): boolean {
  if (U16[(m << 1) + M.H_REFCNT] !== 1) {
    if (refcntUpdate(m, -1) !== 0) return false;
    U16[(m << 1) + M.H_REFCNT] = 1;
  }
  return true;
}

/** Frees a packet and all its segments (rte_pktmbuf_free). 0 is ignored. */
export function pktmbufFree(m: number): void {
  mbufBind();
  while (m !== 0) {
    const nx = U32[m + M.NEXT];
    if (releaseSeg(m)) {
      if (nx !== 0) {
        U32[m + M.NEXT] = 0;
        U16[(m << 1) + M.H_NB_SEGS] = 1;
      }
      mempoolById(U32[m + M.POOL]).put(m);
    }
    m = nx;
  }
}

/**
 * Frees n packets of mbufs[from..] (rte_pktmbuf_free_bulk) and returns the sum of their pkt_len (drivers count
 * bytes with it). One-segment, unshared packets of one pool go straight into this lcore's cache in one pass.
 */
export function pktmbufFreeBulk(mbufs: Uint32Array, n: number, from = 0): number {
  mbufBind();
  const u32 = U32;
  let bytes = 0;
  let i = 0;
  while (i < n) {
    const pool = mempoolById(u32[mbufs[from + i] + M.POOL]);
    const cl = pool.cacheLen;
    if (cl >= 0) {
      const pid = pool.id;
      let len = pool.cacheMakeRoom(n - i < pool.cacheCap ? n - i : pool.cacheCap);
      const co = pool.cacheObjs;
      const cap = pool.cacheCap;
      // four at a time while they all qualify: loads grouped ahead of the stores
      for (; i + 4 <= n && len + 4 <= cap; i += 4) {
        const m0 = mbufs[from + i];
        const m1 = mbufs[from + i + 1];
        const m2 = mbufs[from + i + 2];
        const m3 = mbufs[from + i + 3];
        if (u32[m0 + M.REFCNT_SEGS] !== 0x10001 || u32[m1 + M.REFCNT_SEGS] !== 0x10001 ||
          u32[m2 + M.REFCNT_SEGS] !== 0x10001 || u32[m3 + M.REFCNT_SEGS] !== 0x10001 ||
          u32[m0 + M.POOL] !== pid || u32[m1 + M.POOL] !== pid || u32[m2 + M.POOL] !== pid || u32[m3 + M.POOL] !== pid) break;
        bytes += u32[m0 + M.PKT_LEN] + u32[m1 + M.PKT_LEN] + u32[m2 + M.PKT_LEN] + u32[m3 + M.PKT_LEN];
        u32[co + len] = m0;
        u32[co + len + 1] = m1;
        u32[co + len + 2] = m2;
        u32[co + len + 3] = m3;
        len += 4;
      }
      for (; i < n && len < cap; i++) {
        const m = mbufs[from + i];
        if (u32[m + M.REFCNT_SEGS] !== 0x10001 || u32[m + M.POOL] !== pid) break;
        bytes += u32[m + M.PKT_LEN];
        u32[co + len++] = m;
      }
      u32[cl] = len;
      if (i === n) break;
      if (len === cap) continue;
    }
    // slow path for this packet: chained, shared, another pool, or no cache
    const m = mbufs[from + i];
    bytes += u32[m + M.PKT_LEN];
    pktmbufFree(m);
    i++;
  }
  return bytes;
}

/** Adds d to the reference count of every segment (rte_pktmbuf_refcnt_update). */
export function pktmbufRefcntUpdate(m: number, d: number): void {
  mbufBind();
  for (let s = m; s !== 0; s = U32[s + M.NEXT]) refcntUpdate(s, d);
}

/** Deep copy into fresh mbufs of pool (rte_pktmbuf_copy, whole packet, one segment per source segment). 0 on failure. */
export function pktmbufCopy(m: number, pool: Mempool): number {
  mbufBind();
  let head = 0;
  for (let s = m; s !== 0; s = next(s)) {
    const c = pktmbufAlloc(pool);
    if (c === 0) {
      if (head !== 0) pktmbufFree(head);
      return 0;
    }
    const len = dataLen(s);
    U8.copyWithin(mtod(c), mtod(s), mtod(s) + len);
    setDataLen(c, len);
    U32[c + M.PKT_LEN] = len;
    if (head === 0) {
      head = c;
      U16[(c << 1) + M.H_PORT] = port(m);
      U32[c + M.OL_FLAGS] = olFlags(m);
      U32[c + M.PACKET_TYPE] = packetType(m);
    } else if (!chain(head, c)) {
      pktmbufFree(c);
      pktmbufFree(head);
      return 0;
    }
  }
  return head;
}

export { Mempool };
