// Mempool work on a worker lcore: its own per-lcore cache.
import { mempoolLookup, mempoolCreate } from '../../src/mempool/mempool.js';
import { lcoreId } from '../../src/eal/index.js';

export function take(a: { pool: string; n: number }): { lcore: number; handles: number[]; cacheLen: number } {
  const p = mempoolLookup(a.pool);
  if (!p) throw new Error(`no pool ${a.pool}`);
  const objs = new Uint32Array(a.n);
  const got = p.getBurst(objs, a.n);
  return { lcore: lcoreId(), handles: [...objs.subarray(0, got)], cacheLen: p.cacheLen >= 0 ? p.u32[p.cacheLen] : -1 };
}

export function give(a: { pool: string; handles: number[] }): number {
  const p = mempoolLookup(a.pool)!;
  p.putBulk(Uint32Array.from(a.handles), a.handles.length);
  return p.u32[p.cacheLen];
}

export function flush(pool: string): void {
  mempoolLookup(pool)!.cacheFlush();
}

export function createOnWorker(): void {
  mempoolCreate('from_worker', 10, { eltSize: 64 });
}
