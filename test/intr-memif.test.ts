// RX interrupts on net_memif: a worker lcore asleep on a server queue wakes for each burst a pktio client sends
// (the client's TX writes the ring's eventfd only while the server's ring has MEMIF_RING_FLAG_MASK_INT clear),
// sleeps across the client's reconnection, and ends its loop on devStop; every mbuf back. Then dpdk-testpmd as the
// peer: its memif TX (io forward, the port to itself) writes pktio's ring eventfd while pktio's queue sleeps.
import t from 'tap';
import * as fs from 'node:fs';
import * as pktio from '../src/index.js';
import { devStop, devStart, devClose, linkGet, txBurst, statsGet } from '../src/ethdev/ethdev.js';
import { pktmbufPoolCreate, pktmbufAllocBurst, append } from '../src/mempool/mbuf.js';
import { mem, memzoneReserve, memzoneFree } from '../src/eal/index.js';
import { startPort } from './helpers/ports.js';
import { until } from './helpers/memif-traffic.js';
import { C_SLEEPS, C_WAKES, C_RECEIVED } from './helpers/intr-lcore.js';
import { Testpmd, testpmdPath, NO_TESTPMD } from '../bench/dpdk/testpmd.js';

const dir = fs.mkdtempSync('/tmp/pktio-intr-memif-');
const cpus = pktio.cpusAllowed();
const sleeperModule = new URL('./helpers/intr-lcore.ts', import.meta.url);

t.before(async () => {
  await pktio.init(['--no-pci', '--no-huge', '-m', '128', '--log-level', 'error', '--lcores', `0@${cpus[0]},1@${cpus[cpus.length - 1]}`]);
});
t.teardown(async () => {
  await pktio.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

t.test('memif server queue asleep on its interrupt: 200 wake-ups from a pktio client, a reconnection, devStop', async (t) => {
  const pool = pktmbufPoolCreate('intr_memif', 2047, 0);
  const s = await pktio.devProbe(`net_memif40,role=server,id=1,socket=${dir}/m.sock,socket-abstract=no`);
  const c = await pktio.devProbe(`net_memif41,role=client,id=1,socket=${dir}/m.sock,socket-abstract=no`);
  startPort(s, pool, 1, 0, { intrConf: { rxq: true } });
  startPort(c, pool);
  t.ok(await until(() => linkGet(s).up && linkGet(c).up, 5000), 'link up');
  const z = memzoneReserve('intr_memif_cnt', 64);
  const i32 = mem().i32;
  const k = z.off >> 2;
  i32.fill(0, k, k + 16);
  pktio.remoteLaunch(1, sleeperModule, { port: s, queue: 0, zone: 'intr_memif_cnt' }, 'sleeper');
  const send = (n: number): void => {
    const m = new Uint32Array(n);
    if (pktmbufAllocBurst(pool, m, n) !== n) throw new Error('pool');
    for (const x of m) append(x, 60);
    if (txBurst(c, 0, m, n) !== n) throw new Error('tx');
  };
  t.ok(await until(() => Atomics.load(i32, k + C_SLEEPS) >= 1, 30000), 'the worker sleeps');
  let sent = 0;
  for (let i = 0; i < 200; i++) {
    const sleeps = Atomics.load(i32, k + C_SLEEPS);
    send(4);
    sent += 4;
    if (!(await until(() => Atomics.load(i32, k + C_RECEIVED) === sent && Atomics.load(i32, k + C_SLEEPS) > sleeps, 5000))) {
      t.fail(`burst ${i}: received ${Atomics.load(i32, k + C_RECEIVED)} of ${sent}`);
      break;
    }
  }
  t.ok(Atomics.load(i32, k + C_WAKES) >= 200, `${Atomics.load(i32, k + C_WAKES)} wake-ups for 200 bursts, ${sent} packets received`);
  // the client goes and comes back: the worker sleeps on, then wakes for the new connection's ring
  devStop(c);
  t.ok(await until(() => !linkGet(s).up, 3000), 'link down');
  devStart(c);
  t.ok(await until(() => linkGet(s).up && linkGet(c).up, 5000), 'link up again');
  await until(() => false, 300);
  send(8);
  sent += 8;
  t.ok(await until(() => Atomics.load(i32, k + C_RECEIVED) === sent, 5000), `after the reconnection: ${Atomics.load(i32, k + C_RECEIVED)} of ${sent}`);
  const t1 = Date.now();
  devStop(s);
  const res = await pktio.waitLcore(1) as { reason: string; received: number };
  t.equal(res.reason, 'stopped', `devStop ended the worker's loop in ${Date.now() - t1} ms`);
  t.equal(statsGet(s).ipackets, sent);
  devClose(c);
  devClose(s);
  memzoneFree('intr_memif_cnt');
  t.equal(pool.inUseCount(), 0, 'every mbuf back');
});

const skipTestpmd = !testpmdPath() ? NO_TESTPMD : process.getuid?.() !== 0 ? 'not root' : false;

t.test('testpmd client echoes what pktio sends: its TX wakes the sleeping pktio server queue', { skip: skipTestpmd }, async (t) => {
  const pool = pktmbufPoolCreate('intr_memif_tp', 2047, 0);
  const sockName = `/pktio-intr-${process.pid}`;
  const s = await pktio.devProbe(`net_memif42,role=server,id=0,socket=${sockName}`);
  startPort(s, pool, 1, 0, { intrConf: { rxq: true } });
  const tp = await Testpmd.start({
    vdevs: [`net_memif0,role=client,id=0,socket=${sockName}`], fwd: 'io', appArgs: ['--port-topology=loop', '--burst=32'],
  });
  t.teardown(() => tp.kill());
  await tp.cmd('start');
  t.ok(await until(() => linkGet(s).up, 10000), 'link up with testpmd');
  const z = memzoneReserve('intr_memif_tp_cnt', 64);
  const i32 = mem().i32;
  const k = z.off >> 2;
  i32.fill(0, k, k + 16);
  pktio.remoteLaunch(1, sleeperModule, { port: s, queue: 0, zone: 'intr_memif_tp_cnt' }, 'sleeper');
  t.ok(await until(() => Atomics.load(i32, k + C_SLEEPS) >= 1, 30000), 'the worker sleeps');
  let sent = 0;
  for (let i = 0; i < 100; i++) {
    const m = new Uint32Array(4);
    if (pktmbufAllocBurst(pool, m, 4) !== 4) break;
    for (const x of m) append(x, 60);
    sent += txBurst(s, 0, m, 4);
    if (!(await until(() => Atomics.load(i32, k + C_RECEIVED) === sent, 5000))) break;
  }
  const wakes = Atomics.load(i32, k + C_WAKES);
  t.equal(Atomics.load(i32, k + C_RECEIVED), 400, `400 packets echoed by testpmd, received over ${wakes} wake-ups`);
  t.ok(wakes >= 50, 'the sleeping queue was woken by testpmd\'s eventfd writes');
  const [theirs] = await tp.portStats();
  t.equal(theirs.txPackets, statsGet(s).ipackets, `testpmd TX ${theirs.txPackets} = pktio RX`);
  devStop(s);
  t.match(await pktio.waitLcore(1), { reason: 'stopped' });
  devClose(s);
  memzoneFree('intr_memif_tp_cnt');
  t.equal(pool.inUseCount(), 0, 'every mbuf back');
});
