// The control virtqueue of virtio-net [5.1.6.5]: one command at a time on the main lcore, answered before the next.
// A command is three descriptors: struct virtio_net_ctrl_hdr { u8 class; u8 command; } and the command's data,
// both device-readable, then the device-writable u8 ack (VIRTIO_NET_OK / VIRTIO_NET_ERR). The ring is split or
// packed as negotiated; the driver polls for the used entry (no interrupts).
import { mem, memzoneFree, memzoneLookup } from '../../eal/memory.js';
import { delayMs } from '../../eal/lcore.js';
import type { VirtioPci } from './pci.js';
import {
  VIRTQ_DESC, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, VIRTQ_AVAIL, VIRTQ_USED, PVIRTQ_DESC, availBits, isUsed,
  VIRTIO_NET_OK,
} from './spec.js';
import type { RingLayout } from './layout.js';
import { ringZone, putIova } from './vqmem.js';

const BUF_BYTES = 64;
const TIMEOUT_MS = 1000;

export class CtrlVq {
  private readonly ring: string;
  private readonly nb: number;
  private readonly desc: number;
  private readonly driverArea: number;
  private readonly deviceArea: number;
  private readonly buf: number;
  private readonly bufIova: number;
  private readonly notifyAt: bigint;
  /** split: next avail / used index; packed: next slot and wrap counter */
  private next = 0;
  private wrap = 1;

  constructor(private readonly pci: VirtioPci, private readonly vq: number, private readonly layout: RingLayout, zone: string) {
    const max = pci.queueMax(vq);
    if (max === 0) throw new Error(`the device has no control virtqueue ${vq}`);
    let nb = 1;
    while (nb * 2 <= Math.min(max, 64)) nb *= 2;
    this.nb = nb;
    this.ring = zone;
    const z = ringZone(zone, layout, nb, BUF_BYTES);
    this.desc = z.off;
    this.driverArea = z.driverArea;
    this.deviceArea = z.deviceArea;
    this.buf = z.off + z.ringBytes;
    this.bufIova = mem().iova(this.buf);
    const iova = (off: number) => mem().iova(off);
    this.notifyAt = pci.programQueue(vq, { size: nb, desc: iova(this.desc), driver: iova(this.driverArea), device: iova(this.deviceArea) });
  }

  release(): void {
    if (memzoneLookup(this.ring)) memzoneFree(this.ring);
  }

  /** Sends one command; returns its ack (VIRTIO_NET_OK = 0), or throws when the device does not answer. */
  send(cls: number, cmd: number, data: ArrayLike<number>): number {
    const r = mem();
    r.u8[this.buf] = cls;
    r.u8[this.buf + 1] = cmd;
    r.u8.set(Array.from(data), this.buf + 2);
    const ack = this.buf + 2 + data.length;
    r.u8[ack] = 0xff;
    const parts: Array<[number, number, number]> = [
      [this.bufIova, 2, 0], [this.bufIova + 2, data.length, 0], [this.bufIova + 2 + data.length, 1, VIRTQ_DESC_F_WRITE],
    ];
    const done = this.layout === 'split' ? this.postSplit(parts) : this.postPacked(parts);
    this.pci.notify(this.notifyAt, this.vq);
    for (let t = 0; !done(); t++) {
      if (t >= TIMEOUT_MS) throw new Error(`control virtqueue: no answer to class ${cls} command ${cmd} within ${TIMEOUT_MS} ms`);
      delayMs(1);
    }
    return r.u8[ack] === 0xff ? -1 : r.u8[ack];
  }

  /** True when the ack says VIRTIO_NET_OK. */
  ok(cls: number, cmd: number, data: ArrayLike<number>): boolean {
    return this.send(cls, cmd, data) === VIRTIO_NET_OK;
  }

  private postSplit(parts: Array<[number, number, number]>): () => boolean {
    const r = mem();
    parts.forEach(([iova, len, flags], i) => {
      const w = (this.desc + i * VIRTQ_DESC.size) >> 2;
      putIova(r.u32, w, iova);
      r.u32[w + 2] = len;
      r.u32[w + 3] = (i + 1 < parts.length ? flags | VIRTQ_DESC_F_NEXT : flags) | ((i + 1) << 16);
    });
    const idx = this.next;
    r.u16[((this.driverArea + VIRTQ_AVAIL.ring) >> 1) + (idx & (this.nb - 1))] = 0;
    this.next = (idx + 1) & 0xffff;
    Atomics.store(r.u16, (this.driverArea + VIRTQ_AVAIL.idx) >> 1, this.next);
    return () => Atomics.load(r.u16, (this.deviceArea + VIRTQ_USED.idx) >> 1) === this.next;
  }

  private postPacked(parts: Array<[number, number, number]>): () => boolean {
    const r = mem();
    const start = this.next;
    const startWrap = this.wrap;
    let first = 0;
    parts.forEach(([iova, len, flags], i) => {
      const d = this.desc + this.next * PVIRTQ_DESC.size;
      putIova(r.u32, d >> 2, iova);
      r.u32[(d + PVIRTQ_DESC.len) >> 2] = len;
      r.u16[(d + PVIRTQ_DESC.id) >> 1] = 0;
      const f = flags | (i + 1 < parts.length ? VIRTQ_DESC_F_NEXT : 0) | availBits(this.wrap);
      if (i === 0) first = f;
      else r.u16[(d + PVIRTQ_DESC.flags) >> 1] = f;
      if (++this.next === this.nb) { this.next = 0; this.wrap ^= 1; }
    });
    const at = (this.desc + start * PVIRTQ_DESC.size + PVIRTQ_DESC.flags) >> 1;
    Atomics.store(r.u16, at, first);
    return () => {
      return isUsed(Atomics.load(r.u16, at), startWrap);
    };
  }
}
