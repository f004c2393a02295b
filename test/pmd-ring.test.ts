// net_ring: loopback ports, port pairs over named rings, full rings, and buffer conservation through l2fwd's
// forwarding loop when packets are dropped (a TX ring nobody drains) or the pool runs dry.
import t from 'tap';
import * as pktio from '../src/index.js';
import {
  devConfigure, rxQueueSetup, txQueueSetup, devStart, devStop, devClose, rxBurst, txBurst, statsGet, statsReset, devInfoGet, portByName,
} from '../src/ethdev/ethdev.js';
import { pktmbufPoolCreate, pktmbufAllocBurst, pktmbufFreeBulk, append } from '../src/mempool/mbuf.js';
import type { Mempool } from '../src/mempool/mempool.js';
import { ringCreate, ringLookup, ringFree, RING_F_SP_ENQ, RING_F_SC_DEQ, type Ring } from '../src/ring/ring.js';
import { mem, memzoneReserve, memzoneFree } from '../src/eal/index.js';
import l2fwdMainLoop, { MAX_PORTS, ST_RX, ST_TX, ST_DROP, type FwdArgs } from '../examples/l2fwd/fwd.js';
import { startPort } from './helpers/ports.js';

const fwdModule = new URL('../examples/l2fwd/fwd.ts', import.meta.url);
const cpus = pktio.cpusAllowed();

t.before(async () => {
  await pktio.init(['--no-pci', '--no-huge', '-m', '64', '--log-level', 'error', '--lcores', `0@${cpus[0]},1@${cpus[cpus.length - 1]}`,
    '--vdev', 'net_ring0,rxring=ab,txring=ba', '--vdev', 'net_ring1,rxring=ba,txring=ab', '--vdev', 'net_ring2',
    '--vdev', 'net_ring3,rxring=q0:q1,txring=q0:q1']);
});
t.teardown(pktio.cleanup);

const setup = (p: number, pool: Mempool, nq = 1): void => startPort(p, pool, nq, 1024);

function drain(r: Ring): number {
  const buf = new Uint32Array(256);
  let n = 0;
  for (let k; (k = r.dequeueBurst(buf, 256)) > 0;) {
    pktmbufFreeBulk(buf, k);
    n += k;
  }
  return n;
}

t.test('default port loops back to itself', async (t) => {
  const pool = pktmbufPoolCreate('ring_lb', 255, 0);
  const p = portByName('net_ring2');
  setup(p, pool);
  t.ok(ringLookup('ETH_RXTX0_net_ring2'), 'a ring per queue, named after the port');
  const pkts = new Uint32Array(10);
  t.equal(pktmbufAllocBurst(pool, pkts, 10), 10);
  for (const m of pkts) append(m, 60);
  t.equal(txBurst(p, 0, pkts, 10), 10);
  const out = new Uint32Array(32);
  t.equal(rxBurst(p, 0, out, 32), 10);
  t.same([...out.subarray(0, 10)], [...pkts], 'the same mbufs come back, in order');
  t.match(statsGet(p), { opackets: 10, obytes: 600, ipackets: 10, ibytes: 600, oerrors: 0 });
  t.equal(rxBurst(p, 0, out, 32), 0);
  pktmbufFreeBulk(out, 10);
  devClose(p);
  t.equal(ringLookup('ETH_RXTX0_net_ring2'), null, 'close frees the rings the port made');
  t.equal(pool.inUseCount(), 0);
});

t.test('close gives back the mbufs still queued in the rings the port made', async (t) => {
  const pool = pktmbufPoolCreate('ring_close', 255, 0);
  const p = await pktio.devProbe('net_ring9');
  setup(p, pool);
  const pkts = new Uint32Array(40);
  t.equal(pktmbufAllocBurst(pool, pkts, 40), 40);
  t.equal(txBurst(p, 0, pkts, 40), 40);
  t.equal(pool.inUseCount(), 40, 'queued, nobody received them');
  devStop(p);
  devClose(p);
  t.equal(pool.inUseCount(), 0, 'back in the pool after close');
});

