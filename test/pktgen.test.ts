// pktgen's library (histogram, sequence window, frames, pacer) and its generator end to end over net_ring ports:
// rate accuracy into a sink, injected loss/duplicates/swaps counted exactly, and a forwarder that holds every
// packet for a known time showing up in the latency histogram.
import t from 'tap';
import * as os from 'node:os';
import * as pktio from '../src/index.js';
import { Histogram, bucketOf, bucketLow, HIST_BUCKETS } from '../src/lib/histogram.js';
import { StreamRx, SEQ_WINDOW } from '../src/lib/streams.js';
import { FrameWriter, stampStream, stampSeq, stampTime, stampTimeAt, stampAge, stampTimeOf, ipChecksum, parseSizes, lineRatePps, parseIpRange, IMIX_SIZES } from '../src/lib/frames.js';
import { Pacer, PACE_CONSTANT, PACE_POISSON } from '../src/lib/pacer.js';
import { NsClock } from '../src/lib/clock.js';
import { Generator, startGenPorts, type Trial } from '../examples/pktgen/generator.js';
import { parsePktgenArgs, parseRate } from '../examples/pktgen/args.js';
import type { TxStreamArgs } from '../examples/pktgen/gen.js';
import type { ImpairArgs } from './helpers/pktgen-impair.js';

const cpus = pktio.cpusAllowed();
const flow = {
  srcMac: [2, 0, 0, 0, 0, 1], dstMac: [2, 0, 0, 0, 0, 2], srcIp: parseIpRange('198.18.0.1-198.18.0.4'),
  dstIp: parseIpRange('198.19.0.1'), srcPort: { start: 1024, count: 8 }, dstPort: { start: 2048, count: 1 },
};

t.test('histogram: log-linear buckets and quantiles', async (t) => {
  for (const v of [0, 1, 31, 32, 63, 64, 65, 1000, 123456, 2 ** 31, 2 ** 32 - 1]) {
    const b = bucketOf(v);
    t.ok(b >= 0 && b < HIST_BUCKETS, `${v} has a bucket`);
    t.ok(bucketLow(b) <= v && (b + 1 >= HIST_BUCKETS || bucketLow(b + 1) > v), `${v} lies in bucket ${b} [${bucketLow(b)}, ${bucketLow(b + 1)})`);
    t.equal(bucketOf(v | 0), b, `${v} as the int32 of its bits: the same bucket`);
  }
  const h = new Histogram();
  for (let i = 1; i <= 10000; i++) h.record(i * 100); // 100 ns .. 1 ms, uniform
  const s = h.summary();
  t.equal(s.count, 10000);
  t.equal(s.min, 100);
  t.equal(s.max, 1e6);
  t.ok(Math.abs(s.mean - 500050) < 1);
  t.ok(Math.abs(s.p50 - 500000) / 500000 < 0.02, `p50 ${s.p50} within 2% of 500000`);
  t.ok(Math.abs(s.p99 - 990000) / 990000 < 0.02, `p99 ${s.p99} within 2% of 990000`);
  t.ok(Math.abs(s.p999 - 999000) / 999000 < 0.02, `p99.9 ${s.p999} within 2%`);
  const g = new Histogram();
  g.record(5e6);
  h.merge(g);
  t.equal(h.summary().max, 5e6, 'merge keeps max');
});

t.test('stream counters: loss, duplicates and reordering counted exactly', async (t) => {
  const s = new StreamRx();
  // 0..999 with 10, 20, 21 lost; 300 and 400 duplicated; (500, 501) and (700, 701) swapped
  const seqs: number[] = [];
  for (let i = 0; i < 1000; i++) if (i !== 10 && i !== 20 && i !== 21) seqs.push(i);
  const at = (v: number) => seqs.indexOf(v);
  seqs.splice(at(300) + 1, 0, 300);
  seqs.splice(at(400) + 1, 0, 400);
  for (const a of [500, 700]) { const i = at(a); [seqs[i], seqs[i + 1]] = [seqs[i + 1], seqs[i]]; }
  for (const q of seqs) s.record(q, 64);
  const c = s.counts();
  t.match(c, { rx: 999, unique: 997, dup: 2, reorder: 2, late: 0, maxSeq: 999 });
  t.equal(1000 - c.unique, 3, 'loss = sent - unique');
  const w = new StreamRx();
  w.record(SEQ_WINDOW * 3, 64);
  w.record(5, 64);
  t.match(w.counts(), { late: 1, dup: 0 }, 'older than the window: late, not a duplicate');
  w.record(SEQ_WINDOW * 3, 64);
  t.equal(w.counts().dup, 1, 'the newest one again is a duplicate');
});

