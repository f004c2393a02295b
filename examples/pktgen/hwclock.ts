// Hardware timestamps for pktgen (--timestamps hardware), the main lcore's half: the ports' IEEE 1588 clocks, and
// the reader of the probes the worker sends (gen.ts: probeStep). Latency of a probe = the RX port's latched receive
// time minus the TX port's latched transmit time, minus how far the RX port's clock is ahead of the TX port's
// (measured once at the start, timesyncClockOffset). As MoonGen's timestamper: one probe in flight at a time,
// since each NIC latches one TX and one RX time.
import * as pktio from '../../src/index.js';
import type { TxStreamArgs } from './gen.js';
import { GenZone, CTL_PROBE, CTL_PROBE_STREAM, CTL_PROBE_RXPORT, PROBE_IDLE, PROBE_SENT, PROBE_ARRIVED } from './zone.js';

export class HwClockError extends Error {}

/** The IEEE 1588 clocks of a trial's ports: enabled, set to the same time, pairwise offsets measured. */
export class HwClocks {
  private readonly offsets = new Map<string, bigint>();
  /** the largest error bound of the measured offsets (ns) */
  readonly errorNs: number;

  private constructor(pairs: Array<[number, number]>) {
    let err = 0n;
    for (const [a, b] of pairs) {
      const o = a === b ? { offsetNs: 0n, errorNs: 0n } : pktio.timesyncClockOffset(a, b);
      this.offsets.set(`${a}:${b}`, o.offsetNs);
      if (o.errorNs > err) err = o.errorNs;
    }
    this.errorNs = Number(err);
  }

  /** Enables timesync on every port (one line naming the first port without it), then measures tx -> rx offsets. */
  static enable(txPorts: number[], rxPorts: number[]): HwClocks {
    const ports = [...new Set([...txPorts, ...rxPorts])];
    for (const p of ports) {
      try {
        pktio.timesyncEnable(p);
      } catch {
        throw new HwClockError(`--timestamps hardware: port ${p} (${pktio.devInfoGet(p).driverName}) has no IEEE 1588 ` +
          'timestamps; use ports whose driver has them (net_igb, net_ixgbe) or --timestamps software');
      }
    }
    const now = BigInt(Date.now()) * 1_000_000n;
    for (const p of ports) pktio.timesyncWriteTime(p, now);
    const pairs: Array<[number, number]> = [];
    for (const a of new Set(txPorts)) for (const b of new Set(rxPorts)) pairs.push([a, b]);
    return new HwClocks(pairs);
  }

  /** How far rx's clock is ahead of tx's. */
  offset(tx: number, rx: number): bigint {
    return this.offsets.get(`${tx}:${rx}`) ?? 0n;
  }
}

/** Reads the latches of each probe the worker marks arrived; gives up on a probe after lostMs. */
export class ProbeReader {
  measured = 0;
  lost = 0;
  private sentAt = 0;

  constructor(private readonly z: GenZone, private readonly streams: TxStreamArgs[], private readonly rxPorts: number[],
    private readonly clocks: HwClocks, private readonly lostMs = 100) {}

  /** One look at the probe state (the main lcore calls it every millisecond while a trial runs). */
  poll(): void {
    const ctl = this.z.ctl;
    const st = Atomics.load(ctl, CTL_PROBE);
    if (st === PROBE_ARRIVED) {
      this.read(Atomics.load(ctl, CTL_PROBE_STREAM), Atomics.load(ctl, CTL_PROBE_RXPORT));
      this.sentAt = 0;
      Atomics.store(ctl, CTL_PROBE, PROBE_IDLE);
    } else if (st === PROBE_SENT) {
      const now = performance.now();
      if (this.sentAt === 0) this.sentAt = now;
      else if (now - this.sentAt > this.lostMs) {
        // lost, or not stamped (its RX latch was full): free every latch so the next probe can be stamped
        this.lost++;
        this.sentAt = 0;
        const s = Atomics.load(ctl, CTL_PROBE_STREAM);
        pktio.timesyncReadTxTimestamp(this.streams[s].port);
        for (const p of this.rxPorts) pktio.timesyncReadRxTimestamp(p);
        Atomics.store(ctl, CTL_PROBE, PROBE_IDLE);
      }
    }
  }

  private read(s: number, rxPort: number): void {
    const txPort = this.streams[s].port;
    let tx = pktio.timesyncReadTxTimestamp(txPort);
    // the frame arrived, so it left: its TX time is latched or about to be
    for (let i = 0; tx === null && i < 100; i++) tx = pktio.timesyncReadTxTimestamp(txPort);
    const rx = pktio.timesyncReadRxTimestamp(rxPort);
    if (tx === null || rx === null) {
      this.lost++;
      return;
    }
    this.z.hwLat[s].record(Number(rx - tx - this.clocks.offset(txPort, rxPort)));
    this.measured++;
  }
}
