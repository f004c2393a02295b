#!/usr/bin/env node
// RFC 2544 benchmarking of a device under test wired to two generator ports (pktio's pktgen, examples/pktgen):
// throughput, latency at the throughput rate, frame-loss rate, back-to-back bursts, for each frame size and for
// each DUT in turn, printed side by side and drawn to bench/results/ (JSON + SVG/PNG charts).
//
//   npm run rfc2544 -- --dut pktio,testpmd --sizes 64,1518            (host: memif, the DUTs started here)
//   npm run rfc2544 -- --medium ports --gen-ports "-a 0000:00:04.0 -a 0000:00:05.0" \
//        --dut-ports "-a 0000:00:06.0 -a 0000:00:07.0" --dut pktio,testpmd     (NICs: the VM rig, a bench)
//
// Topology (memif): generator port 0 (server) -> DUT port 0 (client) -> DUT port 1 -> generator port 1 (server);
// with --bidir also the reverse. The generator runs on one worker lcore (TX and RX), the DUT forwards on another CPU.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import * as pktio from '../src/index.js';
import { RFC2544_SIZES, lineRatePps, parseIpRange } from '../src/lib/frames.js';
import { PACE_CONSTANT } from '../src/lib/pacer.js';
import { Generator, startGenPorts, type Trial } from '../examples/pktgen/generator.js';
import type { TxStreamArgs } from '../examples/pktgen/gen.js';
import { BenchError, hugeArgs, repoRoot, sleep } from './common.js';
import { throughput, lossCurve, backToBack, searchTrials, type TrialFn, type TrialOutcome, type ThroughputOutcome, type LossPoint, type BackToBack } from './rfc2544-search.js';
import { startDut, ip, DUT_LABEL, type DutKind, type Dut } from './rfc2544-dut.js';
import { writeChart, throughputSpec, latencySpec, lossSpec, type LatencyRow } from './report-charts.js';

export interface Rfc2544Opts {
  medium: 'memif' | 'af_packet' | 'ports';
  duts: DutKind[];
  sizes: number[];
  tests: Set<string>;
  trialS: number;
  drainS: number;
  resolution: number;
  lossThresholdPct: number;
  maxPps: number;
  b2bMax: number;
  bidir: boolean;
  json: boolean;
  out: string;
  genPorts: string[];
  dutPorts: string[];
  /** --jumbo: 9018-byte frames added to the sizes */
  jumbo: boolean;
  /** --gen-cpus: the generator's TX CPU and, if given, its RX CPU (empty: both on the last allowed CPU) */
  genCpus: number[];
}

/** RFC 2544's frame sizes stop at Ethernet's 1518; a jumbo frame of 9000 bytes of payload is 9018 with FCS. */
export const STD_MAX_FRAME = 1518;
export const JUMBO_FRAME = 9018;

const TESTS = ['throughput', 'latency', 'loss', 'b2b'];

function usage(): string {
  return `npm run rfc2544 -- [--dut pktio,testpmd,bridge,external] [--sizes 64,128,...|rfc2544] [--jumbo] [--tests ${TESTS.join(',')}]
    [--trial SECONDS] [--drain SECONDS] [--resolution PCT] [--loss-threshold PCT] [--max-rate PPS] [--b2b-max FRAMES]
    [--bidir] [--json] [--out DIR] [--gen-cpus TX[,RX]]
    [--medium memif|af_packet|ports --gen-ports "EAL port options" --dut-ports "EAL port options"]
  --dut: the devices under test, run one after the other (default pktio,testpmd; bridge: a Linux bridge made for
    the run, with --medium af_packet; external: already wired and running)
  --sizes: frame sizes with FCS, ${RFC2544_SIZES[0]} to ${JUMBO_FRAME} (default rfc2544: ${RFC2544_SIZES.join(',')})
  --jumbo: add ${JUMBO_FRAME}-byte frames to the sizes (where jumbo frames work). Sizes above ${STD_MAX_FRAME}: the generator's
    ports and the DUTs are set up for the largest (l2fwd --max-pkt-len, testpmd --max-pkt-len; their RX chains mbufs)
  --tests: which of RFC 2544's tests (default throughput,latency,loss)
  --trial: seconds per trial (default 2; RFC 2544 asks for 60)
  --drain: the longest wait for frames after TX stops (default 2, RFC 2544's); it ends once every frame is back
  --resolution: the throughput search stops at this percent of the maximum rate (default 1)
  --loss-threshold: highest loss in percent that passes (default 0)
  --max-rate: the top of the search, pps (default: line rate of the generator's link)
  --gen-cpus: the CPU the generator sends on and, after a comma, the one it receives on (default: both on the last
    CPU this process may use); the DUT forwards on the first CPU not listed. A receiver on its own CPU drains the
    DUT's output at once: with 4 CPUs or more, --gen-cpus 2,3
  --medium memif (default): the generator serves two memif sockets and the DUT is their client (host, no NICs)
  --medium af_packet: two veth pairs made for the run (root), the generator on one end of each, the DUT on the other
  --medium ports: the generator's ports and the DUT's are NICs or vdevs given as EAL options (VM rig, real cabling)`;
}

