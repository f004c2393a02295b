// rxBursts: a queue's packets as an async iterable, for the main thread or any worker, next to the rest of an
// event loop (an HTTP server, timers):
//
//   for await (const burst of rxBursts(port, 0)) {
//     for (let i = 0; i < burst.count; i++) handle(burst.mbufs[i]);   // free or send every mbuf before the next
//   }
//
// Under load it polls, like NAPI: after a burst it polls again at once, and every `budget` bursts it lets the event
// loop run (setImmediate) so that a flood cannot starve the HTTP server. When a poll finds the queue empty it
// polls `idlePolls` more times, one event-loop turn apart; still empty, it arms the queue's interrupt and sleeps,
// costing no CPU until a packet comes. The loop ends when the port is stopped, requestQuit() is called, or the
// AbortSignal fires; breaking out of it also ends it (the queue is disarmed and leaves the set).
//
// Cost: a for-await step allocates (the iterator result, its promise), so this is the path for apps that want
// the event loop; the zero-allocation path stays a worker lcore's rxBurst loop (with rxIntrArm/rxIntrWait to
// sleep). The RxBurst object and its mbufs array are made once per stream and reused for every burst.
//
// How it sleeps without blocking the event loop: every thread that runs streams has one waker thread
// (rxstream-waker.ts) blocked in epoll_wait on that thread's streams' interrupt fds. When one fires, the waker does
// Atomics.notify on the queue's word of a SharedArrayBuffer, and the stream awaits Atomics.waitAsync on that word.
// One extra thread per stream-running thread, however many queues; no threadpool thread held (koffi's async calls
// would hold one per pending wait: bench/intr-wake.ts measures both; see the README's design section).
//
// The race of arming (a packet that came between the last empty poll and the arming) is closed as rxIntrArm
// does: arm the driver, arm the fd (EPOLLONESHOT, re-armed before each sleep: a level fd that stays readable
// cannot make the waker spin), then poll once more before waiting.
import type { Worker } from 'node:worker_threads';
import * as ffi from '../eal/ffi.js';
import { siblingModule, startWorker } from '../eal/worker.js';
import { quitRequested } from '../eal/lcore.js';
import { EthdevError, MAX_ETHPORTS, MAX_QUEUES_PER_PORT, portIntrDoc, portIsStarted, rxBurst } from './ethdev.js';
import { rxIntrEnable, rxIntrDisable } from './intr.js';
import { wakeSlotClaim, wakeSlotPorts, wakeSlotRelease } from './intr-wake.js';

const N_QUIT = 0;
const N_QUEUES = 1;
const WAKE_KEY = 0xffffffff;

/** One burst of a stream: mbufs[0..count), reused for every burst of the stream. */
export class RxBurst {
  readonly mbufs: Uint32Array;
  count = 0;
  constructor(size: number) {
    this.mbufs = new Uint32Array(size);
  }
}

export interface RxBurstsOptions {
  /** packets per burst (default 32) */
  burstSize?: number;
  /** bursts in a row before the stream yields to the event loop (default 8; NAPI's budget) */
  budget?: number;
  /** empty polls, one event-loop turn apart, before the stream arms the interrupt and sleeps (default 2) */
  idlePolls?: number;
  /** ends the loop */
  signal?: AbortSignal;
}

/** This thread's waker: the SharedArrayBuffer words, the epoll set the waker thread sleeps on, who uses it. */
interface Waker {
  notify: Int32Array;
  epfd: number;
  wakeFd: number;
  slot: number;
  worker: Worker;
  ready: Promise<void>;
  streams: number;
  perPort: Int32Array;
  /** source fd + 1 per port * 16 + queue of a running stream */
  fds: Int32Array;
}

let waker: Waker | null = null;
const ev = new Uint8Array(ffi.EPOLL_EVENT_BYTES);
const evView = new DataView(ev.buffer);
const drainBuf = new BigUint64Array(1);
const ONE = new BigUint64Array([1n]);

function epollCtl(w: Waker, op: number, fd: number, events: number, key: number): number {
  evView.setUint32(0, events, true);
  evView.setUint32(4, key >>> 0, true);
  evView.setUint32(8, 0, true);
  return ffi.epoll_ctl(w.epfd, op, fd, op === ffi.EPOLL_CTL_DEL ? null : ev) < 0 ? ffi.errno() : 0;
}

