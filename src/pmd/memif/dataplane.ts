// net_memif's data half: RX and TX queues over memif rings in regions mapped into the EAL window (copy mode, as
// DPDK's eth_memif_rx / eth_memif_tx without zero-copy). A queue learns its connection from the port's queue block
// (region.ts QC_*): each burst loads the state word once; when it changed, resync() copies the block into fields
// (ring offset, size, regions) and acknowledges it. While the link is down a burst returns 0 at once.
//
// Hot-path rules: nothing allocated per packet or per burst (regions are cached in Float64Arrays made at attach),
// no try/catch, counters are plain stores. Ring indices are read with Atomics.load and published with one plain
// store per burst, as the project's doorbells: V8 keeps stores in program order and x86 makes them visible in
// that order, so the index store follows every descriptor and buffer write before it; an Atomics.store would be a
// locked XCHG and a builtin call, measured at a tenth of the forwarding loop. The one syscall is the eventfd write when the peer's ring asks for interrupts (flags without
// MASK_INT), once per burst, as DPDK does; pollers (DPDK, pktio) mask interrupts, so it normally never happens.
// Every descriptor the peer wrote is checked against the regions before a byte is copied; a bad one stops the
// queue and flags it (QCI_BAD) for the control half, which disconnects with a message.
import * as ffi from '../../eal/ffi.js';
import { mem } from '../../eal/memory.js';
import { copyBytes } from '../../eal/copy.js';
import { M, PKTMBUF_HEADROOM, pktmbufAlloc, pktmbufAllocPackets, pktmbufFree, pktmbufFreeBulk } from '../../mempool/mbuf.js';
import { QS_NOMBUF, specNumber, type QueueStats, type RxQueue, type TxQueue } from '../driver.js';
import { SoftRxQueue, SoftTxQueue } from '../soft/base.js';
import {
  RING_FLAGS, RING_HEAD, RING_TAIL, RING_DESC, MEMIF_RING_FLAG_MASK_INT, DESC_FLAGS, DESC_REGION, DESC_LENGTH,
  DESC_OFFSET, MEMIF_DESC_FLAG_NEXT, QCI_STATE, QCI_ACK, QCI_BAD, QC_RING, QC_LOG2, QC_BSIZE, QC_KICK_FD,
  QC_NREG, QC_REG, MAX_REGIONS, QC_INTR_FD,
} from './region.js';

const DRIVER = 'net_memif';

/** What a memif queue spec carries besides SoftRxSpec: where its block is, which ring type it drives. */
export interface MemifQueueSpec {
  port: number;
  queue: number;
  pool?: string;
  /** EAL-region offset of this queue's block (QC_WORDS f64 words) */
  block: number;
  /** EAL-region offset of a u64 holding 1 (the eventfd write) */
  one: number;
  /** true: this queue drives a C2S ring (client TX, server RX) */
  c2s: boolean;
}

/** One queue's view of its connection, refreshed from the block when the state word changes. */
class RingLink {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly u16: Uint16Array;
  readonly stateIdx: number;
  readonly blockF: number;
  readonly oneVa: bigint;
  seen = -1;
  ring = 0;
  size = 0;
  mask = 0;
  headIdx = 0;
  tailIdx = 0;
  flagsIdx = 0;
  desc = 0;
  bsize = 0;
  kickFd = -1;
  /** RX: the eventfd the peer writes when this ring's interrupts are unmasked, -1 for none */
  intrFd = -1;
  nreg = 0;
  readonly regBase = new Float64Array(MAX_REGIONS);
  readonly regLen = new Float64Array(MAX_REGIONS);

  constructor(spec: unknown) {
    const r = mem();
    this.i32 = r.i32;
    this.f64 = r.f64;
    this.u16 = r.u16;
    const block = specNumber(DRIVER, spec, 'block');
    this.stateIdx = (block >> 2) + QCI_STATE;
    this.blockF = block >> 3;
    this.oneVa = r.va(specNumber(DRIVER, spec, 'one'));
  }

  /** Copies the block after a state change and acknowledges it (no burst of this lcore uses the old regions). */
  resync(s: number): void {
    const f = this.f64;
    const b = this.blockF;
    this.ring = f[b + QC_RING];
    this.size = 1 << f[b + QC_LOG2];
    this.mask = this.size - 1;
    this.headIdx = (this.ring + RING_HEAD) >> 1;
    this.tailIdx = (this.ring + RING_TAIL) >> 1;
    this.flagsIdx = (this.ring + RING_FLAGS) >> 1;
    this.desc = this.ring + RING_DESC;
    this.bsize = f[b + QC_BSIZE];
    this.kickFd = f[b + QC_KICK_FD];
    this.intrFd = f[b + QC_INTR_FD];
    const n = f[b + QC_NREG];
    this.nreg = n < MAX_REGIONS ? n : MAX_REGIONS;
    for (let i = 0; i < this.nreg; i++) {
      this.regBase[i] = f[b + QC_REG + 2 * i];
      this.regLen[i] = f[b + QC_REG + 2 * i + 1];
    }
    this.seen = s;
    Atomics.store(this.i32, this.stateIdx + QCI_ACK, s);
  }