/** "TX" or "TX,RX": CPUs this process may run on, distinct */
export function parseGenCpus(s: string | undefined, allowed = pktio.cpusAllowed()): number[] {
  const out = (s ?? '').split(',').map((x) => (/^\d+$/.test(x.trim()) ? Number(x) : NaN));
  if (out.length > 2 || out.some((c) => !allowed.includes(c)) || (out.length === 2 && out[0] === out[1])) {
    throw new BenchError(`invalid generator CPUs '${s ?? ''}': TX or TX,RX, two different CPUs of those this process may use (${allowed.join(',')})`);
  }
  return out;
}

/** "rfc2544" or "64,128,...": frame sizes with FCS, each from 64 to JUMBO_FRAME bytes */
export function parseSizes(s: string | undefined): number[] {
  if (s === 'rfc2544') return RFC2544_SIZES.slice();
  const out = (s ?? '').split(',').map((x) => Number(x.trim()));
  for (const n of out) {
    if (!Number.isInteger(n) || n < RFC2544_SIZES[0] || n > JUMBO_FRAME) {
      throw new BenchError(`invalid frame sizes '${s ?? ''}': whole bytes with FCS from ${RFC2544_SIZES[0]} to ${JUMBO_FRAME}, comma-separated, or rfc2544`);
    }
  }
  return out;
}

/** The largest frame the DUTs and the generator's ports must receive: 0 (their default) up to STD_MAX_FRAME. */
export function maxPktLen(sizes: readonly number[]): number {
  const m = Math.max(...sizes);
  return m > STD_MAX_FRAME ? m : 0;
}

