// What the data half's virtqueues share: views of EAL memory and of the notify register, the software block's
// arrays, the free-ID and in-flight FIFOs, and the notification itself (split and packed variants decide *whether*
// to notify; this file only rings).
//
// Notifications are plain 16-bit stores to the notify register, as DPDK's rte_write16 (compiler barrier, plain
// store): V8 keeps typed-array stores in program order and x86 does not reorder stores, so the ring updates before
// it are visible first. Atomics.store would be a locked XCHG that reaches the device as a read and a write (under
// QEMU, two traps). A test seam (layout.ts setObservableNotify) switches to Atomics.store so a simulated device sees
// each one.
import { mem } from '../../eal/memory.js';
import * as ffi from '../../eal/ffi.js';
import { M, mbufBind } from '../../mempool/mbuf.js';
import { specNumber, specString, type QueueStats } from '../driver.js';
import {
  VIRTQ_AVAIL, VIRTQ_USED, VIRTQ_USED_F_NO_NOTIFY, PVIRTQ_EVENT, PVIRTQ_DESC, RING_EVENT_FLAGS_DESC, RING_EVENT_FLAGS_DISABLE, needEvent,
} from './spec.js';
import {
  STATE_BYTES, SW_MBUF, SW_NDESC, SW_FREE_IDS, SW_FLY, VQS_ID_TAKE, VQS_ID_PUT, VQS_FLY_HEAD, VQS_FLY_TAIL, VQS_KICKS,
  observableNotify, type VirtioQueueSpec,
} from './layout.js';

export const TWO32 = 4294967296;

export function checkQueueSpec(spec: unknown): VirtioQueueSpec {
  const d = 'net_virtio';
  for (const f of ['port', 'queue', 'vq', 'nb', 'desc', 'driverArea', 'deviceArea', 'sw', 'notifyLen', 'notifyIdx']) specNumber(d, spec, f);
  for (const f of ['notify', 'layout']) specString(d, spec, f);
  const s = spec as VirtioQueueSpec;
  if (s.layout !== 'split' && s.layout !== 'packed') throw new Error(`${d}: queue spec layout '${String(s.layout)}' is neither split nor packed`);
  return s;
}

export abstract class Virtqueue {
  protected readonly u8: Uint8Array;
  protected readonly u16: Uint16Array;
  protected readonly u32: Uint32Array;
  protected readonly i32: Int32Array;
  protected readonly stats: QueueStats;
  private readonly bell: Uint16Array;
  private readonly bellIdx: number;
  private readonly atomicBell: boolean;
  protected readonly vq: number;
  protected readonly nb: number;
  /** byte offsets of the ring areas */
  protected readonly desc: number;
  protected readonly driverArea: number;
  protected readonly deviceArea: number;
  /** i32 index of the state words; u32 indexes of the software arrays */
  protected readonly st: number;
  protected readonly mbufOf: number;
  protected readonly ndescOf: number;
  private readonly freeIds: number;
  private readonly fly: number;
  protected readonly eventIdx: boolean;
  protected readonly inOrder: boolean;
  protected readonly port: number;
  /** split layout (packed queues leave them unused): index mask; u16 indexes of avail idx, avail ring, used idx;
   * u32 index of the used ring */
  protected readonly mask: number;
  protected readonly availIdx: number;
  protected readonly availRing: number;
  protected readonly usedIdx: number;
  protected readonly usedRing: number;

  constructor(s: VirtioQueueSpec, stats: QueueStats) {
    const r = mem();
    mbufBind(r);
    this.u8 = r.u8;
    this.u16 = r.u16;
    this.u32 = r.u32;
    this.i32 = r.i32;
    this.stats = stats;
    this.bell = new Uint16Array(ffi.view(BigInt(s.notify), s.notifyLen));
    this.bellIdx = s.notifyIdx;
    this.atomicBell = observableNotify();
    this.vq = s.vq;
    this.nb = s.nb;
    this.desc = s.desc;
    this.driverArea = s.driverArea;
    this.deviceArea = s.deviceArea;
    this.st = s.sw >> 2;
    const arrays = (s.sw + STATE_BYTES) >> 2;
    this.mbufOf = arrays + SW_MBUF * s.nb;
    this.ndescOf = arrays + SW_NDESC * s.nb;
    this.freeIds = arrays + SW_FREE_IDS * s.nb;
    this.fly = arrays + SW_FLY * s.nb;
    this.eventIdx = s.eventIdx === true;
    this.inOrder = s.inOrder === true;
    this.port = s.port;
    this.mask = s.nb - 1;
    this.availIdx = (s.driverArea + VIRTQ_AVAIL.idx) >> 1;
    this.availRing = (s.driverArea + VIRTQ_AVAIL.ring) >> 1;
    this.usedIdx = (s.deviceArea + VIRTQ_USED.idx) >> 1;
    this.usedRing = (s.deviceArea + VIRTQ_USED.ring) >> 2;
  }

