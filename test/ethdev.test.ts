// ethdev: vdev probing, the port life cycle and every error on the way, bursts on the main lcore and on a worker,
// statistics, link, MAC, promiscuous mode, TX buffering.
import t from 'tap';
import * as pktio from '../src/index.js';
import {
  probeVdev, devProbe, devInfoGet, devConfigure, rxQueueSetup, txQueueSetup, devStart, devStop, devClose, devIsStarted, rxBurst, txBurst,
  statsGet, statsReset, xstatsGet, xstatsReset, linkGet, linkGetNowait, macAddrGet, formatMac, promiscuousEnable, promiscuousDisable,
  promiscuousGet, allmulticastEnable, allmulticastDisable, portIds, ethDevCount, ethDevIsValid, portByName, portName,
  txBufferInit, txBuffer, txBufferFlush, txBufferSetErrCallback, dropCallback, TxBuffer, EthdevError, MAX_QUEUES_PER_PORT,
} from '../src/ethdev/ethdev.js';
import { pktmbufPoolCreate, pktmbufAllocBurst, pktmbufFreeBulk } from '../src/mempool/mbuf.js';
import { mempoolCreate, type Mempool } from '../src/mempool/mempool.js';

const helper = new URL('./helpers/lcore-ethdev.ts', import.meta.url);
const cpus = pktio.cpusAllowed();
const EAL = ['--no-pci', '--no-huge', '-m', '64', '--log-level', 'error', '--lcores', `0@${cpus[0]},1@${cpus[cpus.length - 1]}`];

t.test('init fails cleanly on a bad --vdev', async (t) => {
  await t.rejects(pktio.init([...EAL, '--vdev', 'net_bogus0']), {
    name: 'EthdevError', message: "--vdev net_bogus0: no driver for 'net_bogus0' (virtual drivers: net_null, net_ring, net_af_packet, net_tap, net_pcap, net_memif; e.g. --vdev net_null0)",
  });
  t.equal(pktio.ealInitialized(), false, 'EAL cleaned up after the failed probe');
  await t.rejects(pktio.init([...EAL, '--vdev', 'net_null0', '--vdev', 'net_null1,size=99999']), { message: /^--vdev net_null1,size=99999: net_null: size=99999: expected a packet size from 1 to 9728/ });
  t.equal(pktio.ealInitialized(), false);
});

