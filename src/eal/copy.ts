// Element copies between typed arrays, unrolled by four with the loads grouped before the stores: V8 keeps
// every store ordered after the loads before it, so grouping lets four loads run together (about twice as
// fast as a plain loop here). No allocation; source and destination may be the same array if they do not overlap.

export function copyU32(dst: Uint32Array, d: number, src: Uint32Array, s: number, n: number): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const a = src[s + i];
    const b = src[s + i + 1];
    const c = src[s + i + 2];
    const e = src[s + i + 3];
    dst[d + i] = a;
    dst[d + i + 1] = b;
    dst[d + i + 2] = c;
    dst[d + i + 3] = e;
  }
  for (; i < n; i++) dst[d + i] = src[s + i];
}

/**
 * Copies n u32 elements as n/2 float64 moves when both positions are 8-byte aligned (twice as fast again).
 * `dst64`/`src64` are float64 views of the whole buffers of `dst32`/`src32`, from byte 0 (see wholeF64). Float64 loads and stores move the bits
 * unchanged on this platform, NaN payloads included: `f64CopyIsExact` checks that once at start-up, and the
 * callers fall back to copyU32 if it does not hold.
 */
export function copyU32ViaF64(dst32: Uint32Array, dst64: Float64Array, d: number, src32: Uint32Array, src64: Float64Array,
  s: number, n: number): void {
  const da = d + (dst32.byteOffset >> 2);
  const sa = s + (src32.byteOffset >> 2);
  if (((da | sa) & 1) !== 0 || !f64Exact) {
    copyU32(dst32, d, src32, s, n);
    return;
  }
  const d2 = da >> 1;
  const s2 = sa >> 1;
  const h = n >> 1;
  let i = 0;
  for (; i + 4 <= h; i += 4) {
    const a = src64[s2 + i];
    const b = src64[s2 + i + 1];
    const c = src64[s2 + i + 2];
    const e = src64[s2 + i + 3];
    dst64[d2 + i] = a;
    dst64[d2 + i + 1] = b;
    dst64[d2 + i + 2] = c;
    dst64[d2 + i + 3] = e;
  }
  for (; i < h; i++) dst64[d2 + i] = src64[s2 + i];
  if (n & 1) dst32[d + n - 1] = src32[s + n - 1];
}

/** A float64 view of a typed array's whole buffer from byte 0 (its last odd 4 bytes, if any, are left out). */
export function wholeF64(a: Uint32Array): Float64Array {
  return new Float64Array(a.buffer, 0, a.buffer.byteLength >> 3);
}

function f64CopyIsExact(): boolean {
  // signalling NaN, quiet NaNs with payloads, V8's hole pattern, negative zero, infinities
  const pats = [0x7ff00000, 0x00000001, 0x7ff7ffff, 0xffffffff, 0xfff80000, 0x12345678, 0x7ff80000, 0x00000000,
    0xfff7ffff, 0xfff7ffff, 0x80000000, 0x00000000, 0x7ff00000, 0x00000000, 0xffffffff, 0xffffffff];
  const src = new Uint32Array(16);
  const dst = new Uint32Array(16);
  for (let i = 0; i < 16; i++) src[i ^ 1] = pats[i]; // little-endian: high word second
  const s64 = new Float64Array(src.buffer);
  const d64 = new Float64Array(dst.buffer);
  for (let round = 0; round < 3000; round++) {
    dst.fill(0);
    for (let i = 0; i < 8; i++) d64[i] = s64[i];
    for (let i = 0; i < 16; i++) if (dst[i] !== src[i]) return false;
  }
  return true;
}

const f64Exact = f64CopyIsExact();
