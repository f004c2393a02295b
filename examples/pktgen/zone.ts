// The "pktgen" memzone: what the generator's worker lcores count and the main lcore reads, as typed-array views
// over one block of the EAL region (no messages between threads while a trial runs).
//
//   i32 control words | per TX stream: counters + gap histogram | per stream: RX counters + latency histogram +
//   sequence bitmap | per RX queue: counters | one struct timespec per lcore (NsClock scratch) | per stream: the
//   hardware-timestamp latency histogram
import { mem, memzoneLookup, memzoneReserve } from '../../src/eal/index.js';
import { HIST_WORDS, Histogram } from '../../src/lib/histogram.js';
import { SC_WORDS, SEQ_WORDS, StreamRx } from '../../src/lib/streams.js';
import { TIMESPEC_BYTES } from '../../src/lib/clock.js';

export const ZONE_NAME = 'pktgen';
export const MAX_STREAMS = 16;
export const MAX_RXQ = 16;
export const MAX_LCORES = 128;

/** i32 control words */
export const CTL_STOP = 0;
/** 0 idle, 1 sending, 2 draining (TX done, RX still counting), 3 finished */
export const CTL_PHASE = 1;
/**
 * Hardware timestamps (--timestamps hardware): one IEEE 1588 probe in flight at a time. The worker sends a probe
 * when the state is PROBE_IDLE (PROBE_SENT, with its stream), marks its arrival (PROBE_ARRIVED, with the RX port);
 * the main lcore reads the two ports' latches and sets PROBE_IDLE again.
 */
export const CTL_PROBE = 2;
export const CTL_PROBE_STREAM = 3;
export const CTL_PROBE_RXPORT = 4;
/** probes the worker sent */
export const CTL_PROBES_SENT = 5;
export const PROBE_IDLE = 0;
export const PROBE_SENT = 1;
export const PROBE_ARRIVED = 2;
/**
 * A trial on several lcores starts together: each worker adds one to CTL_READY when it is set up; the last one
 * reads the clock, writes that start time (ns since the shared epoch, high and low 32 bits) and sets CTL_GO.
 * CTL_TX_DONE and CTL_DONE count the workers that stopped sending and that finished (the phase follows them).
 */
export const CTL_READY = 6;
export const CTL_GO = 7;
export const CTL_START_HI = 8;
export const CTL_START_LO = 9;
export const CTL_TX_DONE = 10;
export const CTL_DONE = 11;
/**
 * Per stream, from word CTL_OWNER: the RX lcore (+1) that counts it, claimed by its first packet. A stream's
 * sequence window has one writer; packets of it that reach another lcore are counted as crossed instead.
 */
export const CTL_OWNER = 16;
const CTL_WORDS = 32;
/** f64 words of a TX stream's counters */
export const TX_PACKETS = 0;
export const TX_BYTES = 1;
/** departures the pacer forgave (the sender fell behind) */
export const TX_SKIPPED = 2;
/** packets the TX queue refused (freed, due again) */
export const TX_REFUSED = 3;
/** ns of the first and last departure */
export const TX_FIRST_NS = 4;
export const TX_LAST_NS = 5;
/** packets the pool could not give */
export const TX_NOMBUF = 6;
const TX_WORDS = 8;
/** f64 words of an RX queue's counters */
export const RXQ_PACKETS = 0;
export const RXQ_BYTES = 1;
/** packets without a generator stamp (or of an unknown stream) */
export const RXQ_FOREIGN = 2;
/** stream packets left uncounted: their stream is counted on another lcore (see CTL_OWNER) */
export const RXQ_CROSSED = 3;
const RXQ_WORDS = 4;

const TX_BLOCK = TX_WORDS + HIST_WORDS;
const RX_BLOCK = SC_WORDS + HIST_WORDS;
const OFF_CTL = 0;
const OFF_TX = CTL_WORDS * 4;
const OFF_RX = OFF_TX + MAX_STREAMS * TX_BLOCK * 8;
const OFF_BITS = OFF_RX + MAX_STREAMS * RX_BLOCK * 8;
const OFF_RXQ = OFF_BITS + MAX_STREAMS * SEQ_WORDS * 4;
const OFF_TS = OFF_RXQ + MAX_RXQ * RXQ_WORDS * 8;
const OFF_HW = OFF_TS + MAX_LCORES * TIMESPEC_BYTES;
export const ZONE_BYTES = OFF_HW + MAX_STREAMS * HIST_WORDS * 8;

/** Views of the zone, made on whichever lcore asks (the same memory on each). */
export class GenZone {
  readonly off: number;
  readonly ctl: Int32Array;
  readonly tx: Float64Array[] = [];
  readonly gaps: Histogram[] = [];
  readonly rx: StreamRx[] = [];
  readonly lat: Histogram[] = [];
  readonly rxq: Float64Array[] = [];
  /** per stream: latency from the NICs' IEEE 1588 timestamps of its probes (written by the main lcore) */
  readonly hwLat: Histogram[] = [];

  private constructor(off: number) {
    const buf = mem().buf;
    this.off = off;
    this.ctl = new Int32Array(buf, off + OFF_CTL, CTL_WORDS);
    for (let s = 0; s < MAX_STREAMS; s++) {
      const t = off + OFF_TX + s * TX_BLOCK * 8;
      this.tx.push(new Float64Array(buf, t, TX_WORDS));
      this.gaps.push(new Histogram(new Float64Array(buf, t + TX_WORDS * 8, HIST_WORDS), false));
      const r = off + OFF_RX + s * RX_BLOCK * 8;
      this.rx.push(new StreamRx(new Float64Array(buf, r, SC_WORDS), new Int32Array(buf, off + OFF_BITS + s * SEQ_WORDS * 4, SEQ_WORDS), false));
      this.lat.push(new Histogram(new Float64Array(buf, r + SC_WORDS * 8, HIST_WORDS), false));
    }
    for (let q = 0; q < MAX_RXQ; q++) this.rxq.push(new Float64Array(buf, off + OFF_RXQ + q * RXQ_WORDS * 8, RXQ_WORDS));
    for (let s = 0; s < MAX_STREAMS; s++) this.hwLat.push(new Histogram(new Float64Array(buf, off + OFF_HW + s * HIST_WORDS * 8, HIST_WORDS), false));
  }

  /** Zeroes every counter and histogram (main lcore, between trials). */
  reset(): void {
    this.ctl.fill(0);
    for (let s = 0; s < MAX_STREAMS; s++) {
      this.tx[s].fill(0);
      this.gaps[s].reset();
      this.rx[s].reset();
      this.lat[s].reset();
      this.hwLat[s].reset();
    }
    for (const q of this.rxq) q.fill(0);
  }

  /** Region offset of lcore l's timespec. */
  timespecOff(lcore: number): number {
    return this.off + OFF_TS + lcore * TIMESPEC_BYTES;
  }

  static reserve(): GenZone {
    const z = memzoneLookup(ZONE_NAME) ?? memzoneReserve(ZONE_NAME, ZONE_BYTES, { align: 64 });
    return new GenZone(z.off);
  }

  static lookup(): GenZone {
    const z = memzoneLookup(ZONE_NAME);
    if (!z) throw new Error('pktgen: the pktgen memzone is missing (the main lcore reserves it before launching)');
    return new GenZone(z.off);
  }
}
