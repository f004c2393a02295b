// Pool exhaustion under load: a forwarding loop net_null0 -> net_ring pair (a 1024-slot ring) -> net_null1 on a pool
// of 255 mbufs, fewer than the ring holds. While the consumer side is slow the ring soaks up the pool: the source
// port's RX comes back short or empty and counts rx_nombuf, nothing throws; when the consumer catches up the mbufs
// come back and full bursts flow again. After stop and close every mbuf is back in the pool.
import t from 'tap';
import * as pktio from '../src/index.js';
import { startPort } from './helpers/ports.js';

const BURST = 32;
const POOL = 255;

t.before(async () => {
  await pktio.init(['--no-huge', '-m', '64', '-l', `${pktio.cpusAllowed()[0]}`, '--log-level', 'error',
    '--vdev', 'net_null0', '--vdev', 'net_null1', '--vdev', 'net_ring0,rxring=rp_b,txring=rp_a', '--vdev', 'net_ring1,rxring=rp_a,txring=rp_b']);
});
t.teardown(() => pktio.cleanup());

/** One pass: null0 -> ring0 (TX into rp_a); every `consumeEvery` passes ring1 (RX from rp_a) -> null1 (frees). */
function pass(pkts: Uint32Array, i: number, consumeEvery: number): { rx: number; out: number } {
  const n = pktio.rxBurst(0, 0, pkts, BURST);
  const sent = pktio.txBurst(2, 0, pkts, n, 0);
  if (sent < n) pktio.pktmbufFreeBulk(pkts, n - sent, sent);
  let out = 0;
  if (i % consumeEvery === 0) {
    const m = pktio.rxBurst(3, 0, pkts, BURST);
    out = pktio.txBurst(1, 0, pkts, m, 0);
    if (out < m) pktio.pktmbufFreeBulk(pkts, m - out, out);
  }
  return { rx: n, out };
}

/** ring1 -> null1 until ring rp_a is empty. */
function drain(pkts: Uint32Array): void {
  for (let m = pktio.rxBurst(3, 0, pkts, BURST); m > 0; m = pktio.rxBurst(3, 0, pkts, BURST)) {
    const out = pktio.txBurst(1, 0, pkts, m, 0);
    if (out < m) pktio.pktmbufFreeBulk(pkts, m - out, out);
  }
}

t.test('a pool smaller than the ring: rx_nombuf, no throw, recovery', async (t) => {
  const pool = pktio.pktmbufPoolCreate('rp_pool', POOL, 0, 0, pktio.MBUF_DEFAULT_BUF_SIZE);
  for (const p of [0, 1, 2, 3]) startPort(p, pool, 1, 1024);
  const pkts = new Uint32Array(BURST);
  // slow consumer: one drain per 50 passes
  let shortBursts = 0;
  for (let i = 1; i <= 2000; i++) if (pass(pkts, i, 50).rx < BURST) shortBursts++;
  const s0 = pktio.statsGet(0);
  t.ok(s0.rxNombuf > 0, `rx_nombuf counted on the source port (${s0.rxNombuf})`);
  t.ok(shortBursts > 1000, `most bursts came back short while the pool was dry (${shortBursts} of 2000)`);
  t.ok(pool.inUseCount() >= POOL - 2 * BURST, `the ring and the bursts in flight hold the pool (${pool.inUseCount()} of ${POOL} out)`);
  // the consumer catches up: the ring drains into the sink, the pool fills again
  drain(pkts);
  t.equal(pool.inUseCount(), 0, 'the ring drained: every mbuf back in the pool');
  const before = pktio.statsGet(0).rxNombuf;
  let full = 0;
  for (let i = 1; i <= 200; i++) if (pass(pkts, i, 1).rx === BURST) full++;
  t.equal(full, 200, 'full bursts again once the mbufs come back');
  t.equal(pktio.statsGet(0).rxNombuf, before, 'and no more allocation failures');
  t.ok(pktio.statsGet(1).opackets > 0, 'the sink port sent what came through the ring');
  // net_ring's close frees the rings it made without draining them (src/pmd/ring/ring.ts: the application's job)
  drain(pkts);
  for (const p of [0, 1, 2, 3]) pktio.devStop(p);
  for (const p of [0, 1, 2, 3]) pktio.devClose(p);
  t.equal(pool.inUseCount(), 0, 'every mbuf back in the pool after stop and close');
});
