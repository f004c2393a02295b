// pktgen's command line (after the EAL options and --), parsed into streams and RX queues.
import { OptionScanner } from '../../src/eal/command.js';
import { PACE_CONSTANT, PACE_POISSON } from '../../src/lib/pacer.js';
import { parseIpRange, parseMac, parsePortRange, parseSizes, FrameError, type FlowSpec } from '../../src/lib/frames.js';
import type { TimestampKind } from './generator.js';

export class UsageError extends Error {}

export interface PktgenOpts {
  /** lcore: the worker lcore that runs it (undefined: the first worker) */
  tx: Array<{ port: number; queue: number; lcore?: number }>;
  rx: Array<{ port: number; queue: number; lcore?: number }>;
  /** packets per second, or null when given in percent */
  pps: number | null;
  /** percent of line rate */
  pct: number | null;
  mode: number;
  sizes: number[];
  flow: FlowSpec;
  /** explicit destination MAC (else each TX port's peer: the RX port's MAC) */
  dstMacGiven: boolean;
  duration: number;
  drain: number;
  period: number;
  json: boolean;
  burst: number;
  /** link speed in Mbps for --rate N% (default: what the port reports) */
  linkSpeed: number;
  maxFrame: number;
  timestamps: TimestampKind;
  /** every stream's first sequence number */
  seqStart: number;
}

export function usage(cmd: string): string {
  return `${cmd} [EAL options] -- [--tx PORT[:QUEUE][@LCORE]]... [--rx PORT[:QUEUE][@LCORE]]... [--rate R] [--mode constant|poisson]
    [--size S] [--src-ip A[-B]] [--dst-ip A[-B]] [--sport N[-M]] [--dport N[-M]] [--src-mac M] [--dst-mac M]
    [--duration SECONDS] [--drain SECONDS] [-T PERIOD] [--burst N] [--link-speed MBPS] [--max-frame BYTES] [--json]
    [--timestamps software|hardware] [--seq-start N]
  --tx PORT[:QUEUE][@LCORE]: a TX stream on this port and queue (repeat for more; default: port 0)
  --rx PORT[:QUEUE][@LCORE]: an RX queue that counts the streams (repeat; default: port 1, or port 0 with one port)
    @LCORE: the worker lcore that runs it (default: the first worker), e.g. -l 0-2 -- --tx 0@1 --rx 1@2 sends on
    lcore 1 and receives on lcore 2 (with two CPUs: --lcores 0@0,1@1,2@0); a TX queue belongs to one lcore, and a
    stream is counted on one RX lcore
  --rate R: per stream, in packets per second (1000000, 1e6, 2.5M, 300k) or percent of line rate (50%); default 10%
  --mode: constant (paced on a ns clock, default) or poisson (exponential gaps)
  --size S: frame size with FCS (64), a list cycled through (64,128,1518) or imix (7:4:1 of 64,594,1518); default 64
  --src-ip/--dst-ip/--sport/--dport/--src-mac/--dst-mac: flow fields; ranges step each field per packet
  --duration SECONDS: how long to send (default 10; 0 = until SIGINT)
  --drain SECONDS: keep counting after TX stops (default 0.2)
  -T PERIOD: print rates, loss and latency every PERIOD seconds (default 1, 0 = only at the end)
  --json: one JSON line per period and one with the final result instead of text
  --timestamps: where latency comes from, and every report says which: software (default; CLOCK_MONOTONIC per
    burst, so it includes the generator's own queueing) or hardware (the NICs' IEEE 1588 times of one PTP probe
    frame per millisecond, the streams in turn; every TX and RX port needs a driver with timesync: net_igb, net_ixgbe)
  --seq-start N: every stream's first sequence number, 0 to 4294967295 (default 0); the 32-bit numbers wrap to 0
    and the receive side counts across the wrap (--seq-start 4294967000 crosses it within a second)`;
}

/** "1000000", "1e6", "2.5M", "300k" pps, or "50%" */
export function parseRate(s: string): { pps: number | null; pct: number | null } {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)\s*([kKmMgG%]?)(?:pps)?$/.exec(s);
  const v = m ? Number(m[1]) : NaN;
  if (!m || !(v > 0)) throw new UsageError(`invalid rate '${s}': packets per second (1000000, 2.5M, 300k) or percent of line rate (50%)`);
  if (m[2] === '%') {
    if (v > 100) throw new UsageError(`invalid rate '${s}': a percentage of line rate is at most 100%`);
    return { pps: null, pct: v };
  }
  const mult = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6, g: 1e9, G: 1e9 }[m[2]] ?? 1;
  return { pps: v * mult, pct: null };
}

