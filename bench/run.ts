// pktio bench harness.
//
//   npm run bench -- <scenario> [--seconds N] [--burst B] [--json] [--vs-dpdk] [--rounds R]
//
// Scenarios:
//   l2fwd-null   l2fwd with MAC updating between two net_null ports on one forwarding lcore (DPDK: testpmd
//                --forward-mode=mac on net_null0/net_null1). Reports Mpps of both ports together, GCs and heap
//                bytes per packet over the steady window.
//   l2fwd-e1000e in the VM rig's guest (test/vm): l2fwd's loop between two emulated 82574L ports on one QEMU hub
//                (32 frames sent from each port first), then DPDK testpmd --forward-mode=io with its em PMD on the
//                same two NICs in the same guest; reports both rates and the ratio. Emulation bounds both.
//   ring-spsc    single-producer/single-consumer ring: enqueue+dequeue bulk on one core in cycles per element
//                (DPDK: ring_perf_autotest), and two-lcore throughput.
//   mempool-bulk get+put bulk through one lcore's cache (DPDK: mempool_perf_autotest), million objects/s.
//   mem-view     copy rate through koffi.view of EAL memory vs SharedArrayBuffer vs ArrayBuffer (design check).
// With --json the last line is one JSON object. Every run is also written to bench/results/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import * as v8 from 'node:v8';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as pktio from '../src/index.js';
import { CTL_WORD, MARK_F64, MAX_PORTS, type FwdArgs } from '../examples/l2fwd/fwd.js';
import { ringOneCore, mempoolBulk, memViewCopy } from './scenarios.js';

// lcores started from here get a gc() to begin measured windows with a clean heap
v8.setFlagsFromString('--expose-gc');

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const repoRoot = path.resolve(here, ext === '.ts' ? '..' : '../..');

interface Opts {
  scenario: string;
  seconds: number;
  burst: number;
  json: boolean;
  vsDpdk: boolean;
  rounds: number;
}

export interface BenchResult {
  scenario: string;
  mpps: number | null;
  dpdkMpps: number | null;
  ratio: number | null;
  packets: number;
  seconds: number;
  gcCount: number;
  heapBytesPerPacket: number;
  [k: string]: unknown;
}

const USAGE = 'usage: npm run bench -- l2fwd-null|l2fwd-e1000e|ring-spsc|mempool-bulk|mem-view [--seconds N] [--burst B] [--json] [--vs-dpdk] [--rounds R]';

