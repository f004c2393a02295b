// The RX virtqueues of net_virtio: split and packed, one class each so every call site stays monomorphic.
//
// Every receive buffer is one device-writable descriptor over an mbuf: its address is the data start minus the
// 12-byte net header, so the header lands in the headroom and the frame at data_off = headroom (DPDK does the
// same). With VIRTIO_NET_F_MRG_RXBUF a frame spans num_buffers buffers, taken in used order; the later ones carry
// no header, their data starts 12 bytes earlier (data_off = headroom - 12). The buffers become one mbuf chain.
//
// Hot-path rules kept here, with their reasons:
// - no allocation: replacement mbufs come into a per-queue array made once; a frame still missing buffers at the
//   end of a burst waits in the state words;
// - the used index (split) / a descriptor's flags (packed) are read with Atomics.load: the device writes them behind
//   the JIT's back; the entry fields after them with plain loads (x86 does not reorder loads);
// - each used buffer's ID is re-posted at once with a fresh mbuf, and the burst is published with ONE store: the
//   avail index (split) or the flags of the burst's first descriptor, written last (packed). That store is an
//   Atomics.store (a full barrier) because the event-suppression fields read right after it must not be read
//   before it is visible (the lost-notification race of [2.7.10] / [2.8.21]);
// - the device is notified only when it asked (EVENT_IDX's avail_event, the packed device event structure, or
//   NO_NOTIFY clear), at most once per burst.
//
// RX interrupts (a port configured with intrConf.rxq; DPDK's virtqueue_enable_intr / disable_intr): the ring's
// driver area says whether the device may interrupt [2.7.7, 2.7.10, 2.8.10]. intrEnable lifts the suppression for
// the next used buffer: split: NO_INTERRUPT cleared, or with EVENT_IDX used_event = the next used index to read;
// packed: driver event flags ENABLE, or with EVENT_IDX DESC at the next used slot and wrap. The lifting store is an
// Atomics.store (a full barrier): ethdev's rxIntrArm polls once right after it, and that poll's load of the used
// index / descriptor flags must not pass the store, or a buffer used in between would neither be seen nor
// interrupt (the lost wake-up). intrDisable suppresses again (a plain store: an interrupt that slips through only
// wakes the lcore once more). Neither runs per burst, and a port without intrConf.rxq never calls them.
import { mempoolLookup, type Mempool } from '../../mempool/mempool.js';
import { M, pktmbufFree, RX_L4_CKSUM_GOOD, RX_L4_CKSUM_MASK } from '../../mempool/mbuf.js';
import { QS_PACKETS, QS_BYTES, QS_ERRORS, QS_NOMBUF, specNumber, specString, type QueueStats, type RxQueue } from '../driver.js';
import {
  NET_HDR_LEN, NET_HDR, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_F_DATA_VALID, VIRTQ_DESC, VIRTQ_DESC_F_WRITE,
  PVIRTQ_DESC, VIRTQ_AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT, PVIRTQ_EVENT, RING_EVENT_FLAGS_ENABLE, RING_EVENT_FLAGS_DISABLE,
  RING_EVENT_FLAGS_DESC, RING_EVENT_WRAP_SHIFT, availBits, isUsed,
} from './spec.js';
import {
  VQS_AVAIL, VQS_USED, VQS_AVAIL_WRAP, VQS_USED_WRAP, VQS_FIRST, VQS_LAST, VQS_LEFT, VQS_HDR_FLAGS, type VirtioRxSpec,
} from './layout.js';
import { Virtqueue, checkQueueSpec } from './vq.js';

/** DPDK's RTE_MBUF_F_RX_L4_CKSUM_NONE (both bits): the data is intact, the checksum field was never filled in */
const RX_L4_CKSUM_NONE = RX_L4_CKSUM_MASK;

function checkRxSpec(raw: unknown): VirtioRxSpec {
  checkQueueSpec(raw);
  specNumber('net_virtio', raw, 'headroom');
  specString('net_virtio', raw, 'pool');
  return raw as VirtioRxSpec;
}

