// Where an Intel queue keeps its state in EAL memory, and the queue specs the control half hands to the lcores.
//
// Per queue, two memzones: the descriptor ring (IOVA-contiguous, 4 KiB aligned) and a software block:
//   [0, 64)                     i32 state words (RXS_* / TXS_*), so whichever lcore attaches continues the queue
//   [64, 64 + 4 nb)             shadow ring: the mbuf handle that owns each descriptor's buffer (0 = none)
//   TX only: [.., + 4 nb / 32)  per reclaim batch, the descriptor whose DD says the whole batch is done
// The control half (port.ts) creates and arms them; the data half (rxq.ts / txq.ts) runs them. Both read this file.
import type { QueueSpecBase } from '../../driver.js';
import type { RxCodecName, TxCodecName } from './codec.js';

export const STATE_BYTES = 64;

export const RXS_NEXT = 0; // next descriptor to look at
export const RXS_HOLD = 1; // re-armed descriptors not yet handed back with RDT
export const RXS_FIRST = 2; // first mbuf of a frame whose last descriptor has not arrived yet (0 = none)
export const RXS_LAST = 3; // last mbuf of that frame

export const TXS_TAIL = 0; // next descriptor to fill (= TDT)
export const TXS_CLEAN = 1; // oldest descriptor not reclaimed (always a batch start)
export const TXS_FREE = 2; // descriptors free for new packets (at most nb - 1)
export const TXS_CTX_VALID = 3; // 1 once context 0 holds CTX_W0 / CTX_TUCMD
export const TXS_CTX_W0 = 4; // vlan_macip_lens of the context the NIC holds
export const TXS_CTX_TUCMD = 5; // type_tucmd_mlhl of that context

/** Descriptors reclaimed (and mbufs freed) per TX batch; TX rings are whole batches. */
export const TX_BATCH = 32;
export const TX_BATCH_SHIFT = 5;

export function rxSwBytes(nb: number): number {
  return STATE_BYTES + nb * 4;
}

export function txSwBytes(nb: number): number {
  return STATE_BYTES + nb * 4 + (nb / TX_BATCH) * 4;
}

/** What an lcore needs to run one RX queue. */
export interface IntelRxSpec extends QueueSpecBase {
  driver: string;
  /** BAR 0 address, decimal (JSON has no BigInt), and length */
  bar: string;
  barLen: number;
  /** byte offsets in the EAL region: descriptor ring, software block */
  ring: number;
  sw: number;
  nb: number;
  pool: string;
  /** byte offset of this queue's RDT register in BAR 0 */
  rdt: number;
  codec: RxCodecName;
  /** where received data starts in the mbuf's buffer (data_off) */
  headroom: number;
  /** report VLAN stripped into the mbuf (the NIC strips when told to) */
  vlanStrip: boolean;
  /** report IP / L4 checksum status in ol_flags */
  cksum: boolean;
  /** put the RSS hash into the mbuf */
  rssHash: boolean;
  /** BAR 0 byte offsets and bit that unmask (set) / mask (clear) this queue's MSI-X vector; null: no interrupt */
  intr: { set: number; clear: number; bit: number } | null;
}

/** What an lcore needs to run one TX queue. */
export interface IntelTxSpec extends QueueSpecBase {
  driver: string;
  bar: string;
  barLen: number;
  ring: number;
  sw: number;
  nb: number;
  /** byte offset of this queue's TDT register in BAR 0 */
  tdt: number;
  codec: TxCodecName;
  /** reclaim when fewer descriptors than this are free */
  freeThresh: number;
}

let observable = false;

/**
 * Test seam: doorbells written with Atomics.store instead of a plain store, so a test can see each one by wrapping
 * Atomics.store (a plain typed-array store cannot be observed). Same registers, values and count; read when a
 * queue is attached on an lcore.
 */
export function setObservableDoorbells(on: boolean): void {
  observable = on;
}

export function observableDoorbells(): boolean {
  return observable;
}
