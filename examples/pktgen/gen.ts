// The generator's data path, run on each of the trial's worker lcores (remoteLaunch): its paced TX streams and the
// RX queues that count them, in one loop. The lcores start together (one start time, so every stream's pacer and
// the trial's end are the same on all) and share nothing but the zone: a TX stream is one lcore's, an RX queue is
// one lcore's, and a stream's receive counters are claimed by the first lcore that receives it.
// Each pass: read the ns clock once; for every TX stream send what its pacer says is due (one txBurst, TX time
// stamped once for the burst just before it); for every RX queue receive a burst, read the clock once, and count
// each packet in its stream (sequence window, latency histogram). TX stops at the trial's end, RX
// goes on for the drain time so packets still in the device under test are counted.
//
// Hot path rules (the project's): nothing allocated per packet or per burst, monomorphic calls, no try/catch.
// Runs last hours: counts that grow per packet, burst or pass are doubles in Float64Array words (the zone), and
// values that wrap (the 32-bit sequence number) are int32s (`| 0`) in typed arrays. A number that outgrows int32
// in a local, a class field or an argument changes representation in V8 and can cost a heap number per use from
// then on (2^31 packets of a stream come after 8 minutes at 4.7 Mpps; see examples/l2fwd/fwd.ts loop()).
// Software timestamps (CLOCK_MONOTONIC around rxBurst/txBurst), one read per burst: a koffi call costs about as
// much as handling a few packets, and a burst leaves or arrives at once anyway. With hardware timestamps
// (probeNs > 0) the loop also sends IEEE 1588 probes, one in flight at a time (the NICs latch one TX and one RX
// time): a PTPv2 Sync frame with TX_IEEE1588_TMST every probeNs, the streams in turn; a received frame with
// RX_IEEE1588_TMST marks its arrival in the zone, and the main lcore reads the two latches (generator.ts).
// Before the start, the lcore runs this same code dry (warmUp): until the JIT has compiled it, every pass boxes
// doubles, and that garbage would be collected inside the trial (see warmUp()).
import * as v8 from 'node:v8';
import { fullGc } from '../../src/lib/gc.js';
import { mem, quitRequested, lcoreId } from '../../src/eal/index.js';
import { rxBurst, txBurst } from '../../src/ethdev/ethdev.js';
import { M, mbufBind, pktmbufAllocBurst, pktmbufFreeBulk, RX_IEEE1588_TMST, TX_IEEE1588_TMST } from '../../src/mempool/mbuf.js';
import { mempoolLookup, type Mempool } from '../../src/mempool/mempool.js';
import { NsClock } from '../../src/lib/clock.js';
import { Pacer } from '../../src/lib/pacer.js';
import { FrameWriter, FCS_LEN, stampStream, stampSeq, stampTimeAt, stampAge, type FlowSpec } from '../../src/lib/frames.js';
import { Histogram, HIST_WORDS } from '../../src/lib/histogram.js';
import { StreamRx, SC_UNIQUE } from '../../src/lib/streams.js';
import {
  GenZone, MAX_STREAMS, CTL_PHASE, CTL_STOP, CTL_READY, CTL_GO, CTL_START_HI, CTL_START_LO, CTL_TX_DONE, CTL_DONE,
  CTL_OWNER, CTL_PROBE, CTL_PROBE_STREAM, CTL_PROBE_RXPORT, CTL_PROBES_SENT, PROBE_IDLE, PROBE_SENT, PROBE_ARRIVED,
  RXQ_BYTES, RXQ_CROSSED, RXQ_FOREIGN, RXQ_PACKETS, TX_BYTES, TX_FIRST_NS, TX_LAST_NS, TX_NOMBUF, TX_PACKETS,
  TX_REFUSED, TX_SKIPPED,
} from './zone.js';

export const MAX_BURST = 64;

export interface TxStreamArgs {
  /** stream id: index into the zone's stream blocks, carried in every frame */
  id: number;
  port: number;
  queue: number;
  /** packets per second */
  rate: number;
  /** PACE_CONSTANT or PACE_POISSON */
  mode: number;
  sizes: number[];
  flow: FlowSpec;
  /** stop after this many packets (0: none), for RFC 2544's back-to-back bursts */
  limit?: number;
  /** the worker lcore that sends it (default: the generator's) */
  lcore?: number;
  /** the first packet's sequence number, 0 .. 2^32 - 1 (default 0); the numbers wrap to 0 after 2^32 - 1 */
  seqStart?: number;
}