abstract class VirtioRxQueue extends Virtqueue implements RxQueue {
  protected readonly pool: Mempool;
  protected readonly headroom: number;
  protected readonly mergeable: boolean;
  protected readonly cksum: boolean;
  /** replacement buffers of one burst */
  protected readonly fresh: Uint32Array;
  /** RxQueue's interrupt arm / disarm: made once at attach, undefined without intrConf.rxq (ethdev says so) */
  readonly intrEnable: (() => void) | undefined;
  readonly intrDisable: (() => void) | undefined;

  constructor(s: VirtioRxSpec, stats: QueueStats) {
    super(s, stats);
    const pool = mempoolLookup(s.pool);
    if (!pool) throw new Error(`net_virtio: no mempool '${s.pool}'`);
    this.pool = pool;
    this.headroom = s.headroom;
    this.mergeable = s.mergeable === true;
    this.cksum = s.cksum === true;
    this.fresh = new Uint32Array(s.nb);
    if (s.intr === true) {
      this.intrEnable = () => { this.arm(); };
      this.intrDisable = () => { this.disarm(); };
    } else {
      this.intrEnable = undefined;
      this.intrDisable = undefined;
    }
  }

  abstract rxBurst(mbufs: Uint32Array, n: number): number;
  /** Lets the device interrupt at the next used buffer (the store last, an Atomics.store: see the top). */
  protected abstract arm(): void;
  /** Suppresses interrupts again. */
  protected abstract disarm(): void;

  /** Replacement mbufs for k used buffers; fewer when the pool runs short (the rest wait in the ring). */
  protected refills(k: number): number {
    const got = this.pool.getBurst(this.fresh, k, 0);
    if (got < k) this.stats[QS_NOMBUF] += k - got;
    return got;
  }

  /** Bytes a fresh mbuf is posted with: its room after the headroom, plus the header that goes before it. */
  protected postLen(m: number): number {
    return this.u16[(m << 1) + M.H_BUF_LEN] - this.headroom + NET_HDR_LEN;
  }

  /**
   * One used buffer of `len` bytes joins the frame in progress. Returns the frame's head mbuf once its last buffer
   * arrived (and counts it), 0 while buffers are missing, -1 when the frame was bad and dropped.
   */
  protected take(m: number, len: number): number {
    const u32 = this.u32;
    const i32 = this.i32;
    const st = this.st;
    const first = i32[st + VQS_FIRST];
    if (first === 0) {
      const h = u32[m + M.BUF_OFF] + this.headroom - NET_HDR_LEN;
      const nbuf = this.mergeable ? this.u16[(h + NET_HDR.num_buffers) >> 1] : 1;
      if (len < NET_HDR_LEN || nbuf === 0) {
        pktmbufFree(m);
        this.stats[QS_ERRORS]++;
        return -1;
      }
      u32[m + M.DATA] = (len - NET_HDR_LEN) | (this.headroom << 16);
      u32[m + M.PKT_LEN] = len - NET_HDR_LEN;
      i32[st + VQS_HDR_FLAGS] = this.u8[h + NET_HDR.flags];
      if (nbuf === 1) return this.finish(m);
      i32[st + VQS_FIRST] = m;
      i32[st + VQS_LAST] = m;
      i32[st + VQS_LEFT] = nbuf - 1;
      return 0;
    }
    u32[m + M.DATA] = len | ((this.headroom - NET_HDR_LEN) << 16);
    u32[i32[st + VQS_LAST] + M.NEXT] = m;
    u32[first + M.PKT_LEN] += len;
    this.u16[(first << 1) + M.H_NB_SEGS]++;
    i32[st + VQS_LAST] = m;
    const left = i32[st + VQS_LEFT] - 1;
    i32[st + VQS_LEFT] = left;
    if (left !== 0) return 0;
    i32[st + VQS_FIRST] = 0;
    i32[st + VQS_LAST] = 0;
    return this.finish(first);
  }

