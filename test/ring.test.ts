// Rings: capacity rules, bulk vs burst, wrap-around (slots and 32-bit indexes), lookup from a worker, and stress
// runs with several lcores on this machine's CPUs: every item arrives exactly once, in each producer's order.
import t, { type Test } from 'tap';
import { ealInit, ealCleanup, memzoneReserve, memzoneFree, mem, cpusAllowed, remoteLaunch, waitLcore, requestQuit, clearQuit } from '../src/eal/index.js';
import {
  ringCreate, ringLookup, ringFree, ringMemSize, Ring, RingError, RING_F_SP_ENQ, RING_F_SC_DEQ, RING_F_EXACT_SZ, RING_HDR_BYTES,
} from '../src/ring/ring.js';
import { READY, type ProducerArgs, type ConsumerArgs } from './helpers/lcore-ring.js';

const helper = new URL('./helpers/lcore-ring.ts', import.meta.url);
const cpus = cpusAllowed();

t.before(async () => {
  // five lcores on at most two CPUs: main 0, workers 1-4 alternating between the CPUs (producer and consumer
  // lcores of a stress run land on different CPUs)
  const [a, b] = cpus.length >= 2 ? cpus : [cpus[0], cpus[0]];
  await ealInit(['--no-huge', '-m', '64', '--log-level', 'error', '--lcores', `0@${a},1@${a},2@${b},3@${a},4@${b}`]);
});
t.teardown(ealCleanup);

const seq = (a: number, n: number) => Uint32Array.from({ length: n }, (_, i) => a + i);

t.test('capacity rules', async (t) => {
  const r = ringCreate('cap8', 8);
  t.equal(r.size, 8);
  t.equal(r.mask, 7);
  t.equal(r.capacity, 7, 'a ring of count N holds N-1');
  t.equal(r.sp, false);
  t.equal(r.sc, false);
  t.equal(r.count(), 0);
  t.equal(r.freeCount(), 7);
  t.ok(r.empty());
  t.notOk(r.full());
  const e = ringCreate('exact7', 7, RING_F_EXACT_SZ);
  t.equal(e.capacity, 7, 'RING_F_EXACT_SZ holds exactly count');
  t.equal(e.size, 8);
  const e8 = ringCreate('exact8', 8, RING_F_EXACT_SZ);
  t.equal(e8.capacity, 8);
  t.equal(e8.size, 16, 'size rounded up past count');
  const e1000 = ringCreate('exact1000', 1000, RING_F_EXACT_SZ | RING_F_SP_ENQ | RING_F_SC_DEQ);
  t.equal(e1000.capacity, 1000);
  t.equal(e1000.size, 1024);
  t.ok(e1000.sp && e1000.sc);
  t.equal(e1000.enqueueBurst(seq(0, 1024), 1024), 1000, 'exactly 1000 fit');
  t.ok(e1000.full());
  t.equal(ringMemSize(8), RING_HDR_BYTES + 8 * 4);
  t.equal(ringMemSize(1000, RING_F_EXACT_SZ), RING_HDR_BYTES + 1024 * 4);
  t.throws(() => ringCreate('np2', 100), { name: 'RingError', message: 'ring count 100 is not a power of two (or pass RING_F_EXACT_SZ)' });
  for (const bad of [0, -4, 1.5, 0x40000001]) {
    t.throws(() => ringCreate('bad', bad), { name: 'RingError', message: `bad ring count ${bad}` });
  }
  t.throws(() => ringMemSize(3), RingError);
  t.equal(ringLookup('np2'), null, 'nothing left behind by a failed create');
  for (const x of [r, e, e8, e1000]) ringFree(x);
});

t.test('names, lookup, free', async (t) => {
  const r = ringCreate('named', 16);
  t.throws(() => ringCreate('named', 16), { name: 'RingError', message: "ring 'named' already exists" });
  const v = ringLookup('named')!;
  t.ok(v instanceof Ring);
  t.equal(v.off, r.off, 'lookup views the same ring');
  r.enqueueOne(42);
  t.equal(v.count(), 1);
  t.equal(v.dequeueOne(), 42);
  t.equal(ringLookup('nothing'), null);
  ringFree(r);
  t.equal(ringLookup('named'), null);
  t.throws(() => ringCreate('x'.repeat(50), 16), { name: 'RingError', message: /^cannot create ring 'x+': bad memzone name/ });
  t.throws(() => ringCreate('huge', 1 << 26), { name: 'RingError', message: /^cannot create ring 'huge': cannot reserve \d+ bytes .* give the EAL more memory with -m$/ });
  const z = memzoneReserve('not_a_ring', 256);
  t.throws(() => new Ring('fake', z.off), { name: 'RingError', message: `no ring at offset ${z.off}` });
  memzoneFree('not_a_ring');
});