  /** The peer broke the ring: stop using it and tell the control half. */
  bad(): void {
    Atomics.store(this.i32, this.stateIdx + QCI_BAD, 1);
    this.size = 0; // bursts return 0 until the control half changes the state
  }

  /** Signals the peer's eventfd when its ring asks for interrupts (one write per burst). */
  kick(): void {
    if ((this.u16[this.flagsIdx] & MEMIF_RING_FLAG_MASK_INT) === 0 && this.kickFd >= 0) ffi.writeAt(this.kickFd, this.oneVa, 8);
  }
}

/** where intrDisable reads an eventfd's count to (discarded) */
const drained = new BigUint64Array(1);

export class MemifRx extends SoftRxQueue implements RxQueue {
  private readonly l: RingLink;
  private readonly c2s: boolean;
  /** last_head (C2S) or last_tail (S2C): the next slot to read */
  private last = 0;

  constructor(spec: unknown, stats: QueueStats) {
    super(DRIVER, spec, stats);
    this.l = new RingLink(spec);
    this.c2s = (spec as MemifQueueSpec).c2s === true;
  }

  // RX interrupt (intrConf.rxq): the peer writes the ring's eventfd after a burst when the ring's flags lack
  // MEMIF_RING_FLAG_MASK_INT (DPDK's eth_memif_tx). The port's source is an epoll fd of its own holding the
  // connection's eventfd (memif.ts), stable across reconnections. Arming clears the mask; disarming sets it and
  // drains the eventfd (one read per wake-up, never per burst).
  intrEnable(): void {
    const l = this.l;
    if (l.size !== 0) l.u16[l.flagsIdx] &= ~MEMIF_RING_FLAG_MASK_INT;
  }

  intrDisable(): void {
    const l = this.l;
    if (l.size !== 0) l.u16[l.flagsIdx] |= MEMIF_RING_FLAG_MASK_INT;
    if (l.intrFd >= 0) ffi.read(l.intrFd, drained, 8);
  }

  rxBurst(mbufs: Uint32Array, n: number): number {
    const l = this.l;
    const s = Atomics.load(l.i32, l.stateIdx);
    if (s !== l.seen) {
      l.resync(s);
      this.last = 0;
    }
    if ((s & 1) === 0 || l.size === 0) return 0;
    let cur = this.last;
    const end = Atomics.load(l.u16, this.c2s ? l.headIdx : l.tailIdx);
    const slots = (end - cur) & 0xffff;
    if (slots > l.size) {
      l.bad();
      return 0;
    }
    let got = 0;
    if (slots > 0) {
      const want = n < slots ? n : slots;
      // fresh packets in one pass over this lcore's cache; fill() sets length, data offset and port of each
      const have = pktmbufAllocPackets(this.pool, mbufs, want, 0, this.port);
      if (have < want) this.stats[QS_NOMBUF] += want - have;
      let left = slots;
      let bytes = 0;
      while (got < have && left > 0) {
        const k = this.receive(mbufs[got], cur, left);
        if (k <= 0) {
          if (k < 0) l.bad();
          break;
        }
        cur = (cur + k) & 0xffff;
        left -= k;
        const len = this.u32[mbufs[got] + M.PKT_LEN];
        // a frame the pool could not hold is dropped (its slots are consumed); the mbuf is reused
        if (len !== 0xffffffff) {
          bytes += len;
          got++;
        }
      }
      if (have > got) pktmbufFreeBulk(mbufs, have - got, got);
      this.count(got, bytes);
    }
    this.publish(cur);
    return got;
  }

  /** Hands the consumed slots back: C2S by moving tail; S2C by refilling up to a full ring of empty buffers. */
  private publish(cur: number): void {
    const l = this.l;
    const u16 = l.u16;
    this.last = cur;
    if (this.c2s) {
      if (u16[l.tailIdx] !== cur) u16[l.tailIdx] = cur;
      return;
    }
    let head = u16[l.headIdx];
    const nfree = (l.size - head + cur) & 0xffff;
    if (nfree === 0) return;
    const u32 = this.u32;
    for (let i = 0; i < nfree; i++) {
      const d = l.desc + ((head & l.mask) << 4);
      u32[(d + DESC_LENGTH) >> 2] = l.bsize;
      head = (head + 1) & 0xffff;
    }
    u16[l.headIdx] = head;
  }

