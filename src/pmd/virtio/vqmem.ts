// One virtqueue's memory on the control side: the ring memzone (descriptors, driver and device areas, TX header
// slots) and the software block (layout.ts), their set-up before DRIVER_OK (RX rings filled with buffers), the
// queue spec for the lcores, and giving every mbuf back after a reset.
import { mem, memzoneReserve, memzoneLookup, memzoneFree } from '../../eal/memory.js';
import type { Mempool } from '../../mempool/mempool.js';
import { M, pktmbufFree, PKTMBUF_HEADROOM } from '../../mempool/mbuf.js';
import type { VirtioPci } from './pci.js';
import {
  VIRTQ_DESC, VIRTQ_DESC_F_WRITE, VIRTQ_AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT, PVIRTQ_DESC, PVIRTQ_EVENT,
  VIRTQ_DESC_F_AVAIL, RING_EVENT_FLAGS_DISABLE, NET_HDR_LEN, ringAreas,
} from './spec.js';
import {
  STATE_BYTES, SW_MBUF, SW_FREE_IDS, VQS_AVAIL, VQS_AVAIL_WRAP, VQS_USED_WRAP, VQS_FREE, VQS_FIRST, TX_HDR_SLOT,
  swBytes, type RingLayout, type VirtioQueueSpec,
} from './layout.js';
import { TWO32 } from './vq.js';

/** A ring's memory, zeroed: IOVA-contiguous, 4 KiB aligned, `extra` bytes after the ring (the control half's). */
export function ringZone(zone: string, layout: RingLayout, nb: number, extra: number): { off: number; ringBytes: number; driverArea: number; deviceArea: number } {
  const a = ringAreas(layout === 'packed', nb);
  const ringBytes = (a.bytes + 63) & ~63;
  const z = memzoneReserve(zone, ringBytes + extra, { align: 4096, contig: true });
  mem().u8.fill(0, z.off, z.off + z.len);
  noInterrupts(layout, z.off + a.driver, nb);
  return { off: z.off, ringBytes, driverArea: z.off + a.driver, deviceArea: z.off + a.device };
}

/**
 * pktio polls: the driver area asks for no interrupts [2.7.7, 2.8.10], until an RX queue with a vector is armed
 * (rxq.ts intrEnable). Split with EVENT_IDX: the device ignores NO_INTERRUPT and interrupts when its used index
 * passes used_event [2.7.10], so used_event is set behind the start (0xffff: passed again only 65535 entries on).
 */
function noInterrupts(layout: RingLayout, driverArea: number, nb: number): void {
  const u16 = mem().u16;
  if (layout === 'split') {
    u16[(driverArea + VIRTQ_AVAIL.flags) >> 1] = VIRTQ_AVAIL_F_NO_INTERRUPT;
    u16[(driverArea + VIRTQ_AVAIL.ring + 2 * nb) >> 1] = 0xffff;
  } else {
    u16[(driverArea + PVIRTQ_EVENT.flags) >> 1] = RING_EVENT_FLAGS_DISABLE;
  }
}

/** Writes a descriptor's 64-bit address (`w`: its u32 index) from an IOVA below 2^53 (control path only). */
export function putIova(u32: Uint32Array, w: number, iova: number): void {
  u32[w] = iova % TWO32;
  u32[w + 1] = Math.floor(iova / TWO32);
}

export class VirtqueueMem {
  readonly ringZone: string;
  readonly swZone: string;
  readonly desc: number;
  readonly driverArea: number;
  readonly deviceArea: number;
  readonly ringBytes: number;
  readonly sw: number;
  readonly hdrOff: number;
  readonly hdrIova: number;
  readonly notifyAt: bigint;

  constructor(private readonly pci: VirtioPci, zone: string, readonly vq: number, readonly nb: number,
    readonly layout: RingLayout, readonly kind: 'rx' | 'tx', readonly pool: Mempool | null) {
    this.ringZone = `${zone}r`;
    this.swZone = `${zone}s`;
    const rz = ringZone(this.ringZone, layout, nb, kind === 'tx' ? nb * TX_HDR_SLOT : 0);
    const sz = memzoneReserve(this.swZone, swBytes(nb), { align: 64 });
    this.ringBytes = rz.ringBytes;
    this.desc = rz.off;
    this.driverArea = rz.driverArea;
    this.deviceArea = rz.deviceArea;
    this.hdrOff = rz.off + this.ringBytes;
    this.hdrIova = mem().iova(this.hdrOff);
    this.sw = sz.off;
    this.notifyAt = pci.queueNotifyAddr(vq);
  }

