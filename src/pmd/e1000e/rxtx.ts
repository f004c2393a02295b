// e1000e data plane: the RX and TX queue objects each lcore builds from a queue spec.
//
// Descriptor format: LEGACY descriptors (datasheet 7.1.4 / 7.2.10), RFCTL.EXSTEN = 0, RCTL.DTYP = 00. They are
// enough for what pktio offloads (nothing: CRC strip only), keep the buffer address across write-back (so a dropped
// frame's descriptor is re-armed without rewriting much), and are what every 8254x/8257x and QEMU's e1000e handle.
//
// Shared state per queue (one block of EAL memory, so whichever lcore attaches continues where the last stopped):
//   [0, 64)         i32 state words (RXS_* / TXS_*)
//   [64, 64 + 4nb)  shadow ring: the mbuf handle that owns each descriptor's buffer (0 = none)
// The descriptor ring is a separate IOVA-contiguous memzone. BAR 0 is viewed by each thread through koffi.view.
//
// Hot path rules kept here: no allocation, one doorbell (RDT / TDT) per burst with Atomics.store, DD polled with
// Atomics.load, 64-bit IOVAs as two u32 halves, RX refill in bulk from the pool, TX reclaim in batches.
import { mem } from '../../eal/memory.js';
import * as ffi from '../../eal/ffi.js';
import { mempoolLookup, type Mempool } from '../../mempool/mempool.js';
import { M, mbufBind, pktmbufFreeBulk } from '../../mempool/mbuf.js';
import { QS_PACKETS, QS_BYTES, QS_ERRORS, QS_NOMBUF, type QueueStats, type RxQueue, type TxQueue } from '../driver.js';
import {
  RDT0, TDT, DESC_WORDS, RXD_STAT_DD, RXD_STAT_EOP, RXD_ERR_FRAME, TXD_CMD_EOP, TXD_CMD_IFCS, TXD_CMD_RS, TXD_STAT_DD,
} from './regs.js';

/** Headroom the driver leaves in front of received data (the mbuf's data_off). */
export const RX_HEADROOM = 128;
/** Receive buffer size programmed in RCTL.BSIZE. */
export const RX_BUF_SIZE = 2048;
/** Descriptors reclaimed (and mbufs freed) per TX batch. */
export const TX_FREE_BATCH = 32;

export const STATE_BYTES = 64;
export const RXS_NEXT = 0; // next descriptor to look at
export const RXS_DISCARD = 1; // 1 while dropping the rest of a frame that spanned descriptors
export const RXS_HOLD = 2; // re-armed descriptors not yet handed back with RDT
export const TXS_TAIL = 0; // next descriptor to fill (= TDT)
export const TXS_CLEAN = 1; // oldest descriptor not reclaimed
export const TXS_FREE = 2; // descriptors free for new packets (at most nb - 1)

export interface E1000eRxSpec {
  /** BAR 0 address, decimal (JSON has no BigInt) */
  bar: string;
  barLen: number;
  /** byte offset of the descriptor ring in the EAL region */
  ring: number;
  nb: number;
  /** byte offset of the queue's state block + shadow ring */
  sw: number;
  pool: string;
  port: number;
}

export interface E1000eTxSpec {
  bar: string;
  barLen: number;
  ring: number;
  nb: number;
  sw: number;
  freeThresh: number;
}

const TWO32 = 4294967296;
const TX_CMD = TXD_CMD_IFCS | TXD_CMD_RS;
const TX_CMD_EOP = TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS;
const TX_CMD_EOP_NORS = TXD_CMD_EOP | TXD_CMD_IFCS;

function barView(spec: { bar: string; barLen: number }): Int32Array {
  return new Int32Array(ffi.view(BigInt(spec.bar), spec.barLen));
}

/** What both queue kinds keep: views of the region and of BAR0, and where the queue's words are. */
class E1000eQueue {
  protected readonly u32: Uint32Array;
  protected readonly u16: Uint16Array;
  protected readonly i32: Int32Array;
  protected readonly bar: Int32Array;
  protected readonly stats: QueueStats;
  /** u32 index of the descriptor ring */
  protected readonly ring: number;
  /** u32 index of the shadow ring (mbuf handle per descriptor) */
  protected readonly shadow: number;
  /** i32 index of the state words */
  protected readonly st: number;
  protected readonly nb: number;

  constructor(spec: { bar: string; barLen: number; ring: number; sw: number; nb: number }, stats: QueueStats) {
    const r = mem();
    mbufBind(r);
    this.u32 = r.u32;
    this.u16 = r.u16;
    this.i32 = r.i32;
    this.bar = barView(spec);
    this.stats = stats;
    this.ring = spec.ring >> 2;
    this.shadow = (spec.sw + STATE_BYTES) >> 2;
    this.st = spec.sw >> 2;
    this.nb = spec.nb;
  }
}