export interface GenArgs {
  /** this lcore's streams */
  tx: TxStreamArgs[];
  /** this lcore's RX queues, each with its counters' slot in the zone */
  rx: Array<{ port: number; queue: number; slot: number }>;
  /** lcores in the trial: they start when all are ready */
  workers: number;
  durationNs: number;
  /** the longest drain (see loop()) */
  drainNs: number;
  /** 1: the drain ends as soon as every packet sent has been received (see allArrived) */
  drainEarly: number;
  /** the trial's streams, on every lcore (ids 0..streams-1) */
  streams: number;
  burst: number;
  pool: string;
  /** the NsClock epoch every lcore shares */
  baseSec: number;
  /** seconds of departures a stream may owe before older debt is forgiven (see backlog()) */
  backlogS: number;
  /**
   * this trial's tag (0..255), the high byte of every stamp's stream id: frames of an earlier trial that were still
   * inside the device under test arrive with another tag and count as foreign, not as this trial's duplicates
   */
  tag: number;
  /** hardware timestamps: ns between IEEE 1588 probes (0: software timestamps, no probes) */
  probeNs: number;
  /** the stream an lcore with RX queues and no streams of its own warms up with (see warmUp); none: no streams */
  warm?: TxStreamArgs;
}

/**
 * One TX stream's state on this lcore. Nothing here counts packets: the sequence number is the writer's (an int32
 * in a typed array) and the packets sent are st[TX_PACKETS] (a double in the zone). A per-packet counter in a class
 * field or a local outgrows int32 after 2^31 packets (8 minutes at 4.7 Mpps) and changes representation.
 */
class TxStream {
  constructor(
    readonly id: number, readonly port: number, readonly queue: number, readonly pacer: Pacer, readonly writer: FrameWriter,
    readonly st: Float64Array, readonly gaps: Histogram, readonly limit: number,
    /**
     * 1: this lcore's own stream. 0: a stand-in that only feeds the dry warm-up of an lcore with RX queues and no
     * streams; its TX queue belongs to another lcore, so it never calls the driver, not even with no packets.
     */
    readonly live: number,
  ) {}
}

interface Ctx {
  u8: Uint8Array;
  u32: Uint32Array;
  u16: Uint16Array;
  pool: Mempool;
  clock: NsClock;
  pkts: Uint32Array;
  burst: number;
  rx: StreamRx[];
  lat: Histogram[];
  tag: number;
  /** times in ns, kept in an array so no double is passed or returned boxed: [T_PASS] this loop pass, [T_TX] the
   * burst being sent, [T_RX] the burst received */
  tm: Float64Array;
  ctl: Int32Array;
  /** hardware timestamps: ns between probes (0: none), the stream of the next one, per stream its 12 MAC bytes */
  probeNs: number;
  probeNext: number;
  probeMacs: Uint8Array[];
  one: Uint32Array;
  workers: number;
  /** this lcore as a stream owner (lcore + 1), and per stream: 0 not known yet, OWN_MINE, OWN_OTHER */
  me: number;
  mine: Uint8Array;
  /**
   * 1 in warmUp's dry passes: the drivers are handed no packets, what a TX step sends is held here and the RX
   * steps receive it. 0 in the trial. The same code runs either way, so the JIT sees every call site in the warm-up.
   */
  dry: number;
  /** every stream's TX counters (the zone's, or the dry pass's), and how many streams the trial has */
  txAll: Float64Array[];
  nstreams: number;
  /** 1: the drain ends once allArrived() */
  early: number;
  held: Uint32Array;
  nheld: number;
  holds: number;
  /** 1 until this lcore's streams have stopped (see pass()) */
  sending: number;
}

const OWN_MINE = 1;
const OWN_OTHER = 2;

const T_PASS = 0;
const T_TX = 1;
const T_RX = 2;
/** when the next probe is due */
const T_PROBE = 3;
/** the trial's end, the longest drain after it, and the drain's end once every sender has stopped (Infinity before) */
const T_END = 4;
const T_DRAIN = 5;
const T_DRAIN_END = 6;

/** A PTPv2 Sync message over Ethernet (IEEE 1588 annex F, EtherType 0x88F7), padded to the 60-byte minimum. */
const ETH_P_1588 = 0x88f7;
const PTP_FRAME = 60;

