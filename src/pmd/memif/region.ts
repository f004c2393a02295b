// memif shared memory: the ring and descriptor layout (memif.h memif_ring_t, memif_desc_t), how a client lays out
// region 0 in copy mode (rte_eth_memif.c memif_region_init_shm / memif_init_rings), and the words pktio's control
// half shares with its data planes per queue (not part of the protocol).
//
// Region 0 (the only region in copy mode; the client creates it with memfd_create and sends it with ADD_REGION):
//
//   [ C2S ring 0 .. C2S ring nc-1 | S2C ring 0 .. S2C ring ns-1 | buffers: bsize bytes per slot, per ring ]
//
// ring r of type t starts at (r + t * nc) * ringBytes; the buffers start at pkt_buffer_offset = (nc + ns) *
// ringBytes, slot j of the g-th ring (g = r for C2S, nc + r for S2C) at pkt_buffer_offset + (g << log2) + j) * bsize.
//
// Who moves which index (eth_memif_rx / eth_memif_tx):
//   C2S ring: the client (sender) fills descriptors and advances head; the server (receiver) consumes up to head
//             and hands slots back by advancing tail. Free slots for the client: size - head + tail.
//   S2C ring: the client (receiver) hands empty buffers to the server by advancing head (descriptor length =
//             buffer size); the server (sender) fills slots from tail and advances tail; the client consumes up to
//             tail. Free slots for the server: head - tail.
// Indices are free-running u16 counters; slot = index & (size - 1).
import { MEMIF_COOKIE } from './proto.js';

// memif_ring_t: cache-line aligned parts
export const RING_COOKIE = 0; // u32 MEMIF_COOKIE
export const RING_FLAGS = 4; // u16
export const RING_HEAD = 6; // u16, volatile
export const RING_TAIL = 64; // u16, volatile (its own cache line)
export const RING_DESC = 128; // memif_desc_t desc[]
/** ring->flags: the receiver polls; the sender need not signal the eventfd */
export const MEMIF_RING_FLAG_MASK_INT = 1;

// memif_desc_t, 16 bytes
export const DESC_SIZE = 16;
export const DESC_FLAGS = 0; // u16
export const DESC_REGION = 2; // u16
export const DESC_LENGTH = 4; // u32
export const DESC_OFFSET = 8; // u32
export const DESC_METADATA = 12; // u32
/** desc->flags: the packet continues in the next descriptor */
export const MEMIF_DESC_FLAG_NEXT = 1;

// rte_eth_memif.h limits and defaults
export const ETH_MEMIF_DEFAULT_SOCKET_FILENAME = '/run/memif.sock';
export const ETH_MEMIF_DEFAULT_RING_SIZE = 10;
export const ETH_MEMIF_DEFAULT_PKT_BUFFER_SIZE = 2048;
export const ETH_MEMIF_MAX_LOG2_RING_SIZE = 14;
export const ETH_MEMIF_MAX_REGION_NUM = 256;
export const ETH_MEMIF_MAX_NUM_Q_PAIRS = 255;
/** regions pktio maps from a peer (copy mode needs one; libmemif may send a second for buffers) */
export const MAX_REGIONS = 8;

export function ringBytes(log2: number): number {
  return RING_DESC + (DESC_SIZE << log2);
}

export interface RegionLayout {
  log2: number;
  bsize: number;
  nc: number;
  ns: number;
  ringBytes: number;
  /** pkt_buffer_offset */
  bufOff: number;
  size: number;
}

export function regionLayout(nc: number, ns: number, log2: number, bsize: number): RegionLayout {
  const rb = ringBytes(log2);
  const bufOff = (nc + ns) * rb;
  return { log2, bsize, nc, ns, ringBytes: rb, bufOff, size: bufOff + bsize * (1 << log2) * (nc + ns) };
}

/** Offset in region 0 of ring r of type t (MEMIF_RING_C2S / S2C). */
export function ringOffset(l: RegionLayout, type: number, r: number): number {
  return (r + type * l.nc) * l.ringBytes;
}

/**
 * Writes a fresh ring at EAL-region offset `ring` (region 0 mapped at `base`): cookie, flags 0, head = tail = 0,
 * and every descriptor pointing at its own buffer in region 0 with length = bsize (memif_init_rings).
 */
export function initRing(u8: Uint8Array, base: number, l: RegionLayout, type: number, r: number): void {
  const ring = base + ringOffset(l, type, r);
  const dv = new DataView(u8.buffer, u8.byteOffset);
  dv.setUint32(ring + RING_COOKIE, MEMIF_COOKIE, true);
  dv.setUint16(ring + RING_FLAGS, 0, true);
  dv.setUint16(ring + RING_HEAD, 0, true);
  dv.setUint16(ring + RING_TAIL, 0, true);
  const g = type === 0 ? r : l.nc + r;
  const size = 1 << l.log2;
  for (let j = 0; j < size; j++) {
    const d = ring + RING_DESC + j * DESC_SIZE;
    dv.setUint16(d + DESC_FLAGS, 0, true);
    dv.setUint16(d + DESC_REGION, 0, true);
    dv.setUint32(d + DESC_LENGTH, l.bsize, true);
    dv.setUint32(d + DESC_OFFSET, l.bufOff + (g * size + j) * l.bsize, true);
    dv.setUint32(d + DESC_METADATA, 0, true);
  }
}

// ---- pktio's own per-queue words (a memzone of the port; not part of the protocol) ----------------------------
// The control half publishes each queue's connection in a block of f64 words, and a state word the data plane
// reads with Atomics.load once per burst. state = epoch * 2 + up; the epoch grows with every link change. The data
// plane copies the block into its own fields when the state changes and then stores the state it saw in ACK, so a
// control half that finds ACK >= its down state knows no burst is still using the old regions.
export const QC_WORDS = 32; // f64 words per queue block (256 bytes)
// i32 indices inside the block (the first two f64 words)
export const QCI_STATE = 0;
export const QCI_ACK = 1;
/** i32: set by the data plane when the peer wrote a descriptor outside its regions (the control half disconnects) */
export const QCI_BAD = 2;
// f64 indices
export const QC_RING = 2; // EAL-region offset of the ring header
export const QC_LOG2 = 3;
export const QC_BSIZE = 4; // buffer size (client TX capacity, client RX refill length)
export const QC_KICK_FD = 5; // eventfd to write when the peer's ring asks for interrupts, -1 for none
export const QC_NREG = 6;
/** RX with intrConf.rxq: the ring's eventfd the peer writes while MASK_INT is clear (intrDisable drains it), -1 for none */
export const QC_INTR_FD = 7;
export const QC_REG = 8; // (base, len) pairs: EAL-region offset and bytes of peer region i
export const QC_REG_MAX = (QC_WORDS - QC_REG) >> 1;
