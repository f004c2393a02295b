// pktio bench harness: `npm run bench -- --help` lists the scenarios and options (SCENARIOS below).
//
// Every scenario reports `mpps` (pktio's throughput: Mpps, M elements/s or M objects/s, see the scenario) and,
// with --vs-dpdk, `dpdkMpps` (DPDK's, in the same unit, measured in the same run) and `ratio` = mpps / dpdkMpps:
// higher is better everywhere. A comparison that cannot be made stops the run with the reason.
// With --json the last line is one JSON object. Every run is also written to bench/results/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import * as v8 from 'node:v8';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import * as pktio from '../src/index.js';
import { ringOneCore, mempoolBulk, memViewCopy } from './scenarios.js';
import { BenchError, ext, repoRoot, sleep, keepOutput, hugeArgs, type BenchOpts, type BenchResult } from './common.js';
import { Testpmd, testpmdPath, NO_TESTPMD } from './dpdk/testpmd.js';
import { pktioL2fwd, type L2fwdRun } from './l2fwd-inproc.js';

export type { BenchResult };

// lcores started from here get a gc() to begin measured windows with a clean heap
v8.setFlagsFromString('--expose-gc');

type Opts = BenchOpts;

/** One line each, for --help. */
export const SCENARIOS: Record<string, string> = {
  'l2fwd-null': 'l2fwd\'s MAC-updating forward between two net_null ports on one lcore, Mpps of both ports (DPDK: testpmd mac fwd)',
  'l2fwd-e1000e': 'l2fwd io forward between two emulated 82574L in the QEMU guest of test/vm, Mpps and MMIO/packet (DPDK: testpmd, em PMD)',
  'l2fwd-igb': 'l2fwd io forward between two emulated 82576 in the QEMU guest of test/vm, Mpps and MMIO/packet (DPDK: testpmd, igb PMD)',
  'l2fwd-virtio': 'l2fwd io forward between two virtio-net-pci in the QEMU guest of test/vm, Mpps and notifications/packet (DPDK: testpmd, virtio PMD)',
  'ring-spsc': 'SP/SC ring enqueue+dequeue bulk on one core, M elements/s and cycles/element, plus two lcores (DPDK: ring_perf_autotest)',
  'mempool-bulk': 'get+put bulk through one lcore\'s cache of 512, M objects/s (DPDK: rte_mempool in mempool_perf_autotest\'s loop)',
  'mem-view': 'typed-array copies through koffi.view vs SharedArrayBuffer vs ArrayBuffer, ns/element (a design check, no DPDK side)',
  copy: 'packet copies inside EAL memory at 64, 256, 1500 and 9000 bytes (or --size): copyBytes and the alternatives, ns/copy',
  memif: 'a forwarding loop over two memif ports with a dpdk-testpmd peer, pktio l2fwd vs testpmd io as the forwarder, Mpps',
  af_packet: 'a forwarding loop over two veth pairs with a dpdk-testpmd af_packet peer, pktio l2fwd vs testpmd (net_af_packet), Mpps',
  pcap: 'l2fwd from an rx_pcap replayed forever (infinite_rx) to a tx_pcap on /dev/null, pktio vs testpmd io on net_pcap, Mpps',
  tap: 'a forwarding loop over two taps with a dpdk-testpmd af_packet peer on their kernel side, pktio l2fwd vs testpmd (net_tap), Mpps',
  soak: 'l2fwd on two net_null ports for --seconds (e.g. 3600), RSS, heap, GCs and mbufs sampled each minute; fails if any grows (not in CI)',
};

/** Scenarios in modules of their own (bench/scenarios/NAME.ts exports run(o) and may export describe/jsonExtras). */
const PLUGGED = new Set(['copy', 'memif', 'af_packet', 'tap', 'pcap', 'soak']);

interface PluggedScenario {
  run(o: Opts): Promise<BenchResult>;
  describe?(o: Opts, res: BenchResult): string;
  jsonExtras?: string[];
}

async function plugged(name: string): Promise<PluggedScenario> {
  return (await import(new URL(`./scenarios/${name}${ext}`, import.meta.url).href)) as PluggedScenario;
}

