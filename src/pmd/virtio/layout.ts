// Where a virtqueue of net_virtio lives in EAL memory, and the queue specs the control half hands to the lcores.
//
// Per queue, two memzones:
// - the ring (IOVA-contiguous, 4 KiB aligned): split: descriptor table, avail ring, used ring (spec.ts splitLayout);
//   packed: descriptor ring, driver and device event suppression (packedLayout); TX rings then hold one 16-byte net
//   header slot per buffer ID, for packets whose first segment has no headroom for the header;
// - a software block: i32 state words (VQS_*), then u32 arrays of nb entries each (SW_*): the mbuf that owns each
//   buffer ID, how many descriptors that buffer spans, the free-ID FIFO and (TX) the FIFO of IDs in flight in the
//   order they were made available.
// The control half (port.ts) creates and arms them; the data half (rxq.ts / txq.ts) runs them; any lcore that
// attaches a queue continues where the last one stopped, since all state is in these words.
import type { QueueSpecBase } from '../driver.js';

export const STATE_BYTES = 64;

// state words (i32 indexes from the software block's start)
/** split: driver's next avail index (free-running u16 kept as a number mod 2^16); packed: next avail slot */
export const VQS_AVAIL = 0;
/** split: next used index to read (mod 2^16); packed: next used slot */
export const VQS_USED = 1;
/** packed: avail / used wrap counters (1 at start) */
export const VQS_AVAIL_WRAP = 2;
export const VQS_USED_WRAP = 3;
/** descriptors free for new buffers */
export const VQS_FREE = 4;
/** free-ID FIFO: next to take, next to put back (both count up; index mod nb) */
export const VQS_ID_TAKE = 5;
export const VQS_ID_PUT = 6;
/** in-flight FIFO (TX): oldest, next slot */
export const VQS_FLY_HEAD = 7;
export const VQS_FLY_TAIL = 8;
/** RX: first and last mbuf of a frame whose buffers have not all arrived (0 = none), buffers still to come */
export const VQS_FIRST = 9;
export const VQS_LAST = 10;
export const VQS_LEFT = 11;
/** RX: net header flags of that frame (its first buffer's) */
export const VQS_HDR_FLAGS = 12;
/** notifications this queue sent (a plain counter: the kicks-per-packet figure of benches and tests) */
export const VQS_KICKS = 13;

/** u32 arrays after the state words, each nb entries: index of array k is STATE_BYTES/4 + k * nb */
export const SW_MBUF = 0;
export const SW_NDESC = 1;
export const SW_FREE_IDS = 2;
export const SW_FLY = 3;
export const SW_ARRAYS = 4;

export function swBytes(nb: number): number {
  return STATE_BYTES + SW_ARRAYS * 4 * nb;
}

/** Bytes of a TX header slot (12-byte header, 16-byte stride). */
export const TX_HDR_SLOT = 16;

export type RingLayout = 'split' | 'packed';

/** What an lcore needs to run one virtqueue of a port. */
export interface VirtioQueueSpec extends QueueSpecBase {
  driver: string;
  layout: RingLayout;
  /** virtqueue number (the value a notification writes) */
  vq: number;
  nb: number;
  /** byte offsets in the EAL region: ring areas and the software block */
  desc: number;
  /** split: avail ring; packed: driver event suppression */
  driverArea: number;
  /** split: used ring; packed: device event suppression */
  deviceArea: number;
  sw: number;
  /** notification address of this queue (decimal: JSON has no BigInt) and the length of the notify region view */
  notify: string;
  notifyLen: number;
  /** u16 index of this queue's notify register in that view */
  notifyIdx: number;
  eventIdx: boolean;
  inOrder: boolean;
}

export interface VirtioRxSpec extends VirtioQueueSpec {
  pool: string;
  /** mbuf data_off of received data: the net header sits just before it, in the headroom */
  headroom: number;
  /** VIRTIO_NET_F_MRG_RXBUF: a frame may span several buffers (num_buffers in the header) */
  mergeable: boolean;
  /** report the header's DATA_VALID / NEEDS_CSUM in ol_flags */
  cksum: boolean;
  /** intrConf.rxq: the queue has an MSI-X vector, and intrEnable / intrDisable (rxq.ts) exist */
  intr?: boolean;
}

export interface VirtioTxSpec extends VirtioQueueSpec {
  /** IOVA of header slot 0 (TX_HDR_SLOT bytes per buffer ID), and its byte offset in the region */
  hdrIova: number;
  hdrOff: number;
  /** VIRTIO_NET_F_CSUM negotiated: L4 checksum requests become NEEDS_CSUM headers */
  csum: boolean;
}

let observable = false;

/**
 * Test seam: notifications written with Atomics.store instead of a plain store, so a simulated device can see
 * each one (a plain typed-array store cannot be observed). Read when a queue is attached.
 */
export function setObservableNotify(on: boolean): void {
  observable = on;
}

export function observableNotify(): boolean {
  return observable;
}
