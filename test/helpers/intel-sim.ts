// A simulated Intel NIC for host tests: BAR 0 is a memzone in EAL memory (so every thread views it like a mapped
// BAR) and a device model that the test steps by hand. stepTx() sends what TDH..TDT holds of a TX queue (legacy or
// advanced descriptors, context descriptors, VLAN insertion); deliver() writes a frame into the RX descriptors at
// RDH of a queue, spanning several buffers when it is longer than one, with an extended/advanced write-back.
// A family's simulator (e1000e-sim.ts, ...) gives the register layout and what reset, link and counters do.
// Register side effects of the control path (clear-on-read counters, self-clearing bits) go through the
// PciDeviceAccess.mmioHook seam: onRead/onWrite below; the data path's doorbells land in plain memory.
import { mem, memzoneReserve, memzoneFree } from '../../src/eal/memory.js';
import type { PciDeviceAccess } from '../../src/pmd/pci/access.js';
import { setObservableDoorbells } from '../../src/pmd/intel/common/layout.js';

export interface SimRing { bal: number; bah: number; len: number; head: number; tail: number }

export interface SimLayout {
  barLen: number;
  vendorId: number;
  deviceId: number;
  rx(q: number): SimRing;
  tx(q: number): SimRing;
  /** may queue q receive / transmit now (global and per-queue enables) */
  rxEnabled(sim: IntelSim, q: number): boolean;
  txEnabled(sim: IntelSim, q: number): boolean;
  /** receive buffer size the driver programmed for queue q */
  rxBufSize(sim: IntelSim, q: number): number;
  txFormat: 'legacy' | 'advanced';
  /** clear-on-read registers (statistics): zeroed after the driver reads them */
  clearOnRead?(off: number): boolean;
  /** what a control-path write does besides landing in memory (self-clearing bits, ...) */
  onWrite?(sim: IntelSim, off: number, v: number): void;
  /** counters: a frame received (ok) or dropped for want of descriptors; a frame sent */
  onRx?(sim: IntelSim, frame: ArrayLike<number>, opts: DeliverOpts): void;
  onMissed?(sim: IntelSim): void;
  onTx?(sim: IntelSim, frame: Uint8Array): void;
}

/** Write-back status bits shared by the extended (82574) and advanced (82576, 82599) formats. */
export const WB_DD = 1 << 0;
export const WB_EOP = 1 << 1;
export const WB_VP = 1 << 3;

export interface DeliverOpts {
  /** status/error bits of the last descriptor (besides DD and EOP) */
  status?: number;
  /** w0 of the last descriptor: MRQ / pkt_info (RSS type in bits 3:0) */
  w0?: number;
  /** w1 of the last descriptor: the RSS hash */
  hash?: number;
  /** the VLAN field of the write-back (with VP in status when the tag was stripped) */
  vlan?: number;
}

export interface SentFrame {
  queue: number;
  bytes: Uint8Array;
  /** advanced TX: the olinfo POPTS the data descriptors asked for (IXSM 1, TXSM 2) */
  popts: number;
  /** the VLAN tag inserted (legacy special field or the context's), -1 none */
  vlan: number;
}

const TWO32 = 4294967296;

export class IntelSim {
  readonly zone: string;
  readonly off: number;
  readonly addr: bigint;
  busMaster = false;
  closed = false;
  resets = 0;
  /** frames the model "put on the wire", in order */
  readonly sent: SentFrame[] = [];
  /** control-path register reads (offsets) and writes (offset, value), in order */
  readonly reads: number[] = [];
  readonly writes: Array<[number, number]> = [];
  /** VLAN of context 0 per TX queue (advanced descriptors) */
  private readonly ctxVlan = new Map<number, number>();
  /** bytes of a packet whose first descriptors a stepTx sent and whose EOP a later one will (per queue) */
  private readonly partial = new Map<number, number[]>();

  constructor(name: string, readonly layout: SimLayout) {
    setObservableDoorbells(true); // the model watches doorbells through Atomics.store
    this.zone = name;
    const z = memzoneReserve(name, layout.barLen, { align: 4096 });
    this.off = z.off;
    this.addr = z.va;
  }

  get(reg: number): number {
    return mem().u32[(this.off + reg) >> 2];
  }

  set(reg: number, v: number): void {
    mem().u32[(this.off + reg) >> 2] = v >>> 0;
  }

  add(reg: number, v: number): void {
    this.set(reg, this.get(reg) + v);
  }

  /** What probePci gets. */
  access(bdf: string): PciDeviceAccess {
    return {
      bdf,
      vendorId: this.layout.vendorId,
      deviceId: this.layout.deviceId,
      bar0: { addr: this.addr, len: this.layout.barLen },
      mmioHook: {
        read: (off, v) => {
          this.reads.push(off);
          if (this.layout.clearOnRead?.(off)) this.set(off, 0);
          return v;
        },
        write: (off, v) => {
          this.writes.push([off, v]);
          this.layout.onWrite?.(this, off, v);
        },
      },
      setBusMaster: (on) => { this.busMaster = on; },
      reset: () => { this.resets++; },
      close: () => { this.closed = true; this.busMaster = false; },
    };
  }

  release(): void {
    memzoneFree(this.zone);
  }