/** Writes probe `seq` of stream s at u8[e..]: the stream's MACs, a Sync header whose domainNumber is the stream. */
function writeProbe(u8: Uint8Array, e: number, macs: Uint8Array, s: number, seq: number): void {
  for (let i = 0; i < 12; i++) u8[e + i] = macs[i];
  u8[e + 12] = ETH_P_1588 >> 8;
  u8[e + 13] = ETH_P_1588 & 0xff;
  for (let i = 14; i < PTP_FRAME; i++) u8[e + i] = 0;
  u8[e + 14] = 0; // transportSpecific 0, messageType 0: Sync (what the NIC's RX latch takes)
  u8[e + 15] = 2; // versionPTP 2
  u8[e + 17] = 44; // messageLength
  u8[e + 18] = s; // domainNumber: the stream
  u8[e + 44] = (seq >>> 8) & 0xff; // sequenceId
  u8[e + 45] = seq & 0xff;
}

/**
 * Sends the next probe of this lcore's streams when one is due and none is in flight. The TX lcores take turns
 * through the probe state: the one whose compare-and-exchange moves it from idle to sent owns the probe.
 */
function probeStep(c: Ctx, tx: TxStream[]): void {
  const tm = c.tm;
  if (!reached(tm, T_PROBE) || Atomics.load(c.ctl, CTL_PROBE) !== PROBE_IDLE) return;
  tm[T_PROBE] = tm[T_PASS] + c.probeNs;
  const i = c.probeNext;
  const one = c.one;
  if (pktmbufAllocBurst(c.pool, one, 1, 0) !== 1) return;
  // claimed before it can arrive; the main lcore reads the stream only once the probe has arrived or timed out
  if (Atomics.compareExchange(c.ctl, CTL_PROBE, PROBE_IDLE, PROBE_SENT) !== PROBE_IDLE) {
    pktmbufFreeBulk(one, 1, 0);
    return;
  }
  c.probeNext = i + 1 === tx.length ? 0 : i + 1;
  const s = tx[i].id;
  Atomics.store(c.ctl, CTL_PROBE_STREAM, s);
  const m = one[0];
  const u32 = c.u32;
  const u16 = c.u16;
  writeProbe(c.u8, u32[m + M.BUF_OFF] + u16[(m << 1) + M.H_DATA_OFF], c.probeMacs[i], s, Atomics.load(c.ctl, CTL_PROBES_SENT));
  u32[m + M.PKT_LEN] = PTP_FRAME;
  u16[(m << 1) + M.H_DATA_LEN] = PTP_FRAME;
  u32[m + M.OL_FLAGS] = TX_IEEE1588_TMST;
  let sent = tx[i].live !== 0 ? txBurst(tx[i].port, tx[i].queue, one, c.dry === 0 ? 1 : 0, 0) : 0;
  if (c.dry !== 0) sent = dryHold(c, one, 1);
  if (sent !== 1) {
    pktmbufFreeBulk(one, 1, 0);
    Atomics.store(c.ctl, CTL_PROBE, PROBE_IDLE);
    return;
  }
  Atomics.add(c.ctl, CTL_PROBES_SENT, 1);
}

/** A received frame that is not a stream's: a probe (its arrival marked when the NIC stamped it), or foreign. */
function notStream(c: Ctx, m: number, e: number, port: number): boolean {
  if (c.u8[e + 12] !== ETH_P_1588 >> 8 || c.u8[e + 13] !== (ETH_P_1588 & 0xff)) return false;
  if ((c.u32[m + M.OL_FLAGS] & RX_IEEE1588_TMST) !== 0 && Atomics.load(c.ctl, CTL_PROBE) === PROBE_SENT) {
    Atomics.store(c.ctl, CTL_PROBE_RXPORT, port);
    Atomics.store(c.ctl, CTL_PROBE, PROBE_ARRIVED);
  }
  return true;
}

/**
 * Whether the pass's time tm[T_PASS] has reached the time in tm[i]. The code that runs every pass (pass(), the
 * steps' early returns) leaves doubles to small functions like this one that return booleans or small integers:
 * when a step is deoptimized (a driver's first real burst meets a branch the warm-up could not run), V8 interprets
 * the pass until it has compiled it again, and the interpreter boxes each double a function touches, one heap
 * number each, millions of passes a second.
 */
function reached(tm: Float64Array, i: number): boolean {
  return tm[T_PASS] >= tm[i];
}

/** How many packets stream s may send now: a burst, or what its limit leaves, as a small integer. */
function room(s: TxStream, burst: number): number {
  const left = s.limit - s.st[TX_PACKETS];
  return left < burst ? left | 0 : burst;
}