  /** Rings the queue's doorbell (the caller decided the device wants it). */
  protected kick(): void {
    if (this.atomicBell) Atomics.store(this.bell, this.bellIdx, this.vq);
    else this.bell[this.bellIdx] = this.vq;
    this.i32[this.st + VQS_KICKS]++;
  }

  /**
   * Split ring [2.7.10]: with EVENT_IDX, notify when the avail index passed the device's avail_event; without,
   * unless the device set NO_NOTIFY. Read after the publishing Atomics.store (a full barrier).
   */
  private splitWantsKick(now: number, old: number): boolean {
    const dev = this.deviceArea;
    if (this.eventIdx) return needEvent(Atomics.load(this.u16, (dev + VIRTQ_USED.ring + VIRTQ_USED.elem * this.nb) >> 1), now, old);
    return (Atomics.load(this.u16, (dev + VIRTQ_USED.flags) >> 1) & VIRTQ_USED_F_NO_NOTIFY) === 0;
  }

  /**
   * Split ring: publishes a burst by storing the avail index (an Atomics.store: a full barrier before the
   * suppression fields are read, the lost-notification race of [2.7.10]), then notifies when the device asks.
   */
  protected splitPublish(avail: number, old: number): void {
    Atomics.store(this.u16, this.availIdx, avail);
    if (this.splitWantsKick(avail, old)) this.kick();
  }

  /**
   * Packed ring: publishes a burst by making its first descriptor (slot `first`) available last, flags `flags`
   * (an Atomics.store, a full barrier before the event read, [2.8.21]), then notifies when the device asks: `added`
   * descriptors that end at slot `now` of wrap `wrapNow`.
   */
  protected packedPublish(first: number, flags: number, now: number, wrapNow: number, added: number): void {
    Atomics.store(this.u16, (this.desc + first * PVIRTQ_DESC.size + PVIRTQ_DESC.flags) >> 1, flags);
    if (this.packedWantsKick(now, wrapNow, added)) this.kick();
  }

  /**
   * Packed ring [2.8.10]: the device event suppression structure says off, on, or "at descriptor off_wrap"
   * (EVENT_IDX). As Linux's virtqueue_kick_prepare_packed: an offset in the previous wrap moves back one ring
   * length, then vring_need_event decides over the `added` descriptors that ended at `now` in wrap `wrapNow`.
   */
  private packedWantsKick(now: number, wrapNow: number, added: number): boolean {
    const dev = this.deviceArea;
    const flags = Atomics.load(this.u16, (dev + PVIRTQ_EVENT.flags) >> 1);
    if (flags !== RING_EVENT_FLAGS_DESC) return flags !== RING_EVENT_FLAGS_DISABLE;
    const offWrap = this.u16[(dev + PVIRTQ_EVENT.off_wrap) >> 1];
    let ev = offWrap & 0x7fff;
    if (offWrap >> 15 !== wrapNow) ev -= this.nb;
    return needEvent(ev & 0xffff, now, (now - added) & 0xffff);
  }

  /** Takes a free buffer ID (the caller checked there is one). */
  protected takeId(): number {
    const i = this.i32[this.st + VQS_ID_TAKE];
    this.i32[this.st + VQS_ID_TAKE] = i + 1 === this.nb ? 0 : i + 1;
    return this.u32[this.freeIds + i];
  }

  protected putId(id: number): void {
    const i = this.i32[this.st + VQS_ID_PUT];
    this.u32[this.freeIds + i] = id;
    this.i32[this.st + VQS_ID_PUT] = i + 1 === this.nb ? 0 : i + 1;
  }

  /** In-flight FIFO: IDs in the order they were made available (VIRTIO_F_IN_ORDER completes them in this order). */
  protected flyPush(id: number): void {
    const t = this.i32[this.st + VQS_FLY_TAIL];
    this.u32[this.fly + t] = id;
    this.i32[this.st + VQS_FLY_TAIL] = t + 1 === this.nb ? 0 : t + 1;
  }

  protected flyPop(): number {
    const h = this.i32[this.st + VQS_FLY_HEAD];
    this.i32[this.st + VQS_FLY_HEAD] = h + 1 === this.nb ? 0 : h + 1;
    return this.u32[this.fly + h];
  }

  /**
   * Writes a descriptor's 64-bit address (`w`: its u32 index) as the IOVA of mbuf m's buffer plus off (>= 0), in
   * two u32 halves with the carry: no BigInt, and no double crossing a call (a double argument or return value of a
   * call the JIT does not inline is boxed: a heap allocation).
   */
  protected putBuf(w: number, m: number, off: number): void {
    const u32 = this.u32;
    const lo = u32[m + M.BUF_IOVA_LO] + off;
    if (lo < TWO32) {
      u32[w] = lo;
      u32[w + 1] = u32[m + M.BUF_IOVA_HI];
    } else {
      u32[w] = lo - TWO32;
      u32[w + 1] = u32[m + M.BUF_IOVA_HI] + 1;
    }
  }
}