export function usage(): string {
  return `usage: npm run bench -- SCENARIO [--seconds N] [--burst B] [--rounds R] [--vs-dpdk] [--json]

Scenarios:
${Object.entries(SCENARIOS).map(([k, v]) => `  ${k.padEnd(13)} ${v}`).join('\n')}

Options:
  --seconds N   length of each measured window, in seconds (default 10; ring-spsc measures two windows)
  --burst B     burst or bulk size (default 32; l2fwd-null: 32 only; ring-spsc --vs-dpdk: 8 or 32)
  --size S      frame size in bytes (copy: one size instead of four; memif, af_packet, tap: default 64)
  --rounds R    l2fwd-null and the l2fwd-<nic> benches: R rounds of pktio then DPDK, medians reported (default 1)
  --vs-dpdk     measure DPDK in the same run (apt-get install -y dpdk-dev): dpdkMpps, and ratio = pktio / DPDK
                (higher is better); a comparison that cannot be made stops the run with the reason
  --no-mmio     l2fwd-e1000e / -igb / -virtio: skip the two extra guests that count MMIO accesses (virtio:
                notifications) per packet
  --json        print one JSON object as the last line
  -h, --help    this help
Every run is also written to bench/results/.`;
}

function parse(argv: string[]): Opts | null {
  const o: Opts = { scenario: '', seconds: 10, burst: 32, json: false, vsDpdk: false, rounds: 1, mmio: true, size: null };
  const hint = 'npm run bench -- --help lists them';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (what: string): number => {
      const raw = argv[++i];
      const v = Number(raw);
      if (raw === undefined || !Number.isFinite(v) || v <= 0) throw new BenchError(`${what} needs a positive number, e.g. ${what} 5`);
      return v;
    };
    if (a === '--seconds') o.seconds = num(a);
    else if (a === '--burst') o.burst = Math.floor(num(a));
    else if (a === '--rounds') o.rounds = Math.floor(num(a));
    else if (a === '--size') o.size = Math.floor(num(a));
    else if (a === '--json') o.json = true;
    else if (a === '--vs-dpdk') o.vsDpdk = true;
    else if (a === '--no-mmio') o.mmio = false;
    else if (a === '-h' || a === '--help') return null;
    else if (!a.startsWith('-') && !o.scenario) o.scenario = a;
    else throw new BenchError(`unknown option '${a}' (${hint})`);
  }
  if (!o.scenario) throw new BenchError(`give a scenario: ${Object.keys(SCENARIOS).join(', ')} (${hint})`);
  if (!(o.scenario in SCENARIOS)) throw new BenchError(`unknown scenario '${o.scenario}': expected ${Object.keys(SCENARIOS).join(', ')}`);
  if (o.burst > 512) throw new BenchError(`--burst ${o.burst} is too large: at most 512`);
  return o;
}