/** Sends what stream s has due at c.tm[T_PASS]; returns packets sent. */
function txStep(c: Ctx, s: TxStream): number {
  const st = s.st;
  const k = s.pacer.dueAt(c.tm, T_PASS, room(s, c.burst));
  if (k === 0) return 0;
  const pkts = c.pkts;
  const got = pktmbufAllocBurst(c.pool, pkts, k, 0);
  if (got < k) {
    s.pacer.giveBack(k - got);
    st[TX_NOMBUF] += k - got;
    if (got === 0) return 0;
  }
  const u8 = c.u8;
  const u32 = c.u32;
  const u16 = c.u16;
  let bytes = 0;
  for (let j = 0; j < got; j++) {
    const m = pkts[j];
    const e = u32[m + M.BUF_OFF] + u16[(m << 1) + M.H_DATA_OFF];
    const len = s.writer.write(u8, e);
    u32[m + M.PKT_LEN] = len;
    u16[(m << 1) + M.H_DATA_LEN] = len;
    bytes += len + FCS_LEN;
  }
  const tm = c.tm;
  c.clock.nowInto(tm, T_TX);
  for (let j = 0; j < got; j++) {
    const m = pkts[j];
    stampTimeAt(u8, u32[m + M.BUF_OFF] + u16[(m << 1) + M.H_DATA_OFF], tm, T_TX);
  }
  let sent = s.live !== 0 ? txBurst(s.port, s.queue, pkts, c.dry === 0 ? got : 0, 0) : 0;
  if (c.dry !== 0) sent = dryHold(c, pkts, got);
  if (sent < got) {
    // the TX ring is full: free the rest, take their sequence numbers back, and let them come due again
    for (let j = sent; j < got; j++) bytes -= u32[pkts[j] + M.PKT_LEN] + FCS_LEN;
    pktmbufFreeBulk(pkts, got - sent, sent);
    s.writer.rewind(got - sent);
    s.pacer.giveBack(got - sent);
    st[TX_REFUSED] += got - sent;
  }
  if (sent === 0) return 0;
  // inter-departure gaps as software sees them: the time since the last burst for its first packet, 0 for the rest
  if (st[TX_PACKETS] === 0) st[TX_FIRST_NS] = tm[T_TX];
  else s.gaps.record(tm[T_TX] - st[TX_LAST_NS]);
  for (let j = 1; j < sent; j++) s.gaps.record(0);
  st[TX_LAST_NS] = tm[T_TX];
  st[TX_PACKETS] += sent;
  st[TX_BYTES] += bytes;
  return sent;
}

/** Receives one burst on (port, queue) and counts it; returns packets received. */
function rxStep(c: Ctx, port: number, queue: number, q: Float64Array): number {
  const pkts = c.pkts;
  // read before the choice: a field read only on the trial's side would have no type feedback from the warm-up
  const burst = c.burst;
  let n = rxBurst(port, queue, pkts, c.dry === 0 ? burst : 0);
  if (c.dry !== 0) n = dryTake(c, pkts);
  if (n === 0) return 0;
  const tm = c.tm;
  c.clock.nowInto(tm, T_RX);
  const u8 = c.u8;
  const u32 = c.u32;
  const u16 = c.u16;
  const nStreams = c.rx.length;
  const tag = c.tag;
  const mine = c.mine;
  let bytes = 0;
  let foreign = 0;
  let crossed = 0;
  for (let j = 0; j < n; j++) {
    const m = pkts[j];
    const e = u32[m + M.BUF_OFF] + u16[(m << 1) + M.H_DATA_OFF];
    const len = u32[m + M.PKT_LEN];
    bytes += len + FCS_LEN;
    const stamped = stampStream(u8, e, len);
    const sid = stamped & 0xff;
    if (stamped < 0 || stamped >> 8 !== tag || sid >= nStreams) {
      // not a stream packet: the probe test costs nothing on the stream path
      if (!notStream(c, m, e, port)) foreign++;
      continue;
    }
    if (mine[sid] !== OWN_MINE && claim(c, sid) !== OWN_MINE) {
      crossed++;
      continue;
    }
    // the sequence number as an int32 (stampSeq): a u32 above 2^31 passed on would be a heap number per packet
    c.rx[sid].record(stampSeq(u8, e), len + FCS_LEN);
    c.lat[sid].record(stampAge(u8, e, tm, T_RX));
  }
  pktmbufFreeBulk(pkts, n, 0);
  q[RXQ_PACKETS] += n;
  q[RXQ_BYTES] += bytes;
  q[RXQ_FOREIGN] += foreign;
  q[RXQ_CROSSED] += crossed;
  return n;
}