  /** The mbuf fields of a complete frame: port, checksum flags from the header, no packet type. */
  private finish(m: number): number {
    const u32 = this.u32;
    let ol = 0;
    if (this.cksum) {
      const f = this.i32[this.st + VQS_HDR_FLAGS];
      if ((f & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0) ol = RX_L4_CKSUM_NONE;
      else if ((f & VIRTIO_NET_HDR_F_DATA_VALID) !== 0) ol = RX_L4_CKSUM_GOOD;
    }
    this.u16[(m << 1) + M.H_PORT] = this.port;
    u32[m + M.OL_FLAGS] = ol;
    u32[m + M.TX_OFFLOAD] = 0;
    u32[m + M.PACKET_TYPE] = 0;
    u32[m + M.VLAN] = 0;
    this.stats[QS_BYTES] += u32[m + M.PKT_LEN];
    return m;
  }
}

/** Split virtqueue RX: used ring in, avail ring out; buffer ID = descriptor index. */
export class SplitRxQueue extends VirtioRxQueue {
  /** u16 indexes of the avail ring's flags and used_event (after ring[nb]) */
  private readonly availFlags: number;
  private readonly usedEvent: number;

  constructor(raw: unknown, stats: QueueStats) {
    const s = checkRxSpec(raw);
    super(s, stats);
    this.availFlags = (s.driverArea + VIRTQ_AVAIL.flags) >> 1;
    this.usedEvent = (s.driverArea + VIRTQ_AVAIL.ring + 2 * s.nb) >> 1;
  }

  /** [2.7.10]: with EVENT_IDX the device interrupts once its used index passes used_event; else NO_INTERRUPT off. */
  protected arm(): void {
    if (this.eventIdx) Atomics.store(this.u16, this.usedEvent, this.i32[this.st + VQS_USED] & 0xffff);
    else Atomics.store(this.u16, this.availFlags, 0);
  }

  /** used_event one behind the next used index (passed already: 65535 entries until the next crossing), or NO_INTERRUPT. */
  protected disarm(): void {
    if (this.eventIdx) this.u16[this.usedEvent] = (this.i32[this.st + VQS_USED] - 1) & 0xffff;
    else this.u16[this.availFlags] = VIRTQ_AVAIL_F_NO_INTERRUPT;
  }

  rxBurst(mbufs: Uint32Array, n: number): number {
    const u16 = this.u16;
    const u32 = this.u32;
    const i32 = this.i32;
    const st = this.st;
    let used = i32[st + VQS_USED];
    let k = (Atomics.load(u16, this.usedIdx) - used) & 0xffff;
    if (k === 0) return 0;
    if (k > n) k = n;
    k = this.refills(k);
    if (k === 0) return 0;
    const fresh = this.fresh;
    const old = i32[st + VQS_AVAIL];
    let avail = old;
    let nrx = 0;
    for (let j = 0; j < k; j++) {
      const e = this.usedRing + (used & this.mask) * 2;
      const id = u32[e];
      const len = u32[e + 1];
      used = (used + 1) & 0xffff;
      const m = u32[this.mbufOf + id];
      // the descriptor goes back at once, with a fresh buffer
      const nm = fresh[j];
      const w = (this.desc + id * VIRTQ_DESC.size) >> 2;
      this.putBuf(w, nm, this.headroom - NET_HDR_LEN);
      u32[w + 2] = this.postLen(nm);
      u32[w + 3] = VIRTQ_DESC_F_WRITE;
      u32[this.mbufOf + id] = nm;
      u16[this.availRing + (avail & this.mask)] = id;
      avail = (avail + 1) & 0xffff;
      const f = this.take(m, len);
      if (f > 0) mbufs[nrx++] = f;
    }
    i32[st + VQS_USED] = used;
    i32[st + VQS_AVAIL] = avail;
    this.splitPublish(avail, old);
    this.stats[QS_PACKETS] += nrx;
    return nrx;
  }
}

/** Packed virtqueue RX: used descriptors come back in ring order; each buffer is one descriptor. */
export class PackedRxQueue extends VirtioRxQueue {
  /** u16 indexes of the driver event suppression structure's off_wrap and flags */
  private readonly evOffWrap: number;
  private readonly evFlags: number;