  /** Region offset of an IOVA (IOVA = VA in --no-huge). */
  static off(iova: number): number {
    return iova - mem().iova(0);
  }

  private ringOff(r: SimRing): number {
    return IntelSim.off(this.get(r.bah) * TWO32 + this.get(r.bal));
  }

  /** Word index of descriptor i of RX / TX queue q. */
  rxDesc(q: number, i: number): number {
    return (this.ringOff(this.layout.rx(q)) >> 2) + i * 4;
  }

  txDesc(q: number, i: number): number {
    return (this.ringOff(this.layout.tx(q)) >> 2) + i * 4;
  }

  /** Transmits up to max descriptors of queue q between TDH and TDT (a packet may end in a later call); returns the frames completed. */
  stepTx(q = 0, max = 1 << 30): SentFrame[] {
    const out: SentFrame[] = [];
    if (!this.layout.txEnabled(this, q)) return out;
    const t = this.layout.tx(q);
    const adv = this.layout.txFormat === 'advanced';
    const r = mem();
    const nb = this.get(t.len) / 16;
    let h = this.get(t.head);
    let frame: number[] = this.partial.get(q) ?? [];
    for (let n = 0; n < max && h !== this.get(t.tail); n++) {
      const w = this.txDesc(q, h);
      const w2 = r.u32[w + 2];
      const cmd = w2 >>> 24;
      if (adv && ((w2 >>> 20) & 0xf) === 0x2) {
        this.ctxVlan.set(q, r.u32[w] >>> 16); // context descriptor: remember its VLAN
      } else {
        const iova = r.u32[w + 1] * TWO32 + r.u32[w];
        const o = IntelSim.off(iova);
        frame.push(...r.u8.subarray(o, o + (w2 & 0xffff)));
        if (cmd & 0x01) {
          let vlan = -1;
          if (cmd & 0x40) vlan = adv ? this.ctxVlan.get(q) ?? 0 : r.u32[w + 3] >>> 16;
          let bytes = Uint8Array.from(frame);
          if (vlan >= 0) {
            bytes = Uint8Array.from([...frame.slice(0, 12), 0x81, 0x00, vlan >> 8, vlan & 0xff, ...frame.slice(12)]);
          }
          const f: SentFrame = { queue: q, bytes, popts: adv ? (r.u32[w + 3] >>> 8) & 0x3f : 0, vlan };
          out.push(f);
          this.sent.push(f);
          this.layout.onTx?.(this, bytes);
          frame = [];
        }
        if (cmd & 0x08) r.u32[w + 3] |= WB_DD; // RS: report status
      }
      h = (h + 1) % nb;
      this.set(t.head, h);
    }
    this.partial.set(q, frame);
    return out;
  }

  /**
   * Receives one frame on queue q from RDH on, one descriptor per buffer. Bad frames carry their error bits in
   * opts.status. Returns false (and counts a miss) when the ring lacks descriptors for the whole frame.
   */
  deliver(frame: ArrayLike<number>, opts: DeliverOpts = {}, q = 0): boolean {
    if (!this.layout.rxEnabled(this, q)) return false;
    const rr = this.layout.rx(q);
    const nb = this.get(rr.len) / 16;
    const buf = this.layout.rxBufSize(this, q);
    const need = Math.max(1, Math.ceil(frame.length / buf));
    let h = this.get(rr.head);
    const free = (this.get(rr.tail) - h + nb) % nb;
    if (free < need) {
      this.layout.onMissed?.(this);
      return false;
    }
    const r = mem();
    for (let i = 0; i < need; i++) {
      const w = this.rxDesc(q, h);
      const o = IntelSim.off(r.u32[w + 1] * TWO32 + r.u32[w]);
      const part = Array.prototype.slice.call(frame, i * buf, Math.min(frame.length, (i + 1) * buf)) as number[];
      r.u8.set(part, o);
      const last = i === need - 1;
      r.u32[w] = last ? opts.w0 ?? 0 : 0;
      r.u32[w + 1] = last ? opts.hash ?? 0 : 0;
      r.u32[w + 3] = (part.length | ((last ? opts.vlan ?? 0 : 0) << 16)) >>> 0;
      r.u32[w + 2] = (WB_DD | (last ? WB_EOP | (opts.status ?? 0) : 0)) >>> 0;
      h = (h + 1) % nb;
    }
    this.set(rr.head, h);
    this.layout.onRx?.(this, frame, opts);
    return true;
  }
}

/** Records Atomics.store calls on a BAR view of `barLen` bytes: count per register, and (reg, value) in order. */
export function spyDoorbells(barLen: number): { counts: Map<number, number>; writes: Array<[number, number]>; restore: () => void } {
  const counts = new Map<number, number>();
  const writes: Array<[number, number]> = [];
  const orig = Atomics.store;
  (Atomics as { store: typeof Atomics.store }).store = function (arr: never, idx: number, v: number) {
    if ((arr as Int32Array).byteLength === barLen) {
      counts.set(idx * 4, (counts.get(idx * 4) ?? 0) + 1);
      writes.push([idx * 4, v >>> 0]);
    }
    return orig(arr, idx, v);
  } as typeof Atomics.store;
  return { counts, writes, restore: () => { (Atomics as { store: typeof Atomics.store }).store = orig; } };
}