t.test('sequence numbers across the 2^32 wrap: loss, duplicates, reordering and late packets counted exactly', async (t) => {
  // the sender: a writer that starts 1000 below 2^32; the numbers are read back off the wire as the RX path does
  const P = 10000;
  const S = 2 ** 32 - 1000;
  const w = new FrameWriter(flow, [64], 0, S);
  const u8 = new Uint8Array(128);
  const wire: number[] = [];
  for (let i = 0; i < P; i++) {
    w.write(u8, 0);
    wire.push(stampSeq(u8, 0));
  }
  t.equal(wire[0] >>> 0, S, 'the first number is seqStart');
  t.equal(wire[999] >>> 0, 2 ** 32 - 1, 'packet 999 carries 2^32 - 1');
  t.equal(wire[1000], 0, 'packet 1000 carries 0');
  t.equal(w.seq, P - 1000, 'the writer\'s next number wrapped too');
  // arrival order, by the sender's index: 999 (2^32 - 1), 1001 (1) and 3000 lost; 998 (2^32 - 2) and 1000 (0)
  // swapped, so 2^32 - 2 arrives after 0; 1000 twice in a row; 998 again after 1003 (an old number across the wrap,
  // inside the window); 5 held back to the end (older than the window: late)
  const order: number[] = [];
  for (let i = 0; i < P; i++) if (i !== 999 && i !== 1001 && i !== 3000 && i !== 5) order.push(i);
  const at = (v: number) => order.indexOf(v);
  const [i998, i1000] = [at(998), at(1000)];
  [order[i998], order[i1000]] = [1000, 998];
  order.splice(at(1000) + 1, 0, 1000);
  order.splice(at(1003) + 1, 0, 998);
  order.push(5);
  const s = new StreamRx();
  for (const i of order) s.record(wire[i], 64);
  const c = s.counts();
  t.same(c, { rx: P - 1, unique: P - 3, dup: 2, reorder: 1, late: 1, maxSeq: P - 1001, bytes: 64 * (P - 1), wraps: 1 });
  t.equal(P - c.unique, 3, 'loss = sent - unique');
  // the unsigned numbers are counted the same way
  const u = new StreamRx();
  for (const i of order) u.record(wire[i] >>> 0, 64);
  t.same(u.counts(), c, 'int32 or unsigned sequence numbers: the same counts');
});

t.test('sequence numbers: any number of wraps', async (t) => {
  // twelve laps of the 32-bit space: around each wrap 2^32 - 2 and 2^32 - 1 swapped and 0 twice, then three jumps
  // of about 2^30 (packets lost on the way: the counts are the receiver's, loss is sent - unique)
  const s = new StreamRx();
  const lap = [2 ** 32 - 3, 2 ** 32 - 1, 2 ** 32 - 2, 0, 0, 1, 2 ** 30, 2 ** 31, 3 * 2 ** 30];
  for (let k = 0; k < 12; k++) for (const q of lap) s.record(q, 64);
  t.same(s.counts(), { rx: 12 * 9, unique: 12 * 8, dup: 12, reorder: 12, late: 0, maxSeq: 3 * 2 ** 30, bytes: 64 * 12 * 9, wraps: 12 });
  const h = new StreamRx();
  h.record(2 ** 32 - 1, 64);
  h.record(2 ** 31 - 2, 64);
  t.match(h.counts(), { maxSeq: 2 ** 31 - 2, wraps: 1, late: 0 }, '2^31 - 1 ahead (across the wrap): ahead');
  h.record(2 ** 32 - 2, 64);
  t.match(h.counts(), { maxSeq: 2 ** 31 - 2, wraps: 1, late: 1 }, '2^31 apart: behind (RFC 1982 leaves it undefined; counted late)');
});

