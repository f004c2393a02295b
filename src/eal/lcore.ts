// Lcores: the main thread is the main lcore; every other lcore is a worker_thread pinned to its CPUs, started at
// EAL init and idle until remoteLaunch() gives it a function to run (DPDK's rte_eal_remote_launch/rte_eal_wait_lcore).
//
// A busy-polling lcore never returns to its event loop, so timers and messages do not reach it while it runs:
// lcores coordinate through words in the shared EAL region (quitRequested(), rings, mempools) instead.
import { isMainThread, parentPort, type ResourceLimits, type Worker } from 'node:worker_threads';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as ffi from './ffi.js';
import { log } from './log.js';
import { siblingModule, startWorker } from './worker.js';
import { CTL, mem } from './memory.js';

export const MAX_LCORES = 128;

export class LcoreError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'LcoreError';
  }
}

let thisLcore = -1;
let mainLcoreId = -1;

/** The lcore id of the calling thread (DPDK's rte_lcore_id()); -1 on a thread that is not an lcore. */
export function lcoreId(): number {
  return thisLcore;
}

export function mainLcore(): number {
  return mainLcoreId;
}

/** @internal set by EAL init (main) and the worker bootstrap. */
export function setThisLcore(id: number, main: number): void {
  thisLcore = id;
  mainLcoreId = main;
}

// ---------------------------------------------------------------------------------------------------------------
// CPU affinity of the calling thread

const CPUSET_BYTES = 128; // 1024 CPUs

export function cpusAllowed(): number[] {
  const mask = new Uint8Array(CPUSET_BYTES);
  ffi.check(ffi.sched_getaffinity(0, CPUSET_BYTES, mask), 'sched_getaffinity');
  const out: number[] = [];
  for (let i = 0; i < CPUSET_BYTES * 8; i++) if (mask[i >> 3] & (1 << (i & 7))) out.push(i);
  return out;
}

/** Pins the calling thread (not the process) to these CPUs. */
export function pinThread(cpus: readonly number[]): void {
  const mask = new Uint8Array(CPUSET_BYTES);
  for (const c of cpus) mask[c >> 3] |= 1 << (c & 7);
  ffi.check(ffi.sched_setaffinity(0, CPUSET_BYTES, mask), `sched_setaffinity to CPUs ${cpus.join(',')}`);
}

/** The CPU list of one thread as the kernel reports it (/proc/self/task/TID/status Cpus_allowed_list). */
export function threadCpusAllowedList(tid: number): string {
  const s = fs.readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
  const m = /Cpus_allowed_list:\s*(\S+)/.exec(s);
  return m ? m[1] : '';
}

// ---------------------------------------------------------------------------------------------------------------
// Quit flag and coarse clock, in the shared control area

/** True once requestQuit() was called on any lcore. One Atomics.load: cheap enough for every loop iteration. */
export function quitRequested(): boolean {
  return Atomics.load(mem().i32, CTL.QUIT >> 2) !== 0;
}

export function requestQuit(): void {
  Atomics.store(mem().i32, CTL.QUIT >> 2, 1);
}

export function clearQuit(): void {
  Atomics.store(mem().i32, CTL.QUIT >> 2, 0);
}

const delayCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks the calling thread for ms milliseconds (rte_delay_ms): drivers' control paths (resets, link waits, DMA
 * draining) on any lcore. Never on a data path: the lcore stops polling meanwhile.
 */
export function delayMs(ms: number): void {
  Atomics.wait(delayCell, 0, 0, ms);
}

/**
 * A coarse monotonic clock in microseconds, readable on any lcore without allocating (performance.now() allocates
 * a heap number per call). It is a wrapping 32-bit count, so it stays a small integer: compare two readings with
 * `((now - then) | 0) > periodUs`. The main lcore refreshes it every millisecond while a launched function runs on
 * some worker lcore AND a worker has read it: a worker's first read asks the main lcore for the tick (one message),
 * and until that arrives it reads the time of its launch. With no reader nothing ticks: the 1 ms timer alone was
 * 3-6% of a CPU here, and in a TCG guest its wake-ups took a measurable share from a polling loop next to it
 * (l2fwd over virtio-net: 0.081 and 0.165 Mpps with a 10 ms tick against 0.057 and 0.143 with 1 ms, same guest).
 * A read on the main lcore refreshes it first.
 */
export function clockUs(): number {
  if (ownsClock) {
    if (clockTimer === null) tickClock();
  } else if (!clockAsked) {
    askClock();
  }
  return Atomics.load(mem().i32, CTL.CLOCK_US >> 2);
}