function portQueue(s: string, what: string): { port: number; queue: number; lcore?: number } {
  const m = /^(\d+)(?::(\d+))?(?:@(\d+))?$/.exec(s);
  if (!m) throw new UsageError(`invalid ${what} '${s}': PORT, PORT:QUEUE or either with @LCORE, e.g. 0, 0:1 or 0:1@2`);
  return { port: Number(m[1]), queue: Number(m[2] ?? 0), ...(m[3] !== undefined ? { lcore: Number(m[3]) } : {}) };
}

function seconds(s: string, what: string): number {
  if (!/^\d+(\.\d+)?$/.test(s)) throw new UsageError(`invalid ${what} '${s}': seconds, e.g. 10 or 0.5`);
  return Number(s);
}

export function parsePktgenArgs(args: readonly string[]): PktgenOpts {
  const o: PktgenOpts = {
    tx: [], rx: [], pps: null, pct: 10, mode: PACE_CONSTANT, sizes: [64],
    flow: {
      srcMac: [2, 0, 0, 0, 0, 1], dstMac: [2, 0, 0, 0, 0, 2], srcIp: parseIpRange('198.18.0.1'),
      dstIp: parseIpRange('198.19.0.1'), srcPort: { start: 1024, count: 1 }, dstPort: { start: 1024, count: 1 },
    },
    dstMacGiven: false, duration: 10, drain: 0.2, period: 1, json: false, burst: 32, linkSpeed: 0, maxFrame: 1518,
    timestamps: 'software', seqStart: 0,
  };
  let sizeArg = '64';
  try {
    const s = new OptionScanner(args, (name) => new UsageError(`option ${name} needs a value`));
    const val = (): string => s.value();
    while (s.next()) {
      switch (s.name) {
        case '--tx': o.tx.push(portQueue(val(), '--tx')); break;
        case '--rx': o.rx.push(portQueue(val(), '--rx')); break;
        case '--rate': Object.assign(o, parseRate(val())); break;
        case '--mode': {
          const x = val();
          if (x !== 'constant' && x !== 'poisson') throw new UsageError(`invalid mode '${x}': constant or poisson`);
          o.mode = x === 'poisson' ? PACE_POISSON : PACE_CONSTANT;
          break;
        }
        case '--size': sizeArg = val(); break;
        case '--src-ip': o.flow.srcIp = parseIpRange(val()); break;
        case '--dst-ip': o.flow.dstIp = parseIpRange(val()); break;
        case '--sport': o.flow.srcPort = parsePortRange(val()); break;
        case '--dport': o.flow.dstPort = parsePortRange(val()); break;
        case '--src-mac': o.flow.srcMac = parseMac(val()); break;
        case '--dst-mac': o.flow.dstMac = parseMac(val()); o.dstMacGiven = true; break;
        case '--duration': o.duration = seconds(val(), 'duration'); break;
        case '--drain': o.drain = seconds(val(), 'drain time'); break;
        case '-T': o.period = seconds(val(), 'period'); break;
        case '--json': o.json = true; break;
        case '--timestamps': {
          const x = val();
          if (x !== 'software' && x !== 'hardware') throw new UsageError(`invalid timestamps '${x}': software or hardware`);
          o.timestamps = x;
          break;
        }
        case '--seq-start': {
          const x = val();
          if (!/^\d+$/.test(x) || Number(x) > 0xffffffff) throw new UsageError(`invalid sequence start '${x}': 0 to 4294967295`);
          o.seqStart = Number(x);
          break;
        }
        case '--burst': {
          const x = val();
          if (!/^\d+$/.test(x) || Number(x) < 1 || Number(x) > 64) throw new UsageError(`invalid burst '${x}': 1 to 64 packets`);
          o.burst = Number(x);
          break;
        }
        case '--link-speed': {
          const x = val();
          if (!/^\d+$/.test(x) || Number(x) < 1) throw new UsageError(`invalid link speed '${x}': Mbps, e.g. 1000 or 10000`);
          o.linkSpeed = Number(x);
          break;
        }
        case '--max-frame': {
          const x = val();
          if (!/^\d+$/.test(x) || Number(x) < 64 || Number(x) > 9018) throw new UsageError(`invalid max frame '${x}': 64 to 9018 bytes`);
          o.maxFrame = Number(x);
          break;
        }
        default: throw new UsageError(`unknown option '${s.raw}'`);
      }
    }
    o.sizes = parseSizes(sizeArg, o.maxFrame);
  } catch (e) {
    if (e instanceof FrameError) throw new UsageError(e.message);
    throw e;
  }
  return o;
}
