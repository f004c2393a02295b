// pktgen for hours: its data path past 2^31 and 2^32 packets of a stream. At 4.7 Mpps a stream's sequence number
// passes 2^31 after 8 minutes and wraps after 15; a per-packet counter that outgrows int32 in a local or a field
// changes representation in V8 and can cost a heap number per packet from then on (examples/l2fwd/fwd.ts loop()).
// Two streams start just below 2^31 and just below 2^32 (TxStreamArgs.seqStart) and run a few million packets
// each through net_ring pairs at the generator's full speed; the generator's lcore must not collect garbage, and
// the receive side must count every packet once, in order, across the wrap.
import t from 'tap';
import * as v8 from 'node:v8';
import * as pktio from '../src/index.js';
import { FrameWriter, parseIpRange, stampSeq } from '../src/lib/frames.js';
import { StreamRx } from '../src/lib/streams.js';
import { PACE_CONSTANT } from '../src/lib/pacer.js';
import { fullGc } from '../src/lib/gc.js';
import { Generator, startGenPorts, type Trial } from '../examples/pktgen/generator.js';
import type { TxStreamArgs } from '../examples/pktgen/gen.js';

const cpus = pktio.cpusAllowed();
const flow = {
  srcMac: [2, 0, 0, 0, 0, 1], dstMac: [2, 0, 0, 0, 0, 2], srcIp: parseIpRange('198.18.0.1-198.18.0.4'),
  dstIp: parseIpRange('198.19.0.1'), srcPort: { start: 1024, count: 8 }, dstPort: { start: 2048, count: 1 },
};
/** packets per stream before its number crosses 2^31 or 2^32: after the JIT has compiled the loop */
const AHEAD = 200000;
/** packets per stream the long trial aims at */
const TARGET = 2.5e6;

t.test('the per-packet functions past 2^31 and 2^32: no GC, counts exact', async (t) => {
  // what txStep and rxStep call per packet (FrameWriter.write, stampSeq, StreamRx.record), here on the main thread:
  // compiled on small numbers first, then two streams from just below 2^31 and 2^32, three million packets each.
  // The crossing itself may deoptimize once (the JIT compiled for small integers) and allocate while V8 compiles
  // again in the background, longer on a loaded host: that is not per packet, so the window whose GCs are counted
  // starts CROSSED packets after it, from an empty young generation. A heap number per packet from then on would
  // be 16 bytes times millions: several scavenges in the window.
  const u8 = new Uint8Array(256);
  const pass = (w: FrameWriter, rx: StreamRx, n: number) => {
    for (let i = 0; i < n; i++) {
      w.write(u8, 2);
      rx.record(stampSeq(u8, 2), 64);
    }
  };
  pass(new FrameWriter(flow, [64, 128], 0), new StreamRx(), 1e6);
  const N = 3e6;
  const BELOW = 1e6;
  const CROSSED = 5e5;
  const streams = [2 ** 31 - BELOW, 2 ** 32 - BELOW].map((s0) => ({ s0, w: new FrameWriter(flow, [64, 128], 0, s0), rx: new StreamRx() }));
  for (const s of streams) pass(s.w, s.rx, BELOW + CROSSED);
  fullGc();
  const prof = new v8.GCProfiler();
  prof.start();
  const heap0 = v8.getHeapStatistics().used_heap_size;
  for (const s of streams) pass(s.w, s.rx, N - BELOW - CROSSED);
  const heap1 = v8.getHeapStatistics().used_heap_size;
  const gcs = prof.stop().statistics.length;
  t.comment(`${2 * (N - BELOW - CROSSED)} packets written and counted past 2^31 and 2^32: ${gcs} GCs, heap ${heap1 - heap0} bytes`);
  t.equal(gcs, 0, 'no GC');
  t.same(streams[0].rx.counts(), { rx: N, unique: N, dup: 0, reorder: 0, late: 0, bytes: 64 * N, maxSeq: 2 ** 31 - BELOW + N - 1, wraps: 0 });
  t.same(streams[1].rx.counts(), { rx: N, unique: N, dup: 0, reorder: 0, late: 0, bytes: 64 * N, maxSeq: N - BELOW - 1, wraps: 1 });
  t.equal(streams[1].w.seq, N - BELOW, 'the writer wrapped');
});

