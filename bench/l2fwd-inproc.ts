// examples/l2fwd's forwarding loop on worker lcore 1 of this process, between ports given as --vdev strings, with
// a measured window bracketed by marks the loop answers (so it also reports its own heap growth and GCs).
import * as pktio from '../src/index.js';
import { CTL_WORD, MARK_F64, MAX_PORTS, ST_DROP, ST_RX, type FwdArgs } from '../examples/l2fwd/fwd.js';
import { ext, hugeArgs, sleep, BenchError } from './common.js';

export interface L2fwdRun {
  mpps: number;
  packets: number;
  seconds: number;
  gcCount: number;
  heapBytesPerPacket: number;
  heapBytes: number;
  mbufsLost: number;
  /** packets pktio's ports sent in the window (the loop's own count) */
  pktioPackets: number;
  /** packets l2fwd dropped over the whole run (a TX ring that stayed full) */
  dropped: number;
  /** packets received per pass of the loop (both ports polled), over the whole run */
  rxPerIteration: number;
}

export interface L2fwdInProc {
  /** the two ports, forwarded 0 <-> 1 */
  vdevs: string[];
  seconds: number;
  macUpdating: boolean;
  /** lcores of this process: main first, then the forwarding one (default '0,1') */
  lcores?: [number, number];
  /** runs once the ports are started and the loop launched (e.g. start a peer and inject packets) */
  afterLaunch?: () => Promise<void>;
  /** the packet count the window measures (default: pktio's TX packets on both ports) */
  count?: () => Promise<number> | number;
  /** runs after the window, before the loop stops */
  beforeStop?: () => Promise<void>;
  warmupMs?: number;
}

/** Ports 0 and 1 started and forwarding into each other through examples/l2fwd's loop on lcore `fwdLc`. */
export interface L2fwdPair {
  pool: pktio.Mempool;
  /** the loop's "l2fwd" memzone: ST_* counters per port, then the MARK_F64 words its marks fill */
  f64: Float64Array;
  /** writes mark m and waits until the loop has answered it (its heap and GC figures are then in f64) */
  mark(m: number): Promise<void>;
  /** packets both ports have sent */
  sent(): number;
}

/** Starts ports 0 and 1 (one queue pair each, 1,024 descriptors, on a pool of 16,384) and launches the loop. */
export function launchPair(fwdLc: number, macUpdating: boolean, poolName: string): L2fwdPair {
  const pool = pktio.pktmbufPoolCreate(poolName, 16384, 256, 0, pktio.MBUF_DEFAULT_BUF_SIZE);
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
  const args: FwdArgs = { rxPorts: [0, 1], dst, macUpdating, macs };
  pktio.remoteLaunch(fwdLc, new URL(`../examples/l2fwd/fwd${ext}`, import.meta.url), args);
  const mark = async (m: number) => {
    Atomics.store(ctl, CTL_WORD, m);
    const t0 = performance.now();
    while (Atomics.load(ctl, CTL_WORD + 1) !== m) {
      if (performance.now() - t0 > 10000) throw new BenchError('the forwarding lcore does not answer its marks');
      await sleep(1);
    }
  };
  const sent = () => pktio.statsGet(0).opackets + pktio.statsGet(1).opackets;
  return { pool, f64, mark, sent };
}

export async function pktioL2fwd(o: L2fwdInProc): Promise<L2fwdRun> {
  const [mainLc, fwdLc] = o.lcores ?? [0, 1];
  await pktio.init(['-l', `${mainLc},${fwdLc}`, '--main-lcore', String(mainLc), ...hugeArgs(false),
    '--file-prefix', `pktio-bench-${process.pid}`, '--log-level', 'warn', ...o.vdevs.flatMap((v) => ['--vdev', v])]);
  try {
    const { pool, f64, mark, sent } = launchPair(fwdLc, o.macUpdating, 'bench_pool');
    const count = o.count ?? sent;
    if (o.afterLaunch) await o.afterLaunch();
    await sleep(o.warmupMs ?? Math.min(3000, o.seconds * 200 + 1000)); // warm-up: JIT and caches
    // one unmeasured window first, so the marks' own code path is compiled before the measured one
    await mark(1);
    await sleep(200);
    await mark(2);
    await sleep(500);
    await mark(3);
    const c0 = await count();
    const s0 = sent();
    const t0 = performance.now();
    await sleep(o.seconds * 1000);
    await mark(4);
    const c1 = await count();
    const s1 = sent();
    const t1 = performance.now();
    if (o.beforeStop) await o.beforeStop();
    pktio.requestQuit();
    const done = (await pktio.waitLcore(fwdLc)) as { iterations: number } | undefined;
    const rxAll = f64[ST_RX] + f64[4 + ST_RX];
    const packets = c1 - c0;
    const secs = (t1 - t0) / 1000;
    const gcCount = f64[MARK_F64 + 1];
    const allocated = Math.max(0, f64[MARK_F64] - f64[MARK_F64 + 4] + f64[MARK_F64 + 2]);
    for (const p of [0, 1]) pktio.devStop(p);
    // what is still in flight inside a port (rings of a software port) comes back on close
    for (const p of [0, 1]) pktio.devClose(p);
    const lost = pool.size - pool.availCount();
    return {
      mpps: packets / secs / 1e6, packets, seconds: secs, gcCount, heapBytesPerPacket: allocated / Math.max(1, s1 - s0),
      heapBytes: allocated, mbufsLost: lost, pktioPackets: s1 - s0, dropped: f64[ST_DROP] + f64[4 + ST_DROP],
      rxPerIteration: done?.iterations ? rxAll / done.iterations : 0,
    };
  } finally {
    await pktio.cleanup();
  }
}
