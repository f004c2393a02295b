// rxBursts on the main thread: bursts arrive through for await while timers run, the process sleeps (no CPU) while
// the queue is idle, and the loop ends on devStop, on requestQuit, on an AbortSignal, and on break.
import t from 'tap';
import * as pktio from '../src/index.js';
import { devStop, devStart, txBurst, portByName } from '../src/ethdev/ethdev.js';
import { rxBursts } from '../src/ethdev/rxstream.js';
import { pktmbufPoolCreate, pktmbufAllocBurst, pktmbufFreeBulk, append } from '../src/mempool/mbuf.js';
import { startPort } from './helpers/ports.js';
import { cpuOver, steadyIdle } from './helpers/cpu.js';

const cpus = pktio.cpusAllowed();
const helpers = new URL('./helpers/intr-lcore.ts', import.meta.url);
let pool: pktio.Mempool;
let a = 0;
let b = 0;

t.before(async () => {
  await pktio.init(['--no-pci', '--no-huge', '-m', '64', '--log-level', 'error', '--lcores', `0@${cpus[0]},1@${cpus[cpus.length - 1]}`,
    '--vdev', 'net_ring0,rxring=ab,txring=ba', '--vdev', 'net_ring1,rxring=ba,txring=ab']);
  pool = pktmbufPoolCreate('stream', 1023, 0);
  a = portByName('net_ring0');
  b = portByName('net_ring1');
  startPort(a, pool);
  startPort(b, pool, 1, 0, { intrConf: { rxq: true } });
});
t.teardown(pktio.cleanup);

function send(n: number): void {
  const pkts = new Uint32Array(n);
  if (pktmbufAllocBurst(pool, pkts, n) !== n) throw new Error('pool empty');
  for (const m of pkts) append(m, 60);
  if (txBurst(a, 0, pkts, n) !== n) throw new Error('ring full');
}

t.test('bursts as they come, timers keep running, devStop ends the loop', async (t) => {
  // the EAL's own idle cost (its 1 ms clock timer, src/eal/lcore.ts) before any stream runs
  const base = (await cpuOver(1000)).pct;
  let got = 0;
  let sent = 0;
  const timer = setInterval(() => {
    if (sent < 1000) {
      send(10);
      sent += 10;
    }
  }, 2);
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 1);
  let stopAt = 0;
  for await (const burst of rxBursts(b, 0)) {
    got += burst.count;
    pktmbufFreeBulk(burst.mbufs, burst.count);
    if (got === 1000) {
      clearInterval(timer);
      clearInterval(ticker);
      // idle: the stream sleeps; its steady state (helpers/cpu.ts says why) in 1 s windows, then stop the port
      void steadyIdle((pct) => pct - base <= 2, 1000).then((idle) => {
        t.ok(idle.pct - base <= 2, `idle CPU with a sleeping stream: ${idle.report} (the EAL alone: ${base}%)`);
        stopAt = Date.now();
        devStop(b);
      });
    }
  }
  clearInterval(ticker);
  t.equal(got, 1000, 'every packet, in bursts');
  t.ok(Date.now() - stopAt < 200, `devStop ended the loop in ${Date.now() - stopAt} ms`);
  t.ok(ticks > 100, `the event loop ran timers meanwhile (${ticks} ticks of 1 ms)`);
  t.equal(pool.inUseCount(), 0);
});

t.test('requestQuit, an AbortSignal and break end the loop', async (t) => {
  devStart(b);
  setTimeout(() => pktio.requestQuit(), 100);
  for await (const burst of rxBursts(b, 0)) pktmbufFreeBulk(burst.mbufs, burst.count);
  t.pass('requestQuit ended it');
  pktio.clearQuit();
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  for await (const burst of rxBursts(b, 0, { signal: ac.signal })) pktmbufFreeBulk(burst.mbufs, burst.count);
  t.pass('abort ended it');
  setTimeout(() => send(5), 50);
  let n = 0;
  for await (const burst of rxBursts(b, 0)) {
    n += burst.count;
    pktmbufFreeBulk(burst.mbufs, burst.count);
    break;
  }
  t.equal(n, 5, 'break after the first burst');
  await t.rejects(rxBursts(b, 1).next(), /no RX queue 1/);
  devStop(b);
  t.equal(pool.inUseCount(), 0);
});

t.test('rxBursts on a worker lcore: packets as they come, devStop ends it', async (t) => {
  devStart(b);
  const z = pktio.memzoneReserve('stream_cnt', 64);
  const i32 = pktio.mem().i32;
  const c = z.off >> 2;
  i32.fill(0, c, c + 16);
  pktio.remoteLaunch(1, helpers, { port: b, queue: 0, zone: 'stream_cnt' }, 'streamer');
  const until = async (f: () => boolean, ms: number): Promise<boolean> => {
    const end = Date.now() + ms;
    while (!f() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    return f();
  };
  t.ok(await until(() => Atomics.load(i32, c + 0) === 1, 30000), 'the worker streams');
  for (let i = 1; i <= 50; i++) {
    send(2);
    // the first burst waits for the worker's waker thread to start (seconds when TypeScript is compiled on load)
    if (!(await until(() => Atomics.load(i32, c + 2) === 2 * i, i === 1 ? 60000 : 5000))) break;
    await new Promise((r) => setTimeout(r, 5)); // let the stream fall asleep again
  }
  t.equal(Atomics.load(i32, c + 2), 100, '50 bursts of 2 reach the worker\'s stream');
  devStop(b);
  t.same(await pktio.waitLcore(1), { received: 100 }, 'devStop ended its loop');
  pktio.memzoneFree('stream_cnt');
  t.equal(pool.inUseCount(), 0);
});
