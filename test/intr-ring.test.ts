// RX interrupts on net_ring and net_null: a worker lcore that sleeps in rxIntrWait when its queue is idle wakes for
// each packet (1,000 sleep/wake cycles, every mbuf back in its pool), and wakes at once when the port is stopped
// or requestQuit() is called, ending its loop.
import t from 'tap';
import * as pktio from '../src/index.js';
import { devStop, devClose, devStart, txBurst, portByName, EthdevError } from '../src/ethdev/ethdev.js';
import { rxIntrEnable as rxIntrEnableApi } from '../src/ethdev/intr.js';
import { pktmbufPoolCreate, pktmbufAllocBurst, append } from '../src/mempool/mbuf.js';
import { mem, memzoneReserve, memzoneFree } from '../src/eal/index.js';
import { startPort } from './helpers/ports.js';
import { C_SLEEPS, C_WAKES, C_RECEIVED, C_DONE } from './helpers/intr-lcore.js';

const sleeperModule = new URL('./helpers/intr-lcore.ts', import.meta.url);
const cpus = pktio.cpusAllowed();
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

t.before(async () => {
  await pktio.init(['--no-pci', '--no-huge', '-m', '64', '--log-level', 'error', '--lcores', `0@${cpus[0]},1@${cpus[cpus.length - 1]}`,
    '--vdev', 'net_ring0,rxring=ab,txring=ba', '--vdev', 'net_ring1,rxring=ba,txring=ab', '--vdev', 'net_null0,size=64',
    '--vdev', 'net_ring2']);
});
t.teardown(pktio.cleanup);

async function until(f: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await tick();
  }
}

t.test('net_ring: 1,000 sleep/wake cycles on a worker, then devStop wakes it and ends its loop', async (t) => {
  const pool = pktmbufPoolCreate('intr_ring', 255, 0);
  const a = portByName('net_ring0');
  const b = portByName('net_ring1');
  startPort(a, pool);
  startPort(b, pool, 1, 0, { intrConf: { rxq: true } });
  const z = memzoneReserve('intr_cnt', 64);
  const i32 = mem().i32;
  const c = z.off >> 2;
  i32.fill(0, c, c + 16);
  pktio.remoteLaunch(1, sleeperModule, { port: b, queue: 0, zone: 'intr_cnt' }, 'sleeper');
  const one = new Uint32Array(1);
  let t0 = 0n;
  for (let i = 0; i < 1000; i++) {
    if (i === 1) t0 = process.hrtime.bigint(); // after the worker's start-up
    await until(() => Atomics.load(i32, c + C_SLEEPS) === i + 1, i === 0 ? 30000 : 5000, `sleep ${i + 1}`);
    if (pktmbufAllocBurst(pool, one, 1) !== 1) t.fail('alloc');
    append(one[0], 60);
    if (txBurst(a, 0, one, 1) !== 1) t.fail('tx');
    await until(() => Atomics.load(i32, c + C_RECEIVED) === i + 1, 5000, `packet ${i + 1}`);
  }
  const us = Number(process.hrtime.bigint() - t0) / 1000 / 999;
  t.equal(Atomics.load(i32, c + C_WAKES), 1000, '1,000 wake-ups, one per packet');
  t.comment(`${us.toFixed(1)} us per sleep/wake cycle (send, wake, receive, free, arm, sleep)`);
  await until(() => Atomics.load(i32, c + C_SLEEPS) === 1001, 5000, 'last sleep');
  const t1 = Date.now();
  devStop(b);
  const res = await pktio.waitLcore(1) as { sleeps: number; wakes: number; received: number; reason: string };
  t.ok(Date.now() - t1 < 400, `devStop woke the sleeping worker in ${Date.now() - t1} ms`);
  t.match(res, { sleeps: 1001, wakes: 1001, received: 1000, reason: 'stopped' });
  t.equal(pool.inUseCount(), 0, 'no mbuf lost');
  devStop(a);
  memzoneFree('intr_cnt');
});

t.test('net_ring: requestQuit wakes a sleeping worker', async (t) => {
  const pool = pktmbufPoolCreate('intr_ring_q', 255, 0);
  const b = portByName('net_ring1');
  devStart(b);
  const z = memzoneReserve('intr_cnt2', 64);
  const c = z.off >> 2;
  mem().i32.fill(0, c, c + 16);
  pktio.remoteLaunch(1, sleeperModule, { port: b, queue: 0, zone: 'intr_cnt2' }, 'sleeper');
  await until(() => Atomics.load(mem().i32, c + C_SLEEPS) === 1, 30000, 'sleep');
  const t1 = Date.now();
  pktio.requestQuit();
  const res = await pktio.waitLcore(1);
  t.ok(Date.now() - t1 < 400, `requestQuit woke it in ${Date.now() - t1} ms`);
  t.match(res, { reason: 'quit', sleeps: 1, wakes: 1 });
  t.equal(Atomics.load(mem().i32, c + C_DONE), 1);
  pktio.clearQuit();
  devStop(b);
  memzoneFree('intr_cnt2');
  t.equal(pool.inUseCount(), 0);
});

t.test('net_null: arming fires at once (it always has packets); 1,000 cycles, every mbuf back', async (t) => {
  const pool = pktmbufPoolCreate('intr_null', 1023, 0);
  const p = portByName('net_null0');
  startPort(p, pool, 1, 0, { intrConf: { rxq: true } });
  pktio.remoteLaunch(1, sleeperModule, { port: p, queue: 0, n: 1000 }, 'cycles');
  const res = await pktio.waitLcore(1);
  t.same(res, { wakes: 1000, received: 32000 }, 'each arming woke the worker for its queue; each poll then got a burst');
  devClose(p);
  t.equal(pool.inUseCount(), 0, 'no mbuf lost');
});

t.test('clear errors', async (t) => {
  const pool = pktmbufPoolCreate('intr_err', 255, 0);
  const p = portByName('net_ring2');
  startPort(p, pool);
  t.throws(() => rxIntrEnableApi(p, 0), /was not configured with intrConf\.rxq/);
  t.throws(() => pktio.rxIntrCtlQ(p, 0, 'add'), EthdevError);
  devStop(p);
  t.throws(() => rxIntrEnableApi(p, 0), /is not started/);
  devClose(p);
});