function parse(argv: string[]): Opts {
  const o: Opts = { scenario: '', seconds: 10, burst: 32, json: false, vsDpdk: false, rounds: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (what: string): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${what} needs a positive number\n${USAGE}`);
      return v;
    };
    if (a === '--seconds') o.seconds = num(a);
    else if (a === '--burst') o.burst = Math.floor(num(a));
    else if (a === '--rounds') o.rounds = Math.floor(num(a));
    else if (a === '--json') o.json = true;
    else if (a === '--vs-dpdk') o.vsDpdk = true;
    else if (!a.startsWith('-') && !o.scenario) o.scenario = a;
    else throw new Error(`unknown argument '${a}'\n${USAGE}`);
  }
  if (!['l2fwd-null', 'l2fwd-e1000e', 'ring-spsc', 'mempool-bulk', 'mem-view'].includes(o.scenario)) throw new Error(`unknown scenario '${o.scenario}'\n${USAGE}`);
  return o;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function hugeArgs(prefixDpdk: boolean): string[] {
  const mounts = pktio.hugetlbfsMounts().filter((m) => m.pageSize === 2 * 1048576);
  const free = pktio.freeHugepages(2 * 1048576).free;
  if (mounts.length && free >= 96) return ['--huge-dir', mounts[0].dir, ...(prefixDpdk ? [] : ['-m', '128'])];
  return prefixDpdk ? ['--no-huge', '-m', '256'] : ['--no-huge', '-m', '128'];
}

function cpuMhz(): number {
  const m = /cpu MHz\s*:\s*([\d.]+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  return m ? Number(m[1]) : 0;
}

// ---------------------------------------------------------------------------------------------------------------
// DPDK side

function testpmdPath(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v dpdk-testpmd'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

const NO_TESTPMD = 'dpdk-testpmd is not installed: apt-get install -y dpdk-dev (Debian\'s DPDK), then run again';

/** testpmd --forward-mode=mac on two null ports for `seconds`; returns Mpps of both ports together. */
async function dpdkL2fwdNull(seconds: number, burst: number): Promise<number> {
  const bin = testpmdPath();
  if (!bin) throw new Error(NO_TESTPMD);
  const args = ['-l', '0,1', '-n', '1', '--no-pci', ...hugeArgs(true), '--file-prefix', `pktio-bench-${process.pid}`,
    '--log-level', 'warning', '--vdev', 'net_null0', '--vdev', 'net_null1', '--', '-i', '--forward-mode=mac', `--burst=${burst}`];
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const say = (s: string) => child.stdin.write(`${s}\n`);
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  await sleep(1500);
  say('start');
  await sleep(Math.min(2000, seconds * 200 + 500));
  say('show port stats all');
  await sleep(seconds * 1000);
  say('show port stats all');
  await sleep(300);
  say('stop');
  say('quit');
  const t = setTimeout(() => child.kill('SIGKILL'), 15000);
  await exited;
  clearTimeout(t);
  const blocks = out.split('Throughput (since last show)');
  if (blocks.length < 5) throw new Error(`could not read testpmd's throughput; its output:\n${out.slice(-2000)}`);
  // the last two blocks (one per port) belong to the second show
  let pps = 0;
  for (const b of blocks.slice(-2)) {
    const m = /Rx-pps:\s+(\d+)/.exec(b);
    if (!m) throw new Error('testpmd output without Rx-pps');
    pps += Number(m[1]);
  }
  return pps / 1e6;
}

// ---------------------------------------------------------------------------------------------------------------
// pktio side

interface L2fwdRun {
  mpps: number;
  packets: number;
  seconds: number;
  gcCount: number;
  heapBytesPerPacket: number;
  heapBytes: number;
  mbufsLost: number;
  perPortMpps: number;
}

async function pktioL2fwdNull(seconds: number, burst: number): Promise<L2fwdRun> {
  if (burst !== 32) throw new Error('l2fwd-null uses l2fwd\'s burst of 32 (MAX_PKT_BURST)');
  await pktio.init(['-l', '0,1', ...hugeArgs(false), '--file-prefix', `pktio-bench-${process.pid}`, '--log-level', 'warn',
    '--vdev', 'net_null0', '--vdev', 'net_null1']);
  try {
    const pool = pktio.pktmbufPoolCreate('bench_pool', 8192, 256, 0, pktio.MBUF_DEFAULT_BUF_SIZE);
    const macs: number[][] = [];
    for (const p of [0, 1]) {
      pktio.devConfigure(p, 1, 1);
      pktio.rxQueueSetup(p, 0, 1024, -1, null, pool);
      pktio.txQueueSetup(p, 0, 1024, -1, null);
      pktio.devStart(p);
      macs[p] = Array.from(pktio.macAddrGet(p));
    }
    const z = pktio.memzoneReserve('l2fwd', (MAX_PORTS * 4 + 16) * 8);
    const ctl = new Int32Array(pktio.mem().buf, z.off, CTL_WORD + 2);
    const f64 = new Float64Array(pktio.mem().buf, z.off, MAX_PORTS * 4 + 16);
    const dst = new Array(MAX_PORTS).fill(-1);
    dst[0] = 1;
    dst[1] = 0;
    const args: FwdArgs = { rxPorts: [0, 1], dst, macUpdating: true, macs, drainUs: 100 };
    pktio.remoteLaunch(1, new URL(`../examples/l2fwd/fwd${ext}`, import.meta.url), args);
    const mark = async (m: number) => {
      Atomics.store(ctl, CTL_WORD, m);
      const t0 = performance.now();
      while (Atomics.load(ctl, CTL_WORD + 1) !== m) {
        if (performance.now() - t0 > 10000) throw new Error('the forwarding lcore does not answer');
        await sleep(1);
      }
    };
    const sent = () => pktio.statsGet(0).opackets + pktio.statsGet(1).opackets;
    await sleep(Math.min(3000, seconds * 200 + 1000)); // warm-up: JIT and caches
    // one unmeasured window first, so the marks' own code path is compiled before the measured one
    await mark(1);
    await sleep(200);
    await mark(2);
    await sleep(500);
    await mark(3);
    const p0 = sent();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    await mark(4);
    const p1 = sent();
    const t1 = performance.now();
    pktio.requestQuit();
    await pktio.waitLcore(1);
    const packets = p1 - p0;
    const secs = (t1 - t0) / 1000;
    const gcCount = f64[MARK_F64 + 1];
    const allocated = Math.max(0, f64[MARK_F64] - f64[MARK_F64 + 4] + f64[MARK_F64 + 2]);
    for (const p of [0, 1]) pktio.devStop(p);
    const lost = pool.size - pool.availCount();
    return {
      mpps: packets / secs / 1e6, packets, seconds: secs, gcCount, heapBytesPerPacket: allocated / packets,
      heapBytes: allocated, mbufsLost: lost, perPortMpps: packets / secs / 2e6,
    };
  } finally {
    await pktio.cleanup();
  }
}

async function ringSpsc(o: Opts): Promise<BenchResult> {
  await pktio.init(['-l', '0,1', '--no-huge', '-m', '64', '--log-level', 'warn', '--file-prefix', `pktio-bench-${process.pid}`]);
  try {
    pktio.ringCreate('bench_ring', 4096, pktio.RING_F_SP_ENQ | pktio.RING_F_SC_DEQ);
    const one = ringOneCore({ ring: 'bench_ring', burst: o.burst, iterations: Math.max(1, Math.floor(o.seconds * 2e6 / o.burst * 8)) });
    const nsPerElt = one.ns / one.items;
    const mhz = cpuMhz();
    const cycles = (nsPerElt * mhz) / 1000;
    // two lcores: producer on lcore 1, consumer here
    pktio.ringCreate('bench_ring2', 4096, pktio.RING_F_SP_ENQ | pktio.RING_F_SC_DEQ);
    pktio.remoteLaunch(1, new URL(`./scenarios${ext}`, import.meta.url), { ring: 'bench_ring2', burst: o.burst }, 'ringProducer');
    await sleep(100);
    const t0 = performance.now();
    const c = ringConsumerTimed({ ring: 'bench_ring2', burst: o.burst }, Math.min(o.seconds, 5));
    const t1 = performance.now();
    const sent = (await pktio.waitLcore(1)) as number;
    const dpdkCycles = o.vsDpdk ? dpdkRingPerf(o.burst) : null;
    const baseline = o.burst === 32 ? 1.40 : o.burst === 8 ? 2.31 : null;
    const ref = dpdkCycles ?? baseline;
    return {
      scenario: 'ring-spsc', mpps: c.received / ((t1 - t0) / 1000) / 1e6, dpdkMpps: null,
      ratio: ref ? cycles / ref : null, packets: one.items, seconds: one.ns / 1e9, gcCount: 0, heapBytesPerPacket: 0,
      nsPerElement: nsPerElt, cyclesPerElement: cycles, cpuMhz: mhz, dpdkCyclesPerElement: ref,
      dpdkCyclesSource: dpdkCycles !== null ? 'measured now' : 'baseline measured on this machine kind',
      twoLcore: { sent, received: c.received, errors: c.errors, lost: sent - c.received },
    };
  } finally {
    await pktio.cleanup();
  }
}

/** Consumer on the main lcore for `secs`, checking the sequence; then asks the producer to stop and drains. */
function ringConsumerTimed(a: { ring: string; burst: number }, secs: number): { received: number; errors: number } {
  const end = performance.now() + secs * 1000;
  const r = pktio.ringLookup(a.ring)!;
  const buf = new Uint32Array(a.burst);
  let expect = 0;
  let errors = 0;
  let got = 0;
  let polls = 0;
  for (;;) {
    const n = r.dequeueBurst(buf, buf.length);
    if (n === 0) {
      if ((++polls & 1023) === 0 && performance.now() > end) break;
      continue;
    }
    for (let i = 0; i < n; i++) {
      if (buf[i] !== expect) errors++;
      expect = (buf[i] + 1) >>> 0;
    }
    got += n;
    if ((++polls & 1023) === 0 && performance.now() > end) break;
  }
  pktio.requestQuit();
  // drain what the producer published before it saw the flag
  const t = performance.now();
  while (performance.now() - t < 200) {
    const n = r.dequeueBurst(buf, buf.length);
    for (let i = 0; i < n; i++) {
      if (buf[i] !== expect) errors++;
      expect = (buf[i] + 1) >>> 0;
    }
    got += n;
  }
  return { received: got, errors };
}

function dpdkRingPerf(burst: number): number | null {
  const r = spawnSync('sh', ['-c', `echo ring_perf_autotest | stdbuf -oL dpdk-test -l 0,1 -n 1 --no-pci --no-huge -m 256 --file-prefix pktio-ringperf-${process.pid} 2>&1`],
    { encoding: 'utf8', timeout: 300000 });
  const m = new RegExp(`SP/SC bulk enq/dequeue \\(size: ${burst}\\):\\s*([\\d.]+)`).exec(r.stdout ?? '');
  return m ? Number(m[1]) : null;
}

async function mempoolBench(o: Opts): Promise<BenchResult> {
  await pktio.init(['-l', '0', '--no-huge', '-m', '128', '--log-level', 'warn']);
  try {
    pktio.pktmbufPoolCreate('bench_mp', 16383, 512, 0, pktio.MBUF_DEFAULT_BUF_SIZE);
    const r = mempoolBulk({ pool: 'bench_mp', burst: o.burst, iterations: Math.max(1, Math.floor(o.seconds * 4e7 / o.burst)) });
    const mops = r.objs / (r.ns / 1e9) / 1e6;
    const dpdk = o.burst === 32 ? 3900 : null;
    return {
      scenario: 'mempool-bulk', mpps: mops, dpdkMpps: dpdk, ratio: dpdk ? mops / dpdk : null, packets: r.objs,
      seconds: r.ns / 1e9, gcCount: 0, heapBytesPerPacket: 0, note: 'million objects got+put per second; DPDK figure: baseline measured on this machine kind',
    };
  } finally {
    await pktio.cleanup();
  }
}

async function main(): Promise<number> {
  let o: Opts;
  try {
    o = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  let res: BenchResult;
  if (o.scenario === 'l2fwd-null') {
    if (o.vsDpdk && !testpmdPath()) {
      process.stderr.write(`${NO_TESTPMD}\n`);
      return 2;
    }
    const ours: number[] = [];
    const theirs: number[] = [];
    let last: L2fwdRun | null = null;
    for (let r = 0; r < o.rounds; r++) {
      last = await pktioL2fwdNull(o.seconds, o.burst);
      ours.push(last.mpps);
      if (!o.json) process.stdout.write(`round ${r + 1}: pktio ${last.mpps.toFixed(2)} Mpps, ${last.gcCount} GCs, ${last.heapBytesPerPacket.toFixed(6)} heap B/pkt\n`);
      if (o.vsDpdk) {
        theirs.push(await dpdkL2fwdNull(o.seconds, o.burst));
        if (!o.json) process.stdout.write(`round ${r + 1}: dpdk-testpmd ${theirs[r].toFixed(2)} Mpps\n`);
      }
    }
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
    const mpps = med(ours);
    const dpdkMpps = o.vsDpdk ? med(theirs) : null;
    res = {
      scenario: o.scenario, ...last!, mpps, dpdkMpps, ratio: dpdkMpps ? mpps / dpdkMpps : null,
      rounds: ours.map((m, i) => ({ pktio: m, dpdk: theirs[i] ?? null })),
    };
  } else if (o.scenario === 'l2fwd-e1000e') {
    const r = spawnSync('bash', [path.join(repoRoot, 'test/vm/run.sh'), '--mode', 'type1', '--topology', 'loop', '--timeout', '600', '--',
      `bash ${path.join(repoRoot, 'test/vm/guest/bench-e1000e.sh')} ${o.seconds}`], { encoding: 'utf8', timeout: 700000 });
    const out = (r.stdout ?? '') + (r.stderr ?? '');
    const num = (k: string) => {
      const m = new RegExp(`^${k}=([\\d.]+)`, 'm').exec(out);
      return m ? Number(m[1]) : null;
    };
    const mpps = num('pktio_mpps');
    const dpdkMpps = num('dpdk_mpps');
    if (mpps === null) {
      process.stderr.write(`l2fwd-e1000e: no result from the guest (provision the rig with test/vm/provision.sh):\n${out.slice(-3000)}\n`);
      return 1;
    }
    res = { scenario: o.scenario, mpps, dpdkMpps, ratio: dpdkMpps ? mpps / dpdkMpps : null, packets: num('pktio_packets') ?? 0,
      seconds: o.seconds, gcCount: NaN, heapBytesPerPacket: NaN, note: 'QEMU TCG guest (GC not measured in the guest), two e1000e on one hub, io forwarding' };
  } else if (o.scenario === 'mem-view') {
    await pktio.init(['-l', '0', ...hugeArgs(false), '--log-level', 'warn', '--file-prefix', `pktio-bench-${process.pid}`]);
    try {
      const ns = memViewCopy(pktio.mem().u32, Math.floor(o.seconds * 2e6));
      if (!o.json) for (const [k, v] of Object.entries(ns)) process.stdout.write(`${k.padEnd(26)} ${v.toFixed(3)} ns per element copied\n`);
      res = { scenario: 'mem-view', mpps: null, dpdkMpps: null, ratio: null, packets: 0, seconds: o.seconds, gcCount: 0, heapBytesPerPacket: 0, nsPerElement: ns };
    } finally {
      await pktio.cleanup();
    }
  } else if (o.scenario === 'ring-spsc') {
    res = await ringSpsc(o);
  } else {
    res = await mempoolBench(o);
  }
  res.node = process.version;
  res.cpus = os.cpus().length;
  res.date = new Date().toISOString();
  const dir = path.join(repoRoot, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${o.scenario}-${String(res.date).replace(/[:.]/g, '-')}.json`), JSON.stringify(res, null, 2) + '\n');
  if (!o.json && res.mpps !== null) {
    process.stdout.write(`${o.scenario}: ${res.mpps?.toFixed(2)} ${o.scenario === 'mempool-bulk' ? 'M objs/s' : 'Mpps'}` +
      (res.dpdkMpps ? `, DPDK ${res.dpdkMpps.toFixed(2)}, ratio ${res.ratio?.toFixed(3)}` : '') +
      (o.scenario === 'ring-spsc' ? `, ${(res.cyclesPerElement as number).toFixed(2)} cycles/element (DPDK ${res.dpdkCyclesPerElement}), ratio ${res.ratio?.toFixed(2)}` : '') +
      (o.scenario === 'l2fwd-null' ? `, ${res.gcCount} GCs, ${res.heapBytesPerPacket.toFixed(6)} heap bytes/packet` : '') + '\n');
  }
  const { scenario, mpps, dpdkMpps, ratio, packets, seconds, gcCount, heapBytesPerPacket } = res;
  const line: Record<string, unknown> = { scenario, mpps, dpdkMpps, ratio, packets, seconds, gcCount, heapBytesPerPacket };
  if (o.scenario === 'ring-spsc') {
    line.cyclesPerElement = res.cyclesPerElement;
    line.dpdkCyclesPerElement = res.dpdkCyclesPerElement;
  }
  if (o.json) process.stdout.write(JSON.stringify(line) + '\n');
  return 0;
}

process.exitCode = await main();
