#!/usr/bin/env node
// How a stream on the main thread should sleep: the SharedArrayBuffer waker (rxBursts: a waker thread in
// epoll_wait, Atomics.notify, Atomics.waitAsync on the event loop) against koffi's asynchronous call (epoll_wait
// run on a libuv threadpool thread, its callback on the event loop). Both wait on the same net_ring queue's
// eventfd; a worker lcore sends one stamped packet every GAP ms and the main thread measures, per packet, the time
// from the send to the packet in its hands (wake latency). Then, with nothing to receive, the process's CPU while
// each waits (/proc/self/stat), minus the EAL's own idle cost measured first.
//
//   node dist/bench/intr-wake.js [--count 500] [--gap 2] [--idle 3] [--json]      (--idle: seconds of each idle window)
import * as fs from 'node:fs';
import * as pktio from '../src/index.js';
import { portIntrDoc } from '../src/ethdev/ethdev.js';
import * as ffi from '../src/eal/ffi.js';

const STAMP = 16; // byte offset of the f64 send time (process.hrtime, ns) in the packet

/** Worker lcore: sends `count` packets on port `tx`, one every `gapMs`, each stamped with its send time. */
export function producer(a: { tx: number; pool: string; count: number; gapMs: number }): number {
  const pool = pktio.mempoolLookup(a.pool)!;
  const dv = new DataView(pktio.mem().buf);
  const one = new Uint32Array(1);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < a.count; i++) {
    Atomics.wait(nap, 0, 0, a.gapMs);
    if (pktio.pktmbufAllocBurst(pool, one, 1) !== 1) continue;
    pktio.mbuf.append(one[0], 60);
    dv.setFloat64(pktio.mbuf.mtod(one[0]) + STAMP, Number(process.hrtime.bigint()), true);
    if (pktio.txBurst(a.tx, 0, one, 1) !== 1) pktio.pktmbufFree(one[0]);
  }
  return a.count;
}

function cpuTicks(): number {
  const s = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stats(us: number[]): { p50: number; p99: number; max: number; n: number } {
  const s = [...us].sort((x, y) => x - y);
  const at = (q: number) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]);
  return { p50: at(0.5), p99: at(0.99), max: Math.round(s[s.length - 1]), n: s.length };
}

/** Takes the packet's stamp, frees it, returns the latency in µs. */
function latency(m: number, dv: DataView): number {
  const us = (Number(process.hrtime.bigint()) - dv.getFloat64(pktio.mbuf.mtod(m) + STAMP, true)) / 1000;
  pktio.pktmbufFree(m);
  return us;
}

/** rxBursts: the SharedArrayBuffer waker. Runs until `until` resolves. */
async function viaSab(rx: number, dv: DataView, lat: number[], until: Promise<unknown>): Promise<void> {
  const ac = new AbortController();
  void until.then(() => ac.abort());
  for await (const b of pktio.rxBursts(rx, 0, { signal: ac.signal })) for (let i = 0; i < b.count; i++) lat.push(latency(b.mbufs[i], dv));
}

/** koffi's asynchronous epoll_wait on the same source, with the same arm / poll-once-more order. */
async function viaKoffi(rx: number, dv: DataView, lat: number[], until: Promise<unknown>): Promise<void> {
  const src = portIntrDoc(rx)!.rxIntr[0];
  const ep = ffi.check(ffi.epoll_create1(ffi.EPOLL_CLOEXEC), 'epoll_create1');
  const ev = new Uint8Array(ffi.EPOLL_EVENT_BYTES);
  ev[0] = ffi.EPOLLIN;
  ffi.check(ffi.epoll_ctl(ep, ffi.EPOLL_CTL_ADD, src.fd, ev), 'epoll_ctl');
  const evs = new Uint8Array(4 * ffi.EPOLL_EVENT_BYTES);
  const drain = new BigUint64Array(1);
  const pkts = new Uint32Array(32);
  let done = false;
  void until.then(() => { done = true; });
  const wait = (ms: number) => new Promise<number>((resolve) => {
    (ffi.epoll_wait as unknown as { async: (...a: unknown[]) => void }).async(ep, evs, 4, ms, (_e: unknown, rc: number) => resolve(rc));
  });
  while (!done) {
    let n = pktio.rxBurst(rx, 0, pkts, 32);
    if (n === 0) {
      n = pktio.rxIntrArm(rx, 0, pkts, 32);
      if (n === 0) {
        await wait(200); // bounded so the loop sees `done`
        pktio.rxIntrDisable(rx, 0);
        ffi.read(src.fd, drain, 8);
        continue;
      }
    }
    for (let i = 0; i < n; i++) lat.push(latency(pkts[i], dv));
  }
  ffi.close(ep);
}

async function main(argv: string[]): Promise<void> {
  const arg = (k: string, d: number) => (argv.includes(k) ? Number(argv[argv.indexOf(k) + 1]) : d);
  const count = arg('--count', 500);
  const gapMs = arg('--gap', 2);
  const idleS = arg('--idle', 3);
  const cpus = pktio.cpusAllowed();
  await pktio.init(['--no-pci', '--no-huge', '-m', '64', '--log-level', 'error', '--lcores', `0@${cpus[0]},1@${cpus[cpus.length - 1]}`,
    '--vdev', 'net_ring0,rxring=ab,txring=ba', '--vdev', 'net_ring1,rxring=ba,txring=ab']);
  const pool = pktio.pktmbufPoolCreate('intr_bench', 1023, 0);
  const tx = pktio.portByName('net_ring0');
  const rx = pktio.portByName('net_ring1');
  for (const [p, conf] of [[tx, {}], [rx, { intrConf: { rxq: true } }]] as const) {
    pktio.devConfigure(p, 1, 1, conf);
    pktio.rxQueueSetup(p, 0, 0, -1, null, pool);
    pktio.txQueueSetup(p, 0, 0, -1);
    pktio.devStart(p);
  }
  const dv = new DataView(pktio.mem().buf);
  const keep = setInterval(() => {}, 1 << 30);
  const c0 = cpuTicks();
  await sleep(idleS * 1000);
  const ealIdle = (cpuTicks() - c0) / idleS;
  const out: Record<string, unknown> = { ealIdleCpuPct: ealIdle, count, gapMs };
  for (const [name, fn] of [['sab', viaSab], ['koffiAsync', viaKoffi]] as const) {
    const lat: number[] = [];
    // idle first: the loop waits with nothing to receive
    let stop!: () => void;
    const idleDone = new Promise<void>((r) => { stop = r; });
    const idleRun = fn(rx, dv, lat, idleDone);
    await sleep(500);
    const i0 = cpuTicks();
    await sleep(idleS * 1000);
    const idle = (cpuTicks() - i0) / idleS;
    stop();
    await idleRun;
    // then wake-ups
    pktio.remoteLaunch(1, new URL(import.meta.url), { tx, pool: 'intr_bench', count, gapMs }, 'producer');
    const sent = pktio.waitLcore(1);
    const run = fn(rx, dv, lat, sent.then(() => sleep(300)));
    await run;
    out[name] = { wakeLatencyUs: stats(lat), idleCpuPct: idle, idleCpuAboveEalPct: Math.max(0, idle - ealIdle) };
  }
  clearInterval(keep);
  out.inUse = pool.inUseCount();
  if (argv.includes('--json')) process.stdout.write(JSON.stringify(out) + '\n');
  else process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  await pktio.rxBurstsClose();
  await pktio.cleanup();
}

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) await main(process.argv.slice(2));
