// RFC 2544's procedures (section 26) over a trial function, with no I/O of their own, so a test can drive them
// with a model of a device under test:
//   26.1 throughput: the highest offered rate whose frame loss is at most a threshold (RFC 2544: zero), found by
//        binary search between 0 and the maximum rate to a resolution;
//   26.2 latency: a trial at the throughput rate (every frame is timestamped here, not one tagged frame);
//   26.3 frame-loss rate: trials from 100% of the maximum rate down in 10% steps until two in a row lose nothing;
//   26.4 back-to-back: the longest burst at the maximum rate that the device passes without loss (binary search).
import type { HistSummary } from '../src/lib/histogram.js';

export interface TrialOutcome {
  /** the rate asked for, pps */
  targetPps: number;
  /** the rate the generator achieved, pps */
  offeredPps: number;
  txPackets: number;
  lost: number;
  lossPct: number;
  latency: HistSummary;
}

/** Runs one trial at `pps` for the standard duration (limit > 0: send exactly `limit` frames at that rate). */
export type TrialFn = (pps: number, what: string, limit?: number) => Promise<TrialOutcome>;

export interface SearchOpts {
  maxPps: number;
  /** stop when the bracket is this fraction of maxPps or narrower (e.g. 0.01) */
  resolution: number;
  /** highest loss in percent that passes (RFC 2544: 0) */
  lossThresholdPct: number;
}

export interface ThroughputOutcome {
  /** the passing trial with the highest offered rate, or null when even the lowest rate lost frames */
  best: TrialOutcome | null;
  /** the generator could not offer the rate it was asked for in the best trial (short by more than 1%) */
  generatorBound: boolean;
  trials: TrialOutcome[];
}

/** Trials a throughput search makes: the maximum rate, then one per halving of the bracket. */
export const searchTrials = (resolution: number) => 1 + Math.ceil(Math.log2(1 / resolution));

export async function throughput(trial: TrialFn, o: SearchOpts): Promise<ThroughputOutcome> {
  let lo = 0;
  let hi = o.maxPps;
  let rate = o.maxPps;
  let best: TrialOutcome | null = null;
  const trials: TrialOutcome[] = [];
  for (;;) {
    const r = await trial(rate, 'throughput');
    trials.push(r);
    if (r.lossPct <= o.lossThresholdPct) {
      if (!best || r.offeredPps > best.offeredPps) best = r;
      lo = rate;
    } else {
      hi = rate;
    }
    // a generator that cannot reach the rate passes it only because it sent less: nothing to gain higher up
    if (r.lossPct <= o.lossThresholdPct && r.offeredPps < 0.99 * rate && rate === o.maxPps) break;
    if (hi - lo <= o.resolution * o.maxPps) break;
    rate = (lo + hi) / 2;
  }
  return { best, generatorBound: best !== null && best.offeredPps < 0.99 * best.targetPps, trials };
}

export interface LossPoint { offeredPct: number; targetPps: number; offeredPps: number; lossPct: number }

export async function lossCurve(trial: TrialFn, maxPps: number): Promise<LossPoint[]> {
  const out: LossPoint[] = [];
  let clean = 0;
  for (let pct = 100; pct >= 10 && clean < 2; pct -= 10) {
    const r = await trial((maxPps * pct) / 100, `loss ${pct}%`);
    out.push({ offeredPct: pct, targetPps: r.targetPps, offeredPps: r.offeredPps, lossPct: r.lossPct });
    clean = r.lost === 0 ? clean + 1 : 0;
  }
  return out;
}

export interface BackToBack { frames: number; trials: number; maxFrames: number }

/** The longest burst (frames) at maxPps without loss, searched between 1 and maxFrames to within 5%. */
export async function backToBack(trial: TrialFn, maxPps: number, maxFrames: number): Promise<BackToBack> {
  let lo = 0;
  let hi = maxFrames;
  let n = maxFrames;
  let trials = 0;
  for (;;) {
    const r = await trial(maxPps, `back-to-back ${n}`, n);
    trials++;
    if (r.lost === 0) lo = n;
    else hi = n - 1;
    if (hi - lo <= Math.max(1, lo * 0.05)) break;
    n = Math.ceil((lo + hi) / 2);
  }
  return { frames: lo, trials, maxFrames };
}