export class E1000eRx extends E1000eQueue implements RxQueue {
  private readonly pool: Mempool;
  /** RDT is written once this many descriptors are re-armed */
  private readonly holdThresh: number;
  private readonly port: number;
  private readonly rdt: number;
  /** replacement buffers of one burst */
  private readonly fresh: Uint32Array;

  constructor(spec: E1000eRxSpec, stats: QueueStats) {
    const pool = mempoolLookup(spec.pool);
    if (!pool) throw new Error(`net_e1000e: no mempool '${spec.pool}'`);
    super(spec, stats);
    this.pool = pool;
    this.holdThresh = Math.min(32, spec.nb >> 2);
    this.port = spec.port;
    this.rdt = RDT0 >> 2;
    this.fresh = new Uint32Array(spec.nb);
  }

  rxBurst(mbufs: Uint32Array, n: number): number {
    const i32 = this.i32;
    const ring = this.ring;
    const nb = this.nb;
    const st = this.st;
    let idx = i32[st + RXS_NEXT];
    if (n > nb - 1) n = nb - 1;
    // how many descriptors the NIC has written back
    let k = 0;
    let d = idx;
    while (k < n && (Atomics.load(i32, ring + d * DESC_WORDS + 3) & RXD_STAT_DD) !== 0) {
      k++;
      if (++d === nb) d = 0;
    }
    if (k === 0) return 0;
    // their replacement buffers, in one go; with too few, leave the rest of the descriptors for later
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
    const port = this.port;
    let discard = i32[st + RXS_DISCARD];
    let nrx = 0;
    let used = 0;
    let bytes = 0;
    let errors = 0;
    for (let j = 0; j < k; j++) {
      const w = ring + idx * DESC_WORDS;
      const w3 = u32[w + 3];
      let m = u32[sh + idx];
      if ((w3 & (RXD_STAT_EOP | RXD_ERR_FRAME)) === RXD_STAT_EOP && discard === 0) {
        const len = u32[w + 2] & 0xffff;
        u32[m + M.PKT_LEN] = len;
        u32[m + M.DATA] = len | (RX_HEADROOM << 16);
        u16[(m << 1) + M.H_PORT] = port;
        u32[m + M.OL_FLAGS] = 0;
        u32[m + M.TX_OFFLOAD] = 0;
        u32[m + M.PACKET_TYPE] = 0;
        u32[m + M.VLAN] = 0;
        mbufs[nrx++] = m;
        bytes += len;
        m = fresh[used++];
        u32[sh + idx] = m;
      } else {
        // a bad frame, or a piece of one longer than a buffer (no LPE: cannot happen below 2048 bytes): drop it
        // and give the same buffer back to the NIC
        discard = (w3 & RXD_STAT_EOP) === 0 ? 1 : 0;
        errors++;
      }
      const iova = u32[m + M.BUF_IOVA_HI] * TWO32 + u32[m + M.BUF_IOVA_LO] + RX_HEADROOM;
      u32[w] = iova >>> 0;
      u32[w + 1] = (iova / TWO32) >>> 0;
      u32[w + 2] = 0;
      u32[w + 3] = 0;
      if (++idx === nb) idx = 0;
    }
    if (used < k) this.pool.putBulk(fresh, k - used, used);
    i32[st + RXS_NEXT] = idx;
    i32[st + RXS_DISCARD] = discard;
    // the NIC owns [RDH, RDT): hand back everything up to the descriptor before the next one to look at, once
    // enough are re-armed (a doorbell is an MMIO write, the costliest step of a burst; DPDK's rx_free_thresh)
    const hold = i32[st + RXS_HOLD] + k;
    if (hold >= this.holdThresh) {
      Atomics.store(this.bar, this.rdt, idx === 0 ? nb - 1 : idx - 1);
      i32[st + RXS_HOLD] = 0;
    } else i32[st + RXS_HOLD] = hold;
    const s = this.stats;
    s[QS_PACKETS] += nrx;
    s[QS_BYTES] += bytes;
    if (errors !== 0) s[QS_ERRORS] += errors;
    return nrx;
  }
}

export class E1000eTx extends E1000eQueue implements TxQueue {
  private readonly rsMask: number;
  private readonly tdt: number;
  private readonly freeThresh: number;
  /** handles of one reclaim batch */
  private readonly done: Uint32Array;