function startWaker(): Waker {
  if (waker) return waker;
  const epfd = ffi.check(ffi.epoll_create1(ffi.EPOLL_CLOEXEC), 'epoll_create1 (rxBursts)');
  const wakeFd = ffi.check(ffi.eventfd(0, ffi.EFD_CLOEXEC | ffi.EFD_NONBLOCK), 'eventfd (rxBursts)');
  const notify = new Int32Array(new SharedArrayBuffer(4 * (N_QUEUES + MAX_ETHPORTS * MAX_QUEUES_PER_PORT)));
  const worker = startWorker(siblingModule(import.meta.url, 'rxstream-waker'), { workerData: { notify, epfd, wakeFd }, stdout: false, stderr: false });
  const w: Waker = {
    notify, epfd, wakeFd, slot: wakeSlotClaim(wakeFd), worker, streams: 0, perPort: new Int32Array(MAX_ETHPORTS),
    fds: new Int32Array(MAX_ETHPORTS * MAX_QUEUES_PER_PORT),
    ready: new Promise((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', (e) => reject(new EthdevError(`rxBursts: the waker thread failed: ${e.message}`)));
    }),
  };
  if (epollCtl(w, ffi.EPOLL_CTL_ADD, wakeFd, ffi.EPOLLIN, WAKE_KEY) !== 0) throw new EthdevError('rxBursts: epoll_ctl of the wake eventfd failed');
  worker.unref();
  // a waker blocked in epoll_wait cannot be terminated: at exit it is told to return
  process.once('exit', () => {
    Atomics.store(notify, N_QUIT, 1);
    ffi.write(wakeFd, ONE, 8);
  });
  waker = w;
  return w;
}

/** Stops this thread's waker thread (no stream may be running); the next rxBursts starts a new one. */
export async function rxBurstsClose(): Promise<void> {
  const w = waker;
  if (!w) return;
  if (w.streams > 0) throw new EthdevError(`rxBurstsClose: ${w.streams} stream(s) still running`);
  waker = null;
  Atomics.store(w.notify, N_QUIT, 1);
  ffi.write(w.wakeFd, ONE, 8);
  await w.worker.terminate();
  wakeSlotRelease(w.slot);
  ffi.close(w.wakeFd);
  ffi.close(w.epfd);
}

function portMask(w: Waker): number {
  let m = 0;
  for (let p = 0; p < MAX_ETHPORTS; p++) if (w.perPort[p] > 0) m |= 1 << p;
  return m;
}

/** Adds the queue's source to the waker's set, disarmed (no events until the stream sleeps). */
function join(w: Waker, port: number, queue: number): { fd: number; kind: 'eventfd' | 'level' } {
  const doc = portIntrDoc(port);
  if (!doc) throw new EthdevError(`rxBursts: port ${port} is not started (devStart first)`);
  if (!doc.intrRxq) throw new EthdevError(`rxBursts: port ${port} was not configured with intrConf.rxq (devConfigure(port, nbRxq, nbTxq, { intrConf: { rxq: true } }))`);
  if (!Number.isInteger(queue) || queue < 0 || queue >= doc.nbRxq) throw new EthdevError(`rxBursts: port ${port} has no RX queue ${queue} (${doc.nbRxq} configured)`);
  const i = port * MAX_QUEUES_PER_PORT + queue;
  if (w.fds[i] !== 0) throw new EthdevError(`rxBursts: port ${port} queue ${queue} already has a stream on this thread`);
  const src = doc.rxIntr[queue];
  const err = epollCtl(w, ffi.EPOLL_CTL_ADD, src.fd, 0, i);
  if (err !== 0) throw new EthdevError(`rxBursts: port ${port} queue ${queue}: epoll_ctl ADD of fd ${src.fd}: ${ffi.strerror(err)}`);
  w.fds[i] = src.fd + 1;
  w.perPort[port]++;
  w.streams++;
  wakeSlotPorts(w.slot, portMask(w));
  if (w.streams === 1) w.worker.ref(); // a sleeping stream keeps the process alive, as a listening socket does
  return src;
}