t.test("a pair: A's TX is B's RX and back", async (t) => {
  const pool = pktmbufPoolCreate('ring_pair', 255, 16);
  const a = portByName('net_ring0');
  const b = portByName('net_ring1');
  setup(a, pool);
  setup(b, pool);
  const pkts = new Uint32Array(5);
  pktmbufAllocBurst(pool, pkts, 5);
  t.equal(txBurst(a, 0, pkts, 5), 5);
  const out = new Uint32Array(8);
  t.equal(rxBurst(a, 0, out, 8), 0, 'A does not hear itself');
  t.equal(rxBurst(b, 0, out, 8), 5, 'B receives what A sent');
  t.same([...out.subarray(0, 5)], [...pkts]);
  t.equal(txBurst(b, 0, out, 5), 5);
  t.equal(rxBurst(a, 0, pkts, 5), 5, 'and A what B sent');
  pktmbufFreeBulk(pkts, 5);
  t.equal(pool.inUseCount(), 0);
});

t.test('TX to a full ring returns fewer and the caller keeps the rest', async (t) => {
  const pool = pktmbufPoolCreate('ring_full', 2047, 0);
  const a = portByName('net_ring0');
  statsReset(a);
  const r = ringLookup('ba')!;
  t.equal(r.capacity, 1023);
  const pkts = new Uint32Array(1100);
  t.equal(pktmbufAllocBurst(pool, pkts, 1100), 1100);
  t.equal(txBurst(a, 0, pkts, 1000), 1000);
  t.equal(txBurst(a, 0, pkts, 100, 1000), 23, 'only 23 fit');
  t.equal(txBurst(a, 0, pkts, 77, 1023), 0, 'a full ring takes nothing');
  t.match(statsGet(a), { opackets: 1023, oerrors: 77 + 77 });
  t.equal(pool.inUseCount(), 1100, 'the 77 unsent are still the caller\'s');
  pktmbufFreeBulk(pkts, 77, 1023);
  t.equal(drain(r), 1023);
  t.equal(pool.inUseCount(), 0);
});

t.test('several queues over named rings', async (t) => {
  const p = portByName('net_ring3');
  t.match(devInfoGet(p), { maxRxQueues: 2, maxTxQueues: 2 });
  t.throws(() => devConfigure(p, 3, 1), { message: /3 RX queues asked, net_ring has at most 2/ });
  const pool = pktmbufPoolCreate('ring_mq', 127, 0);
  setup(p, pool, 2);
  const pkts = new Uint32Array(4);
  pktmbufAllocBurst(pool, pkts, 4);
  t.equal(txBurst(p, 1, pkts, 4), 4);
  const out = new Uint32Array(4);
  t.equal(rxBurst(p, 0, out, 4), 0, 'queue 0 is its own ring');
  t.equal(rxBurst(p, 1, out, 4), 4, 'queue 1 loops through ring q1');
  t.same(statsGet(p).qOpackets, [0, 4]);
  pktmbufFreeBulk(out, 4);
  devStop(p);
});

/** Sets up the app counters zone l2fwd's loop writes to. */
function l2fwdZone(): Float64Array {
  const z = memzoneReserve('l2fwd', (MAX_PORTS * 4 + 16) * 8);
  return new Float64Array(mem().buf, z.off, MAX_PORTS * 4 + 16);
}