  /**
   * Copies the packet starting at slot `cur` (one descriptor, or a chain flagged NEXT) into m. Returns the slots it
   * took, 0 when the chain is not all published yet, -1 when a descriptor points outside the peer's regions. A
   * frame dropped for lack of mbufs leaves pkt_len 0xffffffff in m (m stays a free-able one-segment packet).
   */
  private receive(m: number, cur: number, left: number): number {
    const l = this.l;
    const u16 = this.u16;
    const u32 = this.u32;
    const d = l.desc + ((cur & l.mask) << 4);
    const region = u16[(d + DESC_REGION) >> 1];
    const len = u32[(d + DESC_LENGTH) >> 2];
    const off = u32[(d + DESC_OFFSET) >> 2];
    if (region >= l.nreg || off + len > l.regLen[region]) return -1;
    if ((u16[(d + DESC_FLAGS) >> 1] & MEMIF_DESC_FLAG_NEXT) === 0) {
      if (!this.fill(m, l.regBase[region] + off, len)) u32[m + M.PKT_LEN] = 0xffffffff;
      return 1;
    }
    return this.receiveChain(m, cur, left);
  }

  /** A packet in several descriptors: the first fills m, each further one is appended as segments. */
  private receiveChain(m: number, cur: number, left: number): number {
    const l = this.l;
    const u16 = this.u16;
    const u32 = this.u32;
    // the whole chain must be published and inside the regions before anything is copied
    let k = 0;
    for (;;) {
      if (k >= left) return 0;
      const d = l.desc + (((cur + k) & l.mask) << 4);
      const region = u16[(d + DESC_REGION) >> 1];
      if (region >= l.nreg || u32[(d + DESC_OFFSET) >> 2] + u32[(d + DESC_LENGTH) >> 2] > l.regLen[region]) return -1;
      k++;
      if ((u16[(d + DESC_FLAGS) >> 1] & MEMIF_DESC_FLAG_NEXT) === 0) break;
    }
    let seg = m;
    let ok = true;
    for (let i = 0; i < k && ok; i++) {
      const d = l.desc + (((cur + i) & l.mask) << 4);
      const src = l.regBase[u16[(d + DESC_REGION) >> 1]] + u32[(d + DESC_OFFSET) >> 2];
      const len = u32[(d + DESC_LENGTH) >> 2];
      if (i === 0) {
        ok = this.fill(m, src, len);
        while (u32[seg + M.NEXT] !== 0) seg = u32[seg + M.NEXT];
      } else {
        seg = this.appendBytes(m, seg, src, len);
        ok = seg !== 0;
      }
    }
    if (!ok) this.dropChain(m);
    return k;
  }

  /** Appends len bytes at src to packet m whose last segment is `last`, in fresh segments; returns the new last or 0. */
  private appendBytes(m: number, last: number, src: number, len: number): number {
    const u32 = this.u32;
    const u16 = this.u16;
    let done = 0;
    while (done < len) {
      const seg = pktmbufAlloc(this.pool);
      if (seg === 0) {
        this.stats[QS_NOMBUF]++;
        return 0;
      }
      const n = len - done < this.segRoom ? len - done : this.segRoom;
      u32[seg + M.DATA] = (PKTMBUF_HEADROOM << 16) | n;
      copyBytes(this.u8, this.f64, u32[seg + M.BUF_OFF] + PKTMBUF_HEADROOM, src + done, n);
      u32[last + M.NEXT] = seg;
      u16[(m << 1) + M.H_NB_SEGS]++;
      u32[m + M.PKT_LEN] += n;
      last = seg;
      done += n;
    }
    return last;
  }

  /** Frees every segment after the first and marks m dropped (reused for the next packet). */
  private dropChain(m: number): void {
    const u32 = this.u32;
    const rest = u32[m + M.NEXT];
    if (rest !== 0) {
      this.u16[(rest << 1) + M.H_NB_SEGS] = this.u16[(m << 1) + M.H_NB_SEGS] - 1;
      u32[m + M.NEXT] = 0;
      this.u16[(m << 1) + M.H_NB_SEGS] = 1;
      pktmbufFree(rest);
    }
    u32[m + M.DATA] = PKTMBUF_HEADROOM << 16;
    u32[m + M.PKT_LEN] = 0xffffffff;
  }
}

export class MemifTx extends SoftTxQueue implements TxQueue {
  private readonly l: RingLink;
  private readonly c2s: boolean;
  /** head (C2S) or tail (S2C): the index this side moves */
  private own = 0;

  constructor(spec: unknown, stats: QueueStats) {
    super(stats);
    this.l = new RingLink(spec);
    this.c2s = (spec as MemifQueueSpec).c2s === true;
  }