/**
 * Whether this lcore counts stream sid: the first RX lcore to receive it takes it (compare-and-exchange on its
 * owner word), the answer is then kept in c.mine so later packets cost one typed-array read.
 */
function claim(c: Ctx, sid: number): number {
  if (c.mine[sid] === 0) {
    const was = Atomics.compareExchange(c.ctl, CTL_OWNER + sid, 0, c.me);
    c.mine[sid] = was === 0 || was === c.me ? OWN_MINE : OWN_OTHER;
  }
  return c.mine[sid];
}

/**
 * Dry TX: takes pkts[0..n) into c.held for the RX steps, and returns how many it took. Every 16th burst of more
 * than one packet leaves its last one to the caller, as a full TX ring would, so the refusal path is warmed too.
 * When c.held is full (an lcore with no RX queue), the oldest held packets go back to the pool.
 */
function dryHold(c: Ctx, pkts: Uint32Array, n: number): number {
  const take = ++c.holds % 16 === 0 && n > 1 ? n - 1 : n;
  const held = c.held;
  const over = c.nheld + take - held.length;
  if (over > 0) {
    pktmbufFreeBulk(held, over, 0);
    held.copyWithin(0, over, c.nheld);
    c.nheld -= over;
  }
  for (let j = 0; j < take; j++) held[c.nheld + j] = pkts[j];
  c.nheld += take;
  return take;
}

/** Dry RX: moves up to a burst of held packets into pkts; returns how many. */
function dryTake(c: Ctx, pkts: Uint32Array): number {
  const n = Math.min(c.nheld, c.burst);
  const held = c.held;
  for (let j = 0; j < n; j++) pkts[j] = held[j];
  held.copyWithin(0, n, c.nheld);
  c.nheld -= n;
  return n;
}

/**
 * Whether every packet the trial's streams sent has been received once (by any RX lcore; another lcore's counts
 * read late only make the drain longer). Read only once TX has stopped everywhere, when the TX counts are final.
 */
function allArrived(c: Ctx): boolean {
  for (let s = 0; s < c.nstreams; s++) if (c.rx[s].c[SC_UNIQUE] < c.txAll[s][TX_PACKETS]) return false;
  return true;
}

/** Counts this lcore into word w; the last of the trial's lcores to do so sets the phase. */
function lastOf(ctl: Int32Array, w: number, workers: number, phase: number): void {
  if (Atomics.add(ctl, w, 1) === workers - 1) Atomics.store(ctl, CTL_PHASE, phase);
}

/**
 * Waits until every lcore of the trial is set up and returns the common start time (ns since the shared epoch):
 * the last one to arrive reads the clock and publishes it. Gives up when the trial is stopped (a worker that failed
 * in its set-up makes the main lcore stop the others).
 */
function startTogether(ctl: Int32Array, clock: NsClock, workers: number): number {
  if (Atomics.add(ctl, CTL_READY, 1) === workers - 1) {
    const t = Math.round(clock.now());
    ctl[CTL_START_HI] = Math.floor(t / 2 ** 32);
    ctl[CTL_START_LO] = t % 2 ** 32;
    Atomics.store(ctl, CTL_PHASE, 1);
    Atomics.store(ctl, CTL_GO, 1); // publishes the two words above to every lcore that loads it
  } else {
    while (Atomics.load(ctl, CTL_GO) === 0 && Atomics.load(ctl, CTL_STOP) === 0 && !quitRequested());
  }
  return ctl[CTL_START_HI] * 2 ** 32 + (ctl[CTL_START_LO] >>> 0);
}

/**
 * The trial's loop on one lcore: its streams until endNs, then its RX queues for drainNs more. The drain counts from
 * the moment every lcore of the trial has stopped sending, not from endNs: a sender descheduled near the end sends
 * its last departures late (see pass()), and an RX lcore that stopped at endNs + drainNs would count them as lost.
 * With c.early the drain ends sooner, once every packet sent has arrived: a runner can then wait long for a DUT
 * that stalled (RFC 2544 waits 2 s) and lose no time on trials that lost nothing.
 * The work is in pass(), one call a pass. This loop only repeats it and touches no double, so it allocates nothing
 * even before V8 has compiled it; pass() itself is compiled in the warm-up's passes (warmUp), not in the trial.
 */
