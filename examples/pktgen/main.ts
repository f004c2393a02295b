#!/usr/bin/env node
// pktgen: a traffic generator on pktio ports, in the spirit of pktgen-dpdk and MoonGen.
//
//   node dist/examples/pktgen/main.js [EAL options] -- --tx 0 --rx 1 --rate 1M --size 64 --duration 10
//   npx pktio-pktgen ...   (the same, where pktio is installed as a package)
//
// Streams (one per --tx PORT:QUEUE) are paced on a nanosecond clock and carry a stream id, a sequence number and a
// TX time; the --rx queues count them per stream (loss, duplicates, reordering, latency histogram). The first worker
// lcore runs TX and RX, or each stream and RX queue runs on the lcore it names (--tx 0@1 --rx 1@2); the main lcore
// keeps its event loop for the periodic output and signals.
import * as pktio from '../../src/index.js';
import { lineRatePps } from '../../src/lib/frames.js';
import { parsePktgenArgs, usage, UsageError, type PktgenOpts } from './args.js';
import { Generator, startGenPorts, type Tick, type TimestampKind, type TrialResult } from './generator.js';
import { HwClocks } from './hwclock.js';
import type { TxStreamArgs } from './gen.js';

const us = (ns: number) => (ns / 1000).toFixed(1);

/** pktgen-dpdk-like periodic line per stream: rates, loss, latency. */
export function formatTick(k: Tick, streams: TxStreamArgs[], ts: TimestampKind = 'software'): string {
  return streams.map((s, i) => `[${k.t.toFixed(1)}s] port ${s.port}:${s.queue} stream ${s.id}: TX ${(k.txPps[i] / 1e6).toFixed(3)} Mpps ` +
    `RX ${(k.rxPps[i] / 1e6).toFixed(3)} Mpps lost ${k.lost[i]} latency p50 ${us(k.p50[i])} us p99 ${us(k.p99[i])} us (${ts} timestamps)`).join('\n') + '\n';
}

export function formatResult(r: TrialResult): string {
  const out = [`pktgen: ${r.durationS} s, timestamps: ${r.timestamps}`];
  for (const t of r.tx) {
    out.push(`stream ${t.id} TX port ${t.port}:${t.queue}: ${t.packets} packets, ${(t.pps / 1e6).toFixed(4)} Mpps of ${(t.targetPps / 1e6).toFixed(4)} target, ` +
      `gaps mean ${us(t.gaps.mean)} us sd ${us(t.gaps.stddev)} us p99 ${us(t.gaps.p99)} us, skipped ${t.skipped}, refused ${t.refused}`);
  }
  for (const x of r.rx) {
    const l = x.latency;
    out.push(`stream ${x.id} RX: ${x.rx} packets, lost ${x.lost} (${x.lossPct.toFixed(4)}%), dup ${x.dup}, reordered ${x.reorder}, late ${x.late}; ` +
      `latency (${r.timestamps}) min ${us(l.min)} mean ${us(l.mean)} p50 ${us(l.p50)} p99 ${us(l.p99)} p99.9 ${us(l.p999)} max ${us(l.max)} us`);
  }
  if (r.probes) {
    out.push(`hardware timestamps: ${r.probes.measured} of ${r.probes.sent} probes measured, ${r.probes.lost} lost or not stamped; ` +
      `clock offsets known to +-${us(r.probes.clockErrorNs)} us`);
  }
  if (r.foreign) out.push(`foreign packets (no pktgen stamp): ${r.foreign}`);
  if (r.crossed) out.push(`stream packets not counted (they reached a second RX lcore; counted as lost): ${r.crossed}: put the RX queues a stream arrives on under one lcore`);
  out.push(`generator lcore${r.lcores.length > 1 ? 's' : ''} ${r.lcores.join(',')}: ${r.workerGcs} GCs, heap ${r.workerHeapGrowth >= 0 ? '+' : ''}${r.workerHeapGrowth} bytes ` +
    `(young generation ${r.workerYoungGrowth >= 0 ? '+' : ''}${r.workerYoungGrowth}) over the trial`);
  return out.join('\n') + '\n';
}

/** The streams of the options: each TX port's rate from --rate (pps, or percent of its link). */
export function buildStreams(o: PktgenOpts, macOf: (p: number) => number[], speedOf: (p: number) => number): TxStreamArgs[] {
  return o.tx.map((t, id) => {
    const dst = o.dstMacGiven ? o.flow.dstMac : macOf(o.rx[id % o.rx.length].port);
    const rate = o.pps ?? (o.pct! / 100) * lineRatePps(o.linkSpeed || speedOf(t.port), o.sizes);
    return {
      id, port: t.port, queue: t.queue, rate, mode: o.mode, sizes: o.sizes, flow: { ...o.flow, dstMac: dst, srcMac: o.flow.srcMac }, seqStart: o.seqStart,
      ...(t.lcore !== undefined ? { lcore: t.lcore } : {}),
    };
  });
}

