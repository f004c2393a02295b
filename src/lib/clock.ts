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

/**
 * Seconds between a default epoch and the clock's creation: every reading is above 2^32 ns from the first one on.
 * V8 speculates on what a number was in the first calls. Readings that start near 0 are small integers there, and
 * the optimized code of every function that took them (the clock itself, a pacer, a comparison with the trial's
 * end, a stamp's halves) expects small integers and is thrown away when they pass 2^31 ns (2.1 s) or 2^32 ns: a
 * deoptimization mid-run, then interpreted passes that box every double until the function is compiled again.
 * Measured in pktgen before this lead: one GC on the generator lcore in a trial that crossed 2^31 ns.
 */
export const EPOCH_LEAD_S = 5;

export class NsClock {
  private readonly va: bigint;
  private readonly i32: Int32Array;
  private readonly w: number;
  /** seconds subtracted from every reading, so the result stays an exact double (below 2^53 ns) */
  readonly baseSec: number;

  /**
   * @param off region offset of TIMESPEC_BYTES bytes that only this thread writes (8-byte aligned)
   * @param baseSec the epoch of the readings, in CLOCK_MONOTONIC seconds; give every lcore that compares readings the
   *   same one, another clock's baseSec (default: EPOCH_LEAD_S seconds before now, so readings start above 2^32)
   */
  constructor(off: number, baseSec = -1) {
    if (off % 8 !== 0) throw new RangeError(`NsClock: timespec offset ${off} is not 8-byte aligned`);
    const r = mem();
    this.va = r.va(off);
    this.i32 = r.i32;
    this.w = off >> 2;
    clockGettimeAt(CLOCK_MONOTONIC, this.va);
    this.baseSec = baseSec >= 0 ? baseSec : this.i32[this.w] - EPOCH_LEAD_S;
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
