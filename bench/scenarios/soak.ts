// `soak`: examples/l2fwd's forwarding loop between two net_null ports on worker lcore 1 for --seconds (e.g. 3600),
// sampling every minute (every tenth of the run when it is shorter than ten minutes): the process's RSS, the
// forwarding lcore's heap after a full GC and its GC count over the interval (the loop answers marks, see
// examples/l2fwd/fwd.ts takeMark), the main lcore's heap, and the mbufs out of the pool. Fails (exit 1) when any of
// them grows: the last third of the samples against the first third, past a small allowance. Not run in CI.
import * as v8 from 'node:v8';
import { fullGc } from '../../src/lib/gc.js';
import * as pktio from '../../src/index.js';
import { MARK_F64 } from '../../examples/l2fwd/fwd.js';
import { launchPair } from '../l2fwd-inproc.js';
import { hugeArgs, sleep, BenchError, type BenchOpts, type BenchResult } from '../common.js';

interface Sample { t: number; mpps: number; rssMb: number; fwdHeapKb: number; fwdGcs: number; mainHeapKb: number; mbufsOut: number }

/** How much a quantity may grow from the first third of the run to the last before the soak fails. */
const ALLOW = { rssMb: 8, fwdHeapKb: 256, fwdGcs: 1, mainHeapKb: 1024, mbufsOut: 64 }; // mbufs: two bursts in flight


/** The growth of each quantity: mean of the last third of the samples minus the max of the first third. */
export function growth(s: Sample[]): Record<keyof typeof ALLOW, number> {
  const third = Math.max(1, Math.floor(s.length / 3));
  const first = s.slice(0, third);
  const last = s.slice(-third);
  const g = {} as Record<keyof typeof ALLOW, number>;
  for (const k of Object.keys(ALLOW) as Array<keyof typeof ALLOW>) {
    g[k] = last.reduce((a, x) => a + x[k], 0) / last.length - Math.max(...first.map((x) => x[k]));
  }
  return g;
}

export async function run(o: BenchOpts): Promise<BenchResult> {
  if (o.vsDpdk) throw new BenchError('soak has no DPDK side: drop --vs-dpdk');
  const periodS = Math.min(60, o.seconds / 10);
  await pktio.init(['-l', '0,1', ...hugeArgs(false), '--file-prefix', `pktio-soak-${process.pid}`, '--log-level', 'warn',
    '--vdev', 'net_null0', '--vdev', 'net_null1']);
  try {
    const pair = launchPair(1, true, 'soak_pool');
    const { pool, f64, sent } = pair;
    let markNo = 0;
    const mark = () => pair.mark(++markNo);
    await sleep(3000); // warm-up: JIT
    const samples: Sample[] = [];
    const t0 = performance.now();
    let p0 = sent();
    await mark(); // odd: full GC on the lcore, heap noted, GC profiler started
    while (performance.now() - t0 < o.seconds * 1000) {
      const ts = performance.now();
      await sleep(periodS * 1000);
      await mark(); // even: GCs since the odd mark
      const p1 = sent();
      const fwdHeap = f64[MARK_F64 + 4];
      const fwdGcs = f64[MARK_F64 + 1];
      fullGc();
      samples.push({ t: Math.round((performance.now() - t0) / 1000), mpps: (p1 - p0) / ((performance.now() - ts) / 1000) / 1e6,
        rssMb: process.memoryUsage.rss() / 1048576, fwdHeapKb: fwdHeap / 1024, fwdGcs, mainHeapKb: v8.getHeapStatistics().used_heap_size / 1024,
        mbufsOut: pool.size - pool.availCount() });
      p0 = p1;
      await mark();
    }
    pktio.requestQuit();
    await pktio.waitLcore(1);
    const packets = f64[0 * 4] + f64[1 * 4];
    for (const p of [0, 1]) pktio.devClose(p);
    const g = growth(samples);
    const grew = (Object.keys(ALLOW) as Array<keyof typeof ALLOW>).filter((k) => g[k] > ALLOW[k]);
    const secs = (performance.now() - t0) / 1000;
    return {
      scenario: 'soak', mpps: samples.reduce((a, s) => a + s.mpps, 0) / Math.max(1, samples.length), dpdkMpps: null, ratio: null,
      packets, seconds: secs, gcCount: samples.reduce((a, s) => a + s.fwdGcs, 0), heapBytesPerPacket: 0, samples, growth: g,
      allow: ALLOW, grew, failed: grew.length > 0 ? `grew: ${grew.map((k) => `${k} +${g[k].toFixed(1)}`).join(', ')}` : null,
      mbufsLost: pool.size - pool.availCount(),
    };
  } finally {
    await pktio.cleanup();
  }
}

export function describe(_o: BenchOpts, res: BenchResult): string {
  const s = res.samples as Sample[];
  const rows = s.map((x) => `| ${x.t} | ${x.mpps.toFixed(3)} | ${x.rssMb.toFixed(1)} | ${x.fwdHeapKb.toFixed(0)} | ${x.fwdGcs} | ` +
    `${x.mainHeapKb.toFixed(0)} | ${x.mbufsOut} |`);
  const g = res.growth as Record<string, number>;
  return ['| s | Mpps | RSS MiB | lcore 1 heap KiB (after GC) | lcore 1 GCs | main heap KiB | mbufs out of the pool |',
    '|---|---|---|---|---|---|---|', ...rows, '',
    `growth, last third vs first third: ${Object.entries(g).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`,
    res.failed ? `FAILED: ${String(res.failed)}` : 'flat: nothing grew', ''].join('\n');
}

export const jsonExtras = ['grew', 'growth', 'mbufsLost'];
