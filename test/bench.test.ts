// bench: --help, argument errors, DPDK output parsing, --seconds honoured by every scenario, and (where Debian's DPDK
// is installed) --vs-dpdk giving a DPDK figure measured in the same run with ratio = pktio / DPDK.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseRingPerf, usage, SCENARIOS } from '../bench/run.js';

// dpdk-test's ring_perf_autotest runs a fixed number of iterations: 5 s on a quiet machine, far more on a loaded one
t.setTimeout(240000);

const root = fileURLToPath(new URL('..', import.meta.url));
const runJs = join(root, 'dist/bench/run.js');
const bench = (...args: string[]) => spawnSync(process.execPath, ['--expose-gc', runJs, ...args], { cwd: root, encoding: 'utf8', timeout: 240000 });
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

// Debian's DPDK 22.11 (dpdk-test ring_perf_autotest with --log-level lib.eal:debug), abridged
const DEBIAN_22_11 = `EAL: TSC frequency is ~2100000 KHz
RTE>>ring_perf_autotest

### Testing single element enq/deq ###
legacy APIs: SP/SC: single: 20.31
legacy APIs: MP/MC: single: 45.49

### Testing burst enq/deq ###
legacy APIs: SP/SC: burst (size: 8): 18.38
legacy APIs: SP/SC: burst (size: 32): 39.43

### Testing bulk enq/deq ###
legacy APIs: SP/SC: bulk (size: 8): 17.15
legacy APIs: SP/SC: bulk (size: 32): 46.88
legacy APIs: MP/MC: bulk (size: 8): 48.04
legacy APIs: MP/MC: bulk (size: 32): 69.14

### Testing empty bulk deq ###
legacy APIs: SP/SC: bulk (size: 8): 4.19

### Testing using two physical cores ###
legacy APIs: SP/SC: bulk (size: 8): 85.49
legacy APIs: MP/MC: bulk (size: 8): 222.87
legacy APIs: SP/SC: bulk (size: 32): 21.77
legacy APIs: MP/MC: bulk (size: 32): 60.46

### Testing bulk enq/deq ###
elem APIs: element size 16B: SP/SC: bulk (size: 32): 44.72
`;

t.test('parseRingPerf: Debian 22.11 and the older per-element form', async (t) => {
  const p = parseRingPerf(DEBIAN_22_11, 32);
  t.equal(p.oneCore, 46.88 / 32, 'one core: cycles per bulk round trip / bulk');
  t.equal(p.twoCore, 21.77, 'two cores: already per element');
  t.equal(p.tscHz, 2.1e9);
  t.equal(parseRingPerf(DEBIAN_22_11, 8).oneCore, 17.15 / 8);
  t.same(parseRingPerf('nothing', 32), { oneCore: null, twoCore: null, tscHz: null });
  const old = '### Testing using a single lcore ###\nSP/SC bulk enq/dequeue (size: 32): 1.40\nMP/MC bulk enq/dequeue (size: 32): 1.91\n' +
    '\n### Testing using two physical cores ###\nSP/SC bulk enq/dequeue (size: 32): 11.86\n';
  t.same(parseRingPerf(old, 32), { oneCore: 1.4, twoCore: 11.86, tscHz: null });
});

t.test('--help lists every scenario, one line each', async (t) => {
  const u = usage();
  for (const [name, line] of Object.entries(SCENARIOS)) {
    t.ok(u.includes(`\n  ${name.padEnd(13)} ${line}\n`), name);
    t.notMatch(line, /\n/);
  }
  if (!existsSync(runJs)) return;
  const r = bench('--help');
  t.equal(r.status, 0);
  t.equal(r.stdout, `${u}\n`);
});

t.test('errors: one line that says what to do', { skip: !existsSync(runJs) && 'dist/ not built' }, async (t) => {
  for (const [args, msg] of [
    [[], /^bench: give a scenario: l2fwd-null, .* \(npm run bench -- --help lists them\)\n$/],
    [['nope'], new RegExp(`^bench: unknown scenario 'nope': expected ${Object.keys(SCENARIOS).join(', ')}\\n$`)],
    [['ring-spsc', '--seconds', '0'], /^bench: --seconds needs a positive number, e.g. --seconds 5\n$/],
    [['ring-spsc', '--frob'], /^bench: unknown option '--frob'/],
    [['ring-spsc', '--vs-dpdk', '--burst', '16'], /^bench ring-spsc: DPDK's ring_perf_autotest measures bulks of 8 and 32 only: use --burst 8 or --burst 32 with --vs-dpdk\n$/],
    [['mem-view', '--vs-dpdk'], /^bench mem-view: mem-view has no DPDK side: drop --vs-dpdk\n$/],
  ] as Array<[string[], RegExp]>) {
    const r = bench(...args);
    t.not(r.status, 0, args.join(' '));
    t.match(r.stderr, msg);
  }
});

t.test('--seconds is honoured', { skip: !existsSync(runJs) && 'dist/ not built' }, async (t) => {
  // at least the time asked for; the upper bound leaves room for a loaded machine descheduling the busy lcores
  for (const sc of ['ring-spsc', 'mempool-bulk']) {
    const r = bench(sc, '--seconds', '1', '--json');
    t.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    t.ok(j.seconds >= 1 && j.seconds < 3, `${sc}: measured ${j.seconds} s`);
    t.ok(j.mpps > 0);
    t.equal(j.dpdkMpps, null, 'no DPDK figure without --vs-dpdk');
    t.equal(j.ratio, null);
    if (sc === 'ring-spsc') t.ok(j.twoLcore.seconds >= 1 && j.twoLcore.seconds < 3, `two lcores: ${j.twoLcore.seconds} s`);
  }
  const r = bench('mem-view', '--seconds', '0.6');
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /koffi\.view \(EAL region\) +\d+\.\d+ ns per element copied/);
});

t.test('ring-spsc --vs-dpdk: DPDK cycles from dpdk-test in the same run; ratio = DPDK cycles / pktio cycles',
  { skip: !have('dpdk-test') && 'dpdk-test is not installed (apt-get install -y dpdk-dev)' }, async (t) => {
    const r = bench('ring-spsc', '--seconds', '1', '--vs-dpdk', '--json');
    t.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    t.ok(j.dpdkCyclesPerElement > 0 && j.cyclesPerElement > 0, JSON.stringify(j));
    t.ok(Math.abs(j.ratio - j.dpdkCyclesPerElement / j.cyclesPerElement) < 1e-9);
    t.ok(Math.abs(j.ratio - j.mpps / j.dpdkMpps) < 1e-9, 'the same ratio as throughputs');
  });

t.test('mempool-bulk --vs-dpdk: DPDK\'s rte_mempool measured in the same run; ratio = pktio / DPDK',
  { skip: !(have('cc') && spawnSync('pkg-config', ['--exists', 'libdpdk']).status === 0) && 'needs cc and libdpdk-dev' }, async (t) => {
    const r = bench('mempool-bulk', '--seconds', '1', '--vs-dpdk', '--json');
    t.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    t.ok(j.dpdkMpps > 0, JSON.stringify(j));
    t.ok(Math.abs(j.ratio - j.mpps / j.dpdkMpps) < 1e-9);
    t.match(j, { burst: 32, cacheSize: 512 });
  });
