// Restart in a loop: init / ports, pools, rings / cleanup, 100 times in one process (--no-huge), then a few times on
// hugepages and with a worker lcore. Memory must stay flat: RSS, JS heap, open fds, and this process's hugepages
// (its HugetlbPages, its files in the hugetlbfs mount: other processes on the machine may take and free pages of
// the shared pool meanwhile, so the pool's free count says nothing about this one).
import t, { type Test } from 'tap';
import * as v8 from 'node:v8';
import { readdirSync, readFileSync } from 'node:fs';
import * as pktio from '../src/index.js';
import { startPort } from './helpers/ports.js';
import { fullGc } from '../src/lib/gc.js';

const cpus = pktio.cpusAllowed();
const HUGE = 2 * 1048576;
const hugeMount = pktio.hugetlbfsMounts().find((m) => m.pageSize === HUGE);

const PREFIX = `pktio-restart-${process.pid}`;

interface Sample { rss: number; heap: number; fds: number; hugeKb: number; hugeFiles: number }

/** kB of hugetlb pages this process maps (/proc/self/status, HugetlbPages) */
const hugetlbKb = () => Number(/^HugetlbPages:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);

function sample(): Sample {
  fullGc();
  fullGc();
  return {
    rss: process.memoryUsage.rss(), heap: v8.getHeapStatistics().used_heap_size, fds: readdirSync('/proc/self/fd').length,
    hugeKb: hugetlbKb(), hugeFiles: hugeMount ? readdirSync(hugeMount.dir).filter((f) => f.startsWith(PREFIX)).length : 0,
  };
}

/**
 * One life: EAL up, two null ports and a ring port forwarding a few bursts, a ring, then every resource freed.
 * Returns the kB of hugepages mapped while it was up.
 */
async function cycle(eal: string[]): Promise<number> {
  await pktio.init([...eal, '--file-prefix', PREFIX, '--vdev', 'net_null0', '--vdev', 'net_null1', '--log-level', 'error']);
  const pool = pktio.pktmbufPoolCreate('restart', 1023, 32, 0, pktio.MBUF_DEFAULT_BUF_SIZE);
  const ring = pktio.ringCreate('restart_r', 256);
  for (const p of [0, 1]) startPort(p, pool, 1, 128);
  const pkts = new Uint32Array(32);
  for (let i = 0; i < 20; i++) {
    const n = pktio.rxBurst(i & 1, 0, pkts, 32);
    const sent = pktio.txBurst((i & 1) ^ 1, 0, pkts, n, 0);
    if (sent < n) pktio.pktmbufFreeBulk(pkts, n - sent, sent);
  }
  for (const p of [0, 1]) pktio.devStop(p);
  if (pool.inUseCount() !== 0) throw new Error(`cycle left ${pool.inUseCount()} mbufs in use`);
  pktio.ringFree(ring);
  const up = hugetlbKb();
  await pktio.cleanup();
  return up;
}

const mb = (n: number) => (n / 1048576).toFixed(1);
const show = (s: Sample) => `rss ${mb(s.rss)} MiB, heap ${mb(s.heap)} MiB, fds ${s.fds}, hugepages mapped ${s.hugeKb} kB, hugetlbfs files ${s.hugeFiles}`;

async function loop(t: Test, n: number, eal: string[], label: string): Promise<void> {
  await cycle(eal); // warm-up: modules, JIT, logger
  const before = sample();
  const t0 = Date.now();
  let upKb = 0;
  for (let i = 0; i < n; i++) upKb = Math.max(upKb, await cycle(eal));
  const after = sample();
  if (eal.includes('--no-huge')) t.equal(upKb, 0, 'no hugepage while up (--no-huge)');
  else t.ok(upKb > 0, `hugepages mapped while up (${upKb} kB), none after`);
  t.comment(`${label}: ${n} cycles in ${Date.now() - t0} ms\n  before: ${show(before)}\n  after:  ${show(after)}`);
  t.ok(after.rss - before.rss < 16 * 1048576, `RSS flat (${mb(before.rss)} -> ${mb(after.rss)} MiB)`);
  t.ok(after.heap - before.heap < 1048576, `heap flat (${mb(before.heap)} -> ${mb(after.heap)} MiB)`);
  t.equal(after.fds, before.fds, 'no fd left open');
  t.equal(after.hugeKb, 0, 'no hugepage mapped');
  t.equal(after.hugeFiles, before.hugeFiles, 'no file left in the hugetlbfs mount');
  t.equal(pktio.ealInitialized(), false);
}

t.test('100 cycles without hugepages, main lcore only', (t) => loop(t, 100, ['--no-huge', '-m', '16', '-l', `${cpus[0]}`], 'no-huge'));

t.test('10 cycles on hugepages', { skip: !hugeMount && 'no 2 MiB hugetlbfs mount' },
  (t) => loop(t, 10, ['-m', '32', '-l', `${cpus[0]}`], 'hugepages'));

// a worker thread costs seconds to start under the test's TypeScript loader: a few cycles only
t.test('3 cycles with a worker lcore', { skip: cpus.length < 2 && 'needs 2 CPUs' },
  (t) => loop(t, 3, ['--no-huge', '-m', '32', '-l', cpus.slice(0, 2).join(',')], 'worker lcore'));