t.test('ports', async (t) => {
  await pktio.init([...EAL, '--vdev', 'net_null0,size=64', '--vdev', 'net_null1']);
  t.teardown(pktio.cleanup);
  const pool = pktmbufPoolCreate('eth_pool', 2047, 32, 0, 2176);

  t.test('probing', async (t) => {
    t.same(portIds(), [0, 1]);
    t.equal(ethDevCount(), 2);
    t.equal(portName(0), 'net_null0');
    t.equal(portByName('net_null1'), 1);
    t.throws(() => portByName('nope'), { name: 'EthdevError', message: 'no port named nope' });
    t.ok(ethDevIsValid(1));
    t.notOk(ethDevIsValid(5));
    t.notOk(ethDevIsValid(0.5));
    t.throws(() => probeVdev('net_null0'), { name: 'EthdevError', message: 'a port named net_null0 already exists' });
    t.throws(() => probeVdev('net_null5,bogus=1'), { name: 'EthdevError', message: "--vdev net_null5,bogus=1: net_null has no argument 'bogus' (valid: size, copy, no-rx)" });
    t.throws(() => probeVdev('net_null5,size=0'), { message: '--vdev net_null5,size=0: net_null: size=0: expected a packet size from 1 to 9728' });
    t.throws(() => probeVdev('net_null5,size=abc'), { message: /size=abc: expected a packet size/ });
    t.throws(() => probeVdev('net_null5,copy=2'), { message: '--vdev net_null5,copy=2: net_null: copy=2: expected 0 or 1' });
    t.throws(() => probeVdev('net_ring5'), { message: "--vdev net_ring5: driver net_ring is not loaded: use devProbe('net_ring5') (async), which loads it" });
    await t.rejects(devProbe('net_ring5,rxring=a'), { message: '--vdev net_ring5,rxring=a: net_ring5: give both rxring= and txring=, or neither' });
    t.throws(() => probeVdev('net_vhost0'), { message: /^--vdev net_vhost0: no driver for 'net_vhost0'/ });
    t.same(portIds(), [0, 1], 'failed probes leave no port behind');
    const p2 = probeVdev('net_null2,size=128,copy=1,no-rx=0');
    t.equal(p2, 2);
    devClose(p2);
    t.same(portIds(), [0, 1], 'a closed port is gone');
    t.throws(() => devInfoGet(2), { name: 'EthdevError', message: 'invalid port 2: 2 port(s) exist (0, 1)' });
    t.equal(probeVdev('net_null3'), 2, 'port ids are reused');
    devClose(2);
  });

  t.test('devInfoGet, MAC, link, promiscuous', async (t) => {
    t.match(devInfoGet(0), {
      driverName: 'net_null', deviceName: 'net_null0', maxRxQueues: 16, maxTxQueues: 16, defaultRxRingSize: 1024,
      rxDescLim: { nbMax: 65535, nbMin: 0, nbAlign: 1 },
    });
    const m0 = macAddrGet(0);
    const m1 = macAddrGet(1);
    t.equal(m0.length, 6);
    t.equal(m0[0] & 2, 2, 'locally administered');
    t.not(formatMac(m0), formatMac(m1), 'distinct MACs');
    t.match(formatMac(m0), /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    t.equal(formatMac([0x02, 0, 0xab, 1, 2, 0xff]), '02:00:ab:01:02:ff');
    m0[0] = 0xff;
    t.not(macAddrGet(0)[0], 0xff, 'macAddrGet returns a copy');
    t.match(linkGet(0), { up: false }, 'link down before start');
    t.equal(promiscuousGet(0), false);
    promiscuousEnable(0);
    t.equal(promiscuousGet(0), true);
    promiscuousDisable(0);
    t.equal(promiscuousGet(0), false);
    allmulticastEnable(0);
    allmulticastDisable(0);
  });

  t.test('configure and queue setup errors', async (t) => {
    t.throws(() => devConfigure(9, 1, 1), { name: 'EthdevError', message: 'invalid port 9: 2 port(s) exist (0, 1)' });
    t.throws(() => devConfigure(0, 17, 1), { message: 'port 0: 17 RX queues asked, net_null has at most 16' });
    t.throws(() => devConfigure(0, 1, -1), { message: 'port 0: -1 TX queues asked, net_null has at most 16' });
    t.throws(() => devConfigure(0, 0, 0), { message: 'port 0: configure at least one RX or TX queue' });
    t.throws(() => devConfigure(0, 1, 1, { rxmode: { mtu: 60 } }), { message: 'port 0 (net_null): MTU 60 out of range 68..65517' });
    t.throws(() => devConfigure(0, 1, 1, { rxmode: { maxRxPktLen: 70000 } }), { message: 'port 0 (net_null): max RX packet length 70000 out of range 86..65535' });
    t.throws(() => devConfigure(0, 2, 1, { rxmode: { mqMode: 'rss' } }), { message: "port 0 (net_null): RSS is not supported; use mqMode 'none'" });
    t.throws(() => devConfigure(0, 1, 1, { rxmode: { offloads: pktio.RX_OFFLOAD_VLAN_STRIP | pktio.RX_OFFLOAD_SCATTER } }),
      { message: 'port 0 (net_null): RX offloads not supported: VLAN_STRIP, SCATTER' });
    t.throws(() => devConfigure(0, 1, 1, { txmode: { offloads: pktio.TX_OFFLOAD_UDP_CKSUM } }), { message: 'port 0 (net_null): TX offloads not supported: UDP_CKSUM' });
    t.throws(() => devConfigure(0, 1, 1, { rxmode: { mqMode: 'dcb' as 'rss' } }), { message: "port 0 (net_null): mqMode 'dcb': use 'none' or 'rss'" });
    t.throws(() => devStart(0), { message: 'port 0 is not configured: call devConfigure first' });
    t.throws(() => rxQueueSetup(0, 0, 512, -1, null, pool), { message: 'port 0: RX queue 0 out of range (configured 0; call devConfigure first)' });
    t.throws(() => txQueueSetup(0, 0, 512, -1), { message: 'port 0: TX queue 0 out of range (configured 0; call devConfigure first)' });
    devConfigure(0, 2, 1, { rxmode: { mtu: 1500 } });
    t.throws(() => rxQueueSetup(0, 2, 512, -1, null, pool), { message: 'port 0: RX queue 2 out of range (configured 2; call devConfigure first)' });
    t.throws(() => rxQueueSetup(0, -1, 512, -1, null, pool), { message: /RX queue -1 out of range/ });
    t.throws(() => txQueueSetup(0, 1, 512, -1), { message: 'port 0: TX queue 1 out of range (configured 1; call devConfigure first)' });
    const plain = mempoolCreate('not_mbufs', 64, { eltSize: 2304 });
    t.throws(() => rxQueueSetup(0, 0, 512, -1, null, plain), { message: 'port 0 RX queue 0: the pool must be a packet pool from pktmbufPoolCreate' });
    t.throws(() => rxQueueSetup(0, 0, 512, -1, null, {} as Mempool), { message: /must be a packet pool/ });
    t.throws(() => rxQueueSetup(0, 0, 70000, -1, null, pool), { message: 'port 0: 70000 RX descriptors: must be 0..65535, a multiple of 1' });
    t.throws(() => txQueueSetup(0, 0, 1.5, -1), { message: 'port 0: 1.5 TX descriptors: must be 0..65535, a multiple of 1' });
    const tiny = pktmbufPoolCreate('tiny_room', 64, 0, 0, 128 + 32);
    t.throws(() => rxQueueSetup(0, 0, 512, -1, null, tiny), { message: "net_null net_null0: packet size 64 does not fit the mbufs of pool 'tiny_room'" });
    rxQueueSetup(0, 0, 0, -1, null, pool);
    t.throws(() => devStart(0), { message: 'port 0: RX queue 1 is not set up (rxQueueSetup)' });
    rxQueueSetup(0, 1, 512, -1, null, pool);
    t.throws(() => devStart(0), { message: 'port 0: TX queue 0 is not set up (txQueueSetup)' });
    txQueueSetup(0, 0, 512, -1);
    devStart(0);
    t.ok(devIsStarted(0));
    devStart(0);
    t.ok(devIsStarted(0), 'starting twice is harmless');
    t.throws(() => rxQueueSetup(0, 0, 512, -1, null, pool), { message: 'port 0 is started: stop it before setting up queues' });
    t.throws(() => txQueueSetup(0, 0, 512, -1), { message: 'port 0 is started: stop it before setting up queues' });
    t.throws(() => devConfigure(0, 1, 1), { message: 'port 0 is started: devStop(0) before devConfigure' });
    t.throws(() => rxBurst(0, 5, new Uint32Array(4), 4), { name: 'EthdevError', message: 'port 0: no RX queue 5 (2 configured)' });
    t.throws(() => rxBurst(40, 0, new Uint32Array(4), 4), { message: 'invalid port 40 / queue 0' });
    t.throws(() => txBurst(0, MAX_QUEUES_PER_PORT, new Uint32Array(4), 0), { message: `invalid port 0 / queue ${MAX_QUEUES_PER_PORT}` });
    devStop(0);
    devStop(0);
    t.notOk(devIsStarted(0), 'stopping twice is harmless');
  });

  t.test('optional driver features say which driver lacks them', async (t) => {
    devConfigure(1, 1, 1);
    t.throws(() => pktio.rssHashConfGet(1), { message: 'port 1: rssHashConfGet is not supported by net_null' });
    t.throws(() => pktio.retaUpdate(1, [0]), { message: 'port 1: net_null has no RSS redirection table' });
    t.throws(() => pktio.mtuSet(1, 9000), { message: 'port 1: mtuSet is not supported by net_null' });
    t.throws(() => pktio.macAddrAdd(1, [0x02, 0, 0, 0, 0, 1]), { message: 'port 1: all 0 extra MAC filters are in use (macAddrRemove one first)' });
    t.throws(() => pktio.macAddrAdd(1, [0x01, 0, 0, 0, 0, 1]), { message: 'port 1: 01:00:00:00:00:01 is not a unicast MAC address' });
    t.throws(() => pktio.rxQueueStop(1, 0), { message: 'port 1 is not started: devStart(1) first (a stopped port\'s queues are all stopped)' });
    t.throws(() => rxQueueSetup(1, 0, 64, -1, { offloads: pktio.RX_OFFLOAD_RSS_HASH }, pool), { message: 'port 1 RX queue 0: offloads not supported: RSS_HASH' });
    rxQueueSetup(1, 0, 64, -1, null, pool);
    txQueueSetup(1, 0, 64, -1, null);
    devStart(1);
    t.throws(() => pktio.rxQueueStop(1, 0), { message: 'port 1: rxQueueStop is not supported by net_null' });
    t.throws(() => pktio.txQueueStart(1, 3), { message: 'port 1: TX queue 3 out of range (1 configured)' });
    devStop(1);
  });

  t.test('bursts, stats, stop/start', async (t) => {
    devConfigure(0, 1, 1);
    rxQueueSetup(0, 0, 1024, -1, null, pool);
    txQueueSetup(0, 0, 1024, -1);
    devConfigure(1, 1, 1);
    rxQueueSetup(1, 0, 1024, -1, null, pool);
    txQueueSetup(1, 0, 1024, -1);
    const pkts = new Uint32Array(64);
    t.equal(rxBurst(0, 0, pkts, 32), 0, 'a stopped port receives nothing');
    t.equal(txBurst(0, 0, pkts, 0), 0);
    devStart(0);
    devStart(1);
    t.match(linkGet(0), { up: true, speed: 10000, fullDuplex: true });
    t.match(linkGetNowait(1), { up: true });
    t.equal(rxBurst(0, 0, pkts, 32), 32);
    t.equal(pool.inUseCount(), 32);
    t.equal(txBurst(1, 0, pkts, 20), 20);
    t.equal(txBurst(1, 0, pkts, 12, 20), 12, 'tx from an offset');
    t.equal(pool.inUseCount(), 0, 'net_null frees what it sends');
    let s = statsGet(0);
    t.match(s, { ipackets: 32, ibytes: 32 * 64, opackets: 0, rxNombuf: 0, qIpackets: [32] });
    t.match(statsGet(1), { opackets: 32, obytes: 32 * 64, ipackets: 0, qOpackets: [32], qObytes: [2048] });
    const x = xstatsGet(0);
    t.same(x.map((e) => e.name), ['rx_good_packets', 'tx_good_packets', 'rx_good_bytes', 'tx_good_bytes', 'rx_missed_errors',
      'rx_errors', 'tx_errors', 'rx_mbuf_allocation_errors', 'rx_q0_packets', 'rx_q0_bytes', 'rx_q0_errors', 'tx_q0_packets', 'tx_q0_bytes']);
    t.equal(x.find((e) => e.name === 'rx_good_packets')!.value, 32);
    statsReset(0);
    s = statsGet(0);
    t.match(s, { ipackets: 0, ibytes: 0, qIpackets: [0] }, 'statsReset zeroes the counters');
    rxBurst(0, 0, pkts, 5);
    t.equal(statsGet(0).ipackets, 5, 'counting resumes after a reset');
    pktmbufFreeBulk(pkts, 5);
    xstatsReset(0);
    t.equal(xstatsGet(0)[0].value, 0);
    // stop: bursts return 0 until the port is started again
    devStop(0);
    t.match(linkGet(0), { up: false });
    t.equal(rxBurst(0, 0, pkts, 32), 0, 'rxBurst returns 0 once the port is stopped');
    devStart(0);
    t.equal(rxBurst(0, 0, pkts, 32), 32, 'and receives again after start');
    devStop(1);
    t.equal(txBurst(1, 0, pkts, 32), 0, 'txBurst to a stopped port takes nothing');
    t.equal(pool.inUseCount(), 32, 'the caller still owns them');
    devStart(1);
    t.equal(txBurst(1, 0, pkts, 32), 32);
    t.equal(pool.inUseCount(), 0);
  });

  t.test('bursts from a worker lcore; counters seen on the main lcore', async (t) => {
    statsReset(0);
    statsReset(1);
    pktio.remoteLaunch(1, helper, { rx: 0, tx: 1, iterations: 1000 }, 'forward');
    const r = (await pktio.waitLcore(1)) as { lcore: number; rx: number; tx: number; freed: number };
    t.equal(r.lcore, 1);
    t.equal(r.rx, 32000);
    t.equal(r.tx, 32000);
    t.match(statsGet(0), { ipackets: 32000, ibytes: 32000 * 64 });
    t.match(statsGet(1), { opackets: 32000, obytes: 32000 * 64 });
    t.equal(pool.inUseCount(), 0, 'every mbuf back (the worker cache counts as available)');
    // the worker sees a stop made on the main lcore
    devStop(0);
    pktio.remoteLaunch(1, helper, { rx: 0, tx: 1, iterations: 10 }, 'forward');
    t.match(await pktio.waitLcore(1), { rx: 0, tx: 0 }, 'a stopped port gives the worker nothing');
    devStart(0);
    pktio.remoteLaunch(1, helper, { rx: 0, tx: 1, iterations: 10 }, 'forward');
    t.match(await pktio.waitLcore(1), { rx: 320, tx: 320 }, 'and the restart is seen too');
  });

  t.test('TX buffering', async (t) => {
    t.throws(() => txBufferInit(0), { name: 'EthdevError', message: 'bad TX buffer size 0: 1..4096' });
    t.throws(() => new TxBuffer(5000), { message: 'bad TX buffer size 5000: 1..4096' });
    statsReset(1);
    const b = txBufferInit(8);
    const pkts = new Uint32Array(16);
    t.equal(pktmbufAllocBurst(pool, pkts, 16), 16);
    let sent = 0;
    for (let i = 0; i < 7; i++) sent += txBuffer(1, 0, b, pkts[i]);
    t.equal(sent, 0, 'nothing sent until the buffer is full');
    t.equal(b.length, 7);
    t.equal(txBuffer(1, 0, b, pkts[7]), 8, 'the eighth packet sends the buffer');
    t.equal(b.length, 0);
    txBuffer(1, 0, b, pkts[8]);
    t.equal(txBufferFlush(1, 0, b), 1, 'flush sends what is buffered');
    t.equal(txBufferFlush(1, 0, b), 0, 'flush of an empty buffer');
    t.equal(statsGet(1).opackets, 9);
    // unsent packets go to the error callback: the default frees and counts them
    devStop(1);
    for (let i = 9; i < 12; i++) txBuffer(1, 0, b, pkts[i]);
    const before = pool.inUseCount();
    t.equal(txBufferFlush(1, 0, b), 0, 'stopped port: nothing sent');
    t.equal(b.dropped, 3, 'dropCallback counts');
    t.equal(pool.inUseCount(), before - 3, 'and frees the unsent packets');
    const seen: number[] = [];
    txBufferSetErrCallback(b, (p, from, n, buf) => {
      t.equal(buf, b);
      for (let i = 0; i < n; i++) seen.push(p[from + i]);
    });
    for (let i = 12; i < 16; i++) txBuffer(1, 0, b, pkts[i]);
    txBufferFlush(1, 0, b);
    t.same(seen, [...pkts.subarray(12, 16)], 'a custom callback gets the unsent packets, in order');
    t.equal(b.dropped, 3);
    pktmbufFreeBulk(Uint32Array.from(seen), seen.length);
    devStart(1);
    t.equal(pool.inUseCount(), 0, 'no mbuf leaked');
    t.equal(typeof dropCallback, 'function');
  });

  t.test('close', async (t) => {
    devClose(1);
    t.same(portIds(), [0]);
    t.throws(() => devStart(1), { name: 'EthdevError', message: 'invalid port 1: 1 port(s) exist (0)' });
    t.throws(() => statsGet(1), EthdevError);
    t.equal(rxBurst(1, 0, new Uint32Array(4), 4), 0, 'a closed port receives nothing');
  });
});

t.test('after cleanup every port is gone', async (t) => {
  t.same(portIds(), []);
  t.equal(pktio.ealInitialized(), false);
});
