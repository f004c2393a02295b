// net_af_packet: devargs and bad input; l2fwd over two af_packet ports bridging two network namespaces (ping both
// ways, 10,000 UDP datagrams, port counters equal to the kernel's veth counters); dpdk-testpmd's net_af_packet as
// the peer with counters compared exactly; two queue pairs in a fanout group; 802.1Q tags; link, promiscuous mode,
// long frames; every mbuf, socket and mapping back. The examples, run as programs, are in pmd-af-packet-examples.
import t from 'tap';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import * as pktio from '../src/index.js';
import {
  devConfigure, rxQueueSetup, txQueueSetup, devStart, devStop, devClose, rxBurst, txBurst, statsGet, devInfoGet, linkGet,
  macAddrGet, promiscuousEnable, promiscuousDisable,
} from '../src/ethdev/ethdev.js';
import { pktmbufPoolCreate, pktmbufAllocBurst, pktmbufFreeBulk, append, writeData } from '../src/mempool/mbuf.js';
import type { Mempool } from '../src/mempool/mempool.js';
import { mem, memzoneReserve, memzoneFree, extmemList } from '../src/eal/index.js';
import { parseAfPacketArgs } from '../src/pmd/af_packet/af_packet.js';
import { NetLab, netLabSkipReason } from './helpers/netns.js';
import { startPort } from './helpers/ports.js';
import { Testpmd, testpmdPath, NO_TESTPMD } from '../bench/dpdk/testpmd.js';
import { MAX_PORTS, ST_RX, ST_TX, ST_DROP, type FwdArgs } from '../examples/l2fwd/fwd.js';

const fwdModule = new URL('../examples/l2fwd/fwd.ts', import.meta.url);
const cpus = pktio.cpusAllowed();
const skip = netLabSkipReason();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.before(async () => {
  await pktio.init(['--no-pci', '--no-huge', '-m', '128', '--log-level', 'error', '--lcores', `0@${cpus[0]},1@${cpus[cpus.length - 1]}`]);
});
t.teardown(pktio.cleanup);