function loop(c: Ctx, tx: TxStream[], rxPorts: Int32Array, rxQueues: Int32Array, rxq: Float64Array[], ctl: Int32Array, endNs: number, drainNs: number): void {
  const tm = c.tm;
  tm[T_END] = endNs;
  tm[T_DRAIN] = drainNs;
  tm[T_DRAIN_END] = Infinity;
  c.sending = 1;
  while (pass(c, tx, rxPorts, rxQueues, rxq, ctl) !== 0);
}

/** One pass of the trial's loop: what is due on each stream, then a burst from each RX queue. 0: the loop ends. */
function pass(c: Ctx, tx: TxStream[], rxPorts: Int32Array, rxQueues: Int32Array, rxq: Float64Array[], ctl: Int32Array): number {
  if (quitRequested() || Atomics.load(ctl, CTL_STOP) !== 0) return 0;
  const ntx = tx.length;
  const nrx = rxPorts.length;
  const tm = c.tm;
  c.clock.nowInto(tm, T_PASS);
  if (c.sending !== 0 && reached(tm, T_END)) stopSending(c, tx, ctl);
  if (c.sending === 0) {
    if (nrx === 0 || drained(c, ctl)) return 0;
  } else {
    for (let i = 0; i < ntx; i++) txStep(c, tx[i]);
    if (c.probeNs > 0 && ntx > 0) probeStep(c, tx);
  }
  for (let i = 0; i < nrx; i++) rxStep(c, rxPorts[i], rxQueues[i], rxq[i]);
  return 1;
}

/**
 * The trial's end has come: the departures scheduled before it still go (a sender descheduled near the end would
 * otherwise offer less than rate x duration), then TX stops. Before, not at: the departure at the end itself is
 * the first of the next interval (20 kpps for 0.5 s is 10,000 packets, not 10,001).
 */
function stopSending(c: Ctx, tx: TxStream[], ctl: Int32Array): void {
  const tm = c.tm;
  tm[T_PASS] = tm[T_END] - 0.5;
  for (let i = 0; i < tx.length; i++) while (txStep(c, tx[i]) > 0);
  c.sending = 0;
  lastOf(ctl, CTL_TX_DONE, c.workers, 2);
}

/** In the drain: whether it is over (its time is up, or with c.early every packet is back). */
function drained(c: Ctx, ctl: Int32Array): boolean {
  const tm = c.tm;
  // the last sender's end seen here: one Atomics.load a pass, in the drain only
  if (tm[T_DRAIN_END] === Infinity) {
    if (Atomics.load(ctl, CTL_TX_DONE) < c.workers) return false;
    tm[T_DRAIN_END] = Math.max(tm[T_PASS], tm[T_END]) + tm[T_DRAIN];
  }
  return tm[T_PASS] >= tm[T_DRAIN_END] || (c.early !== 0 && allArrived(c));
}

/**
 * After loop(): what already waits in the RX queues at the drain's end arrived in time, even if this lcore was
 * descheduled past the end and looks only now: empty them (a bounded number of bursts each), so a late look is not
 * counted as loss. Not in loop() itself: V8 compiles that loop while it runs (on-stack replacement), before the
 * code after it has ever run, and that code then deoptimizes at every trial's end.
 */
function drainLast(c: Ctx, rxPorts: Int32Array, rxQueues: Int32Array, rxq: Float64Array[], ctl: Int32Array): void {
  if (Atomics.load(ctl, CTL_STOP) !== 0 || quitRequested()) return;
  for (let i = 0; i < rxPorts.length; i++) for (let k = 0; k < 1024 && rxStep(c, rxPorts[i], rxQueues[i], rxq[i]) > 0; k++);
}

/**
 * Packets a stream may owe before older debt is forgiven: backlogS of its rate (default 2 ms: a descheduled sender
 * catches up in bursts, but not after a long stall, which would hit the device under test as one huge burst), at
 * least four bursts.
 */
export function backlog(rate: number, burst: number, backlogS: number): number {
  return Math.max(4 * burst, Math.ceil(rate * backlogS));
}

/** A Float64Array of n words over a buffer of its own, as the zone's are (not one inside the V8 heap). */
function scratch(n: number): Float64Array {
  return new Float64Array(new ArrayBuffer(n * 8));
}