for (const [label, flags] of [['MP/MC', 0], ['SP/SC', RING_F_SP_ENQ | RING_F_SC_DEQ]] as const) {
  t.test(`${label}: bulk is all-or-nothing, burst takes what fits`, async (t) => {
    const r = ringCreate(`bb${flags}`, 8, flags);
    t.teardown(() => ringFree(r));
    t.equal(r.enqueueBulk(seq(100, 8), 8), 0, 'bulk of 8 into 7 free: none');
    t.equal(r.count(), 0);
    t.equal(r.enqueueBulk(seq(100, 5), 5), 5);
    t.equal(r.enqueueBulk(seq(105, 3), 3), 0, 'bulk of 3 into 2 free: none');
    t.equal(r.count(), 5);
    t.equal(r.enqueueBurst(seq(105, 3), 3), 2, 'burst of 3 into 2 free: 2');
    t.ok(r.full());
    t.equal(r.freeCount(), 0);
    t.equal(r.enqueueBurst(seq(0, 1), 1), 0, 'full: burst takes none');
    t.equal(r.enqueueOne(9), false);
    const out = new Uint32Array(16).fill(0xeeeeeeee);
    t.equal(r.dequeueBulk(out, 8), 0, 'bulk of 8 from 7: none');
    t.equal(out[0], 0xeeeeeeee, 'nothing written');
    t.equal(r.dequeueBulk(out, 3, 4), 3, 'bulk into objs[4..]');
    t.same([...out.subarray(4, 7)], [100, 101, 102], 'FIFO');
    t.equal(r.dequeueBurst(out, 10), 4, 'burst takes what is there');
    t.same([...out.subarray(0, 4)], [103, 104, 105, 106]);
    t.ok(r.empty());
    t.equal(r.dequeueBurst(out, 4), 0);
    t.equal(r.dequeueOne(), -1);
    t.equal(r.enqueueBurst(seq(7, 10), 3, 5), 3, 'burst from objs[5..]');
    t.same([r.dequeueOne(), r.dequeueOne(), r.dequeueOne()], [12, 13, 14]);
    t.equal(r.enqueueBulk(seq(0, 4), 0), 0, 'zero-length bulk');
  });

  t.test(`${label}: wrap-around keeps FIFO order and every 32-bit value`, async (t) => {
    const r = ringCreate(`wrap${flags}`, 16, flags);
    t.teardown(() => ringFree(r));
    // values with the bit patterns of float64 NaNs, negative zero and infinities in either half
    const special = [0x7ff00000, 0x00000001, 0x7ff7ffff, 0xffffffff, 0xfff80000, 0x12345678, 0x80000000, 0, 0xfff7ffff, 0x7ff80001];
    let next = 0;
    let expect = 0;
    const val = (i: number) => (i % 3 === 0 ? special[i % special.length] : (i * 2654435761) >>> 0);
    const inBuf = new Uint32Array(20);
    const outBuf = new Uint32Array(20);
    let bad = 0;
    let counted = 0;
    for (let round = 0; round < 5000; round++) {
      const want = 1 + ((round * 5) % 11);
      for (let i = 0; i < want; i++) inBuf[i] = val(next + i);
      const from = round & 1;
      if (from) inBuf.copyWithin(1, 0, want);
      const n = r.enqueueBurst(inBuf, want, from);
      next += n;
      if (r.count() !== next - expect) counted++;
      const m = r.dequeueBurst(outBuf, 1 + ((round * 3) % 9), round & 3);
      for (let i = 0; i < m; i++) if (outBuf[(round & 3) + i] !== val(expect + i)) bad++;
      expect += m;
    }
    t.equal(bad, 0, 'every value came out as it went in');
    t.equal(counted, 0, 'count() always matched');
    t.ok(next > 16 * 100, `${next} items went around a 16-slot ring`);
  });

  t.test(`${label}: indexes wrap past 2^31 and 2^32; views made late start from the real tails`, async (t) => {
    for (const start of [0x7ffffff0, 0xc0000000, 0xfffffff8]) {
      const r = ringCreate(`idx${flags}`, 8, flags);
      const w = r.off >> 2;
      const u32 = mem().u32;
      for (const k of [16, 17, 32, 33]) u32[w + k] = start; // producer head/tail, consumer head/tail
      const v = ringLookup(`idx${flags}`)!;
      t.equal(v.count(), 0);
      const out = new Uint32Array(16);
      t.equal(v.dequeueBurst(out, 8), 0, `0x${start.toString(16)}: a fresh view of an empty ring dequeues nothing`);
      t.equal(v.enqueueBurst(seq(1, 10), 10), 7, 'and enqueues only the capacity');
      t.equal(v.count(), 7);
      t.equal(v.enqueueOne(99), false);
      let got = 0;
      let sent = 7;
      let ok = true;
      for (let i = 0; i < 40; i++) {
        const n = v.dequeueBurst(out, 3);
        for (let j = 0; j < n; j++) if (out[j] !== got + j + 1) ok = false;
        got += n;
        sent += v.enqueueBurst(seq(sent + 1, 4), 4);
      }
      t.ok(got > 40, `${got} items through`);
      t.ok(ok, 'FIFO across the index wrap');
      t.ok(u32[w + 17] !== start, 'tail moved');
      ringFree(r);
    }
  });
}