/** true on the main lcore (the one thread that writes the clock) */
let ownsClock = false;
let clockTimer: NodeJS.Timeout | null = null;
/** launched functions not yet settled: the clock ticks while this is above 0 (and clockWanted) */
let clockUsers = 0;
/** main lcore: a worker has read the clock in this EAL generation */
let clockWanted = false;
/** worker lcore: this thread has asked the main lcore for the tick */
let clockAsked = false;
/** bumped at each init: a launch of an earlier EAL that settles late does not count against this one */
let clockGen = 0;

function tickClock(): void {
  Atomics.store(mem().i32, CTL.CLOCK_US >> 2, Math.floor(performance.now() * 1000) | 0);
}

/** On a worker: the first clockUs() asks the main lcore to tick (lcore.ts's message handler calls wantClock). */
function askClock(): void {
  clockAsked = true;
  parentPort?.postMessage({ type: 'clock' });
}

function startClock(): void {
  ownsClock = true;
  clockUsers = 0;
  clockWanted = false;
  clockGen++;
  tickClock();
}

/** The tick runs while a launched function runs and some worker reads the clock; it stops when neither holds. */
function clockUpdate(): void {
  if (clockUsers > 0 && clockWanted && clockTimer === null && ownsClock) {
    tickClock();
    clockTimer = setInterval(tickClock, 1);
    clockTimer.unref();
  } else if ((clockUsers <= 0 || !clockWanted) && clockTimer !== null) {
    clearInterval(clockTimer);
    clockTimer = null;
  }
}

/** A launched function of EAL generation `gen` starts (+1) or settles (-1). */
function clockDemand(d: number, gen: number): void {
  if (gen !== clockGen) return;
  clockUsers += d;
  if (d > 0) tickClock(); // a worker that reads the clock before the tick starts sees its launch time
  clockUpdate();
}

/** A worker read the clock: tick from now on (for this EAL generation). */
function wantClock(): void {
  clockWanted = true;
  clockUpdate();
}

// ---------------------------------------------------------------------------------------------------------------
// A failed worker lcore (DPDK: a crash on any lcore takes the process down, rte_panic)
//
// A launched function that throws, a worker that exits or dies (uncaught error, out of memory) is fatal by default:
// the main lcore rejects waitLcore with the error, logs the worker's stack, asks every lcore to quit, terminates
// the other workers, runs the fatal hooks (the ethdev registers closeAllPorts: bus mastering and queues off) and
// exits with LCORE_FATAL_EXIT. Higher layers register hooks here because the EAL imports none of them.
// setLcoreErrorPolicy('report') keeps the process alive and only rejects waitLcore (tests, supervisors).

/** Exit code of a process taken down by a failed worker lcore (sysexits.h EX_SOFTWARE). */
export const LCORE_FATAL_EXIT = 70;

export type LcoreErrorPolicy = 'exit' | 'report';
let errorPolicy: LcoreErrorPolicy = 'exit';
const fatalHooks: Array<() => void> = [];
let stopping = false;
let dying = false;

/** 'exit' (default): a failed worker lcore stops the ports and ends the process; 'report': waitLcore rejects only. */
export function setLcoreErrorPolicy(p: LcoreErrorPolicy): void {
  errorPolicy = p;
}

export function lcoreErrorPolicy(): LcoreErrorPolicy {
  return errorPolicy;
}

/** Adds a cleanup run on the main lcore before a failed worker ends the process (the ethdev: close every port). */
export function onLcoreFatal(fn: () => void): void {
  if (!fatalHooks.includes(fn)) fatalHooks.push(fn);
}

function lcoreFailed(id: number, e: LcoreError, stack: string): void {
  const lg = log('eal.lcore');
  lg.error({ lcore: id, err: e.message }, 'worker lcore failed');
  if (errorPolicy === 'report' || dying) return;
  dying = true;
  requestQuit();
  process.stderr.write(`lcore ${id} stack:\n${stack}\n`);
  // the rejection reaches waitLcore's callers first (microtasks), then the ports stop and the process ends
  setImmediate(() => void panicExit(id));
}

async function panicExit(id: number): Promise<void> {
  const lg = log('eal.lcore');
  // stop the other workers before closing ports under them (terminate() interrupts a busy loop too)
  const ws: Promise<number>[] = [];
  for (const l of lcores.values()) if (l.worker) ws.push(l.worker.terminate());
  await Promise.race([Promise.all(ws), new Promise((r) => setTimeout(r, 2000).unref())]);
  for (const fn of fatalHooks) {
    try {
      fn();
    } catch (err) {
      lg.error({ err: (err as Error).message }, 'fatal cleanup hook failed');
    }
  }
  lg.error({ lcore: id, code: LCORE_FATAL_EXIT }, 'ports closed after a worker lcore failed; exiting');
  process.exit(LCORE_FATAL_EXIT);
}

// ---------------------------------------------------------------------------------------------------------------
// Workers (main lcore side)

