// pktgen --timestamps: the option, the refusal on ports without IEEE 1588 (the command as a user runs it), and the
// labels of the reports. The hardware path itself runs on QEMU's igb in test/vm/timesync.vm.ts.
import t from 'tap';
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
    timestamps: 'hardware', durationS: 1, txPackets: 1000, rxPackets: 1000, lost: 0, lossPct: 0, foreign: 0, workerGcs: 0, workerHeapGrowth: 0,
    tx: [{ id: 0, port: 0, queue: 0, targetPps: 1000, packets: 1000, bytes: 64000, pps: 1000, skipped: 0, refused: 0, nombuf: 0, gaps: { ...lat, stddev: 0 } }],
    rx: [{ id: 0, rx: 1000, unique: 1000, lost: 0, lossPct: 0, dup: 0, reorder: 0, late: 0, latency: lat }],
    probes: { sent: 6, measured: 5, lost: 1, clockErrorNs: 1500 },
  };
  const out = formatResult(r);
  t.match(out, /^pktgen: 1 s, timestamps: hardware\n/);
  t.match(out, /latency \(hardware\) min 1\.0 mean 2\.0/);
  t.match(out, /hardware timestamps: 5 of 6 probes measured, 1 lost or not stamped; clock offsets known to \+-1\.5 us/);
});
