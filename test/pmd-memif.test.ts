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
