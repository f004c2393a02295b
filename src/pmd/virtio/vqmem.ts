// One virtqueue's memory on the control side: the ring memzone (descriptors, driver and device areas, TX header
// slots) and the software block (layout.ts), their set-up before DRIVER_OK (RX rings filled with buffers), the
// queue spec for the lcores, and giving every mbuf back after a reset.
import { mem, memzoneReserve, memzoneLookup, memzoneFree } from '../../eal/memory.js';
import type { Mempool } from '../../mempool/mempool.js';
import { M, pktmbufFree, PKTMBUF_HEADROOM } from '../../mempool/mbuf.js';
import type { VirtioPci } from './pci.js';
import {
  VIRTQ_DESC, VIRTQ_DESC_F_WRITE, VIRTQ_AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT, PVIRTQ_DESC, PVIRTQ_EVENT,
  VIRTQ_DESC_F_AVAIL, RING_EVENT_FLAGS_DISABLE, NET_HDR_LEN, splitLayout, packedLayout,
} from './spec.js';
import {
  STATE_BYTES, SW_MBUF, SW_FREE_IDS, VQS_AVAIL, VQS_AVAIL_WRAP, VQS_USED_WRAP, VQS_FREE, VQS_FIRST, TX_HDR_SLOT,
  swBytes, type RingLayout, type VirtioQueueSpec,
} from './layout.js';
import { TWO32 } from './vq.js';

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
    const l = layout === 'split' ? splitLayout(nb) : null;
    const p = layout === 'packed' ? packedLayout(nb) : null;
    this.ringBytes = ((l?.bytes ?? p!.bytes) + 63) & ~63;
    const hdrBytes = kind === 'tx' ? nb * TX_HDR_SLOT : 0;
    this.ringZone = `${zone}r`;
    this.swZone = `${zone}s`;
    const rz = memzoneReserve(this.ringZone, this.ringBytes + hdrBytes, { align: 4096, contig: true });
    const sz = memzoneReserve(this.swZone, swBytes(nb), { align: 64 });
    this.desc = rz.off;
    this.driverArea = rz.off + (l ? l.avail : p!.driver);
    this.deviceArea = rz.off + (l ? l.used : p!.device);
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

  /** Fresh ring and state, RX buffers posted, then the queue programmed and enabled (before DRIVER_OK). */
  setUp(): void {
    const r = mem();
    r.u8.fill(0, this.desc, this.desc + this.ringBytes);
    r.u8.fill(0, this.sw, this.sw + swBytes(this.nb));
    const st = this.sw >> 2;
    const ids = ((this.sw + STATE_BYTES) >> 2) + SW_FREE_IDS * this.nb;
    for (let i = 0; i < this.nb; i++) r.u32[ids + i] = i;
    r.i32[st + VQS_AVAIL_WRAP] = 1;
    r.i32[st + VQS_USED_WRAP] = 1;
    r.i32[st + VQS_FREE] = this.nb;
    // pktio polls: no interrupts wanted [2.7.7, 2.8.10]
    if (this.layout === 'split') r.u16[(this.driverArea + VIRTQ_AVAIL.flags) >> 1] = VIRTQ_AVAIL_F_NO_INTERRUPT;
    else r.u16[(this.driverArea + PVIRTQ_EVENT.flags) >> 1] = RING_EVENT_FLAGS_DISABLE;
    if (this.kind === 'rx') this.fillRx();
    const got = this.pci.programQueue(this.vq, { size: this.nb, desc: r.iova(this.desc), driver: r.iova(this.driverArea), device: r.iova(this.deviceArea) });
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
      const len = r.u16[(m << 1) + M.H_BUF_LEN] - PKTMBUF_HEADROOM + NET_HDR_LEN;
      const d = this.desc + i * 16;
      r.u32[d >> 2] = iova >>> 0;
      r.u32[(d >> 2) + 1] = Math.floor(iova / TWO32);
      r.u32[(d + 8) >> 2] = len;
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
