// The generator's control half, on the main lcore: sets up ports, launches one trial at a time on its worker lcores
// (gen.ts; one by default, or each stream and RX queue on the lcore it names), samples the zone for periodic
// output, and turns the counters into a result record.
import * as pktio from '../../src/index.js';
import { mempoolLookup } from '../../src/mempool/mempool.js';
import { NsClock } from '../../src/lib/clock.js';
import { type HistSummary } from '../../src/lib/histogram.js';
import { SC_RX } from '../../src/lib/streams.js';
import { MAX_BURST, type GenArgs, type TxStreamArgs } from './gen.js';
import { HwClocks, ProbeReader } from './hwclock.js';
import {
  GenZone, CTL_PHASE, CTL_PROBES_SENT, MAX_RXQ, MAX_STREAMS, RXQ_CROSSED, RXQ_FOREIGN, RXQ_PACKETS, TX_BYTES, TX_FIRST_NS, TX_LAST_NS, TX_NOMBUF,
  TX_PACKETS, TX_REFUSED, TX_SKIPPED,
} from './zone.js';

export class GenError extends Error {}

/** What each generator lcore returns (gen.ts pktgenMain) */
type WorkerReport = { gcs: number; heapGrowth: number; youngGrowth: number };

/**
 * Where timestamps come from. 'software': CLOCK_MONOTONIC read around txBurst/rxBurst, so latency includes the
 * generator's own queueing (PMD rings, one loop pass). 'hardware': the NICs' IEEE 1588 times of probe frames (a
 * PTP Sync every probe interval, the streams in turn, one in flight; hwclock.ts), wire to wire; ports whose driver
 * has timesync (net_igb, net_ixgbe) only.
 */
export type TimestampKind = 'software' | 'hardware';

export interface Trial {
  /** each on its own lcore if it names one (TxStreamArgs.lcore), else on the generator's */
  streams: TxStreamArgs[];
  /** the RX queues that count the streams, each on the lcore it names or the generator's */
  rx: Array<{ port: number; queue: number; lcore?: number }>;
  durationS: number;
  /** seconds RX keeps counting after TX stops (packets still in the DUT): the most, with drainEarly */
  drainS: number;
  /** end the drain as soon as every packet sent has been received (default false: the whole drainS) */
  drainEarly?: boolean;
  burst: number;
  /** seconds of departures a stalled stream may catch up on (default 0.002) */
  backlogS?: number;
  /** hardware timestamps: the ports' clocks (HwClocks.enable), and seconds between probes (default 0.001) */
  hw?: HwClocks;
  probeIntervalS?: number;
}

export interface TxResult {
  id: number; port: number; queue: number; targetPps: number; packets: number; bytes: number; pps: number;
  /** departures the pacer forgave because the sender fell behind */
  skipped: number; refused: number; nombuf: number;
  /** inter-departure gaps in ns (0 inside a burst) */
  gaps: HistSummary & { stddev: number };
}

export interface RxResult {
  id: number; rx: number; unique: number; lost: number; lossPct: number; dup: number; reorder: number; late: number;
  /** latency in ns (RX time minus the TX stamp) */
  latency: HistSummary;
}

export interface TrialResult {
  timestamps: TimestampKind;
  durationS: number;
  tx: TxResult[];
  rx: RxResult[];
  txPackets: number;
  rxPackets: number;
  lost: number;
  lossPct: number;
  /** packets without a generator stamp of this trial (other traffic, or an earlier trial's stragglers) */
  foreign: number;
  /**
   * stream packets not counted because they reached a second RX lcore (a stream is counted on the lcore that
   * received it first): they show as lost; put the queues a stream arrives on under one lcore
   */
  crossed: number;
  /** the worker lcores of the trial */
  lcores: number[];
  /**
   * garbage collections on the generator's lcores during the trial (summed), their heap growth in bytes, and the part
   * of it in the young generation: objects the trial's JS allocated (the rest is code the JIT compiled, and its
   * data). Without a GC, the young generation's growth is all the trial allocated there
   */
  workerGcs: number;
  workerHeapGrowth: number;
  workerYoungGrowth: number;
  /** hardware timestamps: probes sent, measured (both times read), lost (or not stamped); the offsets' error bound */
  probes?: { sent: number; measured: number; lost: number; clockErrorNs: number };
}

export interface Tick {
  /** seconds since the trial started */
  t: number;
  phase: number;
  txPps: number[];
  rxPps: number[];
  lost: number[];
  p50: number[];
  p99: number[];
}

const genModule = pktio.siblingModule(import.meta.url, 'gen');

export class Generator {
  readonly zone: GenZone;
  readonly worker: number;
  readonly pool: string;
  /** the NsClock epoch of every trial (other lcores that stamp or compare times use it too) */
  readonly baseSec: number;
  private trials = 0;

  /** @param pool the mempool TX streams allocate from; @param worker the lcore of streams and RX queues that name none */
  constructor(pool: string, worker: number) {
    if (!mempoolLookup(pool)) throw new GenError(`no mempool '${pool}'`);
    this.zone = GenZone.reserve();
    this.zone.reset();
    this.pool = pool;
    this.worker = worker;
    this.baseSec = new NsClock(this.zone.timespecOff(pktio.lcoreId())).baseSec;
  }