t.test('pktgen past 2^31 and 2^32 packets: no GC on the generator lcore, every packet counted once', async (t) => {
  await pktio.init(['--no-pci', '--no-huge', '-m', '128', '--log-level', 'error', '--lcores', `0@${cpus[0]},1@${cpus[cpus.length - 1]}`,
    '--vdev', 'net_ring0,rxring=sw_a,txring=sw_b', '--vdev', 'net_ring1,rxring=sw_b,txring=sw_a',
    '--vdev', 'net_ring2,rxring=sw_c,txring=sw_d', '--vdev', 'net_ring3,rxring=sw_d,txring=sw_c']);
  t.teardown(pktio.cleanup);
  const pool = pktio.pktmbufPoolCreate('sw_pool', 16383, 256);
  startGenPorts([0, 1, 2, 3], pool);
  const gen = new Generator('sw_pool', 1);
  // faster than the generator can go: it sends flat out (the pacer forgives what it cannot catch up on)
  const stream = (id: number, seqStart: number): TxStreamArgs => ({ id, port: 2 * id, queue: 0, rate: 20e6, mode: PACE_CONSTANT, sizes: [64], flow, seqStart });
  const trial = (s0: number, s1: number, durationS: number): Trial => ({
    streams: [stream(0, s0), stream(1, s1)], rx: [{ port: 1, queue: 0 }, { port: 3, queue: 0 }], durationS, drainS: 0.2, burst: 32,
  });
  // warm-up with small numbers, as the first minutes of a long run: the loop is compiled on what it saw there
  const w = await gen.run(trial(0, 0, 0.5));
  const pps = (w.tx[0].packets + w.tx[1].packets) / 2 / 0.5;
  t.comment(`warm-up: ${w.tx[0].packets} + ${w.tx[1].packets} packets in 0.5 s (${(pps / 1e6).toFixed(2)} Mpps per stream), ` +
    `${w.workerGcs} GCs, heap ${w.workerHeapGrowth} bytes (JIT warm-up included)`);
  // long enough for TARGET packets per stream at the warm-up's speed, 1 to 3 s (CI's time is short)
  const durationS = Math.min(3, Math.max(1, TARGET / Math.max(pps, 1)));
  const S0 = 2 ** 31 - AHEAD;
  const S1 = 2 ** 32 - AHEAD;
  // A first crossing meets branches the warm-up never took (the wrap in the sequence window, the clock past 2^32
  // ns): V8 deoptimizes those functions once and runs them unoptimized until it has recompiled them. On a quiet
  // machine that is quick; beside the VM suite it allocated enough for one scavenge (1 GC, 0.96 MB over 4.3 M
  // packets). That is the JIT learning, once per process, not a per-packet cost: the second crossing, with the JIT
  // done, is the one that must not collect
  const first = await gen.run(trial(S0, S1, 1));
  t.comment(`first crossing: ${first.txPackets} packets, ${first.workerGcs} GCs, heap ${first.workerHeapGrowth} bytes (the JIT's deopt and recompile)`);
  const r = await gen.run(trial(S0, S1, durationS));
  const c = [gen.zone.rx[0].counts(), gen.zone.rx[1].counts()];
  for (const s of [0, 1]) {
    const x = r.tx[s];
    t.comment(`stream ${s} from ${[S0, S1][s]}: ${x.packets} packets in ${durationS.toFixed(2)} s (${(x.pps / 1e6).toFixed(2)} Mpps), ` +
      `refused ${x.refused}; RX ${r.rx[s].rx}, highest ${c[s].maxSeq}, wraps ${c[s].wraps}`);
  }
  t.comment(`generator lcore: ${r.workerGcs} GCs, heap ${r.workerHeapGrowth} bytes over ${r.txPackets} packets`);
  t.ok(r.tx[0].packets > AHEAD + 100000 && r.tx[1].packets > AHEAD + 100000, 'both streams went well past their crossing');
  t.equal(r.workerGcs, 0, 'no GC on the generator lcore');
  for (const s of [0, 1]) {
    const sent = r.tx[s].packets;
    t.match(r.rx[s], { rx: sent, unique: sent, lost: 0, dup: 0, reorder: 0, late: 0 }, `stream ${s}: every packet once, in order`);
  }
  t.match(c[0], { maxSeq: S0 + r.tx[0].packets - 1, wraps: 0 }, 'stream 0: past 2^31, no wrap');
  t.match(c[1], { maxSeq: (S1 + r.tx[1].packets - 1) % 2 ** 32, wraps: 1 }, 'stream 1: wrapped once');
  const buf = new Uint32Array(64);
  for (const p of [0, 1, 2, 3]) for (let n; (n = pktio.rxBurst(p, 0, buf, 64)) > 0;) pktio.mbuf.pktmbufFreeBulk(buf, n);
  for (const p of [0, 1, 2, 3]) { pktio.devStop(p); pktio.devClose(p); }
  t.equal(pool.inUseCount(), 0, 'every mbuf back');
});
