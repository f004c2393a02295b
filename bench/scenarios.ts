// Bench scenarios that run on a worker lcore or on the main lcore. Each returns plain numbers.
import * as v8 from 'node:v8';
import { ringLookup } from '../src/ring/ring.js';
import { mempoolLookup } from '../src/mempool/mempool.js';
import { quitRequested } from '../src/eal/index.js';

/** Heap and GC accounting over a window: allocated bytes = growth + what the collector freed. */
export class HeapWindow {
  private prof: v8.GCProfiler | null = null;
  private used0 = 0;
  start(): void {
    this.prof = new v8.GCProfiler();
    this.prof.start();
    this.used0 = v8.getHeapStatistics().used_heap_size;
  }
  stop(): { gcCount: number; allocated: number } {
    const used = v8.getHeapStatistics().used_heap_size;
    const r = this.prof?.stop();
    this.prof = null;
    let freed = 0;
    for (const g of r?.statistics ?? []) freed += g.beforeGC.heapStatistics.usedHeapSize - g.afterGC.heapStatistics.usedHeapSize;
    return { gcCount: r?.statistics.length ?? 0, allocated: Math.max(0, used - this.used0 + freed) };
  }
}

/** Rounds between two looks at the clock in the timed loops (performance.now() is far from free). */
const ROUNDS_PER_CHECK = 4096;

/** Single-core enqueue+dequeue of `burst` items for `seconds`, like DPDK's ring_perf_autotest. */
export function ringOneCore(args: { ring: string; burst: number; seconds: number }): { ns: number; items: number } {
  const r = ringLookup(args.ring)!;
  const a = new Uint32Array(args.burst);
  for (let i = 0; i < a.length; i++) a[i] = i;
  const b = args.burst;
  // warm up the JIT
  for (let i = 0; i < 100000; i++) {
    r.enqueueBulk(a, b);
    r.dequeueBulk(a, b);
  }
  const limit = args.seconds * 1000;
  let rounds = 0;
  const t0 = performance.now();
  let t1 = t0;
  do {
    for (let i = 0; i < ROUNDS_PER_CHECK; i++) {
      r.enqueueBulk(a, b);
      r.dequeueBulk(a, b);
    }
    rounds += ROUNDS_PER_CHECK;
    t1 = performance.now();
  } while (t1 - t0 < limit);
  return { ns: (t1 - t0) * 1e6, items: rounds * b };
}

/** Producer side of the two-lcore ring test: enqueues bursts until told to stop. Returns items sent. */
export function ringProducer(args: { ring: string; burst: number }): number {
  const r = ringLookup(args.ring)!;
  const a = new Uint32Array(args.burst);
  let sent = 0;
  let seq = 0;
  while (!quitRequested()) {
    for (let i = 0; i < a.length; i++) a[i] = seq++ >>> 0;
    let n = 0;
    while (n < a.length && !quitRequested()) n += r.enqueueBurst(a, a.length - n, n);
    sent += n;
    seq -= a.length - n;
  }
  return sent;
}

/**
 * get+put bulk from one lcore's cache for `seconds`, the loop of DPDK's mempool_perf_autotest with keep = bulk.
 * `objs` counts objects as that test does: each one got and put back once.
 */
export function mempoolBulk(args: { pool: string; burst: number; seconds: number }): { ns: number; objs: number } {
  const p = mempoolLookup(args.pool)!;
  const a = new Uint32Array(args.burst);
  const b = args.burst;
  for (let i = 0; i < 100000; i++) {
    if (!p.getBulk(a, b)) throw new Error(`mempool ${args.pool}: getBulk(${b}) failed in the warm-up`);
    p.putBulk(a, b);
  }
  const limit = args.seconds * 1000;
  let rounds = 0;
  const t0 = performance.now();
  let t1 = t0;
  do {
    for (let i = 0; i < ROUNDS_PER_CHECK; i++) {
      p.getBulk(a, b);
      p.putBulk(a, b);
    }
    rounds += ROUNDS_PER_CHECK;
    t1 = performance.now();
  } while (t1 - t0 < limit);
  return { ns: (t1 - t0) * 1e6, objs: rounds * b };
}

/**
 * Typed-array copy rate over three kinds of backing memory: the EAL region (koffi.view of hugepage or anonymous
 * memory), a SharedArrayBuffer and a plain ArrayBuffer. The design question it answers: does viewing shared native
 * memory through koffi.view cost anything on the hot path compared with a real SharedArrayBuffer?
 */
export function memViewCopy(region: Uint32Array, seconds: number): Record<string, number> {
  const kinds: Record<string, Uint32Array> = {
    'koffi.view (EAL region)': region,
    SharedArrayBuffer: new Uint32Array(new SharedArrayBuffer(region.byteLength > 64 << 20 ? 64 << 20 : region.byteLength)),
    ArrayBuffer: new Uint32Array(new ArrayBuffer(region.byteLength > 64 << 20 ? 64 << 20 : region.byteLength)),
  };
  const out: Record<string, number> = {};
  const src = new Uint32Array(32);
  for (const [name, u] of Object.entries(kinds)) {
    const base = (u.length >> 1) & ~1023;
    const run = (it: number) => {
      for (let k = 0; k < it; k++) {
        const b = base + ((k & 1023) << 5);
        for (let i = 0; i < 32; i += 4) {
          const x0 = src[i];
          const x1 = src[i + 1];
          const x2 = src[i + 2];
          const x3 = src[i + 3];
          u[b + i] = x0;
          u[b + i + 1] = x1;
          u[b + i + 2] = x2;
          u[b + i + 3] = x3;
        }
        Atomics.store(u, b, k);
      }
    };
    run(100000);
    // a third of the time for each kind
    const limit = (seconds * 1000) / Object.keys(kinds).length;
    let iterations = 0;
    const t0 = performance.now();
    let t1 = t0;
    do {
      run(ROUNDS_PER_CHECK);
      iterations += ROUNDS_PER_CHECK;
      t1 = performance.now();
    } while (t1 - t0 < limit);
    out[name] = ((t1 - t0) * 1e6) / (iterations * 32);
  }
  return out;
}
