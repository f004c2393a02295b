// The CPU a process spends while it should be asleep, for the tests of RX interrupts (intr-tap, intr-stream).
import { readFileSync, readdirSync } from 'node:fs';

/** utime + stime in clock ticks (10 ms) of each thread of this process, by thread id. */
export function threadTicks(): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    let s: string;
    try {
      s = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    ticks.set(Number(tid), Number(f[11]) + Number(f[12]));
  }
  return ticks;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The process's CPU over `ms`, in percent of one CPU, and each thread that ran ('main' is the event loop's). */
export async function cpuOver(ms: number): Promise<{ pct: number; threads: string }> {
  const before = threadTicks();
  await sleep(ms);
  let ticks = 0;
  const ran: string[] = [];
  for (const [tid, now] of threadTicks()) {
    const d = now - (before.get(tid) ?? 0);
    ticks += d;
    if (d > 0) ran.push(`${tid === process.pid ? 'main' : tid} ${(d * 1000) / ms}%`);
  }
  return { pct: (ticks * 1000) / ms, threads: ran.join(', ') || 'no thread ran' };
}

/**
 * The idle cost as a steady state: windows of `ms` until one is `quiet` (at most `windows` of them). A busy phase
 * leaves work to V8's background threads (optimizing compiles, concurrent GC), and a loaded host delays that work
 * into the next seconds: a unit run beside the VM suite once read 3.25% in the first window after 1,000 pings (0.5%
 * the main thread, 2.75% the others). Something that polled, or a thread that kept waking, would be loud in every
 * window. `report` lists every window with the threads that ran in it.
 */
export async function steadyIdle(quiet: (pct: number) => boolean, ms = 2000, windows = 5): Promise<{ pct: number; report: string }> {
  const seen: string[] = [];
  let pct = Infinity;
  for (let w = 0; w < windows && !quiet(pct); w++) {
    const c = await cpuOver(ms);
    pct = c.pct;
    seen.push(`${c.pct}% (${c.threads})`);
  }
  return { pct, report: seen.join('; ') };
}
