// net_null: packet size, copy mode (data really copied), no-rx, and running the pool dry (fewer packets, rx_nombuf).
import t from 'tap';
import * as pktio from '../src/index.js';
import {
  devConfigure, rxQueueSetup, txQueueSetup, devStart, devStop, devClose, rxBurst, txBurst, statsGet, portByName, xstatsGet,
} from '../src/ethdev/ethdev.js';
import { pktmbufPoolCreate, pktmbufFreeBulk, pktmbufAlloc, append, dataLen, pktLen, port, mtod, nbSegs, dataOff, PKTMBUF_HEADROOM } from '../src/mempool/mbuf.js';
import { mempoolFree, type Mempool } from '../src/mempool/mempool.js';
import { mem, memzoneLookup } from '../src/eal/index.js';

t.before(async () => {
  await pktio.init(['--no-pci', '--no-huge', '-m', '64', '--log-level', 'error', '-l', `${pktio.cpusAllowed()[0]}`,
    '--vdev', 'net_null0', '--vdev', 'net_null1,size=1500', '--vdev', 'net_null2,copy=1,size=100', '--vdev', 'net_null3,no-rx=1']);
});
t.teardown(pktio.cleanup);

function setup(p: number, pool: Mempool): void {
  devConfigure(p, 1, 1);
  rxQueueSetup(p, 0, 256, -1, null, pool);
  txQueueSetup(p, 0, 256, -1);
  devStart(p);
}

t.test('size: default 64, or size=', async (t) => {
  const pool = pktmbufPoolCreate('null_sz', 255, 0);
  t.teardown(() => { devStop(0); devStop(1); });
  setup(0, pool);
  setup(1, pool);
  const pkts = new Uint32Array(32);
  t.equal(rxBurst(0, 0, pkts, 32), 32);
  t.ok([...pkts].every((m) => pktLen(m) === 64 && dataLen(m) === 64 && port(m) === 0 && nbSegs(m) === 1 && dataOff(m) === PKTMBUF_HEADROOM),
    '64-byte one-segment packets from port 0');
  pktmbufFreeBulk(pkts, 32);
  t.equal(rxBurst(1, 0, pkts, 4), 4);
  t.ok([...pkts.subarray(0, 4)].every((m) => pktLen(m) === 1500 && port(m) === 1), 'size=1500 on port 1');
  t.equal(txBurst(1, 0, pkts, 4), 4);
  t.match(statsGet(1), { ipackets: 4, ibytes: 6000, opackets: 4, obytes: 6000 });
  t.equal(pool.inUseCount(), 0);
  t.equal(portByName('net_null1'), 1);
});

t.test('copy=1: packet data is copied from/to the queue scratch area', async (t) => {
  const pool = pktmbufPoolCreate('null_copy', 255, 0);
  t.teardown(() => devStop(2));
  setup(2, pool);
  const r = mem();
  const rxZ = memzoneLookup('null_net_null2_rx0');
  const txZ = memzoneLookup('null_net_null2_tx0');
  t.ok(rxZ && txZ, 'per-queue scratch zones');
  for (let i = 0; i < 100; i++) r.u8[rxZ!.off + i] = (i * 7 + 3) & 0xff;
  const pkts = new Uint32Array(8);
  // dirty the buffers first so the copy is visible
  t.equal(rxBurst(2, 0, pkts, 8), 8);
  for (const m of pkts) r.u8.fill(0xee, mtod(m), mtod(m) + 100);
  pktmbufFreeBulk(pkts, 8);
  t.equal(rxBurst(2, 0, pkts, 8), 8);
  let bad = 0;
  for (const m of pkts) for (let i = 0; i < 100; i++) if (r.u8[mtod(m) + i] !== ((i * 7 + 3) & 0xff)) bad++;
  t.equal(bad, 0, 'received packets carry the scratch bytes');
  const m = pktmbufAlloc(pool);
  const at = append(m, 80);
  for (let i = 0; i < 80; i++) r.u8[at + i] = 200 - i;
  t.equal(txBurst(2, 0, Uint32Array.of(m), 1), 1);
  t.same([...r.u8.subarray(txZ!.off, txZ!.off + 80)], Array.from({ length: 80 }, (_, i) => 200 - i), 'sent bytes land in the TX scratch');
  pktmbufFreeBulk(pkts, 8);
  t.equal(pool.inUseCount(), 0);
});

t.test('no-rx=1: nothing received, sending still works', async (t) => {
  const pool = pktmbufPoolCreate('null_norx', 63, 0);
  t.teardown(() => devStop(3));
  setup(3, pool);
  const pkts = new Uint32Array(32);
  for (let i = 0; i < 10; i++) t.equal(rxBurst(3, 0, pkts, 32), 0);
  t.equal(pool.inUseCount(), 0, 'no mbuf taken');
  const got = pktio.pktmbufAllocBurst(pool, pkts, 32);
  t.equal(txBurst(3, 0, pkts, got), 32);
  t.match(statsGet(3), { ipackets: 0, opackets: 32 });
  t.equal(pool.inUseCount(), 0);
});

t.test('pool exhaustion: fewer packets, rx_nombuf counted, never a throw', async (t) => {
  for (const cache of [0, 8]) {
    const pool = pktmbufPoolCreate(`null_dry${cache}`, 40, cache);
    setup(0, pool);
    pktio.statsReset(0);
    const a = new Uint32Array(32);
    const b = new Uint32Array(32);
    const c = new Uint32Array(32);
    t.equal(rxBurst(0, 0, a, 32), 32, `cache ${cache}: first burst full`);
    t.equal(rxBurst(0, 0, b, 32), 8, 'second burst gets what is left');
    t.equal(rxBurst(0, 0, c, 32), 0, 'empty pool: 0');
    const s = statsGet(0);
    t.equal(s.ipackets, 40, 'only received packets are counted');
    t.equal(s.rxNombuf, 24 + 32, 'allocation failures are counted in rx_nombuf');
    t.equal(xstatsGet(0).find((x) => x.name === 'rx_mbuf_allocation_errors')!.value, 56);
    pktmbufFreeBulk(a, 32);
    pktmbufFreeBulk(b, 8);
    t.equal(rxBurst(0, 0, c, 32), 32, 'receives again once mbufs come back');
    pktmbufFreeBulk(c, 32);
    t.equal(pool.inUseCount(), 0);
    devStop(0);
    devClose(0);
    mempoolFree(pool);
    if (cache === 0) pktio.probeVdev('net_null0'); // a fresh port (and counters) for the next round
  }
});

t.test('close frees the copy-mode scratch zones', async (t) => {
  devClose(2);
  t.equal(memzoneLookup('null_net_null2_rx0'), null);
  t.equal(memzoneLookup('null_net_null2_tx0'), null);
});
