// A latency histogram with fixed log-linear buckets (the layout of HdrHistogram with 5 sub-bucket bits): values
// 0..31 ns get a bucket each; above that, every power of two [2^e, 2^(e+1)) is cut into 32 equal buckets, so a
// bucket is at most 1/32 (3.1%) of its value wide. Values are integer nanoseconds below 2^32 (4.29 s); larger ones
// land in the last bucket and still count in max and mean.
//
// The counts live in a Float64Array the caller hands in (a slice of a memzone), so a worker lcore records and the
// main lcore reads the same words for its periodic output. record() allocates nothing and has no branch that
// depends on the value's size beyond the one below 32: it is called once per received packet.

/** sub-bucket bits: 2^5 = 32 buckets per power of two */
export const HIST_SUB_BITS = 5;
const SUB = 1 << HIST_SUB_BITS;
/** buckets: 32 exact ones, then 32 for each exponent 5..31 */
export const HIST_BUCKETS = SUB + (32 - HIST_SUB_BITS) * SUB;
/** words before the buckets: count, sum, min, max */
const H_COUNT = 0;
const H_SUM = 1;
const H_MIN = 2;
const H_MAX = 3;
const H_HDR = 4;
/** Float64Array length one histogram needs */
export const HIST_WORDS = H_HDR + HIST_BUCKETS;

export interface HistSummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * The bucket of a non-negative integer value below 2^32, given as it is or as the int32 of its bits (what
 * record() passes: a number above 2^31 passed to a call that is not inlined would be a heap number).
 */
export function bucketOf(v: number): number {
  if (v >= 0 && v < SUB) return v;
  // an int32 below 0 is a value of 2^31 or more: clz32 and >>> read its 32 bits as unsigned
  const e = 31 - Math.clz32(v);
  return SUB + (e - HIST_SUB_BITS) * SUB + ((v >>> (e - HIST_SUB_BITS)) & (SUB - 1));
}

/** The lowest value of bucket b. */
export function bucketLow(b: number): number {
  if (b < SUB) return b;
  const e = ((b - SUB) >> HIST_SUB_BITS) + HIST_SUB_BITS;
  return (SUB + (b & (SUB - 1))) * 2 ** (e - HIST_SUB_BITS);
}

/** The width of bucket b (1 ns below 64 ns). */
function bucketWidth(b: number): number {
  if (b < 2 * SUB) return 1;
  return 2 ** (((b - SUB) >> HIST_SUB_BITS));
}

export class Histogram {
  readonly f64: Float64Array;
  /** @param clear zero the words (false: a view of counts another lcore keeps) */
  constructor(f64: Float64Array = new Float64Array(HIST_WORDS), clear = true) {
    if (f64.length < HIST_WORDS) throw new RangeError(`a histogram needs ${HIST_WORDS} words, got ${f64.length}`);
    this.f64 = f64;
    if (clear) this.reset();
  }

  reset(): void {
    this.f64.fill(0, 0, HIST_WORDS);
    this.f64[H_MIN] = Infinity;
  }

  /** Counts one value in nanoseconds (negative values, a clock that stepped back, count as 0). */
  record(ns: number): void {
    const f = this.f64;
    const v = ns > 0 ? (ns < 4294967295 ? Math.floor(ns) : 4294967295) : 0;
    f[H_HDR + bucketOf(v | 0)] += 1;
    f[H_COUNT] += 1;
    f[H_SUM] += v;
    if (v < f[H_MIN]) f[H_MIN] = v;
    if (v > f[H_MAX]) f[H_MAX] = v;
  }

  get count(): number { return this.f64[H_COUNT]; }

  /** Adds another histogram's counts to this one. */
  merge(o: Histogram): void {
    const f = this.f64;
    const g = o.f64;
    for (let i = H_HDR; i < HIST_WORDS; i++) f[i] += g[i];
    f[H_COUNT] += g[H_COUNT];
    f[H_SUM] += g[H_SUM];
    if (g[H_MIN] < f[H_MIN]) f[H_MIN] = g[H_MIN];
    if (g[H_MAX] > f[H_MAX]) f[H_MAX] = g[H_MAX];
  }

  /**
   * The value at quantile q (0..1): the middle of the bucket that holds the ceil(q * count)-th value, clamped to
   * [min, max], so it is within half a bucket (1.6%) of the true value.
   */
  quantile(q: number): number {
    const f = this.f64;
    const n = f[H_COUNT];
    if (n === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * n));
    let seen = 0;
    for (let b = 0; b < HIST_BUCKETS; b++) {
      seen += f[H_HDR + b];
      if (seen >= rank) {
        const mid = bucketLow(b) + (bucketWidth(b) - 1) / 2;
        return Math.min(f[H_MAX], Math.max(f[H_MIN], mid));
      }
    }
    return f[H_MAX];
  }

  summary(): HistSummary {
    const f = this.f64;
    const n = f[H_COUNT];
    return {
      count: n, min: n ? f[H_MIN] : 0, mean: n ? f[H_SUM] / n : 0, p50: this.quantile(0.5), p99: this.quantile(0.99),
      p999: this.quantile(0.999), max: n ? f[H_MAX] : 0,
    };
  }

  /** Spread of the values: standard deviation estimated from the bucket midpoints. */
  stddev(): number {
    const f = this.f64;
    const n = f[H_COUNT];
    if (n < 2) return 0;
    const mean = f[H_SUM] / n;
    let acc = 0;
    for (let b = 0; b < HIST_BUCKETS; b++) {
      const c = f[H_HDR + b];
      if (c === 0) continue;
      const d = bucketLow(b) + (bucketWidth(b) - 1) / 2 - mean;
      acc += c * d * d;
    }
    return Math.sqrt(acc / n);
  }
}
