// Register access for the control half of Intel drivers (the main lcore): BAR 0 through a typed-array view,
// every access an Atomics operation so the JIT neither caches nor reorders it (slow, and fine off the data path).
// The data half writes only its doorbells, as plain stores on its own view (why: rxq.ts).
import * as ffi from '../../../eal/ffi.js';
import type { MmioHook } from '../../pci/access.js';
import { delayMs } from '../../../eal/lcore.js';


export class Regs {
  private readonly bar: Int32Array;

  constructor(addr: bigint, len: number, private readonly hook: MmioHook | null = null) {
    this.bar = new Int32Array(ffi.view(addr, len));
  }

  rd(off: number): number {
    const v = Atomics.load(this.bar, off >> 2) >>> 0;
    return this.hook === null ? v : this.hook.read(off, v) >>> 0;
  }

  wr(off: number, v: number): void {
    Atomics.store(this.bar, off >> 2, v | 0);
    if (this.hook !== null) this.hook.write(off, v >>> 0);
  }

  set(off: number, bits: number): void {
    this.wr(off, this.rd(off) | bits);
  }

  clear(off: number, bits: number): void {
    this.wr(off, this.rd(off) & ~bits);
  }

  /** Polls until (reg & mask) === want, every ms, at most `tries` times; returns whether it got there. */
  waitFor(off: number, mask: number, want: number, tries = 100, ms = 1): boolean {
    for (let i = 0; i < tries; i++) {
      if (((this.rd(off) & mask) >>> 0) === want >>> 0) return true;
      delayMs(ms);
    }
    return ((this.rd(off) & mask) >>> 0) === want >>> 0;
  }

  /** Writes a 64-bit IOVA to a low/high register pair. */
  wr64(lo: number, hi: number, v: number): void {
    this.wr(lo, v >>> 0);
    this.wr(hi, Math.floor(v / 4294967296));
  }
}

/** A MAC address from a receive-address register pair (RAL, RAH). */
export function macFromRar(lo: number, hi: number): Uint8Array {
  return Uint8Array.from([lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24, hi & 0xff, (hi >>> 8) & 0xff]);
}

/** RAL / RAH values of a MAC address (RAH without its valid bit). */
export function rarFromMac(mac: ArrayLike<number>): [number, number] {
  return [(mac[0] | (mac[1] << 8) | (mac[2] << 16) | (mac[3] << 24)) >>> 0, mac[4] | (mac[5] << 8)];
}