/** Dry passes of WARM_NS each, their drain WARM_DRAIN_NS; at most WARM_MAX of them (2 s). */
const WARM_NS = 20e6;
const WARM_DRAIN_NS = 2e6;
const WARM_MAX = 90;
/**
 * a pass that grows the heap by less than this allocated nothing per packet or per burst: the JIT is done (the two
 * heap readings around it take about 800 B themselves)
 */
const WARM_QUIET_BYTES = 2048;

/**
 * Runs the trial's own loop dry, before the trial, until it allocates nothing: V8 interprets a function before it
 * compiles it, and the interpreter boxes every double it touches (times, counts), about 5 MB in the first second
 * of a trial at 20 kpps. Collected inside the trial, that garbage is a GC pause in the measurement. A dry pass is
 * the same code on copies of the streams, counters and control words, with c.dry set: the drivers are called with
 * no packets, and what the TX steps send the RX steps receive (dryHold, dryTake). Nothing reaches a port and the
 * zone is not touched. Passes repeat until one grows the heap by less than WARM_QUIET_BYTES (the JIT is done
 * compiling what the pass runs), at most WARM_MAX passes; the real stop request ends the warm-up too.
 * Returns the passes run.
 */
function warmUp(a: GenArgs, c: Ctx, z: GenZone, rxPorts: Int32Array, rxQueues: Int32Array): number {
  const specs = a.tx.length > 0 ? a.tx : a.warm && rxPorts.length > 0 ? [a.warm] : [];
  if (specs.length === 0 && rxPorts.length === 0) return 0;
  const rx = z.rx.map((x) => new StreamRx(scratch(x.c.length), new Int32Array(new ArrayBuffer(x.bits.byteLength))));
  const lat = z.lat.map(() => new Histogram(scratch(HIST_WORDS)));
  const ctl = new Int32Array(new ArrayBuffer(c.ctl.byteLength));
  const txAll = z.tx.map((x) => scratch(x.length));
  const d = newCtx(c.u8, c.u32, c.u16, c.pool, c.clock, c.burst, rx, lat, c.tag, ctl, c.probeNs, specs, 1, 1, txAll, c.nstreams, c.early);
  const live = a.tx.length > 0 ? 1 : 0;
  const tx = specs.map((s) => newTxStream({ ...s, rate: warmRate(s.rate) }, d.burst, a, txAll[s.id], new Histogram(scratch(HIST_WORDS)), live));
  const rxq = Array.from(rxPorts, () => scratch(z.rxq[0].length));
  let n = 0;
  let quiet = 0;
  while (n < WARM_MAX && quiet < 2 && Atomics.load(z.ctl, CTL_STOP) === 0 && !quitRequested()) {
    // counters from zero in every pass, as the trial's are: their first-packet branches run in each
    for (const x of txAll) x.fill(0);
    for (const x of rx) x.reset();
    for (const h of lat) h.reset();
    for (const s of tx) s.gaps.reset();
    d.ctl.fill(0);
    d.probeNext = 0;
    d.tm[T_PROBE] = 0;
    const now = d.clock.now();
    for (const s of tx) s.pacer.start(now);
    const h0 = v8.getHeapStatistics().used_heap_size;
    loop(d, tx, rxPorts, rxQueues, rxq, d.ctl, now + WARM_NS, WARM_DRAIN_NS);
    drainLast(d, rxPorts, rxQueues, rxq, d.ctl);
    // a pass in which a GC ran (the heap shrank) says nothing: it is not a quiet one
    const grew = v8.getHeapStatistics().used_heap_size - h0;
    quiet = grew >= 0 && grew < WARM_QUIET_BYTES ? quiet + 1 : 0;
    pktmbufFreeBulk(d.held, d.nheld, 0);
    d.nheld = 0;
    n++;
  }
  return n;
}

/** packets per second a dry stream runs at, at least: 400 packets a pass, so the per-packet code is compiled in a few */
const WARM_RATE = 20000;

/**
 * The rate of a stream's dry stand-in: its own, times the smallest power of ten that reaches WARM_RATE (at 1 kpps,
 * a pass would run the per-packet code 20 times, and it might never be compiled before the trial). Its own rate
 * if the product is an integer where the rate is not, or its gap (1e9 / rate) is not an integer where the rate's
 * is: V8 keeps the pacer's fields as small integers or doubles as their first values were, and a dry pacer that
 * changed that would deoptimize the trial's own.
 */