  /** Runs one trial; onTick is called every tickMs with rates since the last tick. */
  async run(t: Trial, onTick?: (k: Tick) => void, tickMs = 1000): Promise<TrialResult> {
    if (t.streams.length > MAX_STREAMS) throw new GenError(`${t.streams.length} streams: at most ${MAX_STREAMS}`);
    if (t.rx.length > MAX_RXQ) throw new GenError(`${t.rx.length} RX queues: at most ${MAX_RXQ}`);
    t.streams.forEach((s, i) => {
      if (s.id !== i) throw new GenError(`stream ${i} has id ${s.id}: ids are 0..n-1 in order`);
      const q = s.seqStart ?? 0;
      if (!Number.isInteger(q) || q < 0 || q > 0xffffffff) throw new GenError(`stream ${i}: sequence start ${q}: an integer from 0 to 4294967295`);
    });
    const plan = this.plan(t);
    const z = this.zone;
    z.reset();
    const common = {
      durationNs: t.durationS * 1e9, drainNs: t.drainS * 1e9, drainEarly: t.drainEarly ? 1 : 0, streams: t.streams.length, workers: plan.size,
      burst: Math.min(t.burst, MAX_BURST), pool: this.pool, baseSec: this.baseSec, backlogS: t.backlogS ?? 0.002, tag: ++this.trials & 0xff,
      probeNs: t.hw ? (t.probeIntervalS ?? 0.001) * 1e9 : 0, warm: t.streams[0],
    };
    const lat = t.hw ? z.hwLat : z.lat;
    const reader = t.hw ? new ProbeReader(z, t.streams, [...new Set(t.rx.map((x) => x.port))], t.hw) : null;
    const probeTimer = reader ? setInterval(() => reader.poll(), 1) : null;
    const n = t.streams.length;
    const lastTx = new Float64Array(n);
    const lastRx = new Float64Array(n);
    let t0 = performance.now();
    let tPrev = t0;
    const timer = onTick ? setInterval(() => {
      const now = performance.now();
      // the lcores warm up before the start (gen.ts warmUp): ticks count from the start, not from the launch
      if (Atomics.load(z.ctl, CTL_PHASE) === 0) {
        t0 = tPrev = now;
        return;
      }
      const dt = (now - tPrev) / 1000;
      tPrev = now;
      const k: Tick = { t: (now - t0) / 1000, phase: z.ctl[CTL_PHASE], txPps: [], rxPps: [], lost: [], p50: [], p99: [] };
      for (let s = 0; s < n; s++) {
        const tx = z.tx[s][TX_PACKETS];
        const rx = z.rx[s].c[SC_RX];
        k.txPps.push((tx - lastTx[s]) / dt);
        k.rxPps.push((rx - lastRx[s]) / dt);
        k.lost.push(Math.max(0, tx - z.rx[s].counts().unique));
        k.p50.push(lat[s].quantile(0.5));
        k.p99.push(lat[s].quantile(0.99));
        lastTx[s] = tx;
        lastRx[s] = rx;
      }
      onTick(k);
    }, tickMs) : null;
    const lcores = [...plan.keys()];
    // every worker is waited for; one that fails stops the others (they would wait for it at the start)
    const settled = await Promise.allSettled(lcores.map(async (l) => {
      try {
        // a launch refused (the lcore is busy) stops the others as a failed worker does
        pktio.remoteLaunch(l, genModule, { ...common, ...plan.get(l)! } satisfies GenArgs);
        return (await pktio.waitLcore(l)) as WorkerReport;
      } catch (e) {
        this.stop();
        throw e;
      }
    }));
    if (timer) clearInterval(timer);
    if (probeTimer) clearInterval(probeTimer);
    const failed = settled.find((x) => x.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const ws = settled.map((x) => (x as PromiseFulfilledResult<WorkerReport>).value);
    reader?.poll(); // a probe that arrived at the very end
    const probes = reader && t.hw ?
      { sent: Atomics.load(z.ctl, CTL_PROBES_SENT), measured: reader.measured, lost: reader.lost, clockErrorNs: t.hw.errorNs } : undefined;
    return {
      ...this.result(t), lcores, workerGcs: ws.reduce((a, w) => a + (w?.gcs ?? 0), 0),
      workerHeapGrowth: ws.reduce((a, w) => a + (w?.heapGrowth ?? 0), 0), workerYoungGrowth: ws.reduce((a, w) => a + (w?.youngGrowth ?? 0), 0),
      ...(probes ? { probes } : {}),
    };
  }

  /**
   * Which lcore runs what: the streams and RX queues of each, in lcore order. A queue has one writer, so a TX queue
   * used by streams on two lcores, or an RX queue listed twice, is refused; so is an lcore that is not a worker.
   */
  private plan(t: Trial): Map<number, Pick<GenArgs, 'tx' | 'rx'>> {
    const workers = pktio.workerLcores();
    const plan = new Map<number, Pick<GenArgs, 'tx' | 'rx'>>();
    const of = (l: number | undefined, what: string) => {
      const lc = l ?? this.worker;
      if (!workers.includes(lc)) {
        throw new GenError(`${what} is placed on lcore ${lc}, which is not a worker lcore (workers: ${workers.join(',') || 'none'}): ` +
          'give the EAL that lcore, e.g. -l 0-2 for workers 1 and 2');
      }
      if (!plan.has(lc)) plan.set(lc, { tx: [], rx: [] });
      return plan.get(lc)!;
    };
    const txOwner = new Map<string, number>();
    for (const s of t.streams) {
      const key = `${s.port}:${s.queue}`;
      const lc = s.lcore ?? this.worker;
      if (txOwner.has(key) && txOwner.get(key) !== lc) {
        throw new GenError(`TX queue ${key} is used by streams on lcores ${txOwner.get(key)} and ${lc}: a queue has one sender; give each lcore its own queue (e.g. --tx ${s.port}:${s.queue + 1}@${lc})`);
      }
      txOwner.set(key, lc);
      of(s.lcore, `stream ${s.id}`).tx.push(s);
    }
    const rxSeen = new Set<string>();
    t.rx.forEach((x, slot) => {
      const key = `${x.port}:${x.queue}`;
      if (rxSeen.has(key)) throw new GenError(`RX queue ${key} is listed twice: a queue has one reader`);
      rxSeen.add(key);
      of(x.lcore, `RX queue ${key}`).rx.push({ port: x.port, queue: x.queue, slot });
    });
    return new Map([...plan].sort((a, b) => a[0] - b[0]));
  }

  /** Asks a running trial to stop (SIGINT). */
  stop(): void {
    Atomics.store(this.zone.ctl, 0, 1);
  }

  private result(t: Trial): Omit<TrialResult, 'lcores' | 'workerGcs' | 'workerHeapGrowth' | 'workerYoungGrowth'> {
    const z = this.zone;
    const tx: TxResult[] = t.streams.map((s) => {
      const st = z.tx[s.id];
      const span = (st[TX_LAST_NS] - st[TX_FIRST_NS]) / 1e9;
      return {
        id: s.id, port: s.port, queue: s.queue, targetPps: s.rate, packets: st[TX_PACKETS], bytes: st[TX_BYTES],
        // offered rate: packets over the trial's length; a trial run until stopped: over first to last departure
        pps: Number.isFinite(t.durationS) ? st[TX_PACKETS] / t.durationS : span > 0 ? (st[TX_PACKETS] - 1) / span : 0,
        skipped: st[TX_SKIPPED], refused: st[TX_REFUSED], nombuf: st[TX_NOMBUF],
        gaps: { ...z.gaps[s.id].summary(), stddev: z.gaps[s.id].stddev() },
      };
    });
    const rx: RxResult[] = t.streams.map((s) => {
      const c = z.rx[s.id].counts();
      const sent = z.tx[s.id][TX_PACKETS];
      const lost = sent - c.unique;
      return {
        id: s.id, rx: c.rx, unique: c.unique, lost, lossPct: sent > 0 ? (100 * lost) / sent : 0, dup: c.dup, reorder: c.reorder,
        late: c.late, latency: (t.hw ? z.hwLat : z.lat)[s.id].summary(),
      };
    });
    const txPackets = tx.reduce((a, x) => a + x.packets, 0);
    const lost = rx.reduce((a, x) => a + x.lost, 0);
    let foreign = 0;
    let crossed = 0;
    for (let q = 0; q < t.rx.length; q++) foreign += z.rxq[q][RXQ_FOREIGN];
    for (let q = 0; q < t.rx.length; q++) crossed += z.rxq[q][RXQ_CROSSED];
    let rxPackets = 0;
    for (let q = 0; q < t.rx.length; q++) rxPackets += z.rxq[q][RXQ_PACKETS];
    return {
      timestamps: t.hw ? 'hardware' : 'software', durationS: t.durationS, tx, rx, txPackets, rxPackets, lost,
      lossPct: txPackets > 0 ? (100 * lost) / txPackets : 0, foreign, crossed,
    };
  }
}

/**
 * Configures and starts ports for the generator: nq queue pairs each, on the given pool; `conf` for all of them
 * (e.g. { rxmode: { maxRxPktLen: 9018 } } to receive jumbo frames).
 */
export function startGenPorts(ports: number[], pool: pktio.Mempool, nq = 1, nbDesc = 1024, conf: pktio.EthConf = {}): void {
  for (const p of ports) {
    const info = pktio.devInfoGet(p);
    pktio.devConfigure(p, nq, nq, conf);
    for (let q = 0; q < nq; q++) {
      pktio.rxQueueSetup(p, q, Math.min(nbDesc, info.rxDescLim.nbMax), -1, null, pool);
      pktio.txQueueSetup(p, q, Math.min(nbDesc, info.txDescLim.nbMax), -1, null);
    }
    pktio.devStart(p);
    pktio.promiscuousEnable(p);
  }
}
