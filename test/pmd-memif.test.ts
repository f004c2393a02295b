// net_memif: pktio against pktio (both roles in one process), against dpdk-testpmd in both roles with numbered
// traffic and exact counters, a peer that dies and comes back, bad peers (version, secret, ring size, garbage),
// and a fuzz of the control-message parser. PKTIO_MEMIF_PACKETS sets the interop packet count (default 200,000;
// the closing note's run used 10,000,000).
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as pktio from '../src/index.js';
import {
  devConfigure, rxQueueSetup, txQueueSetup, devStart, devStop, devClose, statsGet, linkGet, statsReset, portName,
} from '../src/ethdev/ethdev.js';
import { pktmbufPoolCreate } from '../src/mempool/mbuf.js';
import type { Mempool } from '../src/mempool/mempool.js';
import { memifStatus } from '../src/pmd/memif/memif.js';
import { SeqFlow, runFlows, until, sleep } from './helpers/memif-traffic.js';
import { Testpmd, testpmdPath, NO_TESTPMD } from '../bench/dpdk/testpmd.js';
import { FakePeer, FakeServer, openFds, type Heard } from './helpers/memif-fake.js';
import { memifPoll } from '../src/pmd/memif/memif.js';
import {
  MEMIF_MSG_TYPE_HELLO, MEMIF_MSG_TYPE_INIT, MEMIF_MSG_TYPE_ACK, MEMIF_MSG_TYPE_ADD_REGION, MEMIF_MSG_TYPE_ADD_RING,
  MEMIF_MSG_TYPE_CONNECT, MEMIF_MSG_TYPE_DISCONNECT, MEMIF_MSG_TYPE_CONNECTED, MEMIF_VERSION, MEMIF_COOKIE, MemifProtoError,
  decodeMsg, encodeMsg, type MsgFields,
} from '../src/pmd/memif/proto.js';
import * as ffi from '../src/eal/ffi.js';
import { extmemList } from '../src/eal/memory.js';
import { MAX_PORTS, ST_RX, type FwdArgs } from '../examples/l2fwd/fwd.js';
import { startPort } from './helpers/ports.js';

const dir = fs.mkdtempSync('/tmp/pktio-memif-');
const sock = (n: string) => `${dir}/${n}.sock`;