t.test('a worker finds a ring by name', async (t) => {
  const a = ringCreate('to_worker', 64);
  const b = ringCreate('from_main', 64);
  t.teardown(() => { ringFree(a); ringFree(b); });
  b.enqueueBurst(seq(500, 5), 5);
  remoteLaunch(1, helper, { ring: 'to_worker', values: [1, 2, 3, 0xffffffff], back: 'from_main' }, 'lookupAndEnqueue');
  t.same(await waitLcore(1), { found: true, enq: 4, back: [500, 501, 502, 503, 504] });
  const out = new Uint32Array(8);
  t.equal(a.dequeueBurst(out, 8), 4);
  t.same([...out.subarray(0, 4)], [1, 2, 3, 0xffffffff], 'values enqueued on lcore 1 come out on the main lcore');
  remoteLaunch(2, helper, { ring: 'missing', values: [] }, 'lookupAndEnqueue');
  t.same(await waitLcore(2), { found: false, enq: 0, back: [] });
});

interface StressRun {
  producers: number; consumers: number; perProducer: number; ringCount: number; flags: number; burst: number; bulk?: boolean;
  /** stop the producers after this long (items sent so far are still checked) */
  budgetMs: number;
}

/**
 * Producers on lcores 1..P send disjoint sequences; consumers on the next lcores tick each value in a shared byte
 * array. Every value sent must be seen exactly once, in each producer's order, and nothing else.
 * Several lcores share each CPU here, so a producer may be preempted between reserving and publishing its slots
 * (rte_ring is not preemptible): throughput varies a lot, so the run is bounded in time rather than in items.
 */
