// Copies. copyBytes: the packet copy of every PMD that copies. copyU32: element copies between typed arrays, unrolled by four with the loads grouped before the stores: V8 keeps
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


/** Below this many bytes an 8-byte element loop beats copyWithin's call into memmove (bench: `copy`). */
export const COPY_LOOP_MAX = 160;

/**
 * Copies n bytes from src to dst, both byte offsets into the same buffer that u8 and f64 view (the EAL region:
 * mbufs, and packet rings or memif regions mapped into its window), not overlapping. The routine of every PMD
 * that copies packets. Short copies whose ends share their alignment mod 8 run an unrolled Float64Array loop (a
 * load/store pair per 8 bytes moves the bits unchanged, NaN payloads included); the rest go to copyWithin, which
 * is memmove. Nothing is allocated; `npm run bench -- copy` measures the choices at 64 B to 9 KB.
 */
export function copyBytes(u8: Uint8Array, f64: Float64Array, dst: number, src: number, n: number): void {
  if (n > COPY_LOOP_MAX || ((dst ^ src) & 7) !== 0) {
    u8.copyWithin(dst, src, src + n);
    return;
  }
  // head up to dst's 8-byte boundary, then 8-byte words, then the tail
  let i = 0;
  const head = (8 - (dst & 7)) & 7;
  for (; i < head && i < n; i++) u8[dst + i] = u8[src + i];
  const d = (dst + i) >>> 3;
  const s = (src + i) >>> 3;
  const w = (n - i) >>> 3;
  let k = 0;
  for (; k + 4 <= w; k += 4) {
    const a = f64[s + k];
    const b = f64[s + k + 1];
    const c = f64[s + k + 2];
    const e = f64[s + k + 3];
    f64[d + k] = a;
    f64[d + k + 1] = b;
    f64[d + k + 2] = c;
    f64[d + k + 3] = e;
  }
  for (; k < w; k++) f64[d + k] = f64[s + k];
  for (i += w << 3; i < n; i++) u8[dst + i] = u8[src + i];
}