const cpus = pktio.cpusAllowed();
t.before(async () => {
  await pktio.init(['--no-pci', '--no-huge', '-m', '256', '--log-level', 'error', '--lcores', `0@${cpus[0]},1@${cpus[cpus.length - 1]}`]);
});
t.teardown(async () => {
  await pktio.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

const setup = (p: number, pool: Mempool, nq = 1): void => startPort(p, pool, nq);

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
async function interop(t: Test, p: number, tp: Testpmd, pool: Mempool, nq: number, count: number): Promise<void> {
  statsReset(p);
  await tp.cmd('clear port stats all');
  const flows = Array.from({ length: nq }, (_, q) => new SeqFlow(p, p, q, pool));
  const t0 = performance.now();
  const ok = await runFlows(flows, count, 512, 10000);
  t.ok(ok, `${count} packets per queue went round`);
  if (!ok) t.comment(`memif ${JSON.stringify(memifStatus(portName(p)))} pktio ${JSON.stringify(statsGet(p))}; testpmd ${JSON.stringify(await tp.portStats())} ${await tp.cmd('show fwd stats all')}`);
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
  const pool = pktmbufPoolCreate('memif_tc', 4095, 256);
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
  const pool = pktmbufPoolCreate('memif_ts', 4095, 256);
  const p = await pktio.devProbe(`net_memif21,role=server,id=1,socket=${abs('tc')}`);
  setup(p, pool);
  const tp = await testpmdPeer(`role=client,id=1,socket=${abs('tc')}`);
  t.teardown(() => tp.kill());
  t.ok(await until(() => linkGet(p).up, 5000), 'link up');
  await interop(t, p, tp, pool, 1, PACKETS);
  devClose(p);
  t.equal(pool.inUseCount(), 0, 'every mbuf back in the pool');
});

t.test('ring sizes differ: the client chooses, as in DPDK', { skip: skipTestpmd }, async (t) => {
  const pool = pktmbufPoolCreate('memif_rs', 4095, 256);
  const p = await pktio.devProbe(`net_memif29,role=server,rsize=10,bsize=1024,socket=${abs('rs')}`);
  setup(p, pool);
  const tp = await testpmdPeer(`role=client,rsize=12,socket=${abs('rs')}`);
  t.teardown(() => tp.kill());
  t.ok(await until(() => linkGet(p).up, 5000), 'link up');
  t.match(memifStatus('net_memif29'), { log2RingSize: 12 }, "testpmd's 4096-slot rings are used");
  await interop(t, p, tp, pool, 1, 50000);
  devClose(p);
  t.equal(pool.inUseCount(), 0);
});

t.test('two queue pairs against testpmd --rxq=2 --txq=2', { skip: skipTestpmd }, async (t) => {
  const pool = pktmbufPoolCreate('memif_mq', 4095, 256);
  const p = await pktio.devProbe(`net_memif22,role=server,socket=${abs('mq')}`);
  setup(p, pool, 2);
  const tp = await testpmdPeer(`role=client,socket=${abs('mq')}`, 2);
  t.teardown(() => tp.kill());
  t.ok(await until(() => linkGet(p).up, 5000), 'link up');
  await interop(t, p, tp, pool, 2, Math.min(PACKETS, 100000));
  devClose(p);
  t.equal(pool.inUseCount(), 0);
});

// ---- a peer that dies and comes back ---------------------------------------------------------------------------
for (const role of ['client', 'server'] as const) {
  t.test(`testpmd killed and restarted mid-run (pktio ${role})`, { skip: skipTestpmd }, async (t) => {
    const pool = pktmbufPoolCreate(`memif_kr_${role}`, 4095, 256);
    const name = `net_memif${role === 'client' ? 23 : 24}`;
    const peerArgs = `role=${role === 'client' ? 'server' : 'client'},socket=${abs(`kr${role}`)}`;
    let tp: Testpmd;
    let p: number;
    if (role === 'client') {
      tp = await testpmdPeer(peerArgs);
      p = await pktio.devProbe(`${name},role=client,socket=${abs(`kr${role}`)}`);
      setup(p, pool);
    } else {
      p = await pktio.devProbe(`${name},role=server,socket=${abs(`kr${role}`)}`);
      setup(p, pool);
      tp = await testpmdPeer(peerArgs);
    }
    t.teardown(() => tp.kill());
    t.ok(await until(() => linkGet(p).up, 5000), 'link up');
    const flow = new SeqFlow(p, p, 0, pool);
    const running = runFlows([flow], 1e9, 512, 1500);
    await sleep(300);
    await tp.kill();
    t.ok(await until(() => !linkGet(p).up, 2000), 'link down when testpmd dies');
    t.equal(await running, false, 'traffic stalls');
    const sent = flow.st.sent;
    t.match(flow.st, { dups: 0, reordered: 0, bad: 0 }, `${flow.st.received} of ${sent} came back before the kill, in order`);
    flow.dropPending();
    const lost = flow.writeOffLoss();
    t.comment(`${lost} packets were inside testpmd when it died`);
    t.equal(pool.inUseCount(), 0, 'no mbuf is parked in shared memory: all back in the pool');
    tp = await testpmdPeer(peerArgs);
    t.ok(await until(() => linkGet(p).up, 5000), 'link up again when testpmd is back');
    t.match(memifStatus(name), { connects: 2, disconnects: 1 });
    await interop(t, p, tp, pool, 1, Math.min(PACKETS, 100000));
    devClose(p);
    t.equal(pool.inUseCount(), 0, 'every mbuf back in the pool');
  });
}

// ---- the data planes on a worker lcore while the peer dies ---------------------------------------------------
t.test("l2fwd's loop on worker lcore 1 keeps running while testpmd dies and comes back", { skip: skipTestpmd }, async (t) => {
  const pool = pktmbufPoolCreate('memif_wk', 8191, 256);
  const sk = [abs('wk0'), abs('wk1')];
  const peerStart = async () => {
    const tp = await Testpmd.start({
      lcores: '0,1', ealArgs: ['--main-lcore', '1'], fwd: 'io',
      vdevs: [`net_memif0,role=server,socket=${sk[0]}`, `net_memif1,role=server,socket=${sk[1]}`],
    });
    await tp.cmd('set fwd io retry');
    return tp;
  };
  let tp = await peerStart();
  t.teardown(() => tp.kill());
  const a = await pktio.devProbe(`net_memif30,role=client,socket=${sk[0]}`);
  const b = await pktio.devProbe(`net_memif31,role=client,socket=${sk[1]}`);
  setup(a, pool);
  setup(b, pool);
  t.ok(await until(() => linkGet(a).up && linkGet(b).up, 5000), 'links up');
  const ext0 = extmemList().length;
  const z = pktio.memzoneReserve('l2fwd', (MAX_PORTS * 4 + 16) * 8);
  const st = new Float64Array(pktio.mem().buf, z.off, MAX_PORTS * 4 + 16);
  st.fill(0);
  const dst = new Array(MAX_PORTS).fill(-1);
  dst[a] = b;
  dst[b] = a;
  const args: FwdArgs = { rxPorts: [a, b], dst, macUpdating: false, macs: [] };
  pktio.remoteLaunch(1, new URL('../examples/l2fwd/fwd.ts', import.meta.url), args);
  await tp.cmd('start tx_first 4');
  const rx = () => st[a * 4 + ST_RX] + st[b * 4 + ST_RX];
  const fwdOk = await until(() => rx() > 20000, 20000);
  t.ok(fwdOk, `the worker forwards (${rx()} frames)`);
  if (!fwdOk) t.comment(`${JSON.stringify(await tp.portStats())} ${JSON.stringify(statsGet(a))} ${JSON.stringify(statsGet(b))} ${JSON.stringify([...st.subarray(0, 8)])}`);
  await tp.kill();
  t.ok(await until(() => !linkGet(a).up && !linkGet(b).up, 2000), 'links down');
  t.ok(await until(() => extmemList().length === ext0 - 2, 3000), 'the worker acknowledged: both regions unmapped while it polls');
  const frozen = rx();
  await sleep(300);
  t.equal(rx(), frozen, 'nothing received while down');
  tp = await peerStart();
  t.ok(await until(() => linkGet(a).up && linkGet(b).up, 5000), 'links up again, the worker still running');
  await tp.cmd('start tx_first 4');
  t.ok(await until(() => rx() > frozen + 20000, 20000), `and forwarding again (${rx() - frozen} more frames)`);
  pktio.requestQuit();
  await pktio.waitLcore(1);
  await tp.quit();
  devClose(a);
  devClose(b);
  pktio.memzoneFree('l2fwd');
  t.equal(pool.inUseCount(), 0, 'every mbuf back in the pool');
});

// ---- bad peers ---------------------------------------------------------------------------------------------------
t.test('wrong secret: one clear message, link stays down', { skip: skipTestpmd }, async (t) => {
  const pool = pktmbufPoolCreate('memif_sec', 1023, 0);
  const tp = await testpmdPeer(`role=server,secret=right,socket=${abs('sec')}`);
  t.teardown(() => tp.kill());
  const p = await pktio.devProbe(`net_memif25,role=client,secret=wrong,socket=${abs('sec')}`);
  setup(p, pool);
  t.ok(await until(() => /Incorrect secret/.test(memifStatus('net_memif25')!.lastError), 3000));
  t.match(memifStatus('net_memif25')!.lastError, /disconnected: "Incorrect secret": give both sides the same secret=/);
  await sleep(1500);
  t.equal(linkGet(p).up, false, 'link stays down (the client retries every second)');
  devClose(p);
  t.equal(pool.inUseCount(), 0);
});

t.test('a server with another memif version', async (t) => {
  const pool = pktmbufPoolCreate('memif_ver', 1023, 0);
  const srv = new FakeServer(sock('ver'), false);
  t.teardown(() => srv.close());
  const p = await pktio.devProbe(`net_memif26,role=client,socket=${sock('ver')},socket-abstract=no`);
  setup(p, pool);
  let peer: FakePeer | null = null;
  t.ok(await until(() => (peer = peer ?? srv.accept()) !== null, 3000), 'pktio connects');
  peer!.send(MEMIF_MSG_TYPE_HELLO, { name: 'future', min_version: 0x0300, max_version: 0x0301, max_c2s_ring: 1, max_s2c_ring: 1, max_log2_ring_size: 10 });
  const said = peer!.hear(10);
  t.match(said, { type: MEMIF_MSG_TYPE_DISCONNECT, f: { string: 'Incompatible memif version' } }, 'pktio says why, in memif words');
  t.equal(peer!.hear(), 'closed', 'and hangs up');
  t.match(memifStatus('net_memif26')!.lastError, /speaks memif 3\.0 to 3\.1, pktio speaks 2\.0/);
  t.equal(linkGet(p).up, false);
  peer!.close();
  devClose(p);
  t.equal(pool.inUseCount(), 0);
});

/** A started server port and a fake client through INIT; returns the client. */
async function fakeClientOf(path: string, fields: MsgFields = {}): Promise<FakePeer> {
  const c = FakePeer.client(path, false);
  const hello = c.hear(10);
  if (hello === null || hello === 'closed' || hello.type !== MEMIF_MSG_TYPE_HELLO) throw new Error(`no HELLO: ${JSON.stringify(hello)}`);
  c.send(MEMIF_MSG_TYPE_INIT, { version: MEMIF_VERSION, id: 0, mode: 0, name: 'fake', ...fields });
  return c;
}

/** Descriptors the fake made and passed (closed at the end: pktio holds its own copies). */
const made: number[] = [];

/** A memfd of `len` bytes starting with a ring cookie. */
function fakeRegion(len: number): number {
  const fd = ffi.memfd_create('fake_region', ffi.MFD_CLOEXEC);
  ffi.ftruncate(fd, len);
  const b = Buffer.alloc(8);
  b.writeUInt32LE(MEMIF_COOKIE, 0);
  ffi.pwrite(fd, b, 8, 0);
  made.push(fd);
  return fd;
}

function fakeEventfd(): number {
  const fd = ffi.eventfd(0, ffi.EFD_CLOEXEC);
  made.push(fd);
  return fd;
}

t.test('clients with another version, a ring too large, a region larger than its file, garbage', async (t) => {
  const pool = pktmbufPoolCreate('memif_badc', 1023, 0);
  const path = sock('badc');
  const p = await pktio.devProbe(`net_memif27,role=server,socket=${path},socket-abstract=no`);
  setup(p, pool);
  const fds0 = openFds();
  const ext0 = extmemList().length;

  let c = await fakeClientOf(path, { version: 0x0100 });
  t.match(c.hear(), { type: MEMIF_MSG_TYPE_DISCONNECT, f: { string: 'Incompatible memif version' } });
  t.match(memifStatus('net_memif27')!.lastError, /speaks memif 1\.0, pktio speaks 2\.0/);
  c.close();

  c = await fakeClientOf(path);
  t.match(c.hear(), { type: MEMIF_MSG_TYPE_ACK }, 'INIT acknowledged');
  c.send(MEMIF_MSG_TYPE_ADD_REGION, { index: 0, size: 65536 }, fakeRegion(65536));
  t.match(c.hear(), { type: MEMIF_MSG_TYPE_ACK }, 'region mapped');
  c.send(MEMIF_MSG_TYPE_ADD_RING, { flags: 1, index: 0, region: 0, offset: 0, log2_ring_size: 15 }, fakeEventfd());
  t.match(c.hear(), { type: MEMIF_MSG_TYPE_DISCONNECT, f: { string: 'Invalid ring size' } });
  t.match(memifStatus('net_memif27')!.lastError, /ring size is 2\^15; memif rings have at most 2\^14 slots \(rsize=\)/);
  c.close();

  c = await fakeClientOf(path);
  c.hear();
  c.send(MEMIF_MSG_TYPE_ADD_REGION, { index: 0, size: 1 << 20 }, fakeRegion(65536));
  t.match(c.hear(), { type: MEMIF_MSG_TYPE_DISCONNECT, f: { string: 'Invalid region size' } }, 'a region larger than its file is refused (no SIGBUS later)');
  c.close();

  c = await fakeClientOf(path);
  c.hear();
  c.send(MEMIF_MSG_TYPE_ADD_REGION, { index: 0, size: 65536 }, fakeRegion(65536));
  c.hear();
  c.send(MEMIF_MSG_TYPE_ADD_RING, { flags: 1, index: 0, region: 0, offset: 65000, log2_ring_size: 10 }, fakeEventfd());
  c.hear();
  c.send(MEMIF_MSG_TYPE_CONNECT, { if_name: 'fake' });
  t.match(c.hear(), { type: MEMIF_MSG_TYPE_DISCONNECT, f: { string: 'Invalid ring' } }, 'a ring outside its region is refused at CONNECT');
  c.close();

  c = await fakeClientOf(path);
  c.hear();
  c.sendRaw(Buffer.alloc(40, 0xee));
  t.match(c.hear(), { type: MEMIF_MSG_TYPE_DISCONNECT, f: { string: 'Invalid message' } }, 'a short message');
  c.close();
  t.equal(linkGet(p).up, false, 'the link never came up');

  await sleep(1200); // released regions wait for the data planes (nobody polls this port) or a second
  memifPoll();
  for (const fd of made.splice(0)) ffi.close(fd);
  t.equal(openFds(), fds0, 'every descriptor received or made was closed');
  t.equal(extmemList().length, ext0, 'every region unmapped');
  devClose(p);
  t.equal(pool.inUseCount(), 0);
});

// ---- fuzz ------------------------------------------------------------------------------------------------------
/** mulberry32: a small seeded PRNG, so a failing case can be replayed */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID: Array<[number, MsgFields]> = [
  [MEMIF_MSG_TYPE_INIT, { version: MEMIF_VERSION, id: 0, mode: 0, name: 'fake' }],
  [MEMIF_MSG_TYPE_ADD_REGION, { index: 0, size: 65536 }],
  [MEMIF_MSG_TYPE_ADD_RING, { flags: 1, index: 0, region: 0, offset: 0, log2_ring_size: 4 }],
  [MEMIF_MSG_TYPE_CONNECT, { if_name: 'fake0' }],
];

/** A valid message with 1-6 random bytes changed, sometimes cut or lengthened. */
function mutate(rnd: () => number, b: Buffer): Buffer {
  const out = Buffer.from(b);
  const flips = 1 + Math.floor(rnd() * 6);
  for (let i = 0; i < flips; i++) out[Math.floor(rnd() * (rnd() < 0.5 ? 16 : 128))] = Math.floor(rnd() * 256);
  const r = rnd();
  if (r < 0.1) return out.subarray(0, Math.floor(rnd() * 128));
  if (r < 0.15) return Buffer.concat([out, Buffer.alloc(1 + Math.floor(rnd() * 64), 0x41)]);
  return out;
}

t.test('fuzz: the message parser takes 20,000 corrupted messages', async (t) => {
  const rnd = prng(0x6d656d69);
  let parsed = 0;
  let refused = 0;
  const all: Array<[number, MsgFields]> = [...VALID, [MEMIF_MSG_TYPE_HELLO, { name: 'x', min_version: 0x200, max_version: 0x200 }],
    [MEMIF_MSG_TYPE_DISCONNECT, { code: 1, string: 'bye' }], [MEMIF_MSG_TYPE_ACK, {}], [MEMIF_MSG_TYPE_CONNECTED, { if_name: 'y' }]];
  for (const [type, f] of all) t.same(decodeMsg(encodeMsg(type, f), 128), { type, f: decodeMsg(encodeMsg(type, f), 128).f }, `${type} round-trips`);
  for (let i = 0; i < 20000; i++) {
    const [type, f] = all[Math.floor(rnd() * all.length)];
    const b = mutate(rnd, encodeMsg(type, f));
    try {
      decodeMsg(b, b.length);
      parsed++;
    } catch (e) {
      if (!(e instanceof MemifProtoError)) throw e;
      refused++;
    }
  }
  t.equal(parsed + refused, 20000, `${parsed} parsed, ${refused} refused with a MemifProtoError, nothing else thrown`);
});

t.test('fuzz: 1,000 clients send a corrupted message at a random step of the handshake', async (t) => {
  const pool = pktmbufPoolCreate('memif_fuzz', 1023, 0);
  const path = sock('fuzz');
  const p = await pktio.devProbe(`net_memif28,role=server,socket=${path},socket-abstract=no`);
  setup(p, pool);
  const fds0 = openFds();
  const ext0 = extmemList().length;
  const rnd = prng(1234);
  const answers: Record<string, number> = {};
  for (let i = 0; i < 1000; i++) {
    const c = FakePeer.client(path, false);
    c.hear(5); // HELLO
    const step = Math.floor(rnd() * VALID.length);
    let last: Heard = null;
    for (let k = 0; k <= step; k++) {
      const [type, f] = VALID[k];
      const fd = type === MEMIF_MSG_TYPE_ADD_REGION ? fakeRegion(65536) : type === MEMIF_MSG_TYPE_ADD_RING ? fakeEventfd() : -1;
      if (k < step) c.send(type, f, fd);
      else c.sendRaw(mutate(rnd, encodeMsg(type, f)), rnd() < 0.3 ? -1 : fd);
      last = c.hear(3);
    }
    const what = last === null ? 'silence' : last === 'closed' ? 'closed' : last.type === MEMIF_MSG_TYPE_DISCONNECT ? `DISCONNECT ${last.f.string}` : `type ${last.type}`;
    answers[what] = (answers[what] ?? 0) + 1;
    c.close();
    memifPoll();
    for (const fd of made.splice(0)) ffi.close(fd);
  }
  t.comment(JSON.stringify(answers));
  t.ok(Object.keys(answers).some((k) => k.startsWith('DISCONNECT')), 'bad messages get a DISCONNECT with a reason');
  await sleep(1200);
  memifPoll();
  t.equal(linkGet(p).up, false, 'no client left connected');
  t.equal(openFds(), fds0, 'no descriptor leaked');
  t.equal(extmemList().length, ext0, 'no region left mapped');
  devClose(p);
  t.equal(pool.inUseCount(), 0);
});