/** Sockets this process holds (to see that a port's sockets are closed). */
function socketCount(): number {
  let n = 0;
  for (const f of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${f}`).startsWith('socket:')) n++;
    } catch { /* closed meanwhile */ }
  }
  return n;
}

const setup = (p: number, pool: Mempool, nq = 1): void => startPort(p, pool, nq);

t.test('devargs: DPDK names and defaults, one clear line per mistake', async (t) => {
  const args = (s: string) => new Map(s.split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
  t.same(parseAfPacketArgs('net_af_packet0', args('iface=eth9')), {
    iface: 'eth9', qpairs: 1, blockSize: 4096, frameSize: 2048, frameCount: 512, qdiscBypass: true, fanoutMode: 'hash',
  });
  t.match(parseAfPacketArgs('x', args('iface=a,qpairs=4,blocksz=8192,framesz=4096,framecnt=64,qdisc_bypass=0,fanout_mode=lb')),
    { qpairs: 4, blockSize: 8192, frameSize: 4096, frameCount: 64, qdiscBypass: false, fanoutMode: 'lb' });
  const bad: Array<[string, RegExp]> = [
    ['', /^d: no interface: give iface=<name> \(ip link show lists them\)$/],
    ['iface=', /^d: iface= is empty: give a value$/],
    ['iface=a/b', /'a\/b' is not a valid interface name/],
    ['iface=a,qpairs=0', /^d: qpairs=0: expected an integer from 1 to 16$/],
    ['iface=a,qpairs=two', /^d: qpairs=two: expected an integer from 1 to 16$/],
    ['iface=a,blocksz=1000', /^d: blocksz=1000: expected a multiple of the page size 4096$/],
    ['iface=a,framesz=100', /^d: framesz=100: expected a multiple of 16 from 128/],
    ['iface=a,framesz=8192', /^d: framesz=8192 is larger than blocksz=4096$/],
    ['iface=a,framecnt=3', /^d: framecnt=3: expected a multiple of 2 \(the frames of one 4096-byte block of 2048-byte frames\)$/],
    ['iface=a,qdisc_bypass=2', /^d: qdisc_bypass=2: expected 0 or 1$/],
    ['iface=a,fanout_mode=fast', /^d: fanout_mode=fast: expected hash or lb or cpu or rollover or rnd or qm$/],
  ];
  for (const [s, re] of bad) t.throws(() => parseAfPacketArgs('d', args(s)), { message: re }, s || '(none)');
});

t.test('bad input at probe: one line naming the interface or the key, nothing left behind', { skip: skip ?? false }, async (t) => {
  const before = socketCount();
  const ports = pktio.ethDevCount();
  await t.rejects(pktio.devProbe('net_af_packet0,iface=afpnope'),
    { message: "--vdev net_af_packet0,iface=afpnope: no interface 'afpnope' (ip link show lists them)" });
  await t.rejects(pktio.devProbe('net_af_packet0'), { message: /net_af_packet0: no interface: give iface=<name>/ });
  await t.rejects(pktio.devProbe('net_af_packet0,iface=lo,bogus=1'), { message: /has no argument 'bogus' \(valid: iface, qpairs, blocksz, framesz, framecnt, qdisc_bypass, fanout_mode\)/ });
  await t.rejects(pktio.devProbe('net_af_packet0,iface=lo,framecnt=0'), { message: /framecnt=0: expected an integer from 1/ });
  t.equal(pktio.ethDevCount(), ports, 'no port was made');
  t.equal(socketCount(), before, 'no socket left open');
  t.same(extmemList(), [], 'nothing mapped');
});

/** A UDP receiver in a namespace: resolves to [datagrams, bytes] after `idle` seconds without one. */
function udpReceiver(ns: string, ip: string, port: number): { ready: Promise<void>; done: Promise<[number, number]> } {
  const py = `
import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET,33,16<<20)  # SO_RCVBUFFORCE: past rmem_max
s.bind((sys.argv[1],int(sys.argv[2])))
s.settimeout(20)
print('ready',flush=True)
n=0;b=0
try:
  while True:
    d=s.recv(65536);n+=1;b+=len(d);s.settimeout(1.5)
except socket.timeout:
  pass
print(n,b,flush=True)`;
  const c: ChildProcessWithoutNullStreams = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', py, ip, String(port)]);
  let out = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => { onReady = r; });
  c.stdout.on('data', (d: Buffer) => {
    out += d;
    if (out.includes('ready')) onReady();
  });
  c.stderr.on('data', (d: Buffer) => { out += d; });
  const done = new Promise<[number, number]>((resolve, reject) => c.on('close', () => {
    const m = /(\d+) (\d+)\s*$/.exec(out);
    if (m) resolve([Number(m[1]), Number(m[2])]);
    else reject(new Error(`UDP receiver in ${ns}: ${out}`));
  }));
  return { ready, done };
}

/** Sends n datagrams of `size` bytes from a namespace over `flows` source ports, paced (`per` every millisecond). */
function udpSend(ns: string, ip: string, port: number, n: number, size: number, flows = 1, per = 50): Promise<void> {
  const py = `
import socket,sys,time
ip,port,n,size,flows,per=sys.argv[1],int(sys.argv[2]),int(sys.argv[3]),int(sys.argv[4]),int(sys.argv[5]),int(sys.argv[6])
ss=[socket.socket(socket.AF_INET,socket.SOCK_DGRAM) for _ in range(flows)]
p=bytes(size)
for i in range(n):
  ss[i%flows].sendto(p,(ip,port))
  if i%per==per-1: time.sleep(0.001)`;
  return new Promise((resolve, reject) => {
    const c = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', py, ip, String(port), String(n), String(size), String(flows), String(per)]);
    let err = '';
    c.stderr.on('data', (d: Buffer) => { err += d; });
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`UDP sender in ${ns}: exit ${code} ${err}`))));
  });
}

type Counters = ReturnType<NetLab['counters']>;
const delta = (now: Counters, base: Counters): Counters =>
  Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - base[k as keyof Counters]])) as Counters;

function l2fwdZone(): Float64Array {
  const z = memzoneReserve('l2fwd', (MAX_PORTS * 4 + 16) * 8);
  const st = new Float64Array(mem().buf, z.off, MAX_PORTS * 4 + 16);
  st.fill(0);
  return st;
}

/** Runs examples/l2fwd's forwarding loop on lcore 1 over `pairs` (rx port -> tx port), no MAC rewrite. */
function launchL2fwd(pairs: Array<[number, number]>): void {
  const dst = new Array(MAX_PORTS).fill(-1);
  for (const [a, b] of pairs) dst[a] = b;
  const args: FwdArgs = { rxPorts: pairs.map(([a]) => a), dst, macUpdating: false, macs: [] };
  pktio.remoteLaunch(1, fwdModule, args);
}

async function stopL2fwd(): Promise<void> {
  pktio.requestQuit();
  await pktio.waitLcore(1);
  pktio.clearQuit();
}

/** Receives and frees whatever a port's queues hold (frames that arrived after the forwarder stopped). */
function drainRx(p: number, nq = 1): number {
  const b = new Uint32Array(32);
  let n = 0;
  for (let q = 0; q < nq; q++) for (let k; (k = rxBurst(p, q, b, 32)) > 0;) { pktmbufFreeBulk(b, k); n += k; }
  return n;
}

t.test('l2fwd over two af_packet ports bridges two namespaces; counters equal the kernel\'s', { skip: skip ?? false }, async (t) => {
  const lab = new NetLab('afp');
  t.teardown(() => lab.cleanup());
  const nsA = lab.netns('a');
  const nsB = lab.netns('b');
  const [p0, n0] = lab.veth('p0', 'n0', { nsB: nsA, ipB: '10.97.0.1/24' });
  const [p1, n1] = lab.veth('p1', 'n1', { nsB: nsB, ipB: '10.97.0.2/24' });
  const sockets = socketCount();
  // rings that hold every datagram of the run: on a loaded machine the forwarding lcore may not run for a while,
  // and a frame the kernel finds no room for is an imissed, not a datagram that arrives
  const pool = pktmbufPoolCreate('afp_l2', 4095, 64);
  const a = await pktio.devProbe(`net_af_packet0,iface=${p0},framecnt=16384`);
  const b = await pktio.devProbe(`net_af_packet1,iface=${p1},framecnt=16384`);
  t.match(devInfoGet(a), { driverName: 'net_af_packet', maxRxQueues: 1, maxRxPktLen: 2048 - 66 + 4 });
  t.same([...macAddrGet(a)], [...lab.must(['cat', `/sys/class/net/${p0}/address`]).trim().split(':').map((h) => parseInt(h, 16))],
    'the MAC is the interface\'s');
  setup(a, pool);
  setup(b, pool);
  // the veth ends of the namespaces with checksums computed in software: a frame that leaves a namespace
  // with CHECKSUM_PARTIAL reaches the packet socket without its UDP checksum, as on a NIC with TX offload
  for (const [ns, ifn] of [[nsA, n0], [nsB, n1]]) lab.must(['ip', 'netns', 'exec', ns, 'ethtool', '-K', ifn, 'tx', 'off']);
  await sleep(200);
  const base0 = lab.counters(null, p0);
  const base1 = lab.counters(null, p1);
  t.equal(socketCount(), sockets + 2, 'one socket per queue pair');
  t.equal(extmemList().length, 2, 'one ring mapping per socket');
  t.ok(linkGet(a).up && linkGet(b).up, 'links up (the veth ends are running)');
  const st = l2fwdZone();
  launchL2fwd([[a, b], [b, a]]);
  const rcv = udpReceiver(nsB, '10.97.0.2', 9000); // starts while the worker lcore imports the loop
  try {
    // the forwarder is up once a single ping goes through (the worker imports the loop first)
    for (let i = 0; i < 20 && lab.exec(nsA, ['ping', '-c', '1', '-W', '1', '10.97.0.2']).status !== 0; i++);
    const ping = (ns: string, ip: string) => lab.exec(ns, ['ping', '-c', '3', '-i', '0.2', '-W', '2', ip]);
    const p1r = ping(nsA, '10.97.0.2');
    t.equal(p1r.status, 0, `ping a -> b: ${p1r.stdout.split('\n').slice(-3).join(' ')}`);
    const p2r = ping(nsB, '10.97.0.1');
    t.equal(p2r.status, 0, `ping b -> a: ${p2r.stdout.split('\n').slice(-3).join(' ')}`);
    // neighbours fixed from here: no ARP refresh between the counter reads
    const macOf = (ns: string, ifn: string) => lab.exec(ns, ['cat', `/sys/class/net/${ifn}/address`]).stdout.trim();
    lab.must(['ip', '-n', nsA, 'neigh', 'replace', '10.97.0.2', 'lladdr', macOf(nsB, n1), 'dev', n0, 'nud', 'permanent']);
    lab.must(['ip', '-n', nsB, 'neigh', 'replace', '10.97.0.1', 'lladdr', macOf(nsA, n0), 'dev', n1, 'nud', 'permanent']);
    await rcv.ready;
    // rings of 16384 frames hold the whole run: the pace only spares the kernel's backlog of 1000
    await udpSend(nsA, '10.97.0.2', 9000, 10000, 200, 1, 100);
    const [got, bytes] = await rcv.done;
    t.equal(got, 10000, 'all 10,000 datagrams arrived');
    t.equal(bytes, 10000 * 200);
    await sleep(300);
  } finally {
    await stopL2fwd();
  }
  await sleep(100);
  const left = drainRx(a) + drainRx(b);
  const sa = statsGet(a);
  const sb = statsGet(b);
  const k0 = delta(lab.counters(null, p0), base0);
  const k1 = delta(lab.counters(null, p1), base1);
  t.equal(left, 0, 'nothing arrived after the forwarder stopped');
  t.ok(sa.ipackets >= 10000 + 6, `port 0 received ${sa.ipackets} (imissed ${sa.imissed})`);
  t.same({ ipackets: sa.ipackets, ibytes: sa.ibytes, opackets: sa.opackets, obytes: sa.obytes, imissed: sa.imissed },
    { ipackets: k0.rx_packets, ibytes: k0.rx_bytes, opackets: k0.tx_packets, obytes: k0.tx_bytes, imissed: 0 }, `port 0 = kernel ${p0}`);
  t.same({ ipackets: sb.ipackets, ibytes: sb.ibytes, opackets: sb.opackets, obytes: sb.obytes, imissed: sb.imissed },
    { ipackets: k1.rx_packets, ibytes: k1.rx_bytes, opackets: k1.tx_packets, obytes: k1.tx_bytes, imissed: 0 }, `port 1 = kernel ${p1}`);
  t.equal(st[a * 4 + ST_RX], sa.ipackets, 'l2fwd forwarded every received frame');
  t.equal(st[b * 4 + ST_TX] + st[b * 4 + ST_DROP], sa.ipackets);
  t.equal(st[b * 4 + ST_DROP], 0, 'and dropped none');
  devStop(a);
  devStop(b);
  t.equal(pool.inUseCount(), 0, 'every mbuf back in the pool after stop');
  devClose(a);
  devClose(b);
  t.equal(socketCount(), sockets, 'sockets closed');
  t.same(extmemList(), [], 'ring mappings unmapped');
  memzoneFree('l2fwd');
});

t.test('dpdk-testpmd\'s net_af_packet as the peer: counters equal on both sides and the kernel\'s', { skip: skip ?? (testpmdPath() ? false : NO_TESTPMD) }, async (t) => {
  const lab = new NetLab('afq');
  t.teardown(() => lab.cleanup());
  const [mine, theirs] = lab.veth('t0', 't1');
  lab.must(['sysctl', '-q', '-w', `net.ipv6.conf.${theirs}.disable_ipv6=1`]);
  const pool = pktmbufPoolCreate('afp_tp', 2047, 64);
  const p = await pktio.devProbe(`net_af_packet2,iface=${mine}`);
  setup(p, pool);
  const tp = await Testpmd.start({ vdevs: [`net_af_packet0,iface=${theirs}`], fwd: 'io', appArgs: ['--port-topology=loop'] });
  t.teardown(() => tp.kill());
  await sleep(300);
  const base0 = lab.counters(null, mine);
  const base1 = lab.counters(null, theirs);
  const st = l2fwdZone();
  // a ping-pong: testpmd injects 32 frames, both sides send back what they receive
  launchL2fwd([[p, p]]);
  try {
    await tp.cmd('start tx_first');
    await sleep(1500);
  } finally {
    await stopL2fwd(); // pktio stops first; testpmd forwards the frames in flight back into pktio's ring
  }
  await sleep(200);
  await tp.cmd('stop');
  drainRx(p);
  const [tps] = await tp.portStats();
  const s = statsGet(p);
  const k0 = lab.counters(null, mine);
  const k1 = lab.counters(null, theirs);
  const d = (k: typeof k0, b: typeof k0, f: keyof typeof k0) => k[f] - b[f];
  t.ok(s.ipackets > 1000, `${s.ipackets} frames went around`);
  t.equal(s.ipackets, tps.txPackets, 'pktio RX = testpmd TX');
  t.equal(s.opackets, tps.rxPackets, 'pktio TX = testpmd RX');
  t.equal(s.ibytes, tps.txBytes);
  t.equal(s.obytes, tps.rxBytes);
  t.same({ rx: d(k0, base0, 'rx_packets'), tx: d(k0, base0, 'tx_packets'), rxb: d(k0, base0, 'rx_bytes'), txb: d(k0, base0, 'tx_bytes') },
    { rx: s.ipackets, tx: s.opackets, rxb: s.ibytes, txb: s.obytes }, `pktio = kernel ${mine}`);
  t.same({ rx: d(k1, base1, 'rx_packets'), tx: d(k1, base1, 'tx_packets') }, { rx: tps.rxPackets, tx: tps.txPackets }, `testpmd = kernel ${theirs}`);
  t.equal(s.imissed, 0);
  t.equal(st[p * 4 + ST_DROP], 0, 'pktio dropped nothing');
  await tp.quit();
  devStop(p);
  devClose(p);
  t.equal(pool.inUseCount(), 0, 'every mbuf back');
  t.same(extmemList(), []);
  memzoneFree('l2fwd');
});

/** A broadcast frame of `len` bytes (ethertype 0x88b5, local experimental) in a fresh mbuf. */
function frame(pool: Mempool, len: number, tag: number): number {
  const m = new Uint32Array(1);
  pktmbufAllocBurst(pool, m, 1);
  append(m[0], len);
  const bytes = new Uint8Array(len);
  bytes.fill(0xff, 0, 6);
  bytes.set([0x02, 0, 0, 0, 0, 0x77, 0x88, 0xb5, tag & 0xff], 6);
  writeData(m[0], bytes);
  return m[0];
}

t.test('two queue pairs in a fanout group: flows spread, every frame counted once', { skip: skip ?? false }, async (t) => {
  const lab = new NetLab('afm');
  t.teardown(() => lab.cleanup());
  const ns = lab.netns('a');
  const [mine, theirs] = lab.veth('m0', 'm1', { nsB: ns, ipB: '10.98.0.1/24' });
  // frames to an address nobody answers: a fixed neighbour so the sender does not wait for ARP
  lab.must(['ip', '-n', ns, 'neigh', 'replace', '10.98.0.9', 'lladdr', '02:00:00:00:00:09', 'dev', theirs, 'nud', 'permanent']);
  const pool = pktmbufPoolCreate('afp_mq', 4095, 64);
  const p = await pktio.devProbe(`net_af_packet3,iface=${mine},qpairs=2,fanout_mode=hash,framecnt=4096`);
  setup(p, pool, 2);
  promiscuousEnable(p);
  const base = lab.counters(null, mine);
  const send = udpSend(ns, '10.98.0.9', 7000, 4000, 100, 16);
  let done = false;
  void send.then(() => { done = true; });
  const b = new Uint32Array(32);
  for (let idle = 0; idle < 200;) {
    let k = 0;
    for (let q = 0; q < 2; q++) {
      const n = rxBurst(p, q, b, 32);
      pktmbufFreeBulk(b, n);
      k += n;
    }
    if (k === 0 && done) idle++;
    await new Promise((r) => setImmediate(r));
  }
  await send;
  const s = statsGet(p);
  const k = lab.counters(null, mine);
  t.ok(s.qIpackets[0] > 0 && s.qIpackets[1] > 0, `both queues received (${s.qIpackets.join(' + ')})`);
  t.equal(s.ipackets + s.imissed, k.rx_packets - base.rx_packets, 'each frame went to one queue (or was counted missed)');
  t.equal(s.ipackets, 4000, 'all 4000 datagrams received, once');
  // TX on both queues reaches the peer
  const before = lab.counters(ns, theirs).rx_packets;
  for (let q = 0; q < 2; q++) {
    const pk = Uint32Array.from({ length: 8 }, (_, i) => frame(pool, 60, q * 8 + i));
    t.equal(txBurst(p, q, pk, 8), 8);
  }
  await sleep(100);
  t.equal(lab.counters(ns, theirs).rx_packets - before, 16, 'the peer got the 16 frames sent on two queues');
  t.same(statsGet(p).qOpackets, [8, 8]);
  promiscuousDisable(p);
  devStop(p);
  devClose(p);
  t.equal(pool.inUseCount(), 0, 'every mbuf back');
  t.same(extmemList(), []);
});

t.test('802.1Q: a tag the kernel took off goes back into the frame, or into vlan_tci with VLAN_STRIP; TX_VLAN inserts one', { skip: skip ?? false }, async (t) => {
  const lab = new NetLab('afv');
  t.teardown(() => lab.cleanup());
  const ns = lab.netns('a');
  const [mine, theirs] = lab.veth('v0', 'v1', { nsB: ns });
  // tagged frames written raw into the namespace's end: the receiving kernel moves the tag into the packet's
  // metadata before packet sockets see it (TP_STATUS_VLAN_VALID, tp_vlan_tci)
  const tagged = (n: number) => lab.exec(ns, ['python3', '-c', `
import socket
s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW);s.bind(('${theirs}',0))
f=b'\\xff'*6+bytes([2,0,0,0,0,0xaa,0x81,0,0x20,5,0x88,0xb5])+bytes(range(46))
for _ in range(${n}): s.send(f)`]);
  const pool = pktmbufPoolCreate('afp_vlan', 1023, 32);
  const a = await pktio.devProbe(`net_af_packet4,iface=${mine}`);
  t.ok((devInfoGet(a).rxOffloadCapa & pktio.RX_OFFLOAD_VLAN_STRIP) !== 0, 'VLAN_STRIP offered');
  t.ok((devInfoGet(a).txOffloadCapa & pktio.TX_OFFLOAD_VLAN_INSERT) !== 0, 'VLAN_INSERT offered');
  const u8 = mem().u8;
  const got = new Uint32Array(32);
  const receive = async (want: number) => {
    let n = 0;
    for (let i = 0; i < 200 && n < want; i++) {
      n += rxBurst(a, 0, got.subarray(n), 32 - n);
      if (n < want) await sleep(5);
    }
    return n;
  };
  const { RX_VLAN, RX_VLAN_STRIPPED, TX_VLAN } = pktio.mbuf;
  for (const strip of [false, true]) {
    devConfigure(a, 1, 1, strip ? { rxmode: { offloads: pktio.RX_OFFLOAD_VLAN_STRIP } } : {});
    rxQueueSetup(a, 0, 0, -1, null, pool);
    txQueueSetup(a, 0, 0, -1);
    devStart(a);
    const k0 = lab.counters(null, mine);
    const s0 = statsGet(a);
    t.equal(tagged(4).status, 0, 'sent 4 frames tagged VLAN 5, priority 1');
    t.equal(await receive(4), 4, 'received them');
    const m = got[0];
    const at = pktio.mbuf.mtod(m);
    t.equal(pktio.mbuf.vlanTci(m), 0x2005, 'vlan_tci holds priority 1, VLAN 5');
    if (strip) {
      t.equal(pktio.mbuf.olFlags(m) & (RX_VLAN | RX_VLAN_STRIPPED), RX_VLAN | RX_VLAN_STRIPPED, 'RX_VLAN | RX_VLAN_STRIPPED');
      t.equal(pktio.mbuf.pktLen(m), 60, 'the frame without its tag');
      t.same([...u8.subarray(at + 12, at + 14)], [0x88, 0xb5]);
    } else {
      t.equal(pktio.mbuf.olFlags(m) & (RX_VLAN | RX_VLAN_STRIPPED), RX_VLAN, 'RX_VLAN, not stripped');
      t.equal(pktio.mbuf.pktLen(m), 64, 'the frame with its tag, as on the wire');
      t.same([...u8.subarray(at, at + 18)], [255, 255, 255, 255, 255, 255, 2, 0, 0, 0, 0, 0xaa, 0x81, 0, 0x20, 5, 0x88, 0xb5], 'tag back after the addresses');
      t.same([...u8.subarray(at + 18, at + 64)], Array.from({ length: 46 }, (_, i) => i), 'payload intact');
      t.equal(statsGet(a).ibytes - s0.ibytes, lab.counters(null, mine).rx_bytes - k0.rx_bytes, 'ibytes = the kernel\'s rx_bytes');
    }
    pktmbufFreeBulk(got, 4);
    devStop(a);
  }
  // TX_VLAN: the port inserts the tag
  devStart(a);
  const k1 = lab.counters(ns, theirs);
  const f = frame(pool, 60, 1);
  pktio.mbuf.setOlFlags(f, TX_VLAN);
  pktio.mbuf.setVlanTci(f, 7);
  const o0 = statsGet(a).obytes;
  t.equal(txBurst(a, 0, Uint32Array.of(f), 1), 1);
  await sleep(50);
  const k2 = lab.counters(ns, theirs);
  t.equal(k2.rx_packets - k1.rx_packets, 1, 'the frame arrived');
  t.equal(k2.rx_bytes - k1.rx_bytes, 64, 'with a 4-byte tag');
  t.equal(statsGet(a).obytes - o0, 64, 'obytes counts the tag');
  devClose(a);
  t.equal(pool.inUseCount(), 0, 'every mbuf back');
  t.same(extmemList(), []);
});

t.test('link follows the carrier; an interface gone before queue setup is one clear line, nothing leaks', { skip: skip ?? false }, async (t) => {
  const lab = new NetLab('afg');
  t.teardown(() => lab.cleanup());
  const [x, y] = lab.veth('x0', 'x1');
  const pool = pktmbufPoolCreate('afp_gone', 255, 0);
  const sockets = socketCount();
  const p = await pktio.devProbe(`net_af_packet6,iface=${x}`);
  setup(p, pool);
  promiscuousEnable(p);
  const flags = () => Number(lab.must(['cat', `/sys/class/net/${x}/flags`]).trim());
  t.ok(flags() & 0x100, 'promiscuous (IFF_PROMISC) while the port asks for it');
  t.ok(linkGet(p).up, 'link up');
  lab.must(['ip', 'link', 'set', y, 'down']);
  await sleep(100);
  t.notOk(linkGet(p).up, 'link down when the peer end goes down');
  lab.must(['ip', 'link', 'set', y, 'up']);
  await sleep(100);
  t.ok(linkGet(p).up, 'and up again');
  promiscuousDisable(p);
  t.notOk(flags() & 0x100, 'promiscuous off again');
  // frame lengths: up to MTU + 14 go out; longer ones are dropped and counted (the kernel would skip them silently)
  const k0 = lab.counters(null, x);
  const s0 = statsGet(p);
  const long = Uint32Array.from([1514, 1515, 1400], (len, i) => frame(pool, len, i));
  t.equal(txBurst(p, 0, long, 3), 3, 'all three taken');
  await sleep(50);
  const k1 = lab.counters(null, x);
  t.equal(k1.tx_packets - k0.tx_packets, 2, 'the kernel sent the 1514 and 1400-byte frames');
  t.equal(k1.tx_bytes - k0.tx_bytes, 1514 + 1400);
  t.match(statsGet(p), { opackets: s0.opackets + 2, obytes: s0.obytes + 1514 + 1400, oerrors: s0.oerrors + 1 }, 'the 1515-byte one is an error');
  devStop(p);
  lab.must(['ip', 'link', 'del', x]);
  devConfigure(p, 1, 1);
  t.throws(() => rxQueueSetup(p, 0, 0, -1, null, pool), { message: `net_af_packet6 queue 0: no interface '${x}' (ip link show lists them)` });
  t.notOk(linkGet(p).up, 'a vanished interface is a link down');
  devClose(p);
  t.equal(socketCount(), sockets, 'no socket left');
  t.same(extmemList(), [], 'nothing mapped');
  t.equal(pool.inUseCount(), 0);
});

t.test('a frame longer than a ring frame holds is an RX error, not a cut-short packet; a stopped port receives nothing', { skip: skip ?? false }, async (t) => {
  const lab = new NetLab('afj');
  t.teardown(() => lab.cleanup());
  const [mine, theirs] = lab.veth('j0', 'j1', { mtu: 3000 });
  lab.must(['sysctl', '-q', '-w', `net.ipv6.conf.${theirs}.disable_ipv6=1`]);
  const pool = pktmbufPoolCreate('afp_jumbo', 255, 0);
  const p = await pktio.devProbe(`net_af_packet7,iface=${mine}`);
  t.equal(devInfoGet(p).maxMtu, 2048 - 66 - 14, 'the MTU a 2048-byte frame holds');
  setup(p, pool);
  const s0 = statsGet(p);
  const send = (len: number) => lab.must(['python3', '-c', `