t.test('frames: a writer started at a given number, and packets taken back', async (t) => {
  const f = { ...flow, dstPort: { start: 2048, count: 3 } };
  const w = new FrameWriter(f, [64, 128, 256], 1, 2 ** 32 - 2);
  const u8 = new Uint8Array(4 * 512);
  for (let k = 0; k < 3; k++) w.write(u8, k * 512);
  t.same([0, 1, 2].map((k) => stampSeq(u8, k * 512) >>> 0), [2 ** 32 - 2, 2 ** 32 - 1, 0]);
  // the TX queue refused the last two: they are written again with the same number, size and fields
  w.rewind(2);
  t.equal(w.seq, 2 ** 32 - 1);
  w.write(u8, 3 * 512);
  t.same(u8.subarray(3 * 512, 3 * 512 + 58), u8.subarray(512, 512 + 58), 'the frame taken back is written the same');
  t.equal(stampSeq(u8, 0) >>> 0, 2 ** 32 - 2);
  t.throws(() => new FrameWriter(flow, [64], 0, 2 ** 32), /sequence start 4294967296: an integer from 0 to 4294967295/);
  t.equal(parsePktgenArgs(['--seq-start', '4294967295']).seqStart, 2 ** 32 - 1);
  t.throws(() => parsePktgenArgs(['--seq-start', '4294967296']), /invalid sequence start '4294967296': 0 to 4294967295/);
});

t.test('frames: headers, stamp and IPv4 checksum', async (t) => {
  const u8 = new Uint8Array(2048);
  const w = new FrameWriter(flow, [64, 128], 7);
  t.equal(w.write(u8, 2), 60, 'a 64-byte frame is 60 bytes before the FCS');
  t.equal(stampStream(u8, 2, 60), 7);
  t.equal(stampSeq(u8, 2), 0);
  t.equal(ipChecksum(u8, 2 + 14), 0, 'the header sums to 0xffff with its checksum');
  stampTime(u8, 2, 123456789012345);
  t.equal(stampTimeOf(u8, 2), 123456789012345);
  // stampAge is exact on both sides of the boundaries its halves cross (2^31 and 2^32 in the low word)
  const tm = new Float64Array(1);
  for (const ns of [5e9, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 2 ** 31 - 1, 2 ** 32 + 2 ** 31, 2 ** 33 + 2 ** 31 + 7, 2 ** 52 + 3]) {
    tm[0] = ns;
    stampTimeAt(u8, 2, tm, 0);
    t.equal(stampTimeOf(u8, 2), ns, `stamp of ${ns} reads back`);
    tm[0] = ns + 1234;
    t.equal(stampAge(u8, 2, tm, 0), 1234, `age at ${ns} + 1234 ns`);
  }
  t.equal(w.write(u8, 2), 124, 'sizes cycle: 128');
  t.equal(stampSeq(u8, 2), 1);
  t.equal(stampStream(u8, 2, 40), -1, 'too short for a stamp');
  t.same(parseSizes('imix'), IMIX_SIZES);
  t.throws(() => parseSizes('63'), /64 to 1518/);
  t.ok(Math.abs(lineRatePps(10000, [64]) - 14880952.38) < 1, '10GbE at 64 bytes: 14.88 Mpps');
  t.same(parseRate('2.5M'), { pps: 2.5e6, pct: null });
  t.same(parseRate('50%'), { pps: null, pct: 50 });
  t.throws(() => parseRate('fast'), /invalid rate/);
  t.throws(() => parsePktgenArgs(['--size', '10']), /frame size/);
  t.throws(() => parsePktgenArgs(['--tx', 'x']), /PORT, PORT:QUEUE or either with @LCORE/);
  t.match(parsePktgenArgs(['--tx', '0:1@2', '--rx', '1@3', '--rx', '1:1']), { tx: [{ port: 0, queue: 1, lcore: 2 }], rx: [{ port: 1, queue: 0, lcore: 3 }, { port: 1, queue: 1 }] });
  t.notOk('lcore' in parsePktgenArgs(['--tx', '0']).tx[0], 'no @LCORE: the first worker');
});

t.test('pacer: constant spacing and Poisson mean', async (t) => {
  const p = new Pacer(PACE_CONSTANT, 1e6, 1e9);
  p.start(0);
  t.equal(p.due(0, 32), 1, 'the first packet at once');
  t.equal(p.due(999, 32), 0);
  t.equal(p.due(10000, 32), 10, '10 us at 1 Mpps: 10 more');
  p.giveBack(3);
  t.equal(p.due(10000, 32), 3, 'given back: due again');
  const q = new Pacer(PACE_POISSON, 1e6, 1e12);
  q.start(0);
  let n = 0;
  for (let ns = 0; ns <= 1e9; ns += 1e5) n += q.due(ns, 1e6);
  t.ok(Math.abs(n - 1e6) / 1e6 < 0.01, `Poisson: ${n} packets in 1 s at 1 Mpps`);
});