  constructor(spec: E1000eTxSpec, stats: QueueStats) {
    super(spec, stats);
    this.tdt = TDT >> 2;
    this.freeThresh = spec.freeThresh;
    // with a ring of whole batches, batch ends sit at indexes = TX_FREE_BATCH - 1 (mod TX_FREE_BATCH): only they
    // need a status write-back (fewer DMA writes); otherwise every descriptor asks for one
    this.rsMask = spec.nb % TX_FREE_BATCH === 0 ? TX_FREE_BATCH - 1 : 0;
    this.done = new Uint32Array(TX_FREE_BATCH);
  }

  /** Frees the mbufs of every completed batch of TX_FREE_BATCH descriptors; returns the new free count. */
  private reclaim(free: number): number {
    const i32 = this.i32;
    const u32 = this.u32;
    const nb = this.nb;
    const ring = this.ring;
    const sh = this.shadow;
    const done = this.done;
    let clean = i32[this.st + TXS_CLEAN];
    // only descriptors in flight (filled since the last reclaim) may be looked at: the others hold old DD bits
    while (nb - 1 - free >= TX_FREE_BATCH) {
      let last = clean + TX_FREE_BATCH - 1;
      if (last >= nb) last -= nb;
      if ((Atomics.load(i32, ring + last * DESC_WORDS + 3) & TXD_STAT_DD) === 0) break;
      let c = 0;
      for (let j = 0; j < TX_FREE_BATCH; j++) {
        const m = u32[sh + clean];
        if (m !== 0) {
          done[c++] = m;
          u32[sh + clean] = 0;
        }
        if (++clean === nb) clean = 0;
      }
      if (c !== 0) pktmbufFreeBulk(done, c, 0);
      free += TX_FREE_BATCH;
    }
    i32[this.st + TXS_CLEAN] = clean;
    return free;
  }

  txBurst(mbufs: Uint32Array, n: number, from: number): number {
    const i32 = this.i32;
    const st = this.st;
    let free = i32[st + TXS_FREE];
    if (free < this.freeThresh || free < n) free = this.reclaim(free);
    const u32 = this.u32;
    const u16 = this.u16;
    const ring = this.ring;
    const sh = this.shadow;
    const nb = this.nb;
    let tail = i32[st + TXS_TAIL];
    let sent = 0;
    let bytes = 0;
    for (; sent < n; sent++) {
      const m = mbufs[from + sent];
      const segs = u16[(m << 1) + M.H_NB_SEGS];
      if (segs > free) break;
      if (segs === 1) {
        const w = ring + tail * DESC_WORDS;
        const iova = u32[m + M.BUF_IOVA_HI] * TWO32 + u32[m + M.BUF_IOVA_LO] + u16[(m << 1) + M.H_DATA_OFF];
        u32[w] = iova >>> 0;
        u32[w + 1] = (iova / TWO32) >>> 0;
        // report status (RS) only where reclaim looks: the last descriptor of each TX_FREE_BATCH
        u32[w + 2] = (u16[(m << 1) + M.H_DATA_LEN] | ((tail & this.rsMask) === this.rsMask ? TX_CMD_EOP : TX_CMD_EOP_NORS)) >>> 0;
        u32[w + 3] = 0;
        u32[sh + tail] = m;
        if (++tail === nb) tail = 0;
      } else {
        tail = this.putChain(m, tail);
      }
      free -= segs;
      bytes += u32[m + M.PKT_LEN];
    }
    if (sent === 0) {
      i32[st + TXS_FREE] = free;
      return 0;
    }
    i32[st + TXS_TAIL] = tail;
    i32[st + TXS_FREE] = free;
    Atomics.store(this.bar, this.tdt, tail);
    const s = this.stats;
    s[QS_PACKETS] += sent;
    s[QS_BYTES] += bytes;
    return sent;
  }

  /** One descriptor per segment, EOP on the last; the head handle sits at the last descriptor (freed with it). */
  private putChain(m: number, tail: number): number {
    const u32 = this.u32;
    const u16 = this.u16;
    const ring = this.ring;
    const sh = this.shadow;
    const nb = this.nb;
    for (let s = m; s !== 0;) {
      const nx = u32[s + M.NEXT];
      const w = ring + tail * DESC_WORDS;
      const iova = u32[s + M.BUF_IOVA_HI] * TWO32 + u32[s + M.BUF_IOVA_LO] + u16[(s << 1) + M.H_DATA_OFF];
      u32[w] = iova >>> 0;
      u32[w + 1] = (iova / TWO32) >>> 0;
      u32[w + 2] = (u16[(s << 1) + M.H_DATA_LEN] | (nx === 0 ? TX_CMD_EOP : TX_CMD)) >>> 0;
      u32[w + 3] = 0;
      u32[sh + tail] = nx === 0 ? m : 0;
      if (++tail === nb) tail = 0;
      s = nx;
    }
    return tail;
  }
}