function leave(w: Waker, port: number, queue: number): void {
  const i = port * MAX_QUEUES_PER_PORT + queue;
  if (w.fds[i] === 0) return;
  epollCtl(w, ffi.EPOLL_CTL_DEL, w.fds[i] - 1, 0, i); // fails harmlessly when the driver closed it at stop
  w.fds[i] = 0;
  w.perPort[port]--;
  wakeSlotPorts(w.slot, portMask(w));
  if (--w.streams === 0) w.worker.unref();
}

/** Atomics.waitAsync (V8 has it; TypeScript's ES2022 lib does not declare it yet). */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;

const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));

function running(port: number, signal?: AbortSignal): boolean {
  return !quitRequested() && portIsStarted(port) && signal?.aborted !== true;
}

/**
 * The packets of RX queue `queue` of `port` as an async iterable of bursts (see the top of this file). The port
 * must be started with intrConf: { rxq: true }; the calling thread polls the queue (no other lcore may).
 */
export async function* rxBursts(port: number, queue: number, opts: RxBurstsOptions = {}): AsyncGenerator<RxBurst, void, undefined> {
  const size = opts.burstSize ?? 32;
  if (!Number.isInteger(size) || size < 1 || size > 4096) throw new EthdevError(`rxBursts: burstSize ${size}: 1..4096`);
  const budget = opts.budget ?? 8;
  const idlePolls = opts.idlePolls ?? 2;
  const w = startWaker();
  const src = join(w, port, queue);
  const onAbort = (): void => { ffi.write(w.wakeFd, ONE, 8); };
  opts.signal?.addEventListener('abort', onAbort);
  const burst = new RxBurst(size);
  const word = N_QUEUES + port * MAX_QUEUES_PER_PORT + queue;
  try {
    await w.ready;
    let idle = 0;
    let run = 0;
    while (running(port, opts.signal)) {
      const n = rxBurst(port, queue, burst.mbufs, size);
      if (n > 0) {
        idle = 0;
        burst.count = n;
        yield burst;
        if (++run >= budget) {
          run = 0;
          await immediate();
        }
        continue;
      }
      run = 0;
      if (++idle <= idlePolls) {
        await immediate();
        continue;
      }
      idle = 0;
      const got = await sleep(w, port, queue, src, word, burst);
      if (got > 0) {
        burst.count = got;
        yield burst;
      }
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    leave(w, port, queue);
  }
}

/** rxIntrEnable, false when the port was stopped meanwhile (not the hot path: once per sleep). */
function armed(port: number, queue: number): boolean {
  try {
    rxIntrEnable(port, queue);
    return true;
  } catch (e) {
    if (portIsStarted(port)) throw e;
    return false;
  }
}

/**
 * Arms the queue (driver, then the fd one-shot), polls once more, and waits on the queue's word unless that poll
 * found packets (returned, queue disarmed). Returns 0 after a wake-up, with the queue disarmed and its eventfd
 * drained.
 */
async function sleep(w: Waker, port: number, queue: number, src: { fd: number; kind: string }, word: number, burst: RxBurst): Promise<number> {
  const seen = Atomics.load(w.notify, word);
  // a stream on a worker can lose the race with the main lcore's devStop: the port is gone, the loop ends
  if (!armed(port, queue)) return 0;
  const i = port * MAX_QUEUES_PER_PORT + queue;
  epollCtl(w, ffi.EPOLL_CTL_MOD, src.fd, ffi.EPOLLIN | ffi.EPOLLONESHOT, i);
  const got = rxBurst(port, queue, burst.mbufs, burst.mbufs.length);
  if (got === 0 && running(port)) {
    const r = waitAsync(w.notify, word, seen);
    if (r.async) await r.value;
  }
  if (portIsStarted(port)) {
    try {
      rxIntrDisable(port, queue);
    } catch (e) {
      if (portIsStarted(port)) throw e; // else stopped meanwhile: the loop ends
    }
    epollCtl(w, ffi.EPOLL_CTL_MOD, src.fd, 0, i);
    if (src.kind === 'eventfd') ffi.read(src.fd, drainBuf, 8);
  }
  return got;
}