  txBurst(mbufs: Uint32Array, n: number, from: number): number {
    const l = this.l;
    const s = Atomics.load(l.i32, l.stateIdx);
    if (s !== l.seen) {
      l.resync(s);
      this.own = 0;
    }
    if ((s & 1) === 0 || l.size === 0) return 0;
    const u32 = this.u32;
    let slot = this.own;
    const free = this.c2s
      ? (l.size - slot + Atomics.load(l.u16, l.tailIdx)) & 0xffff
      : (Atomics.load(l.u16, l.headIdx) - slot) & 0xffff;
    if (free > l.size) {
      l.bad();
      return 0;
    }
    let left = free;
    let sent = 0;
    let bytes = 0;
    while (sent < n && left > 0) {
      const m = mbufs[from + sent];
      const k = this.place(m, slot, left);
      if (k <= 0) {
        if (k < 0) l.bad();
        break;
      }
      slot = (slot + k) & 0xffff;
      left -= k;
      bytes += u32[m + M.PKT_LEN];
      sent++;
    }
    if (sent > 0) {
      pktmbufFreeBulk(mbufs, sent, from);
      this.own = slot;
      l.u16[this.c2s ? l.headIdx : l.tailIdx] = slot;
      l.kick();
      this.count(sent, bytes, 0);
    }
    return sent;
  }

  /**
   * Copies packet m into the buffers of the slots from `slot` on: one descriptor when it fits (C2S buffers hold
   * bsize; S2C buffers what the client offered in the descriptor length), else a chain flagged NEXT. Returns the
   * slots used, 0 when `left` slots are not enough, -1 when a descriptor points outside the regions.
   */
  private place(m: number, slot: number, left: number): number {
    const l = this.l;
    const u16 = this.u16;
    const u32 = this.u32;
    const len = u32[m + M.PKT_LEN];
    const d = l.desc + ((slot & l.mask) << 4);
    const region = u16[(d + DESC_REGION) >> 1];
    const off = u32[(d + DESC_OFFSET) >> 2];
    const cap = this.c2s ? l.bsize : u32[(d + DESC_LENGTH) >> 2];
    if (region >= l.nreg || off + cap > l.regLen[region]) return -1;
    if (len <= cap) {
      this.copyOut(m, l.regBase[region] + off);
      u32[(d + DESC_LENGTH) >> 2] = len;
      u16[(d + DESC_FLAGS) >> 1] = 0;
      return 1;
    }
    return this.placeChain(m, slot, left);
  }

  /**
   * A packet longer than one buffer, segment by segment into as many descriptors as it needs. The descriptors are
   * checked (inside the regions, enough of them) before anything is written: an S2C descriptor's length is the
   * client's offer and must stay intact in slots this burst does not publish.
   */
  private placeChain(m: number, slot: number, left: number): number {
    const l = this.l;
    const u16 = this.u16;
    const u32 = this.u32;
    const len = u32[m + M.PKT_LEN];
    let need = 0;
    for (let got = 0; got < len; need++) {
      if (need === left) return 0;
      const d = l.desc + (((slot + need) & l.mask) << 4);
      const region = u16[(d + DESC_REGION) >> 1];
      const cap = this.c2s ? l.bsize : u32[(d + DESC_LENGTH) >> 2];
      if (region >= l.nreg || u32[(d + DESC_OFFSET) >> 2] + cap > l.regLen[region] || cap === 0) return -1;
      got += cap;
    }
    let used = 0;
    let d = 0;
    let dst = 0;
    let room = 0;
    let filled = 0;
    for (let s = m; s !== 0; s = u32[s + M.NEXT]) {
      let src = u32[s + M.BUF_OFF] + u16[(s << 1) + M.H_DATA_OFF];
      let n = u16[(s << 1) + M.H_DATA_LEN];
      while (n > 0) {
        if (room === 0) {
          if (used > 0) u16[(d + DESC_FLAGS) >> 1] = MEMIF_DESC_FLAG_NEXT;
          d = l.desc + (((slot + used) & l.mask) << 4);
          room = this.c2s ? l.bsize : u32[(d + DESC_LENGTH) >> 2];
          dst = l.regBase[u16[(d + DESC_REGION) >> 1]] + u32[(d + DESC_OFFSET) >> 2];
          filled = 0;
          used++;
        }
        const c = n < room ? n : room;
        copyBytes(this.u8, this.f64, dst + filled, src, c);
        filled += c;
        room -= c;
        src += c;
        n -= c;
        u32[(d + DESC_LENGTH) >> 2] = filled;
        u16[(d + DESC_FLAGS) >> 1] = 0;
      }
    }
    return used;
  }
}