export function parseArgs(argv: string[]): Rfc2544Opts {
  const o: Rfc2544Opts = {
    medium: 'memif', duts: ['pktio', 'testpmd'], sizes: RFC2544_SIZES.slice(), tests: new Set(['throughput', 'latency', 'loss']),
    trialS: 2, drainS: 2, resolution: 0.01, lossThresholdPct: 0, maxPps: 0, b2bMax: 0, bidir: false, json: false,
    out: path.join(repoRoot, 'bench', 'results'), genPorts: [], dutPorts: [], jumbo: false, genCpus: [],
  };
  const num = (s: string | undefined, what: string, min: number): number => {
    const v = Number(s);
    if (s === undefined || !Number.isFinite(v) || v < min) throw new BenchError(`invalid ${what} '${s}': a number from ${min}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    switch (a) {
      case '--dut': {
        const d = v()?.split(',') ?? [];
        for (const x of d) if (!(x in DUT_LABEL)) throw new BenchError(`unknown DUT '${x}': pktio, testpmd, bridge or external`);
        o.duts = d as DutKind[];
        break;
      }
      case '--sizes': o.sizes = parseSizes(v()); break;
      case '--jumbo': o.jumbo = true; break;
      case '--tests': {
        const t = (v() ?? '').split(',');
        for (const x of t) if (!TESTS.includes(x)) throw new BenchError(`unknown test '${x}': ${TESTS.join(', ')}`);
        o.tests = new Set(t);
        break;
      }
      case '--trial': o.trialS = num(v(), 'trial duration', 0.05); break;
      case '--drain': o.drainS = num(v(), 'drain time', 0); break;
      case '--resolution': o.resolution = num(v(), 'resolution', 0.01) / 100; break;
      case '--loss-threshold': o.lossThresholdPct = num(v(), 'loss threshold', 0); break;
      case '--max-rate': o.maxPps = num(v(), 'maximum rate', 1); break;
      case '--b2b-max': o.b2bMax = num(v(), 'back-to-back maximum', 1); break;
      case '--bidir': o.bidir = true; break;
      case '--json': o.json = true; break;
      case '--out': o.out = path.resolve(v() ?? '.'); break;
      case '--medium': {
        const m = v();
        if (m !== 'memif' && m !== 'af_packet' && m !== 'ports') throw new BenchError(`unknown medium '${m}': memif, af_packet or ports`);
        o.medium = m;
        break;
      }
      case '--gen-ports': o.genPorts = (v() ?? '').split(/\s+/).filter(Boolean); break;
      case '--dut-ports': o.dutPorts = (v() ?? '').split(/\s+/).filter(Boolean); break;
      case '--gen-cpus': o.genCpus = parseGenCpus(v()); break;
      case '-h': case '--help': process.stdout.write(`${usage()}\n`); process.exit(0); break;
      default: throw new BenchError(`unknown option '${a}' (see --help)`);
    }
  }
  if (o.jumbo && !o.sizes.includes(JUMBO_FRAME)) o.sizes.push(JUMBO_FRAME);
  if (o.duts.includes('bridge') && o.medium !== 'af_packet') {
    throw new BenchError('--dut bridge joins the DUT ends of veth pairs: add --medium af_packet');
  }
  if (o.medium === 'ports' && (o.genPorts.length === 0 || (o.dutPorts.length === 0 && o.duts.some((d) => d !== 'external')))) {
    throw new BenchError('--medium ports needs --gen-ports "-a BDF -a BDF" (and --dut-ports for a DUT started here)');
  }
  return o;
}

/** --medium af_packet: [DUT end, generator end] of each veth pair */
const VETH = [['pk2544d0', 'pk2544g0'], ['pk2544d1', 'pk2544g1']] as const;

/** Makes (true) or removes (false) the veth pairs of --medium af_packet; deleting one end removes its peer. */
function veths(make: boolean): void {
  for (const [d] of VETH) ip(['link', 'del', d], true);
  if (!make) return;
  for (const [d, g] of VETH) {
    ip(['link', 'add', d, 'type', 'veth', 'peer', 'name', g]);
    for (const end of [d, g]) {
      spawnSync('sysctl', ['-q', '-w', `net.ipv6.conf.${end}.disable_ipv6=1`]);
      ip(['link', 'set', end, 'up']);
    }
  }
}

/** The ports of both sides as EAL options: memif sockets this process serves, or what the user named. */
function portArgs(o: Rfc2544Opts): { gen: string[]; dut: string[] } {
  if (o.medium === 'ports') return { gen: o.genPorts, dut: o.dutPorts };
  if (o.medium === 'af_packet') {
    return {
      gen: VETH.flatMap(([, g], i) => ['--vdev', `net_af_packet${i},iface=${g}`]),
      dut: VETH.flatMap(([d], i) => ['--vdev', `net_af_packet${i},iface=${d}`]),
    };
  }
  const sock = (i: number) => `id=0,socket=/pktio-rfc2544-${process.pid}-${i}`;
  return {
    gen: [0, 1].flatMap((i) => ['--vdev', `net_memif${i},role=server,${sock(i)}`]),
    dut: [0, 1].flatMap((i) => ['--vdev', `net_memif${i},role=client,${sock(i)}`]),
  };
}

export interface SizeResult {
  size: number;
  maxPps: number;
  throughput?: ThroughputOutcome & { mpps: number; gbps: number };
  latency?: TrialOutcome;
  loss?: LossPoint[];
  b2b?: BackToBack;
}

class Progress {
  private done = 0;
  private readonly t0 = Date.now();
  constructor(private total: number, private readonly quiet: boolean) {}
  trial(dut: string, size: number, what: string, r: TrialOutcome): void {
    this.done++;
    if (this.done > this.total) this.total = this.done + 1;
    const el = (Date.now() - this.t0) / 1000;
    const left = (el / this.done) * (this.total - this.done);
    const line = `[trial ${this.done}/~${this.total}] ${dut} ${size} B ${what}: rate ${(r.targetPps / 1e6).toFixed(4)} Mpps, ` +
      `offered ${(r.offeredPps / 1e6).toFixed(4)} Mpps, loss ${r.lossPct.toFixed(3)}% (${r.lost}), ${el.toFixed(0)} s elapsed, ~${left.toFixed(0)} s left\n`;
    (this.quiet ? process.stderr : process.stdout).write(line);
  }
}

function streams(o: Rfc2544Opts, pps: number, size: number, macs: number[][], limit: number): TxStreamArgs[] {
  const dirs = o.bidir ? [[0, 1], [1, 0]] : [[0, 1]];
  return dirs.map(([tx, rx], id) => ({
    id, port: tx, queue: 0, rate: pps, mode: PACE_CONSTANT, sizes: [size], limit,
    flow: {
      srcMac: macs[tx], dstMac: macs[rx], srcIp: parseIpRange(`198.18.${id}.1`), dstIp: parseIpRange(`198.19.${id}.1`),
      srcPort: { start: 1024, count: 1 }, dstPort: { start: 1024, count: 1 },
    },
  }));
}

/** The generator's lcores (see runDut): 1 sends; 2 receives when --gen-cpus gives it a CPU, else 1 does both. */
const GEN_TX_LCORE = 1;
const GEN_RX_LCORE = 2;

function trialFn(gen: Generator, o: Rfc2544Opts, size: number, macs: number[][], report: (what: string, r: TrialOutcome) => void): TrialFn {
  const lcore = o.genCpus.length > 1 ? GEN_RX_LCORE : GEN_TX_LCORE;
  return async (pps, what, limit = 0) => {
    const t: Trial = {
      streams: streams(o, pps, size, macs, limit).map((s) => ({ ...s, lcore: GEN_TX_LCORE })),
      rx: (o.bidir ? [1, 0] : [1]).map((port) => ({ port, queue: 0, lcore })),
      durationS: limit > 0 ? limit / pps + 0.01 : o.trialS, burst: 32,
      // RFC 2544 section 23: wait for the frames still in the DUT (2 s by default), but only while some are missing:
      // a DUT descheduled when TX stopped forwards them late, and a fixed short drain counted them as lost
      drainS: o.drainS, drainEarly: true,
    };
    const r = await gen.run(t);
    const lat = gen.zone.lat[0];
    for (let s = 1; s < t.streams.length; s++) lat.merge(gen.zone.lat[s]);
    const out: TrialOutcome = {
      targetPps: pps, offeredPps: r.tx.reduce((a, x) => a + x.pps, 0) / t.streams.length, txPackets: r.txPackets,
      lost: r.lost, lossPct: r.lossPct, latency: lat.summary(),
    };
    report(what, out);
    return out;
  };
}

async function waitLinks(ports: number[], ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!ports.every((p) => pktio.linkGetNowait(p).up)) {
    if (Date.now() > end) throw new BenchError(`the generator's links did not come up in ${ms / 1000} s: is the DUT wired and started?`);
    await sleep(100);
  }
}

async function runSize(fn: TrialFn, o: Rfc2544Opts, size: number, lineMbps: number): Promise<SizeResult> {
  const line = lineRatePps(lineMbps, [size]);
  const maxPps = o.maxPps > 0 ? Math.min(o.maxPps, line) : line;
  const res: SizeResult = { size, maxPps };
  if (o.tests.has('throughput') || o.tests.has('latency')) {
    const tp = await throughput(fn, { maxPps, resolution: o.resolution, lossThresholdPct: o.lossThresholdPct });
    const pps = tp.best?.offeredPps ?? 0;
    res.throughput = { ...tp, mpps: pps / 1e6, gbps: (pps * size * 8) / 1e9 };
    if (o.tests.has('latency') && tp.best) res.latency = await fn(tp.best.targetPps, 'latency');
  }
  if (o.tests.has('loss')) res.loss = await lossCurve(fn, maxPps);
  if (o.tests.has('b2b')) res.b2b = await backToBack(fn, maxPps, o.b2bMax || Math.ceil(maxPps * o.trialS));
  return res;
}

/** One DUT: the generator's EAL and ports, the DUT started, every frame size, then everything stopped. */
async function runDut(kind: DutKind, o: Rfc2544Opts, progress: Progress, meta: { genDriver?: string }): Promise<SizeResult[]> {
  const cpus = pktio.cpusAllowed();
  const genCpus = o.genCpus.length ? o.genCpus : [cpus[cpus.length - 1]];
  const genCpu = genCpus[0];
  const other = cpus.find((c) => !genCpus.includes(c)) ?? cpus[0];
  const ports = portArgs(o);
  const lcores = [`0@${other}`, `${GEN_TX_LCORE}@${genCpu}`, ...(genCpus.length > 1 ? [`${GEN_RX_LCORE}@${genCpus[1]}`] : [])].join(',');
  await pktio.init(['--lcores', lcores, '--main-lcore', '0', ...hugeArgs(false), '--file-prefix', `pktio-rfc2544-${process.pid}`,
    '--log-level', 'warn', ...(o.medium !== 'ports' ? ['--no-pci'] : []), ...ports.gen]);
  let d: Dut | null = null;
  try {
    if (pktio.portIds().length < 2) throw new BenchError(`the generator needs two ports, it has ${pktio.portIds().length}: check --gen-ports`);
    meta.genDriver = pktio.devInfoGet(0).driverName;
    // the generator builds each frame in one mbuf; jumbo mbufs are four times as large, so half as many (8191 x
    // 9.3 KB fits the 128 MB that hugeArgs gives; PMDs whose RX buffers are smaller chain them)
    const maxFrame = Math.max(...o.sizes);
    const jumbo = maxPktLen(o.sizes);
    const pool = pktio.pktmbufPoolCreate('rfc2544_pool', jumbo ? 8191 : 16383, 256, 0,
      Math.max(pktio.MBUF_DEFAULT_BUF_SIZE, maxFrame + pktio.PKTMBUF_HEADROOM));
    startGenPorts([0, 1], pool, 1, 1024, jumbo ? { rxmode: { maxRxPktLen: jumbo } } : {});
    d = await startDut(kind, ports.dut, { fwd: other, main: genCpu }, jumbo);
    await waitLinks([0, 1]);
    const macs = [0, 1].map((p) => Array.from(pktio.macAddrGet(p)));
    const mbps = pktio.linkGetNowait(0).speed || 10000;
    const gen = new Generator(pool.name, GEN_TX_LCORE);
    const out: SizeResult[] = [];
    // learning frames (RFC 2544 section 23) and warm-up: one discarded second at a tenth of the lowest maximum,
    // so the DUT's JIT, caches and a memif connection made a moment ago do not count against the first trial
    await trialFn(gen, { ...o, trialS: 1 }, o.sizes[0], macs, () => {})(Math.min(o.maxPps || Infinity, lineRatePps(mbps, [o.sizes[0]])) / 10, 'warm-up');
    for (const size of o.sizes) {
      const fn = trialFn(gen, o, size, macs, (what, r) => progress.trial(DUT_LABEL[kind], size, what, r));
      out.push(await runSize(fn, o, size, mbps));
    }
    // the counters of both sides, for a loss to be placed: the generator's ports and the DUT's (stderr). The DUT
    // reads its own while the generator's ports are still up: DPDK's memif counts only over a connected link's
    // rings and shows 0 once the peer has gone
    for (const p of [0, 1]) {
      const s = pktio.statsGet(p);
      process.stderr.write(`rfc2544: generator port ${p}: rx ${s.ipackets} missed ${s.imissed} errors ${s.ierrors} nombuf ${s.rxNombuf}, tx ${s.opackets} errors ${s.oerrors}\n`);
    }
    return out;
  } finally {
    for (const l of await d?.stop() ?? []) process.stderr.write(`rfc2544: ${DUT_LABEL[kind]} ${l}\n`);
    for (const p of pktio.portIds()) {
      pktio.devStop(p);
      pktio.devClose(p);
    }
    await pktio.cleanup();
  }
}

function commit(): string {
  const r = spawnSync('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

const us = (ns: number) => (ns / 1000).toFixed(1);

export function formatTable(o: Rfc2544Opts, res: Record<string, SizeResult[]>, genDriver = ''): string {
  const duts = Object.keys(res);
  const lines = [`RFC 2544 over ${o.medium}${genDriver ? ` (${genDriver})` : ''}: trial ${o.trialS} s, resolution ${(o.resolution * 100).toFixed(1)}%, loss threshold ${o.lossThresholdPct}%, ` +
    `latency from software timestamps${o.bidir ? ', bidirectional' : ', one direction'}`];
  lines.push(['size'.padEnd(6), ...duts.map((d) => `| ${d}: Mpps (Gbps)  latency p50 / p99 / max us`.padEnd(58))].join(''));
  for (let i = 0; i < o.sizes.length; i++) {
    const cells = duts.map((d) => {
      const r = res[d][i];
      const tp = r.throughput;
      const t = tp ? `${tp.mpps.toFixed(4)} (${tp.gbps.toFixed(3)})${tp.generatorBound ? ' gen-bound' : ''}` : '-';
      const l = r.latency?.latency;
      return `| ${t}  ${l ? `${us(l.p50)} / ${us(l.p99)} / ${us(l.max)}` : '-'}`.padEnd(58);
    });
    lines.push([String(o.sizes[i]).padEnd(6), ...cells].join(''));
  }
  for (const d of duts) {
    for (const r of res[d]) {
      if (r.loss) lines.push(`${d} ${r.size} B frame loss: ${r.loss.map((p) => `${p.offeredPct}%: ${p.lossPct.toFixed(2)}%`).join(', ')}`);
      if (r.b2b) lines.push(`${d} ${r.size} B back-to-back: ${r.b2b.frames} frames at ${(r.maxPps / 1e6).toFixed(3)} Mpps without loss`);
    }
  }
  return lines.join('\n') + '\n';
}

async function charts(base: string, o: Rfc2544Opts, res: Record<string, SizeResult[]>, genDriver = ''): Promise<string[]> {
  const rows = Object.entries(res).flatMap(([dut, rs]) => rs.filter((r) => r.throughput).map((r) => ({
    dut, size: r.size, mpps: r.throughput!.mpps, gbps: r.throughput!.gbps, generatorBound: r.throughput!.generatorBound,
  })));
  const lat: LatencyRow[] = Object.entries(res).flatMap(([dut, rs]) => rs.filter((r) => r.latency).flatMap((r) => {
    const l = r.latency!.latency;
    return [['p50', l.p50], ['p99', l.p99], ['p99.9', l.p999], ['max', l.max]].map(([stat, v]) => ({ dut, size: r.size, stat: stat as string, us: Math.max(0.1, (v as number) / 1000) }));
  }));
  const loss = Object.entries(res).flatMap(([dut, rs]) => rs.flatMap((r) => (r.loss ?? []).map((p) => ({ dut, size: r.size, offeredPct: p.offeredPct, lossPct: p.lossPct }))));
  const where = `${o.medium}${genDriver ? ` ${genDriver}` : ''}, ${os.cpus().length} CPUs, ${commit()}`;
  const out: string[] = [];
  if (rows.length) out.push(...await writeChart(`${base}-throughput`, throughputSpec(rows, `RFC 2544 throughput, loss ≤ ${o.lossThresholdPct}% (${where})`)));
  if (lat.length) out.push(...await writeChart(`${base}-latency`, latencySpec(lat, `Latency at the throughput rate, software timestamps (${where})`)));
  if (loss.length) out.push(...await writeChart(`${base}-loss`, lossSpec(loss, `Frame-loss rate (${where})`)));
  return out;
}

export async function main(argv: string[]): Promise<number> {
  let o: Rfc2544Opts;
  try {
    o = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`rfc2544: ${(e as Error).message}\n\n${usage()}\n`);
    return 1;
  }
  const per = o.sizes.length * ((o.tests.has('throughput') || o.tests.has('latency') ? searchTrials(o.resolution) : 0) +
    (o.tests.has('latency') ? 1 : 0) + (o.tests.has('loss') ? 4 : 0) + (o.tests.has('b2b') ? 8 : 0));
  const progress = new Progress(per * o.duts.length, o.json);
  const res: Record<string, SizeResult[]> = {};
  const meta: { genDriver?: string } = {};
  try {
    if (o.medium === 'af_packet') veths(true);
    for (const d of o.duts) res[DUT_LABEL[d]] = await runDut(d, o, progress, meta);
  } catch (e) {
    process.stderr.write(`rfc2544: ${(e as Error).message}\n`);
    return 1;
  } finally {
    if (o.medium === 'af_packet') veths(false);
  }
  fs.mkdirSync(o.out, { recursive: true });
  const base = path.join(o.out, `rfc2544-${o.medium}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const record = { kind: 'rfc2544', medium: o.medium, genDriver: meta.genDriver, genCpus: o.genCpus, timestamps: 'software', commit: commit(), date: new Date().toISOString(), cpus: os.cpus().length,
    load: os.loadavg()[0], options: { ...o, tests: [...o.tests] }, results: res };
  fs.writeFileSync(`${base}.json`, JSON.stringify(record, null, 1));
  const files = [`${base}.json`, ...await charts(base, o, res, meta.genDriver)].map((f) => path.relative(process.cwd(), f));
  if (o.json) process.stdout.write(`${JSON.stringify({ ...record, files })}\n`);
  else process.stdout.write(`${formatTable(o, res, meta.genDriver)}written: ${files.join(', ')}\n`);
  return 0;
}

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
