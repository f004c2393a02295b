// The driver registry: built-in drivers load only when a device needs them; an application's own PMD, registered
// on the main lcore, polls on worker lcores (they import its data-plane module before running launched code);
// per-queue start/stop and deferred start through ethdev.
import t from 'tap';
import * as pktio from '../src/index.js';
import { registeredPmds, CATALOG } from '../src/pmd/registry.js';
import { pmd as countPmd, CountPort } from './helpers/app-pmd.js';

const cpus = pktio.cpusAllowed();
const EAL = ['--no-pci', '--no-huge', '-m', '64', '--log-level', 'error', '--lcores', `0@${cpus[0]},1@${cpus[cpus.length - 1]}`];

t.test('built-in drivers load on demand', async (t) => {
  await pktio.init([...EAL, '--vdev', 'net_null0']);
  t.teardown(pktio.cleanup);
  const names = registeredPmds().map((p) => p.name);
  t.ok(names.includes('net_null'), 'net_null loaded for its vdev');
  t.notOk(names.includes('net_e1000e') || names.includes('net_igb') || names.includes('net_ixgbe'), 'no Intel driver loaded without an Intel device');
  t.ok(CATALOG.some((c) => c.name === 'net_igb' && c.pciIds?.some((i) => i.device === 0x10c9)), 'igb catalogued with the 82576 ID');
  t.rejects(pktio.loadPmd('net_nope'), { message: /^no driver named net_nope \(drivers: net_null, net_ring/ });
});

t.test("an application's PMD polls on a worker lcore", async (t) => {
  await pktio.init(EAL);
  t.teardown(pktio.cleanup);
  pktio.registerPmd(countPmd);
  t.throws(() => pktio.registerPmd({ ...countPmd }), { message: 'a driver named net_count is already registered' });
  const counter = pktio.memzoneReserve('count_ctr', 64).off;
  const ops = new CountPort('count0', counter);
  const port = pktio.ethDevAllocate('count0', ops, countPmd);
  const pool = pktio.pktmbufPoolCreate('count_pool', 1023, 32);
  pktio.devConfigure(port, 2, 1);
  pktio.rxQueueSetup(port, 0, 64, -1, null, pool);
  pktio.rxQueueSetup(port, 1, 64, -1, { deferredStart: true }, pool);
  pktio.txQueueSetup(port, 0, 64, -1, null);
  pktio.devStart(port);
  const helper = new URL('./helpers/lcore-app-pmd.ts', import.meta.url);
  pktio.remoteLaunch(1, helper, { port, queue: 0, iterations: 10 }, 'poll');
  t.equal(await pktio.waitLcore(1), 320, 'the worker received through the driver it never imported');
  pktio.remoteLaunch(1, helper, { port, queue: 1, iterations: 10 }, 'poll');
  t.equal(await pktio.waitLcore(1), 0, 'a deferred-start queue gives nothing');
  pktio.rxQueueStart(port, 1);
  t.notOk(ops.stopped.has(1));
  pktio.remoteLaunch(1, helper, { port, queue: 1, iterations: 5 }, 'poll');
  t.equal(await pktio.waitLcore(1), 160, 'and packets once started');
  pktio.rxQueueStop(port, 0);
  t.ok(ops.stopped.has(0), 'the driver stopped queue 0');
  pktio.remoteLaunch(1, helper, { port, queue: 0, iterations: 5 }, 'poll');
  t.equal(await pktio.waitLcore(1), 0, 'a stopped queue gives nothing');
  t.equal(pktio.statsGet(port).qIpackets[0], 320);
  t.equal(pool.inUseCount(), 0, 'every mbuf back');
  pktio.devClose(port);
});