  constructor(raw: unknown, stats: QueueStats) {
    const s = checkRxSpec(raw);
    super(s, stats);
    this.evOffWrap = (s.driverArea + PVIRTQ_EVENT.off_wrap) >> 1;
    this.evFlags = (s.driverArea + PVIRTQ_EVENT.flags) >> 1;
  }

  /** [2.8.10]: ENABLE, or with EVENT_IDX DESC at the next used slot (offset 14:0, wrap counter 15). */
  protected arm(): void {
    if (this.eventIdx) {
      this.u16[this.evOffWrap] = this.i32[this.st + VQS_USED] | (this.i32[this.st + VQS_USED_WRAP] << RING_EVENT_WRAP_SHIFT);
      Atomics.store(this.u16, this.evFlags, RING_EVENT_FLAGS_DESC);
    } else {
      Atomics.store(this.u16, this.evFlags, RING_EVENT_FLAGS_ENABLE);
    }
  }

  protected disarm(): void {
    this.u16[this.evFlags] = RING_EVENT_FLAGS_DISABLE;
  }

  /** How many descriptors from the used position on (at most n) the device has marked used. */
  private usedCount(n: number): number {
    const u16 = this.u16;
    let pos = this.i32[this.st + VQS_USED];
    let wrap = this.i32[this.st + VQS_USED_WRAP];
    let k = 0;
    while (k < n) {
      const f = Atomics.load(u16, (this.desc + pos * PVIRTQ_DESC.size + PVIRTQ_DESC.flags) >> 1);
      if (!isUsed(f, wrap)) break;
      k++;
      if (++pos === this.nb) { pos = 0; wrap ^= 1; }
    }
    return k;
  }

  rxBurst(mbufs: Uint32Array, n: number): number {
    let k = this.usedCount(n);
    if (k === 0) return 0;
    k = this.refills(k);
    if (k === 0) return 0;
    const u16 = this.u16;
    const u32 = this.u32;
    const i32 = this.i32;
    const st = this.st;
    const fresh = this.fresh;
    let pos = i32[st + VQS_USED];
    let wrap = i32[st + VQS_USED_WRAP];
    let apos = i32[st + VQS_AVAIL];
    let awrap = i32[st + VQS_AVAIL_WRAP];
    const old = apos;
    let firstFlags = 0;
    let nrx = 0;
    for (let j = 0; j < k; j++) {
      const d = this.desc + pos * PVIRTQ_DESC.size;
      const id = u16[(d + PVIRTQ_DESC.id) >> 1];
      const len = u32[(d + PVIRTQ_DESC.len) >> 2];
      if (++pos === this.nb) { pos = 0; wrap ^= 1; }
      const m = u32[this.mbufOf + id];
      // the buffer ID goes back at the avail position with a fresh buffer
      const nm = fresh[j];
      const a = this.desc + apos * PVIRTQ_DESC.size;
      this.putBuf(a >> 2, nm, this.headroom - NET_HDR_LEN);
      u32[(a + PVIRTQ_DESC.len) >> 2] = this.postLen(nm);
      u16[(a + PVIRTQ_DESC.id) >> 1] = id;
      const fl = VIRTQ_DESC_F_WRITE | availBits(awrap);
      if (j === 0) firstFlags = fl;
      else u16[(a + PVIRTQ_DESC.flags) >> 1] = fl;
      u32[this.mbufOf + id] = nm;
      if (++apos === this.nb) { apos = 0; awrap ^= 1; }
      const f = this.take(m, len);
      if (f > 0) mbufs[nrx++] = f;
    }
    i32[st + VQS_USED] = pos;
    i32[st + VQS_USED_WRAP] = wrap;
    i32[st + VQS_AVAIL] = apos;
    i32[st + VQS_AVAIL_WRAP] = awrap;
    this.packedPublish(old, firstFlags, apos, awrap, k);
    this.stats[QS_PACKETS] += nrx;
    return nrx;
  }
}
