// A tiny 82574 stand-in for host tests: BAR 0 is a 128 KiB memzone in EAL memory (so every thread can view it
// like a mapped BAR), and a device model the test steps by hand: step() sends what TDH..TDT holds, deliver()
// writes a frame into the descriptor at RDH. Only what the PMD's data path and init touch is modelled; registers
// are plain memory (no clear-on-read, no self-clearing bits), which the driver must tolerate.
import { mem, memzoneReserve, memzoneFree } from '../../src/eal/memory.js';
import type { PciDeviceAccess } from '../../src/pmd/e1000e/device.js';
import * as R from '../../src/pmd/e1000e/regs.js';

export const BAR_LEN = 128 * 1024;

export class E1000eSim {
  readonly zone: string;
  readonly off: number;
  readonly addr: bigint;
  busMaster = false;
  closed = false;
  resets = 0;
  /** frames the model "put on the wire", in order */
  readonly sent: Uint8Array[] = [];

  constructor(name = 'e1k_sim_bar', mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]) {
    this.zone = name;
    const z = memzoneReserve(name, BAR_LEN, { align: 4096 });
    this.off = z.off;
    this.addr = z.va;
    this.set(R.STATUS, R.STATUS_LU | R.STATUS_FD | (2 << R.STATUS_SPEED_SHIFT));
    this.set(R.EECD, R.EECD_AUTO_RD);
    this.set(R.RAL0, mac[0] | (mac[1] << 8) | (mac[2] << 16) | (mac[3] << 24));
    this.set(R.RAH0, mac[4] | (mac[5] << 8) | R.RAH_AV);
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
      bar0: { addr: this.addr, len: BAR_LEN },
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

  private ring(lo: number, hi: number): number {
    return E1000eSim.off(this.get(hi) * 4294967296 + this.get(lo));
  }

  /** Word index of descriptor i of the RX or TX ring. */
  rxDesc(i: number): number {
    return (this.ring(R.RDBAL0, R.RDBAH0) >> 2) + i * 4;
  }

  txDesc(i: number): number {
    return (this.ring(R.TDBAL, R.TDBAH) >> 2) + i * 4;
  }

  /** Transmits up to max descriptors between TDH and TDT; returns the frames completed. */
  stepTx(max = 1 << 30): Uint8Array[] {
    const out: Uint8Array[] = [];
    if ((this.get(R.TCTL) & R.TCTL_EN) === 0) return out;
    const r = mem();
    const nb = this.get(R.TDLEN) / 16;
    let h = this.get(R.TDH);
    let frame: number[] = [];
    for (let n = 0; n < max && h !== this.get(R.TDT); n++) {
      const w = this.txDesc(h);
      const iova = r.u32[w + 1] * 4294967296 + r.u32[w];
      const len = r.u32[w + 2] & 0xffff;
      const o = E1000eSim.off(iova);
      frame.push(...r.u8.subarray(o, o + len));
      if (r.u32[w + 2] & R.TXD_CMD_EOP) {
        const f = Uint8Array.from(frame);
        out.push(f);
        this.sent.push(f);
        frame = [];
        this.add(R.GPTC, 1);
        this.add(R.GOTCL, f.length + 4);
      }
      if (r.u32[w + 2] & R.TXD_CMD_RS) r.u32[w + 3] |= R.TXD_STAT_DD;
      h = (h + 1) % nb;
      this.set(R.TDH, h);
    }
    return out;
  }

  /** Receives one frame into the descriptor at RDH (status DD|EOP, `errors` in the errors byte). false: ring full. */
  deliver(frame: ArrayLike<number>, errors = 0): boolean {
    if ((this.get(R.RCTL) & R.RCTL_EN) === 0) return false;
    const nb = this.get(R.RDLEN0) / 16;
    const h = this.get(R.RDH0);
    if (h === this.get(R.RDT0)) {
      this.add(R.MPC, 1);
      return false;
    }
    const r = mem();
    const w = this.rxDesc(h);
    const o = E1000eSim.off(r.u32[w + 1] * 4294967296 + r.u32[w]);
    r.u8.set(frame, o);
    r.u32[w + 2] = frame.length; // length, checksum 0
    r.u32[w + 3] = R.RXD_STAT_DD | R.RXD_STAT_EOP | (errors << 8);
    this.set(R.RDH0, (h + 1) % nb);
    if (errors === 0) {
      this.add(R.GPRC, 1);
      this.add(R.GORCL, frame.length + 4);
    } else {
      this.add(R.CRCERRS, 1);
    }
    return true;
  }

  /** Emulates clear-on-read of the statistics block (the model does not see reads). */
  clearStats(): void {
    mem().u8.fill(0, this.off + R.STATS_START, this.off + R.STATS_END + 4);
  }
}

/** Records Atomics.store calls on a BAR view (any Int32Array of BAR_LEN bytes): count per register, and (reg, value) in order. */
export function spyDoorbells(): { counts: Map<number, number>; writes: Array<[number, number]>; restore: () => void } {
  const counts = new Map<number, number>();
  const writes: Array<[number, number]> = [];
  const orig = Atomics.store;
  (Atomics as { store: typeof Atomics.store }).store = function (arr: never, idx: number, v: number) {
    if ((arr as Int32Array).byteLength === BAR_LEN) {
      counts.set(idx * 4, (counts.get(idx * 4) ?? 0) + 1);
      writes.push([idx * 4, v >>> 0]);
    }
    return orig(arr, idx, v);
  } as typeof Atomics.store;
  return { counts, writes, restore: () => { (Atomics as { store: typeof Atomics.store }).store = orig; } };
}