function warmRate(rate: number): number {
  let k = 1;
  while (rate * k < WARM_RATE) k *= 10;
  const w = rate * k;
  return Number.isInteger(w) === Number.isInteger(rate) && Number.isInteger(1e9 / w) === Number.isInteger(1e9 / rate) ? w : rate;
}

/** The per-lcore state of a trial (or of a dry pass): one shape for both, so the JIT compiles one. */
function newCtx(u8: Uint8Array, u32: Uint32Array, u16: Uint16Array, pool: Mempool, clock: NsClock, burst: number, rx: StreamRx[], lat: Histogram[], tag: number,
  ctl: Int32Array, probeNs: number, tx: TxStreamArgs[], workers: number, dry: number, txAll: Float64Array[], nstreams: number, early: number): Ctx {
  return { u8, u32, u16, pool, clock, pkts: new Uint32Array(MAX_BURST), burst, rx, lat, tag, tm: new Float64Array(8),
    ctl, probeNs, probeNext: 0, one: new Uint32Array(1),
    probeMacs: tx.map((s) => Uint8Array.from([...s.flow.dstMac, ...s.flow.srcMac])),
    workers, me: lcoreId() + 1, mine: new Uint8Array(MAX_STREAMS), dry, txAll, nstreams, early, held: new Uint32Array(4 * MAX_BURST), nheld: 0, holds: 0, sending: 1 };
}

function newTxStream(s: TxStreamArgs, burst: number, a: GenArgs, st: Float64Array, gaps: Histogram, live: number): TxStream {
  return new TxStream(s.id, s.port, s.queue, new Pacer(s.mode, s.rate, backlog(s.rate, burst, a.backlogS), 0x2545f491 + s.id),
    new FrameWriter(s.flow, s.sizes, ((a.tag & 0xff) << 8) | s.id, s.seqStart ?? 0), st, gaps, s.limit || 2 ** 52, live);
}

/** Entry point for remoteLaunch: runs one trial and returns when it is over (counters are in the zone). */
/** Bytes in use in V8's young generation, where JS objects are born (what a GC of the data path would collect). */
function youngBytes(): number {
  return v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space')?.space_used_size ?? 0;
}

export default function pktgenMain(a: GenArgs): { lcore: number; gcs: number; heapGrowth: number; youngGrowth: number } {
  const r = mem();
  mbufBind(r);
  const z = GenZone.lookup();
  const pool = mempoolLookup(a.pool);
  if (!pool) throw new Error(`pktgen: no mempool '${a.pool}'`);
  const clock = new NsClock(z.timespecOff(lcoreId()), a.baseSec);
  const c = newCtx(r.u8, r.u32, r.u16, pool, clock, Math.min(a.burst, MAX_BURST), z.rx, z.lat, a.tag & 0xff, z.ctl, a.probeNs, a.tx, a.workers, 0,
    z.tx, a.streams, a.drainEarly);
  const tx = a.tx.map((s) => newTxStream(s, c.burst, a, z.tx[s.id], z.gaps[s.id], 1));
  const rxPorts = Int32Array.from(a.rx.map((x) => x.port));
  const rxQueues = Int32Array.from(a.rx.map((x) => x.queue));
  const rxq = a.rx.map((x) => z.rxq[x.slot]);
  warmUp(a, c, z, rxPorts, rxQueues);
  // garbage of the set-up, the warm-up or an earlier trial on this lcore is collected now, not inside the trial
  fullGc();
  const start = startTogether(z.ctl, clock, a.workers);
  for (const s of tx) s.pacer.start(start);
  // the data path allocates nothing per packet or burst: the trial's GCs and heap growth on this lcore say so
  const prof = new v8.GCProfiler();
  prof.start();
  const heap0 = v8.getHeapStatistics().used_heap_size;
  const young0 = youngBytes();
  loop(c, tx, rxPorts, rxQueues, rxq, z.ctl, start + a.durationNs, a.drainNs);
  drainLast(c, rxPorts, rxQueues, rxq, z.ctl);
  for (const s of tx) s.st[TX_SKIPPED] = s.pacer.skipped;
  const heap1 = v8.getHeapStatistics().used_heap_size;
  const young1 = youngBytes();
  const gcs = prof.stop().statistics.length;
  lastOf(z.ctl, CTL_DONE, a.workers, 3);
  return { lcore: lcoreId(), gcs, heapGrowth: heap1 - heap0, youngGrowth: young1 - young0 };
}
