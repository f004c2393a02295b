// pktgen --timestamps: the option, the refusal on ports without IEEE 1588 (the command as a user runs it), the
// labels of the reports, and the hardware path on a test PMD with IEEE 1588 latches that loops each frame back
// with a fixed wire time (helpers/timesync-loop-pmd.ts). On a NIC: QEMU's igb in test/vm/timesync.vm.ts.
import t, { type Test } from 'tap';
import * as pktio from '../src/index.js';
import { parseIpRange } from '../src/lib/frames.js';
import { PACE_CONSTANT } from '../src/lib/pacer.js';
import { Generator, startGenPorts } from '../examples/pktgen/generator.js';
import { HwClocks } from '../examples/pktgen/hwclock.js';
import { pmd as loopPmd, LoopPort, WIRE_NS } from './helpers/timesync-loop-pmd.js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePktgenArgs, UsageError } from '../examples/pktgen/args.js';
import { formatTick, formatResult } from '../examples/pktgen/main.js';
import type { TrialResult } from '../examples/pktgen/generator.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const mainJs = join(root, 'dist/examples/pktgen/main.js');

t.test('--timestamps: software by default, hardware on request, nothing else', async (t) => {
  t.equal(parsePktgenArgs([]).timestamps, 'software');
  t.equal(parsePktgenArgs(['--timestamps', 'hardware']).timestamps, 'hardware');
  t.throws(() => parsePktgenArgs(['--timestamps', 'ptp']), new UsageError("invalid timestamps 'ptp': software or hardware"));
});

t.test('hardware timestamps on ports without IEEE 1588: one line, exit 1', async (t) => {
  const r = spawnSync(process.execPath, [mainJs, '--no-huge', '-m', '64', '-l', '0,1', '--vdev', 'net_ring0', '--vdev', 'net_ring1',
    '--log-level', 'error', '--', '--timestamps', 'hardware', '--duration', '1', '-T', '0'], { encoding: 'utf8', timeout: 60000 });
  t.equal(r.status, 1, 'exit status 1');
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('pktgen:'));
  t.same(lines, ['pktgen: --timestamps hardware: port 0 (net_ring) has no IEEE 1588 timestamps; use ports whose driver has them (net_igb, net_ixgbe) or --timestamps software'],
    'says which port and what to do');
  t.notMatch(r.stdout, /result/, 'no trial ran');
});

t.test('every report names its timestamps', async (t) => {
  const tick = { t: 1, phase: 1, txPps: [1000], rxPps: [1000], lost: [0], p50: [2000], p99: [3000] };
  const streams = [{ id: 0, port: 0, queue: 0, rate: 1000, mode: 0, sizes: [64], flow: parsePktgenArgs([]).flow }];
  t.match(formatTick(tick, streams, 'hardware'), /\(hardware timestamps\)\n$/);
  t.match(formatTick(tick, streams), /\(software timestamps\)\n$/);
  const lat = { count: 5, min: 1000, max: 3000, mean: 2000, p50: 2000, p99: 3000, p999: 3000 };
  const r: TrialResult = {
    timestamps: 'hardware', durationS: 1, txPackets: 1000, rxPackets: 1000, lost: 0, lossPct: 0, foreign: 0, crossed: 0, lcores: [1], workerGcs: 0, workerHeapGrowth: 0, workerYoungGrowth: 0,
    tx: [{ id: 0, port: 0, queue: 0, targetPps: 1000, packets: 1000, bytes: 64000, pps: 1000, skipped: 0, refused: 0, nombuf: 0, gaps: { ...lat, stddev: 0 } }],
    rx: [{ id: 0, rx: 1000, unique: 1000, lost: 0, lossPct: 0, dup: 0, reorder: 0, late: 0, latency: lat }],
    probes: { sent: 6, measured: 5, lost: 1, clockErrorNs: 1500 },
  };
  const out = formatResult(r);
  t.match(out, /^pktgen: 1 s, timestamps: hardware\n/);
  t.match(out, /latency \(hardware\) min 1\.0 mean 2\.0/);
  t.match(out, /hardware timestamps: 5 of 6 probes measured, 1 lost or not stamped; clock offsets known to \+-1\.5 us/);
  t.match(out, /\ngenerator lcore 1: 0 GCs, heap \+0 bytes \(young generation \+0\) over the trial\n$/);
  t.match(formatResult({ ...r, crossed: 7, lcores: [1, 2] }), /not counted \(they reached a second RX lcore; counted as lost\): 7: .*\ngenerator lcores 1,2: /);
});