t.test('generator over net_ring', async (t) => {
  await pktio.init(['--no-pci', '--no-huge', '-m', '128', '--log-level', 'error',
    '--lcores', `0@${cpus[0]},1@${cpus[cpus.length - 1]},2@${cpus[0]},3@${cpus[cpus.length - 1]}`,
    '--vdev', 'net_ring0,rxring=pg_a,txring=pg_b', '--vdev', 'net_ring1,rxring=pg_b,txring=pg_c', '--vdev', 'net_ring2,rxring=pg_c,txring=pg_a']);
  t.teardown(pktio.cleanup);
  const pool = pktio.pktmbufPoolCreate('pg_pool', 16383, 256);
  // rings of 8,192 (net_ring makes 1,024 when none exists): the lcores that produce and consume them share 2 CPUs with
  // whatever else runs, and a consumer descheduled for 50 ms (1,024 packets at 20 kpps, seen beside the VM suite)
  // made its producer's TX refuse, so a test of exact counts counted the scheduler. 8,192 is 0.4 s at 20 kpps
  for (const r of ['pg_a', 'pg_b', 'pg_c']) pktio.ringCreate(r, 8192, pktio.RING_F_SP_ENQ | pktio.RING_F_SC_DEQ);
  startGenPorts([0, 1, 2], pool);
  const gen = new Generator('pg_pool', 1);
  // every reading of the generator's clock is above 2^32 ns (see EPOCH_LEAD_S)
  const c0 = new NsClock(gen.zone.timespecOff(pktio.lcoreId()), gen.baseSec).now();
  t.ok(c0 >= 2 ** 32 && c0 < 2 ** 32 + 60e9, `the clock's first reading is above 2^32 ns: ${c0}`);
  const z = pktio.memzoneReserve('pg_impair', 64);
  const ready = new Int32Array(pktio.mem().buf, z.off, 1);
  const stream = (rate: number, port = 0): TxStreamArgs => ({ id: 0, port, queue: 0, rate, mode: PACE_CONSTANT, sizes: [64], flow });
  const trial = (rate: number, durationS: number, rxPort: number): Trial => ({ streams: [stream(rate)], rx: [{ port: rxPort, queue: 0 }], durationS, drainS: 0.1, burst: 32 });
  const drainBuf = new Uint32Array(64);
  /** Gives back to the pool whatever waits in the RX queues of `ports`. */
  const drainPorts = (ports: number[]) => {
    for (const p of ports) for (let n; (n = pktio.rxBurst(p, 0, drainBuf, 64)) > 0;) pktio.mbuf.pktmbufFreeBulk(drainBuf, n);
  };
  // every test starts with empty rings: what a test left in them (a forwarder that had not read it, or sent it after
  // the generator's last look) would reach the next test's RX as packets of no trial (425 did once, after a starved
  // forwarder; 1,266 after the two-lcore test's receiver stopped before a late sender's last burst)
  t.beforeEach(() => drainPorts([0, 1, 2]));

  t.test('constant rate into a sink: achieved within 1%', async (t) => {
    // port 0 -> ring pg_b -> port 1 (the sink)
    // on a shared 2-CPU machine the sender is descheduled for tens of ms at times: let it catch up on 1 s of debt
    // (the gaps' spread shows the stalls) so the count over the trial is the rate's
    const R = 10000;
    const r = await gen.run({ ...trial(R, 2, 1), backlogS: 1 });
    const tx = r.tx[0];
    t.comment(`target ${R} pps, achieved ${tx.pps.toFixed(1)} pps (${(100 * (tx.pps - R) / R).toFixed(3)}%), ${tx.packets} packets; ` +
      `gaps mean ${(tx.gaps.mean / 1000).toFixed(2)} us sd ${(tx.gaps.stddev / 1000).toFixed(2)} us p50 ${(tx.gaps.p50 / 1000).toFixed(2)} us ` +
      `p99 ${(tx.gaps.p99 / 1000).toFixed(2)} us max ${(tx.gaps.max / 1000).toFixed(1)} us; skipped ${tx.skipped}; ` +
      `generator lcore: ${r.workerGcs} GCs, heap ${r.workerHeapGrowth} bytes (JIT warm-up included)`);
    t.ok(Math.abs(tx.pps - R) / R < 0.01, `achieved ${tx.pps.toFixed(1)} pps within 1% of ${R}`);
    t.equal(r.rx[0].lost, 0, 'the sink got every packet');
    t.equal(r.timestamps, 'software');
  });

  /** Runs trial `tr` (default: a stream from port 0 into port 2) with the test forwarder on `lcore` between them. */
  t.test('what waits in the RX queue when the trial ends is counted, not lost', async (t) => {
    // 500 frames without a stamp wait in port 1's ring; a trial of 1 us sends one packet behind them and has
    // no drain time: its one loop pass reads a burst, then the lcore empties the queue before it returns
    const pkts = new Uint32Array(500);
    t.equal(pktio.pktmbufAllocPackets(pool, pkts, 500, 60, 0), 500);
    t.equal(pktio.txBurst(0, 0, pkts, 500, 0), 500);
    const r = await gen.run({ ...trial(1000, 1e-6, 1), drainS: 0 });
    t.equal(r.tx[0].packets, 1, 'one packet sent (the departure at the start)');
    t.equal(r.foreign, 500, 'the frames ahead of it were read');
    t.match(r.rx[0], { rx: 1, lost: 0 }, 'and so was the stream packet behind them');
  });

  const impair = async (a: Partial<ImpairArgs>, rate: number, durationS: number, seqStart = 0, tr = trial(rate, durationS, 2), lcore = 2) => {
    pktio.clearQuit();
    const args: ImpairArgs = { rxPort: 1, txPort: 1, pool: 'pg_pool', holdNs: 0, drop: [], dup: [], swap: [], baseSec: 0, ...a };
    // the forwarder shares the generator's clock epoch (its timespec slot is its lcore's)
    args.baseSec = gen.baseSec;
    Atomics.store(ready, 0, 0);
    pktio.remoteLaunch(lcore, new URL('./helpers/pktgen-impair.ts', import.meta.url), args);
    while (Atomics.load(ready, 0) === 0) await new Promise((r) => setTimeout(r, 10));
    // port 0 -> pg_b -> forwarder (port 1) -> pg_c -> port 2
    // a drain of 1 s: the forwarder's lcore may be descheduled past the trial's end with packets still in its rings
    const r = await gen.run({ ...tr, streams: [{ ...tr.streams[0], seqStart }], backlogS: 1, drainS: 1 });
    pktio.requestQuit();
    await pktio.waitLcore(lcore);
    pktio.clearQuit();
    drainPorts([0, 1, 2]); // before the next trial, which may be in the same test (the hold test runs two)
    return r;
  };

  t.test('injected loss, duplicates and swaps: exact counts', async (t) => {
    const r = await impair({ drop: [100, 200, 201], dup: [300, 400, 401], swap: [500, 700] }, 10000, 0.2);
    const x = r.rx[0];
    const sent = r.tx[0].packets;
    t.comment(`sent ${sent}, received ${x.rx}, lost ${x.lost}, dup ${x.dup}, reordered ${x.reorder}`);
    t.ok(sent > 800, `${sent} packets sent`);
    t.match(x, { lost: 3, dup: 3, reorder: 2, late: 0, rx: sent - 3 + 3 });
  });

  t.test('across the 2^32 wrap: loss, duplicates and swaps counted exactly', async (t) => {
    // the stream starts 1000 below 2^32; the forwarder picks packets by the low 20 bits of their sequence number
    const S = 2 ** 32 - 1000;
    const low = (q: number) => q & 0xfffff;
    const r = await impair({ drop: [2 ** 32 - 2, 1, 100].map(low), dup: [2 ** 32 - 1, 0, 200].map(low), swap: [2 ** 32 - 5, 3].map(low) }, 10000, 0.2, S);
    const x = r.rx[0];
    const sent = r.tx[0].packets;
    const c = gen.zone.rx[0].counts();
    t.comment(`sent ${sent} from ${S}, received ${x.rx}, lost ${x.lost}, dup ${x.dup}, reordered ${x.reorder}, late ${x.late}, highest ${c.maxSeq}, wraps ${c.wraps}`);
    t.ok(sent > 1300, `${sent} packets sent: past the wrap and the impaired numbers after it`);
    t.match(x, { lost: 3, dup: 3, reorder: 2, late: 0, rx: sent });
    t.match(c, { maxSeq: (S + sent - 1) % 2 ** 32, wraps: 1 }, 'the highest number is the last one sent, after one wrap');
  });

  t.test('a forwarder that holds each packet 5 ms: latency histogram', async (t) => {
    const ms = (ns: number) => (ns / 1e6).toFixed(3);
    const line = (l: { min: number; p50: number; p99: number; max: number; count: number }) =>
      `min ${ms(l.min)} p50 ${ms(l.p50)} p99 ${ms(l.p99)} max ${ms(l.max)} ms, ${l.count} packets`;
    const base = (await impair({ holdNs: 0 }, 5000, 1)).rx[0].latency;
    t.comment(`no hold: latency (software) ${line(base)}`);
    const hold = 5e6;
    const r = await impair({ holdNs: hold }, 5000, 1);
    const l = r.rx[0].latency;
    t.comment(`held ${ms(hold)} ms: latency (software) ${line(l)}`);
    const load = os.loadavg()[0];
    // with a CPU free the forwarder keeps up and nothing is lost; beside more runnable threads than CPUs it was seen
    // descheduled for a second (a median of 1 s without a hold) and 425 packets arrived after the drain: then every
    // packet must still be accounted for, as received or lost
    if (load < os.cpus().length) t.equal(r.rx[0].lost, 0, 'nothing lost');
    else t.equal(r.rx[0].rx + r.rx[0].lost, r.tx[0].packets, `received + lost = sent (${r.rx[0].lost} lost at load ${load.toFixed(1)})`);
    // tolerance: no packet is faster than the hold (always checked); the fastest is within 3% (the histogram's
    // bucket) + 2 ms of it (one loop pass of the forwarder and of the generator's RX, on a machine where they share
    // CPUs), and the median moves by the hold: within 3% + 1 ms of hold + the median without a hold. Those two need
    // the forwarder and the generator's lcore to run when the packets are due: on a machine with more runnable
    // threads than CPUs they wait scheduler slices (tens of ms), the packets wait in the rings, and the histogram
    // measures that wait (seen: a median of 20 ms at a load of 10 on 2 CPUs, for holds of 1 and 5 ms alike; a
    // fastest packet of 7.6 ms for a 5 ms hold at a load of 8). They are checked when the load leaves a CPU free
    t.ok(l.min >= hold, `min ${ms(l.min)} ms: no packet faster than the hold`);
    if (load < os.cpus().length) {
      t.ok(l.min <= hold * 1.03 + 2e6, `min ${ms(l.min)} ms within [5, 7.15] ms`);
      t.ok(Math.abs(l.p50 - hold - base.p50) <= hold * 0.03 + 1e6, `p50 ${ms(l.p50)} ms = hold + ${ms(base.p50)} ms within 3% + 1 ms`);
    } else {
      t.comment(`upper-bound and median checks skipped: load average ${load.toFixed(1)} on ${os.cpus().length} CPUs`);
    }
  });
  t.test('two lcores: each sends one stream and counts the other, exactly', async (t) => {
    // stream 0: port 0 (lcore 1) -> pg_b -> port 1, counted on lcore 2; stream 1: port 1 (lcore 2) -> pg_c -> port 2,
    // counted on lcore 1. They start together: both streams' first departures are within a few ms. Each stream's
    // whole trial fits in its ring (8,192): the counts stay exact even when the counting lcore is descheduled for
    // the whole trial (at 20 kpps, 10,000 packets, a load of 7 on 2 CPUs once left lcore 2 off the CPU past the
    // ring's 0.4 s, and stream 0's last 1,585 were refused at the end: a test of the scheduler)
    const r = await gen.run({
      streams: [{ ...stream(10000, 0), lcore: 1 }, { ...stream(5000, 1), id: 1, lcore: 2 }],
      rx: [{ port: 1, queue: 0, lcore: 2 }, { port: 2, queue: 0, lcore: 1 }], durationS: 0.5, drainS: 0.2, burst: 32, backlogS: 1,
    });
    t.comment(`lcores ${r.lcores}: sent ${r.tx.map((x) => x.packets)}, received ${r.rx.map((x) => x.rx)}, GCs ${r.workerGcs}`);
    t.same(r.lcores, [1, 2]);
    t.same(r.tx.map((x) => x.packets), [5000, 2500], 'each stream sent rate x duration');
    t.match(r.rx, [{ rx: 5000, lost: 0, dup: 0, reorder: 0 }, { rx: 2500, lost: 0, dup: 0, reorder: 0 }]);
    t.equal(r.crossed, 0);
    t.equal(r.rxPackets, 7500);
    t.equal(gen.zone.ctl[1], 3, 'the phase says finished once both are done');
  });

  t.test('a stream that reaches two RX lcores is counted on the first and the rest reported, not raced over', async (t) => {
    // the forwarder (lcore 3) sends the stream on to port 2 (counted on lcore 1) but packets 100..104 through port
    // 2's TX -> pg_a -> port 0, counted on lcore 2: they are the crossed ones
    const tr: Trial = { ...trial(10000, 0.2, 2), rx: [{ port: 2, queue: 0, lcore: 1 }, { port: 0, queue: 0, lcore: 2 }] };
    const r = await impair({ divert: [100, 101, 102, 103, 104], divertPort: 2 }, 10000, 0.2, 0, tr, 3);
    const sent = r.tx[0].packets;
    t.comment(`sent ${sent}, counted ${r.rx[0].rx}, crossed ${r.crossed}, lost ${r.rx[0].lost}`);
    // which lcore polls the stream first is the scheduler's choice (lcore 1 usually; lcore 2 when lcore 1 was
    // descheduled while the first 105 packets went by): either way one of them counts and the other reports
    t.ok(r.crossed === 5 || r.crossed === sent - 5, `the packets of the other lcore are reported, not counted (${r.crossed})`);
    t.equal(r.rx[0].rx + r.crossed, sent, 'counted + crossed = sent');
    t.match(r.rx[0], { lost: r.crossed, dup: 0 }, 'the crossed ones show as lost');
    t.equal(r.rxPackets, sent, 'every packet was received by one of the two');
  });

  t.test('placements a queue cannot have are refused before anything runs', async (t) => {
    const base = trial(1000, 0.1, 1);
    await t.rejects(gen.run({ ...base, streams: [{ ...stream(1000), lcore: 4 }] }), /stream 0 is placed on lcore 4, which is not a worker lcore \(workers: 1,2,3\)/);
    await t.rejects(gen.run({ ...base, streams: [{ ...stream(1000), lcore: 1 }, { ...stream(1000), id: 1, lcore: 2 }] }),
      /TX queue 0:0 is used by streams on lcores 1 and 2: a queue has one sender/);
    await t.rejects(gen.run({ ...base, rx: [{ port: 1, queue: 0 }, { port: 1, queue: 0, lcore: 2 }] }), /RX queue 1:0 is listed twice/);
    const r = await gen.run(base);
    t.equal(r.rx[0].lost, 0, 'and the generator still runs afterwards');
  });

  t.test('a busy lcore: the trial fails with its error and the lcore already started does not wait for it', async (t) => {
    pktio.clearQuit();
    Atomics.store(ready, 0, 0);
    pktio.remoteLaunch(2, new URL('./helpers/pktgen-impair.ts', import.meta.url),
      { rxPort: 1, txPort: 1, pool: 'pg_pool', holdNs: 0, drop: [], dup: [], swap: [], baseSec: gen.baseSec } satisfies ImpairArgs);
    while (Atomics.load(ready, 0) === 0) await new Promise((r) => setTimeout(r, 10));
    // the stream's lcore 1 is launched first and waits at the start for lcore 2, which is taken
    await t.rejects(gen.run({ ...trial(1000, 0.5, 1), rx: [{ port: 1, queue: 0, lcore: 2 }] }), /lcore 2 is busy/);
    pktio.requestQuit();
    await pktio.waitLcore(2);
    pktio.clearQuit();
    const r = await gen.run(trial(1000, 0.1, 1));
    t.equal(r.rx[0].lost, 0, 'the next trial runs');
  });

  t.test('every mbuf back', async (t) => {
    drainPorts([0, 1, 2]);
    for (const p of [0, 1, 2]) { pktio.devStop(p); pktio.devClose(p); }
    t.equal(pool.inUseCount(), 0);
  });
});