import socket
s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW);s.bind(('${theirs}',0))
s.send(b'\\xff'*6+bytes([2,0,0,0,0,0xbb,0x88,0xb5])+bytes(${len - 14}))`]);
  send(2500);
  send(1000);
  const got = new Uint32Array(8);
  let n = 0;
  for (let i = 0; i < 100 && n === 0; i++) {
    n = rxBurst(p, 0, got, 8);
    if (n === 0) await sleep(10);
  }
  t.equal(n, 1, 'one frame received');
  t.equal(pktio.mbuf.pktLen(got[0]), 1000, 'the 1000-byte one');
  pktmbufFreeBulk(got, n);
  t.match(statsGet(p), { ipackets: s0.ipackets + 1, ierrors: s0.ierrors + 1, imissed: 0 }, 'the 2500-byte one counted in ierrors');
  // a stopped port receives nothing: what came meanwhile is dropped at start, counted in imissed
  devStop(p);
  send(100);
  send(100);
  devStart(p);
  send(200);
  n = 0;
  for (let i = 0; i < 100 && n === 0; i++) {
    n = rxBurst(p, 0, got, 8);
    if (n === 0) await sleep(10);
  }
  t.equal(n, 1, 'only the frame sent after the start is received');
  t.equal(pktio.mbuf.pktLen(got[0]), 200);
  pktmbufFreeBulk(got, n);
  t.match(statsGet(p), { ipackets: s0.ipackets + 2, imissed: 2 }, 'the two sent while stopped are imissed');
  devClose(p);
  t.equal(pool.inUseCount(), 0);
});