export type LcoreState = 'WAIT' | 'RUNNING' | 'FINISHED';

interface Lcore {
  id: number;
  cpus: number[];
  worker: Worker | null;
  state: LcoreState;
  tid: number;
  done: Promise<unknown> | null;
  settle: { resolve: (v: unknown) => void; reject: (e: unknown) => void } | null;
  dead: Error | null;
}

const lcores = new Map<number, Lcore>();
let mainAffinity: number[] | null = null;
let workerLimits: ResourceLimits | undefined;

/** V8 heap limits of worker lcores started from now on (node's Worker resourceLimits); undefined: Node's defaults. */
export function setLcoreResourceLimits(r: ResourceLimits | undefined): void {
  workerLimits = r;
}

export interface LcoreStartOptions {
  lcores: Record<number, number[]>;
  mainLcore: number;
  logLevel: string;
  memBase: bigint;
  memLen: number;
}

/** Starts one pinned worker per non-main lcore and pins the main thread. Resolves when every worker is ready. */
export async function startLcores(o: LcoreStartOptions): Promise<void> {
  if (!isMainThread) throw new LcoreError('startLcores runs on the main thread');
  const allowed = cpusAllowed();
  // the main thread's affinity before pinning: restored by stopLcores so a later init may use every CPU again
  mainAffinity ??= allowed;
  const ids = Object.keys(o.lcores).map(Number).sort((a, b) => a - b);
  for (const id of ids) {
    if (id >= MAX_LCORES) throw new LcoreError(`lcore ${id}: lcore ids must be below ${MAX_LCORES}`);
    for (const c of o.lcores[id]) {
      if (!allowed.includes(c)) {
        throw new LcoreError(`lcore ${id} -> CPU ${c}: this process may only run on CPUs ${allowed.join(',')}; ` +
          `choose lcores among them with -l (e.g. -l ${allowed.slice(0, 2).join(',')})`);
      }
    }
  }
  setThisLcore(o.mainLcore, o.mainLcore);
  pinThread(o.lcores[o.mainLcore]);
  lcores.set(o.mainLcore, {
    id: o.mainLcore, cpus: o.lcores[o.mainLcore], worker: null, state: 'WAIT', tid: ffi.gettid(), done: null, settle: null, dead: null,
  });
  startClock();
  const lg = log('eal.lcore');
  const ready: Promise<void>[] = [];
  for (const id of ids) {
    if (id === o.mainLcore) continue;
    const rec: Lcore = { id, cpus: o.lcores[id], worker: null, state: 'WAIT', tid: 0, done: null, settle: null, dead: null };
    const w = startWorker(siblingModule(import.meta.url, 'lcore-worker'), {
      workerData: { lcore: id, main: o.mainLcore, cpus: rec.cpus, base: o.memBase, len: o.memLen, logLevel: o.logLevel },
      stdout: false, stderr: false, resourceLimits: workerLimits,
    });
    rec.worker = w;
    lcores.set(id, rec);
    ready.push(new Promise<void>((resolve, reject) => {
      const onErr = (e: Error) => reject(new LcoreError(`lcore ${id} failed to start: ${e.message}`));
      w.once('error', onErr);
      w.once('message', (m: { type: string; tid: number; error?: string }) => {
        w.off('error', onErr);
        if (m.type === 'ready') {
          rec.tid = m.tid;
          w.unref(); // idle lcores do not keep the process alive
          resolve();
        } else reject(new LcoreError(`lcore ${id} failed to start: ${m.error}`));
      });
    }));
    w.on('message', (m: { type: string; result?: unknown; error?: string; stack?: string }) => {
      if (m.type === 'clock') {
        wantClock();
      } else if (m.type === 'done' || m.type === 'error') {
        rec.state = 'FINISHED';
        w.unref();
        const s = rec.settle;
        rec.settle = null;
        if (m.type === 'done') s?.resolve(m.result);
        else {
          const e = new LcoreError(`lcore ${id}: ${m.error}`);
          e.stack = `LcoreError: lcore ${id}: ${m.stack ?? m.error}`;
          s?.reject(e);
          lcoreFailed(id, e, m.stack ?? String(m.error));
        }
      }
    });
    w.on('error', (err) => {
      rec.dead = err;
      rec.state = 'FINISHED';
      // an uncaught error outside the launched function, or ERR_WORKER_OUT_OF_MEMORY (resourceLimits, heap limit)
      const e = new LcoreError(`lcore ${id} died: ${err.message}`);
      rec.settle?.reject(e);
      rec.settle = null;
      if (rec.tid !== 0) lcoreFailed(id, e, err.stack ?? err.message); // before 'ready' startLcores rejects instead
    });
    w.on('exit', (code) => {
      rec.worker = null;
      if (stopping || rec.tid === 0) return;
      rec.dead ??= new LcoreError(`lcore ${id} exited with code ${code}`);
      rec.state = 'FINISHED';
      if (!rec.settle) return;
      const e = new LcoreError(`lcore ${id} exited with code ${code} while running a launched function`);
      rec.settle.reject(e);
      rec.settle = null;
      lcoreFailed(id, e, e.message);
    });
  }
  await Promise.all(ready);
  lg.debug({ lcores: ids, main: o.mainLcore }, 'lcores started');
}