async function stress(t: Test, name: string, s: StressRun): Promise<void> {
  const total = s.producers * s.perProducer;
  const ring = ringCreate(name, s.ringCount, s.flags);
  const seen = memzoneReserve(`${name}_seen`, total);
  const ctl = memzoneReserve(`${name}_ctl`, 64);
  t.teardown(() => {
    ringFree(ring);
    memzoneFree(`${name}_seen`);
    memzoneFree(`${name}_ctl`);
  });
  const i32 = mem().i32;
  Atomics.store(i32, (ctl.off >> 2) + 1, total);
  const t0 = performance.now();
  const consumers = [];
  for (let c = 0; c < s.consumers; c++) {
    const lc = 1 + s.producers + c;
    const a: ConsumerArgs = {
      ring: name, seen: `${name}_seen`, ctl: `${name}_ctl`, burst: s.burst, perProducer: s.perProducer, producers: s.producers, timeoutMs: 60000,
    };
    remoteLaunch(lc, helper, a, 'consumer');
    consumers.push(lc);
  }
  // the producers send once every worker has started, and the time budget starts then: a worker that took seconds
  // to start on a loaded machine found the run over (one consumer got nothing: "every consumer took part" failed)
  const parties = s.producers + s.consumers;
  for (let p = 0; p < s.producers; p++) {
    const a: ProducerArgs = { ring: name, first: p * s.perProducer, count: s.perProducer, burst: s.burst, bulk: s.bulk, ctl: `${name}_ctl`, parties };
    remoteLaunch(1 + p, helper, a, 'producer');
  }
  for (const end = Date.now() + 60000; Atomics.load(i32, (ctl.off >> 2) + READY) < parties;) {
    if (Date.now() > end) throw new Error(`${Atomics.load(i32, (ctl.off >> 2) + READY)} of ${parties} ring workers started in 60 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const stop = setTimeout(requestQuit, s.budgetMs);
  const sent: number[] = [];
  for (let p = 0; p < s.producers; p++) sent.push(((await waitLcore(1 + p)) as { sent: number }).sent);
  clearTimeout(stop);
  clearQuit();
  const sentTotal = sent.reduce((a, x) => a + x, 0);
  Atomics.store(i32, (ctl.off >> 2) + 1, sentTotal);
  const got = [];
  for (const lc of consumers) got.push((await waitLcore(lc)) as { got: number; orderErrors: number; outOfRange: number; timedOut: boolean });
  const secs = (performance.now() - t0) / 1000;
  t.comment(`${name}: ${sentTotal} of ${total} items in ${secs.toFixed(2)} s (${(sentTotal / secs / 1e6).toFixed(2)} M/s)`);
  t.ok(sentTotal >= Math.min(total, 200_000), `enough items went through (${sentTotal})`);
  t.same(got.map((x) => x.timedOut), new Array(s.consumers).fill(false), 'no consumer timed out');
  t.equal(got.reduce((a, x) => a + x.got, 0), sentTotal, 'consumers received exactly as many items as were sent');
  t.equal(got.reduce((a, x) => a + x.outOfRange, 0), 0, 'no value that was never sent');
  t.equal(got.reduce((a, x) => a + x.orderErrors, 0), 0, "each producer's items arrive in order");
  if (s.consumers > 1) t.ok(got.every((x) => x.got > 0), 'every consumer took part');
  const u8 = mem().u8.subarray(seen.off, seen.off + total);
  let missing = 0;
  let dup = 0;
  let extra = 0;
  for (let p = 0; p < s.producers; p++) {
    for (let i = 0; i < s.perProducer; i++) {
      const c = u8[p * s.perProducer + i];
      if (i < sent[p]) {
        if (c === 0) missing++;
        else if (c > 1) dup++;
      } else if (c !== 0) extra++;
    }
  }
  t.equal(missing, 0, 'no item lost');
  t.equal(dup, 0, 'no item duplicated');
  t.equal(extra, 0, 'no item that was not sent');
  t.ok(ring.empty(), 'ring empty at the end');
}

t.test('stress: MP/MC, 2 producers + 2 consumers, bursts', async (t) => {
  await stress(t, 'st_mpmc', { producers: 2, consumers: 2, perProducer: 2_000_000, ringCount: 1024, flags: 0, burst: 32, budgetMs: 5000 });
});

t.test('stress: MP/MC, 2 producers + 2 consumers, bulk enqueue, small ring', async (t) => {
  await stress(t, 'st_mpmc_bulk', { producers: 2, consumers: 2, perProducer: 1_000_000, ringCount: 64, flags: 0, burst: 16, bulk: true, budgetMs: 4000 });
});

t.test('stress: SP/SC, 1 producer + 1 consumer', async (t) => {
  await stress(t, 'st_spsc', { producers: 1, consumers: 1, perProducer: 4_000_000, ringCount: 512, flags: RING_F_SP_ENQ | RING_F_SC_DEQ, burst: 32, budgetMs: 5000 });
});

t.test('stress: MP/SC, 2 producers + 1 consumer', async (t) => {
  await stress(t, 'st_mpsc', { producers: 2, consumers: 1, perProducer: 1_000_000, ringCount: 256, flags: RING_F_SC_DEQ, burst: 32, budgetMs: 4000 });
});
