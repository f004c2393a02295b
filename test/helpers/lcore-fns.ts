// Functions the tests run on worker lcores with remoteLaunch (module URL + export name).
import { lcoreId, mainLcore, cpusAllowed, quitRequested, clockUs, mem, memzoneLookup, memzoneReserve } from '../../src/eal/index.js';

/** Default export: doubles a number. */
export default function double(a: { x: number }): number {
  return a.x * 2;
}

export async function asyncEcho<T>(a: T): Promise<{ echo: T; lcore: number }> {
  await new Promise((r) => setTimeout(r, 5));
  return { echo: a, lcore: lcoreId() };
}

export function thrower(msg: string): never {
  throw new Error(msg);
}

export function whoami(): { lcore: number; main: number; cpus: number[] } {
  return { lcore: lcoreId(), main: mainLcore(), cpus: cpusAllowed() };
}

/**
 * Busy-polls until quitRequested(); returns how many iterations it made. With `zone`, the count so far is in the
 * zone's u32 at index lcoreId(), for a main lcore that waits until the worker has really spun.
 */
export function spinUntilQuit(zone?: string): { lcore: number; iterations: number } {
  const z = zone === undefined ? null : memzoneLookup(zone);
  const at = z === null ? -1 : (z.off >> 2) + lcoreId();
  const u32 = mem().u32;
  let n = 0;
  while (!quitRequested()) {
    n++;
    if (at >= 0) Atomics.store(u32, at, n);
  }
  return { lcore: lcoreId(), iterations: n };
}

/** Increments the u32 at the start of memzone `zone` until quitRequested(). */
export function countUntilQuit(zone: string): number {
  const z = memzoneLookup(zone);
  if (!z) throw new Error(`no memzone ${zone}`);
  const u32 = mem().u32;
  const w = z.off >> 2;
  let n = 0;
  while (!quitRequested()) {
    Atomics.add(u32, w, 1);
    n++;
  }
  return n;
}

export function writeZone(a: { zone: string; index: number; value: number }): number {
  const z = memzoneLookup(a.zone);
  if (!z) throw new Error(`no memzone ${a.zone}`);
  mem().u32[(z.off >> 2) + a.index] = a.value;
  return z.off;
}

export function readZone(a: { zone: string; index: number }): number {
  const z = memzoneLookup(a.zone);
  if (!z) throw new Error(`no memzone ${a.zone}`);
  return mem().u32[(z.off >> 2) + a.index];
}

/** Reads the coarse clock, busy-waits `ms` milliseconds of wall time, reads it again. */
/**
 * Spins until clockUs() has advanced `us` microseconds, or 5 s of wall time passed; returns the advance seen. The
 * main lcore ticks that clock, so on a loaded host it may lag: what a worker can count on is that it moves.
 */
export function clockAdvance(us: number): number {
  const a = clockUs();
  const end = Date.now() + 5000;
  let d = 0;
  while (d < us && Date.now() < end) d = (clockUs() - a) | 0;
  return d;
}

export function reserveOnWorker(): void {
  memzoneReserve('from_worker', 64);
}