function cpuMhz(): number {
  const m = /cpu MHz\s*:\s*([\d.]+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  return m ? Number(m[1]) : 0;
}

// ---------------------------------------------------------------------------------------------------------------
// DPDK side

/** testpmd --forward-mode=mac on two null ports for `seconds`; returns Mpps of both ports together. */
async function dpdkL2fwdNull(seconds: number, burst: number): Promise<number> {
  const tp = await Testpmd.start({ vdevs: ['net_null0', 'net_null1'], fwd: 'mac', appArgs: [`--burst=${burst}`] });
  try {
    await tp.cmd('start');
    await sleep(Math.min(2000, seconds * 200 + 500));
    const before = await tp.portStats();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const after = await tp.portStats();
    const secs = (performance.now() - t0) / 1000;
    await tp.cmd('stop');
    if (before.length !== 2 || after.length !== 2) {
      throw new BenchError(`dpdk-testpmd: no statistics for both ports: its output is in ${keepOutput('testpmd', tp.out)}`);
    }
    const rx = (s: typeof before) => s[0].rxPackets + s[1].rxPackets;
    return (rx(after) - rx(before)) / secs / 1e6;
  } finally {
    await tp.quit();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// pktio side

function pktioL2fwdNull(seconds: number): Promise<L2fwdRun> {
  return pktioL2fwd({ vdevs: ['net_null0', 'net_null1'], seconds, macUpdating: true });
}

async function ringSpsc(o: Opts): Promise<BenchResult> {
  if (o.vsDpdk && o.burst !== 8 && o.burst !== 32) {
    throw new BenchError(`DPDK's ring_perf_autotest measures bulks of 8 and 32 only: use --burst 8 or --burst 32 with --vs-dpdk`);
  }
  await pktio.init(['-l', '0,1', '--no-huge', '-m', '64', '--log-level', 'warn', '--file-prefix', `pktio-bench-${process.pid}`]);
  let one: { ns: number; items: number };
  let two: { sent: number; received: number; total: number; errors: number; seconds: number };
  try {
    pktio.ringCreate('bench_ring', 4096, pktio.RING_F_SP_ENQ | pktio.RING_F_SC_DEQ);
    one = ringOneCore({ ring: 'bench_ring', burst: o.burst, seconds: o.seconds });
    // two lcores: producer on lcore 1, consumer here
    pktio.ringCreate('bench_ring2', 4096, pktio.RING_F_SP_ENQ | pktio.RING_F_SC_DEQ);
    pktio.remoteLaunch(1, new URL(`./scenarios${ext}`, import.meta.url), { ring: 'bench_ring2', burst: o.burst }, 'ringProducer');
    await sleep(100);
    const c = ringConsumerTimed({ ring: 'bench_ring2', burst: o.burst }, o.seconds);
    const sent = (await pktio.waitLcore(1)) as number;
    two = { sent, received: c.received, total: c.total, errors: c.errors, seconds: c.seconds };
  } finally {
    await pktio.cleanup();
  }
  const dpdk = o.vsDpdk ? dpdkRingPerf(o.burst) : null;
  // cycles at the TSC rate DPDK measured with (same run), else the kernel's figure
  const hz = dpdk?.tscHz ?? cpuMhz() * 1e6;
  const nsPerElt = one.ns / one.items;
  const cycles = (nsPerElt * hz) / 1e9;
  const mpps = one.items / (one.ns / 1e9) / 1e6;
  const twoMpps = two.received / two.seconds / 1e6;
  // DPDK's two-core figure adds the producer's and the consumer's cycles per element, each over the whole window
  const twoCycles = (2 * two.seconds * hz) / two.received;
  return {
    scenario: 'ring-spsc', mpps, dpdkMpps: dpdk ? hz / dpdk.oneCore / 1e6 : null,
    ratio: dpdk ? dpdk.oneCore / cycles : null, packets: one.items, seconds: one.ns / 1e9, gcCount: 0, heapBytesPerPacket: 0,
    burst: o.burst, nsPerElement: nsPerElt, cyclesPerElement: cycles, dpdkCyclesPerElement: dpdk?.oneCore ?? null,
    tscMhz: hz / 1e6, tscSource: dpdk ? 'dpdk-test (EAL: TSC frequency)' : '/proc/cpuinfo cpu MHz',
    dpdkSeconds: dpdk?.seconds ?? null,
    twoLcore: {
      mpps: twoMpps, cyclesPerElement: twoCycles, dpdkCyclesPerElement: dpdk?.twoCore ?? null,
      ratio: dpdk?.twoCore ? dpdk.twoCore / twoCycles : null, seconds: two.seconds,
      received: two.received, errors: two.errors, lost: two.sent - two.total,
    },
  };
}

/**
 * Consumer on the main lcore for `secs`, checking the sequence; then asks the producer to stop and drains.
 * `received` and `seconds` are the measured window's; `total` adds what was drained after it.
 */
function ringConsumerTimed(a: { ring: string; burst: number }, secs: number): { received: number; seconds: number; total: number; errors: number } {
  const start = performance.now();
  const end = start + secs * 1000;
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
  const stop = performance.now();
  const inWindow = got;
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
  return { received: inWindow, seconds: (stop - start) / 1000, total: got, errors };
}

function haveCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

const NO_DPDK_TEST = 'dpdk-test is not installed: apt-get install -y dpdk-dev (Debian\'s DPDK), then run again';

interface DpdkRing { oneCore: number; twoCore: number | null; tscHz: number; seconds: number }

/**
 * DPDK's ring_perf_autotest, cycles per element for SP/SC bulk `burst`. Debian's 22.11 prints, in its first (legacy
 * API) pass, "legacy APIs: SP/SC: bulk (size: 32): 61.45": cycles per enqueue+dequeue of the whole bulk on one core
 * (divided by the bulk here), and under "two physical cores" the producer's plus the consumer's cycles per element.
 * Older DPDKs printed "SP/SC bulk enq/dequeue (size: 32): 1.92", already per element.
 */
export function parseRingPerf(out: string, burst: number): { oneCore: number | null; twoCore: number | null; tscHz: number | null } {
  const tsc = /TSC frequency is ~(\d+) KHz/.exec(out);
  const sections = out.split(/^### (.*) ###$/m); // [before, title, body, title, body, ...]
  const find = (title: RegExp): string | null => {
    for (let i = 1; i < sections.length; i += 2) if (title.test(sections[i])) return sections[i + 1];
    return null;
  };
  const num = (body: string | null, re: RegExp): number | null => {
    const m = body === null ? null : re.exec(body);
    return m ? Number(m[1]) : null;
  };
  const legacy = new RegExp(`^legacy APIs: SP/SC: bulk \\(size: ${burst}\\): ([\\d.]+)$`, 'm');
  const old = new RegExp(`^SP/SC bulk enq/dequeue \\(size: ${burst}\\): ([\\d.]+)$`, 'm');
  let oneCore = num(find(/^Testing bulk enq\/deq$/), legacy);
  if (oneCore !== null) oneCore /= burst;
  else oneCore = num(find(/^Testing using a single lcore$/), old);
  const pair = find(/^Testing using two physical cores$/) ?? find(/^Testing using two hyperthreads$/);
  const twoCore = num(pair, legacy) ?? num(pair, old);
  return { oneCore, twoCore, tscHz: tsc ? Number(tsc[1]) * 1000 : null };
}

function dpdkRingPerf(burst: number): DpdkRing {
  if (!haveCommand('dpdk-test')) throw new BenchError(NO_DPDK_TEST);
  const prefix = `pktio-ringperf-${process.pid}`;
  const t0 = performance.now();
  // lib.eal:debug makes the EAL print the TSC rate its cycle counts are in
  const r = spawnSync('sh', ['-c', `echo ring_perf_autotest | stdbuf -oL dpdk-test -l 0,1 -n 1 --no-pci --no-huge -m 256 ` +
    `--file-prefix ${prefix} --log-level lib.eal:debug 2>&1`], { encoding: 'utf8', timeout: 180000 });
  const seconds = (performance.now() - t0) / 1000;
  fs.rmSync(`/var/run/dpdk/${prefix}`, { recursive: true, force: true });
  const out = r.stdout ?? '';
  if (r.error) throw new BenchError(`dpdk-test ring_perf_autotest did not finish (${r.error.message}): its output is in ${keepOutput('ring_perf', out)}`);
  const p = parseRingPerf(out, burst);
  if (p.oneCore === null) {
    throw new BenchError(`dpdk-test printed no one-core 'SP/SC: bulk (size: ${burst})' figure: its output is in ${keepOutput('ring_perf', out)}`);
  }
  if (p.tscHz === null) throw new BenchError(`dpdk-test did not print its TSC frequency (EAL debug log): its output is in ${keepOutput('ring_perf', out)}`);
  return { oneCore: p.oneCore, twoCore: p.twoCore, tscHz: p.tscHz, seconds };
}

/** Builds bench/dpdk/mempool_perf.c against Debian's libdpdk-dev once per source version; returns the binary. */
function buildMempoolPerf(): string {
  const src = path.join(repoRoot, 'bench', 'dpdk', 'mempool_perf.c');
  if (!fs.existsSync(src)) throw new BenchError(`${src} is missing: run the bench from a pktio checkout`);
  const flags = spawnSync('pkg-config', ['--cflags', '--libs', 'libdpdk'], { encoding: 'utf8' });
  if (flags.status !== 0) throw new BenchError('libdpdk-dev is not installed (pkg-config libdpdk failed): apt-get install -y dpdk-dev, then run again');
  if (!haveCommand('cc')) throw new BenchError('no C compiler (cc) to build the DPDK side of mempool-bulk: apt-get install -y gcc, then run again');
  const text = fs.readFileSync(src, 'utf8') + flags.stdout;
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  const bin = path.join(os.tmpdir(), `pktio-mempool-perf-${(h >>> 0).toString(16)}`);
  if (fs.existsSync(bin)) return bin;
  const cc = spawnSync('sh', ['-c', `cc -O3 -o '${bin}.tmp' '${src}' ${flags.stdout.trim()}`], { encoding: 'utf8' });
  if (cc.status !== 0) throw new BenchError(`cc could not build ${src}: ${(cc.stderr || cc.stdout).trim().split('\n').slice(-1)[0]}`);
  fs.renameSync(`${bin}.tmp`, bin);
  return bin;
}

/** DPDK's rte_mempool, get+put bulk through the lcore cache for `seconds`: M objects/s as mempool_perf_autotest counts. */
function dpdkMempoolPerf(seconds: number, burst: number, cacheSize: number): { mops: number; seconds: number } {
  const bin = buildMempoolPerf();
  const prefix = `pktio-mempoolperf-${process.pid}`;
  const r = spawnSync(bin, ['-l', '0', '-n', '1', '--no-pci', '--no-huge', '-m', '256', '--file-prefix', prefix, '--log-level', 'warning',
    '--', String(seconds), String(burst), String(cacheSize)], { encoding: 'utf8', timeout: (seconds + 60) * 1000 });
  fs.rmSync(`/var/run/dpdk/${prefix}`, { recursive: true, force: true });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const m = /mempool_perf cache=(\d+) bulk=(\d+) keep=\d+ seconds=([\d.]+) objects=\d+ rate_persec=(\d+)/.exec(out);
  if (r.status !== 0 || !m) {
    throw new BenchError(`the DPDK mempool measurement failed (exit ${r.status ?? r.signal}): its output is in ${keepOutput('mempool_perf', out)}`);
  }
  if (Number(m[1]) !== cacheSize || Number(m[2]) !== burst) throw new BenchError(`the DPDK mempool ran with cache ${m[1]} bulk ${m[2]}, not ${cacheSize}/${burst}`);
  return { mops: Number(m[4]) / 1e6, seconds: Number(m[3]) };
}

const MEMPOOL_CACHE = 512;

async function mempoolBench(o: Opts): Promise<BenchResult> {
  if (o.vsDpdk) buildMempoolPerf(); // fail before measuring anything if DPDK's side cannot be built
  await pktio.init(['-l', '0', '--no-huge', '-m', '128', '--log-level', 'warn', '--file-prefix', `pktio-bench-${process.pid}`]);
  let r: { ns: number; objs: number };
  try {
    pktio.pktmbufPoolCreate('bench_mp', 16383, MEMPOOL_CACHE, 0, pktio.MBUF_DEFAULT_BUF_SIZE);
    r = mempoolBulk({ pool: 'bench_mp', burst: o.burst, seconds: o.seconds });
  } finally {
    await pktio.cleanup();
  }
  const mops = r.objs / (r.ns / 1e9) / 1e6;
  const dpdk = o.vsDpdk ? dpdkMempoolPerf(o.seconds, o.burst, MEMPOOL_CACHE) : null;
  return {
    scenario: 'mempool-bulk', mpps: mops, dpdkMpps: dpdk?.mops ?? null, ratio: dpdk ? mops / dpdk.mops : null, packets: r.objs,
    seconds: r.ns / 1e9, gcCount: 0, heapBytesPerPacket: 0, burst: o.burst, cacheSize: MEMPOOL_CACHE, dpdkSeconds: dpdk?.seconds ?? null,
    unit: 'million objects per second, each got and put back once (as mempool_perf_autotest counts)',
  };
}

const f2 = (x: unknown) => (typeof x === 'number' ? x.toFixed(2) : String(x));

/** The human-readable result line(s). */
function describe(o: Opts, res: BenchResult): string {
  const vs = res.ratio !== null ? `, ratio ${res.ratio.toFixed(3)} (pktio / DPDK, higher is better)` : ' (add --vs-dpdk to measure DPDK too)';
  switch (o.scenario) {
    case 'ring-spsc': {
      const two = res.twoLcore as Record<string, number | null>;
      return `ring-spsc bulk ${o.burst}, one core: pktio ${f2(res.mpps)} M elements/s (${f2(res.cyclesPerElement)} cycles/element)` +
        (res.dpdkMpps !== null ? `, DPDK ${f2(res.dpdkMpps)} M elements/s (${f2(res.dpdkCyclesPerElement)} cycles/element)` : '') + vs + '\n' +
        `ring-spsc bulk ${o.burst}, two lcores: pktio ${f2(two.mpps)} M elements/s (${f2(two.cyclesPerElement)} cycles/element, producer + consumer)` +
        (two.dpdkCyclesPerElement != null ? `, DPDK ${f2(two.dpdkCyclesPerElement)} cycles/element, ratio ${f2(two.ratio)}` : '') +
        `; ${two.lost} lost, ${two.errors} out of order\n`;
    }
    case 'mempool-bulk':
      return `mempool-bulk cache ${MEMPOOL_CACHE} bulk ${o.burst}: pktio ${f2(res.mpps)} M objects/s` +
        (res.dpdkMpps !== null ? `, DPDK ${f2(res.dpdkMpps)} M objects/s` : '') + vs + '\n';
    case 'mem-view':
      return Object.entries(res.nsPerElement as Record<string, number>).map(([k, v]) => `${k.padEnd(26)} ${v.toFixed(3)} ns per element copied\n`).join('');
    default:
      return `${o.scenario}: pktio ${f2(res.mpps)} Mpps` + (res.dpdkMpps !== null ? `, DPDK ${f2(res.dpdkMpps)} Mpps` : '') + vs +
        (o.scenario === 'l2fwd-null' || PLUGGED.has(o.scenario) ? `; ${res.gcCount} GCs, ${res.heapBytesPerPacket.toFixed(6)} heap bytes/packet` : '') + '\n';
  }
}

/** The middle value (the upper one of an even count): what --rounds reports. */
function median(a: number[]): number {
  return [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
}

async function run(o: Opts): Promise<BenchResult> {
  if (PLUGGED.has(o.scenario)) return (await plugged(o.scenario)).run(o);
  if (o.scenario === 'l2fwd-null') {
    if (o.burst !== 32) throw new BenchError('l2fwd-null uses l2fwd\'s burst of 32 (MAX_PKT_BURST): drop --burst');
    if (o.vsDpdk && !testpmdPath()) throw new BenchError(NO_TESTPMD);
    const ours: number[] = [];
    const theirs: number[] = [];
    let last: L2fwdRun | null = null;
    for (let r = 0; r < o.rounds; r++) {
      last = await pktioL2fwdNull(o.seconds);
      ours.push(last.mpps);
      if (!o.json) process.stdout.write(`round ${r + 1}: pktio ${last.mpps.toFixed(2)} Mpps, ${last.gcCount} GCs, ${last.heapBytesPerPacket.toFixed(6)} heap B/pkt\n`);
      if (o.vsDpdk) {
        theirs.push(await dpdkL2fwdNull(o.seconds, o.burst));
        if (!o.json) process.stdout.write(`round ${r + 1}: dpdk-testpmd ${theirs[r].toFixed(2)} Mpps\n`);
      }
    }
    const mpps = median(ours);
    const dpdkMpps = o.vsDpdk ? median(theirs) : null;
    return {
      scenario: o.scenario, ...last!, mpps, dpdkMpps, ratio: dpdkMpps !== null ? mpps / dpdkMpps : null,
      rounds: ours.map((m, i) => ({ pktio: m, dpdk: theirs[i] ?? null })),
    };
  }
  if (o.scenario === 'l2fwd-e1000e' || o.scenario === 'l2fwd-igb' || o.scenario === 'l2fwd-virtio') {
    return nicBench(o, o.scenario.slice('l2fwd-'.length) as 'e1000e' | 'igb' | 'virtio');
  }
  if (o.scenario === 'mem-view') {
    if (o.vsDpdk) throw new BenchError('mem-view has no DPDK side: drop --vs-dpdk');
    await pktio.init(['-l', '0', ...hugeArgs(false), '--log-level', 'warn', '--file-prefix', `pktio-bench-${process.pid}`]);
    try {
      const ns = memViewCopy(pktio.mem().u32.subarray(0, pktio.mem().len >> 2), o.seconds); // the memory, not the window after it
      return { scenario: 'mem-view', mpps: null, dpdkMpps: null, ratio: null, packets: 0, seconds: o.seconds, gcCount: 0, heapBytesPerPacket: 0, nsPerElement: ns };
    } finally {
      await pktio.cleanup();
    }
  }
  if (o.scenario === 'ring-spsc') return ringSpsc(o);
  return mempoolBench(o);
}

/**
 * l2fwd between two emulated NICs of one hub in the rig's guest, then testpmd on the same ports (bench-nic.sh).
 * MMIO accesses per forwarded packet come from QEMU's own trace of the Intel models' register reads and writes
 * (e1000e_core_read / e1000e_core_write, which the igb model shares), in two more guests that run one side each:
 * tracing slows QEMU, so rates come from the untraced guest. Counts include start-up and statistics reads.
 */
function nicBench(o: Opts, nic: 'e1000e' | 'igb' | 'virtio'): BenchResult {
  // virtio: writes = the driver's notifications (kicks, the MMIO that matters), reads = the device's notifications
  // of the driver (interrupts it would raise; pktio and DPDK poll and suppress them)
  const events = nic === 'virtio' ? ['virtio_queue_notify', 'virtio_notify'] : ['e1000e_core_write', 'e1000e_core_read'];
  const guest = (which: string, trace: string | null, rounds: number) => {
    const env = { ...process.env };
    if (trace) env.PKTIO_VM_QEMU_ARGS = `-D ${trace} ${events.map((e) => `-trace ${e}`).join(' ')}`;
    // no heartbeat: its walk of /proc every 30 s would take guest CPU from the measured loops
    const r = spawnSync('bash', [path.join(repoRoot, 'test/vm/run.sh'), '--mode', 'type1', '--topology', 'loop', '--nic', nic,
      '--timeout', String(300 + rounds * 300), '--heartbeat', '0', '--',
      `bash ${path.join(repoRoot, 'test/vm/guest/bench-nic.sh')} ${o.seconds} ${which} ${rounds}`],
    { encoding: 'utf8', timeout: (400 + rounds * 300) * 1000, env });
    const out = (r.stdout ?? '') + (r.stderr ?? '');
    /** every value the guest printed for key k, one per round */
    const all = (k: string) => [...out.matchAll(new RegExp(`^${k}=([\\d.]+)`, 'gm'))].map((m) => Number(m[1]));
    const num = (k: string) => all(k)[0] ?? null;
    return { out, num, all };
  };
  // rounds alternate pktio and testpmd in one guest; each side's median is reported, every round in `rounds`
  const main = guest(o.vsDpdk ? 'both' : 'pktio', null, o.rounds);
  const ours = main.all('pktio_mpps');
  if (ours.length < o.rounds) {
    throw new BenchError(`${ours.length} of ${o.rounds} pktio results from the guest (provision the rig first: bash test/vm/provision.sh): its output is in ${keepOutput(o.scenario, main.out)}`);
  }
  const theirs = o.vsDpdk ? main.all('dpdk_mpps') : [];
  if (o.vsDpdk && theirs.length < o.rounds) {
    throw new BenchError(`${theirs.length} of ${o.rounds} dpdk-testpmd results from the guest: its output is in ${keepOutput(o.scenario, main.out)}`);
  }
  const mpps = median(ours);
  const dpdkMpps = o.vsDpdk ? median(theirs) : null;
  const packets = main.all('pktio_packets');
  const res: BenchResult = {
    scenario: o.scenario, mpps, dpdkMpps, ratio: dpdkMpps !== null ? mpps / dpdkMpps : null,
    packets: packets.reduce((a, b) => a + b, 0),
    seconds: o.seconds * o.rounds, gcCount: NaN, heapBytesPerPacket: NaN,
    note: `QEMU TCG guest (GC not measured in the guest), two ${nic} on one hub, io forwarding`,
    rounds: ours.map((m, i) => ({ pktio: m, dpdk: theirs[i] ?? null })),
  };
  // net_virtio counts its notifications itself (xstats): per packet in the untraced window
  const kicks = main.all('pktio_kicks').reduce((a, b) => a + b, 0);
  if (nic === 'virtio' && res.packets > 0) res.pktioKicksPerPacket = kicks / res.packets;
  if (!o.mmio) return res;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pktio-mmio-'));
  try {
    const count = (which: 'pktio' | 'dpdk') => {
      const trace = path.join(dir, `${which}.trace`);
      const g = guest(which, trace, 1);
      const packets = g.num(`${which}_packets`);
      if (packets === null || packets === 0 || !fs.existsSync(trace)) {
        throw new BenchError(`the traced ${which} guest gave no packet count or trace: its output is in ${keepOutput(`${o.scenario}-${which}-mmio`, g.out)}`);
      }
      let reads = 0;
      let writes = 0;
      let lines = fs.readFileSync(trace, 'utf8').split('\n');
      if (nic === 'virtio') {
        // the guest's root file system is virtio-9p (one queue, n 0): keep the devices that notified a queue n >= 1
        const nets = new Set(lines.map((l) => /vdev (0x[0-9a-f]+) n ([1-9]\d*)/.exec(l)?.[1]).filter(Boolean));
        lines = lines.filter((l) => nets.has(/vdev (0x[0-9a-f]+)/.exec(l)?.[1]));
      }
      for (const line of lines) {
        if (line.includes(events[0])) writes++;
        else if (line.includes(events[1])) reads++;
      }
      return { packets, readsPerPacket: reads / packets, writesPerPacket: writes / packets, reads, writes };
    };
    res.mmio = { pktio: count('pktio'), dpdk: o.vsDpdk ? count('dpdk') : null };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return res;
}

/** Fields of the --json line besides the common ones. */
const JSON_EXTRAS: Record<string, string[]> = {
  'l2fwd-null': ['mbufsLost', 'rounds'],
  'ring-spsc': ['burst', 'cyclesPerElement', 'dpdkCyclesPerElement', 'tscMhz', 'twoLcore'],
  'mempool-bulk': ['burst', 'cacheSize', 'unit'],
  'mem-view': ['nsPerElement'],
  'l2fwd-e1000e': ['mmio', 'rounds'],
  'l2fwd-igb': ['mmio', 'rounds'],
  'l2fwd-virtio': ['mmio', 'pktioKicksPerPacket', 'rounds'],
};

async function main(): Promise<number> {
  let o: Opts | null;
  try {
    o = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    return 2;
  }
  if (o === null) {
    process.stdout.write(usage() + '\n');
    return 0;
  }
  let res: BenchResult;
  try {
    res = await run(o);
  } catch (e) {
    if (!(e instanceof BenchError || e instanceof pktio.EalArgError)) throw e;
    process.stderr.write(`bench ${o.scenario}: ${e.message}\n`);
    return 1;
  }
  res.node = process.version;
  res.cpus = os.cpus().length;
  res.date = new Date().toISOString();
  const dir = path.join(repoRoot, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${o.scenario}-${String(res.date).replace(/[:.]/g, '-')}.json`), JSON.stringify(res, null, 2) + '\n');
  const mod = PLUGGED.has(o.scenario) ? await plugged(o.scenario) : null;
  if (!o.json) process.stdout.write(mod?.describe ? mod.describe(o, res) : describe(o, res));
  const { scenario, mpps, dpdkMpps, ratio, packets, seconds, gcCount, heapBytesPerPacket } = res;
  const line: Record<string, unknown> = { scenario, mpps, dpdkMpps, ratio, packets, seconds, gcCount, heapBytesPerPacket };
  for (const k of mod?.jsonExtras ?? JSON_EXTRAS[o.scenario] ?? ['mbufsLost', 'size', 'burst']) line[k] = res[k];
  if (o.json) process.stdout.write(JSON.stringify(line) + '\n');
  if (res.failed) process.stderr.write(`bench ${o.scenario}: ${String(res.failed)}\n`);
  return res.failed ? 1 : 0; // a scenario that checks something (soak) reports a failure here
}

const isMain = !!process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href;
if (isMain) process.exitCode = await main();