/** Every lcore id, main included, ascending. */
export function lcoreList(): number[] {
  return [...lcores.keys()].sort((a, b) => a - b);
}

/** Worker lcore ids (DPDK's RTE_LCORE_FOREACH_WORKER). */
export function workerLcores(): number[] {
  return lcoreList().filter((l) => l !== mainLcoreId);
}

export function lcoreInfo(id: number): { id: number; cpus: number[]; tid: number; state: LcoreState } {
  const l = lcores.get(id);
  if (!l) throw new LcoreError(`lcore ${id} is not enabled (see -l)`);
  return { id, cpus: l.cpus, tid: l.tid, state: l.state };
}

function resolveModule(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (/^(file|data|node):/.test(module)) return module;
  return pathToFileURL(path.resolve(module)).href;
}

/** Modules every worker imports before running launched code (drivers' data planes register themselves so). */
const launchPreloads: string[] = [];

/** Adds a module (URL or path) that worker lcores import before each launched function runs. Main lcore. */
export function addLaunchPreload(module: string | URL): void {
  const url = resolveModule(module);
  if (!launchPreloads.includes(url)) launchPreloads.push(url);
}

/**
 * Runs `exportName` (default: the default export) of `module` on a worker lcore with `args` (structured-cloned).
 * The lcore must be idle (WAIT or FINISHED). Collect the result with waitLcore().
 */
export function remoteLaunch(lcore: number, module: string | URL, args?: unknown, exportName = 'default'): void {
  const l = lcores.get(lcore);
  if (!l) throw new LcoreError(`lcore ${lcore} is not enabled (see -l)`);
  if (lcore === mainLcoreId) {
    throw new LcoreError(`lcore ${lcore} is the main lcore: run the function directly, remoteLaunch targets worker lcores`);
  }
  if (l.dead || !l.worker) throw new LcoreError(`lcore ${lcore} is not running${l.dead ? `: ${l.dead.message}` : ''}`);
  if (l.state === 'RUNNING') throw new LcoreError(`lcore ${lcore} is busy: waitLcore(${lcore}) first`);
  l.state = 'RUNNING';
  l.worker.ref();
  l.done = new Promise((resolve, reject) => {
    l.settle = { resolve, reject };
  });
  l.done.catch(() => undefined); // reported through waitLcore
  const gen = clockGen;
  clockDemand(1, gen);
  l.done.then(() => clockDemand(-1, gen), () => clockDemand(-1, gen));
  l.worker.postMessage({ type: 'launch', module: resolveModule(module), fn: exportName, args, preload: launchPreloads,
    fatal: errorPolicy === 'exit' });
}

/** Resolves with the launched function's return value (DPDK's rte_eal_wait_lcore); rejects if it threw. */
export async function waitLcore(lcore: number): Promise<unknown> {
  const l = lcores.get(lcore);
  if (!l) throw new LcoreError(`lcore ${lcore} is not enabled (see -l)`);
  if (!l.done) return undefined;
  try {
    return await l.done;
  } finally {
    l.state = 'WAIT';
    l.done = null;
  }
}

/** Waits for every worker lcore; resolves with their results by lcore id. */
export async function mpWaitLcore(): Promise<Map<number, unknown>> {
  const out = new Map<number, unknown>();
  for (const id of workerLcores()) out.set(id, await waitLcore(id));
  return out;
}

export function lcoreState(lcore: number): LcoreState {
  const l = lcores.get(lcore);
  if (!l) throw new LcoreError(`lcore ${lcore} is not enabled (see -l)`);
  return l.state;
}

/** Terminates every worker (a busy loop included) and stops the clock. */
export async function stopLcores(): Promise<void> {
  if (clockTimer) clearInterval(clockTimer);
  clockTimer = null;
  ownsClock = false;
  stopping = true;
  const ws: Promise<number>[] = [];
  for (const l of lcores.values()) {
    l.settle?.reject(new LcoreError(`lcore ${l.id} was stopped by EAL cleanup`));
    l.settle = null;
    if (l.worker) ws.push(l.worker.terminate());
  }
  await Promise.all(ws);
  lcores.clear();
  if (mainAffinity) {
    pinThread(mainAffinity);
    mainAffinity = null;
  }
  thisLcore = -1;
  mainLcoreId = -1;
  stopping = false;
}