function checkPorts(o: PktgenOpts, all: number[]): void {
  if (all.length === 0) throw new UsageError('no Ethernet ports: add some with --vdev (e.g. --vdev net_ring0) or -a BDF');
  if (o.tx.length === 0) o.tx.push({ port: all[0], queue: 0 });
  if (o.rx.length === 0) o.rx.push({ port: all.length > 1 ? all[1] : all[0], queue: 0 });
  const workers = pktio.workerLcores();
  for (const x of [...o.tx, ...o.rx]) {
    if (!all.includes(x.port)) throw new UsageError(`port ${x.port} does not exist (ports: ${all.join(',')})`);
    if (x.lcore !== undefined && !workers.includes(x.lcore)) {
      throw new UsageError(`lcore ${x.lcore} is not a worker lcore (workers: ${workers.join(',') || 'none'}): give the EAL more lcores, e.g. -l 0-${Math.max(2, x.lcore)}`);
    }
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const init = await pktio.initApp(argv);
  if (!init) return 1;
  const cmd = pktio.commandName('pktgen');
  if (init.config.help) {
    process.stdout.write(`\n${usage(cmd)}\n`);
    return 0;
  }
  let o: PktgenOpts;
  try {
    o = parsePktgenArgs(init.appArgs);
    checkPorts(o, pktio.portIds());
    if (pktio.workerLcores().length === 0) throw new UsageError('pktgen needs a worker lcore for its data path: give two lcores, e.g. -l 0,1');
  } catch (e) {
    process.stderr.write(`pktgen: ${(e as Error).message}\n\n${usage(cmd)}\n`);
    await pktio.cleanup();
    return 1;
  }
  const ports = [...new Set([...o.tx, ...o.rx].map((x) => x.port))].sort((a, b) => a - b);
  const nq = Math.max(...[...o.tx, ...o.rx].map((x) => x.queue)) + 1;
  const pool = pktio.pktmbufPoolCreate('pktgen_pool', Math.max(8192, ports.length * nq * 2 * 1024 + 4096), 256, 0,
    Math.max(pktio.MBUF_DEFAULT_BUF_SIZE, o.maxFrame + pktio.mbuf.PKTMBUF_HEADROOM));
  let rc = 0;
  try {
    // frames above 1518 bytes: the ports receive them whole (one buffer of the pool's size holds each)
    startGenPorts(ports, pool, nq, 1024, o.maxFrame > 1518 ? { rxmode: { maxRxPktLen: o.maxFrame } } : {});
    // a memif or tap peer may connect a moment after start: wait up to 10 s for every link
    const end = Date.now() + 10000;
    while (!ports.every((p) => pktio.linkGetNowait(p).up) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    for (const p of ports) if (!pktio.linkGetNowait(p).up) process.stderr.write(`pktgen: port ${p}'s link is down: sending anyway\n`);
    const gen = new Generator(pool.name, pktio.workerLcores()[0]);
    const streams = buildStreams(o, (p) => Array.from(pktio.macAddrGet(p)), (p) => pktio.linkGet(p, false).speed || 10000);
    const onSig = () => gen.stop();
    process.on('SIGINT', onSig);
    process.on('SIGTERM', onSig);
    const hw = o.timestamps === 'hardware' ? HwClocks.enable(streams.map((s) => s.port), o.rx.map((x) => x.port)) : undefined;
    const tick = (k: Tick) => process.stdout.write(o.json ? `${JSON.stringify({ tick: { ...k, timestamps: o.timestamps } })}\n` : formatTick(k, streams, o.timestamps));
    const r = await gen.run({ streams, rx: o.rx, durationS: o.duration || Infinity, drainS: o.drain, burst: o.burst, hw },
      o.period > 0 ? tick : undefined, o.period * 1000);
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
    process.stdout.write(o.json ? `${JSON.stringify({ result: r })}\n` : formatResult(r));
  } catch (e) {
    process.stderr.write(`pktgen: ${(e as Error).message}\n`);
    rc = 1;
  }
  for (const p of ports) {
    pktio.devStop(p);
    pktio.devClose(p);
  }
  const lost = pool.size - pool.availCount();
  if (lost !== 0) process.stderr.write(`pktgen: ${lost} mbufs were not returned to the pool\n`);
  await pktio.cleanup();
  return rc;
}

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