  spec(port: number, queue: number, eventIdx: boolean, inOrder: boolean): VirtioQueueSpec {
    return {
      driver: 'net_virtio', port, queue, layout: this.layout, vq: this.vq, nb: this.nb, desc: this.desc,
      driverArea: this.driverArea, deviceArea: this.deviceArea, sw: this.sw, notify: this.notifyAt.toString(),
      notifyLen: 2, notifyIdx: 0, eventIdx, inOrder,
    };
  }

  /**
   * Fresh ring and state, RX buffers posted, then the queue programmed and enabled (before DRIVER_OK) with MSI-X
   * vector `vector` (VIRTIO_MSI_NO_VECTOR: none).
   */
  setUp(vector: number): void {
    const r = mem();
    r.u8.fill(0, this.desc, this.desc + this.ringBytes);
    r.u8.fill(0, this.sw, this.sw + swBytes(this.nb));
    noInterrupts(this.layout, this.driverArea, this.nb);
    const st = this.sw >> 2;
    const ids = ((this.sw + STATE_BYTES) >> 2) + SW_FREE_IDS * this.nb;
    for (let i = 0; i < this.nb; i++) r.u32[ids + i] = i;
    r.i32[st + VQS_AVAIL_WRAP] = 1;
    r.i32[st + VQS_USED_WRAP] = 1;
    r.i32[st + VQS_FREE] = this.nb;
    if (this.kind === 'rx') this.fillRx();
    const got = this.pci.programQueue(this.vq, { size: this.nb, desc: r.iova(this.desc), driver: r.iova(this.driverArea), device: r.iova(this.deviceArea), vector });
    if (got !== this.notifyAt) throw new Error(`virtqueue ${this.vq}: its notify offset changed between set-up and start`);
  }

  /** Every descriptor gets a buffer: the device may fill them all. */
  private fillRx(): void {
    const r = mem();
    const pool = this.pool!;
    const bufs = new Uint32Array(this.nb);
    if (!pool.getBulk(bufs, this.nb, 0)) {
      throw new Error(`pool '${pool.name}' has ${pool.availCount()} free mbufs, RX virtqueue ${this.vq} needs ${this.nb} ` +
        '(give the pool more mbufs than all RX + TX descriptors + bursts in flight)');
    }
    const st = this.sw >> 2;
    const mb = ((this.sw + STATE_BYTES) >> 2) + SW_MBUF * this.nb;
    for (let i = 0; i < this.nb; i++) {
      const m = bufs[i];
      const iova = r.u32[m + M.BUF_IOVA_HI] * TWO32 + r.u32[m + M.BUF_IOVA_LO] + PKTMBUF_HEADROOM - NET_HDR_LEN;
      const d = this.desc + i * VIRTQ_DESC.size;
      putIova(r.u32, d >> 2, iova);
      r.u32[(d + VIRTQ_DESC.len) >> 2] = r.u16[(m << 1) + M.H_BUF_LEN] - PKTMBUF_HEADROOM + NET_HDR_LEN;
      if (this.layout === 'split') {
        r.u16[(d + VIRTQ_DESC.flags) >> 1] = VIRTQ_DESC_F_WRITE;
        r.u16[((this.driverArea + VIRTQ_AVAIL.ring) >> 1) + i] = i;
      } else {
        r.u16[(d + PVIRTQ_DESC.id) >> 1] = i;
        r.u16[(d + PVIRTQ_DESC.flags) >> 1] = VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_AVAIL;
      }
      r.u32[mb + i] = m;
    }
    if (this.layout === 'split') {
      r.i32[st + VQS_AVAIL] = this.nb & 0xffff;
      r.u16[(this.driverArea + VIRTQ_AVAIL.idx) >> 1] = this.nb & 0xffff;
    } else {
      r.i32[st + VQS_AVAIL] = 0; // all nb posted: the avail position wrapped
      r.i32[st + VQS_AVAIL_WRAP] = 0;
    }
  }

  /** Gives back every mbuf the queue holds (after a reset: the device no longer touches them); returns how many. */
  drain(): number {
    const r = mem();
    const mb = ((this.sw + STATE_BYTES) >> 2) + SW_MBUF * this.nb;
    let c = 0;
    for (let i = 0; i < this.nb; i++) {
      const m = r.u32[mb + i];
      if (m === 0) continue;
      pktmbufFree(m);
      r.u32[mb + i] = 0;
      c++;
    }
    const st = this.sw >> 2;
    if (this.kind === 'rx' && r.i32[st + VQS_FIRST] !== 0) {
      pktmbufFree(r.i32[st + VQS_FIRST]);
      r.i32[st + VQS_FIRST] = 0;
    }
    return c;
  }

  /** A state word of the queue (tests, xstats). */
  word(i: number): number {
    return mem().i32[(this.sw >> 2) + i];
  }

  release(): void {
    for (const z of [this.ringZone, this.swZone]) if (memzoneLookup(z)) memzoneFree(z);
  }
}
