// A nanosecond clock for packet apps: clock_gettime(CLOCK_MONOTONIC) through the vDSO into a 16-byte struct
// timespec in the EAL region, read back as two 32-bit words. No allocation per read (performance.now() makes a
// heap number; the EAL's clockUs() is refreshed only once a millisecond by the main lcore). One read costs one
// koffi call (see NS_CLOCK_COST_NOTE), so the generator reads it once per burst, not once per packet.
import { clockGettimeAt } from '../eal/ffi.js';
import { mem } from '../eal/memory.js';

/** <linux/time.h>: the clock that does not jump with settimeofday/NTP steps */
export const CLOCK_MONOTONIC = 1;
/** bytes of one struct timespec (two 64-bit words on 64-bit Linux) */
export const TIMESPEC_BYTES = 16;

export class NsClock {
  private readonly va: bigint;
  private readonly i32: Int32Array;
  private readonly w: number;
  /** seconds subtracted from every reading, so the result stays an exact double (below 2^53 ns) */
  readonly baseSec: number;

  /**
   * @param off region offset of TIMESPEC_BYTES bytes that only this thread writes (8-byte aligned)
   * @param baseSec the epoch of the readings; give every lcore that compares readings the same one (default: now)
   */
  constructor(off: number, baseSec = -1) {
    if (off % 8 !== 0) throw new RangeError(`NsClock: timespec offset ${off} is not 8-byte aligned`);
    const r = mem();
    this.va = r.va(off);
    this.i32 = r.i32;
    this.w = off >> 2;
    clockGettimeAt(CLOCK_MONOTONIC, this.va);
    this.baseSec = baseSec >= 0 ? baseSec : this.i32[this.w];
  }

  /**
   * Nanoseconds since baseSec, written to f[i]. A hot loop reads the clock this way: a double above 2^31 returned
   * from or passed to a call V8 does not inline is boxed in a new heap number, one allocation per read.
   */
  nowInto(f: Float64Array, i: number): void {
    clockGettimeAt(CLOCK_MONOTONIC, this.va);
    const i32 = this.i32;
    const w = this.w;
    f[i] = (i32[w] - this.baseSec) * 1e9 + i32[w + 2];
  }

  /** Nanoseconds since baseSec (outside hot loops; see nowInto). */
  now(): number {
    clockGettimeAt(CLOCK_MONOTONIC, this.va);
    const i32 = this.i32;
    const w = this.w;
    return (i32[w] - this.baseSec) * 1e9 + i32[w + 2];
  }
}