/** The EAL with these lcores, one looping port with latches started, its clocks enabled, a generator on lcore 1. */
async function loopRig(t: Test, lcores: string) {
  await pktio.init(['--no-pci', '--no-huge', '-m', '128', '--log-level', 'error', '--lcores', lcores]);
  t.teardown(pktio.cleanup);
  pktio.registerPmd(loopPmd);
  const port = pktio.ethDevAllocate('tsloop0', new LoopPort('tsloop0'), loopPmd);
  const pool = pktio.pktmbufPoolCreate('tsl_pool', 8191, 256);
  startGenPorts([port], pool);
  const hw = HwClocks.enable([port], [port]);
  const gen = new Generator('tsl_pool', 1);
  const flow = {
    srcMac: [2, 0, 0, 0, 0, 1], dstMac: [2, 0, 0, 0, 0, 0x15], srcIp: parseIpRange('198.18.0.1'), dstIp: parseIpRange('198.19.0.1'),
    srcPort: { start: 1024, count: 1 }, dstPort: { start: 1024, count: 1 },
  };
  return { port, pool, hw, gen, flow };
}

t.test('hardware timestamps end to end on a looping port with IEEE 1588 latches', async (t) => {
  const cpus = pktio.cpusAllowed();
  const { port, pool, hw, gen, flow } = await loopRig(t, `0@${cpus[0]},1@${cpus[cpus.length - 1]}`);
  const trial = (durationS: number) => gen.run({
    streams: [{ id: 0, port, queue: 0, rate: 20000, mode: PACE_CONSTANT, sizes: [64], flow }],
    rx: [{ port, queue: 0 }], durationS, drainS: 0.1, burst: 32, hw,
  });
  // a warm-up trial first: the generator lcore's GC count covers the whole trial, the JIT's first tiers included
  // (1 GC in 3 of 7 single-trial runs, none from the data path once warm)
  await trial(0.3);
  const r = await trial(1);
  t.equal(r.timestamps, 'hardware', 'the result says hardware');
  // one in flight, handed over through the main lcore's 1 ms timer: tens to hundreds per second on a loaded host
  t.ok(r.probes && r.probes.sent >= 20, `probes sent: ${r.probes?.sent} in 1 s (one per ms at most)`);
  t.ok(r.probes && r.probes.measured >= r.probes.sent - 2, `measured ${r.probes?.measured}, lost ${r.probes?.lost}`);
  t.equal(r.rx[0].latency.count, r.probes?.measured, 'the latency histogram holds the probes, not the stream packets');
  const l = r.rx[0].latency;
  t.ok(Math.abs(l.p50 - WIRE_NS) <= WIRE_NS * 0.02 && Math.abs(l.max - WIRE_NS) <= WIRE_NS * 0.02,
    `latency is the wire time ${WIRE_NS} ns: p50 ${l.p50}, min ${l.min}, max ${l.max}`);
  t.equal(r.lost, 0, 'no stream packet lost');
  t.equal(r.foreign, 0, 'probes are not counted as foreign packets');
  t.equal(r.workerGcs, 0, `no GC on the generator lcore (heap growth ${r.workerHeapGrowth} B, ${r.txPackets} packets, ${r.probes?.sent} probes)`);
  // the lcore warms up dry before each trial (gen.ts warmUp), so the interpreter's boxed doubles are gone (0.4 to 3.4
  // MB of young generation a trial before it). The heap as a whole still grows by what the JIT compiles late, more
  // on a loaded host (1.1 MB once)
  t.ok(r.workerYoungGrowth < 256 * 1024, `the trial allocated ${r.workerYoungGrowth} B on the generator lcore (under 256 kB)`);
  pktio.devStop(port);
  t.equal(pool.inUseCount(), 0, 'every mbuf back');
  pktio.devClose(port);
});

t.test('hardware timestamps with TX and RX on two lcores: the RX lcore sends no probe and touches no TX queue', async (t) => {
  // before a fix, the RX-only lcore took its turn at the probe too: it claimed one and failed on its empty stream list
  const cpus = pktio.cpusAllowed();
  const { port, pool, hw, gen, flow } = await loopRig(t, `0@${cpus[0]},1@${cpus[cpus.length - 1]},2@${cpus[0]}`);
  const r = await gen.run({
    streams: [{ id: 0, port, queue: 0, rate: 5000, mode: PACE_CONSTANT, sizes: [64], flow, lcore: 1 }],
    rx: [{ port, queue: 0, lcore: 2 }], durationS: 0.5, drainS: 0.2, burst: 32, hw,
  });
  t.same(r.lcores, [1, 2], 'lcore 1 sends, lcore 2 counts');
  t.ok(r.probes && r.probes.sent > 0 && r.probes.measured > 0, `probes sent ${r.probes?.sent}, measured ${r.probes?.measured}`);
  t.equal(r.lost, 0, 'no stream packet lost');
  t.equal(r.rx[0].rx, r.txPackets, `every packet counted once: ${r.txPackets}`);
  pktio.devStop(port);
  t.equal(pool.inUseCount(), 0, 'every mbuf back');
  pktio.devClose(port);
});