t.test('buffer conservation: l2fwd drops on a TX ring nobody drains (worker lcore)', async (t) => {
  const pool = pktmbufPoolCreate('cons_drop', 4095, 64);
  const nul = await pktio.devProbe('net_null7');
  // a small TX ring made before queue setup: the port uses it
  const out = ringCreate('drop_out', 64, RING_F_SP_ENQ | RING_F_SC_DEQ);
  ringCreate('drop_in', 64, RING_F_SP_ENQ | RING_F_SC_DEQ);
  const rp = await pktio.devProbe('net_ring7,rxring=drop_in,txring=drop_out');
  setup(nul, pool);
  setup(rp, pool);
  const st = l2fwdZone();
  const dst = new Array(MAX_PORTS).fill(-1);
  dst[nul] = rp;
  dst[rp] = nul;
  const macs: number[][] = [];
  macs[nul] = [...pktio.macAddrGet(nul)];
  macs[rp] = [...pktio.macAddrGet(rp)];
  const args: FwdArgs = { rxPorts: [nul, rp], dst, macUpdating: true, macs, maxIterations: 20000 };
  pktio.remoteLaunch(1, fwdModule, args);
  const res = (await pktio.waitLcore(1)) as { lcore: number; iterations: number };
  t.match(res, { lcore: 1, iterations: 20000 }, 'stopped after maxIterations');
  const rx = st[nul * 4 + ST_RX];
  const tx = st[rp * 4 + ST_TX];
  const drop = st[rp * 4 + ST_DROP];
  t.ok(rx > 10000, `forwarded ${rx} packets`);
  t.equal(tx, 63, 'the 63-slot TX ring filled up');
  t.ok(drop > 0, `${drop} dropped`);
  t.equal(tx + drop, rx, 'every received packet was sent or dropped');
  t.equal(statsGet(rp).oerrors, drop, 'the port counted the failed sends');
  t.equal(pool.inUseCount(), 63, 'only the packets sitting in the ring are out of the pool');
  // the parked packets had their MACs rewritten for port rp: dst 02:00:00:00:00:<rp>, src = rp's MAC
  const first = out.dequeueOne();
  const frame = mem().u8.subarray(pktio.mbuf.mtod(first), pktio.mbuf.mtod(first) + 12);
  t.same([...frame], [2, 0, 0, 0, 0, rp, ...macs[rp]], 'MAC updating rewrote the Ethernet header');
  pktmbufFreeBulk(Uint32Array.of(first), 1);
  devStop(nul);
  devStop(rp);
  t.equal(drain(out), 62, 'drained the ring');
  t.equal(pool.availCount(), pool.size, 'every mbuf is back in its pool');
  devClose(nul);
  devClose(rp);
  ringFree(out);
  ringFree(ringLookup('drop_in')!);
});

t.test('buffer conservation: the pool runs dry (main lcore)', async (t) => {
  const pool = pktmbufPoolCreate('cons_dry', 300, 32);
  const nul = await pktio.devProbe('net_null8,size=128');
  const rp = await pktio.devProbe('net_ring8'); // loops back: up to 1023 packets parked in its ring
  setup(nul, pool);
  setup(rp, pool);
  const z = new Float64Array(mem().buf, (pktio.memzoneLookup('l2fwd')!).off, MAX_PORTS * 4 + 16);
  z.fill(0);
  const dst = new Array(MAX_PORTS).fill(-1);
  dst[nul] = rp;
  dst[rp] = nul;
  // only net_null is polled: what it sends parks in the loopback ring until the pool is empty
  const args: FwdArgs = { rxPorts: [nul], dst, macUpdating: false, macs: [], maxIterations: 5000 };
  const res = l2fwdMainLoop(args);
  t.equal(res.iterations, 5000);
  t.equal(res.lcore, 0, 'ran on the main lcore');
  const nombuf = statsGet(nul).rxNombuf;
  t.ok(nombuf > 0, `net_null counted ${nombuf} allocation failures, and did not throw`);
  t.equal(z[nul * 4 + ST_RX], 300, 'received exactly the pool');
  t.equal(z[rp * 4 + ST_TX], 300, 'and sent all of it');
  t.equal(z[rp * 4 + ST_DROP], 0, 'nothing dropped');
  t.equal(pool.availCount(), 0, 'the pool is empty');
  devStop(nul);
  devStop(rp);
  t.equal(drain(ringLookup('ETH_RXTX0_net_ring8')!), 300, 'every packet was parked in the loopback ring');
  t.equal(pool.availCount(), pool.size, 'every mbuf is back in its pool');
  devClose(nul);
  devClose(rp);
  memzoneFree('l2fwd');
});
