// net_tap: interfaces made and deleted, devargs and bad input, the kernel pinging through pktio's l2fwd between two
// taps moved into two namespaces (counters checked against the kernel's, jumbo frames as chains), two queue pairs,
// persist and reattach, and dpdk-testpmd (net_af_packet) on the kernel side of a tap with counters compared exactly.
import t from 'tap';
import { readdirSync, existsSync } from 'node:fs';
import * as pktio from '../src/index.js';
import {
  devConfigure, rxQueueSetup, txQueueSetup, devStart, devStop, devClose, rxBurst, txBurst, statsGet, linkGet, macAddrGet, mtuSet,
} from '../src/ethdev/ethdev.js';
import { pktmbufPoolCreate, pktmbufAllocBurst, pktmbufFreeBulk, append, writeData } from '../src/mempool/mbuf.js';
import type { Mempool } from '../src/mempool/mempool.js';
import { mem, memzoneReserve, memzoneFree } from '../src/eal/index.js';
import { ifFlags, ifMac, ifMtu, ifTunFlags, IFF_UP, IFF_PROMISC } from '../src/pmd/soft/netif.js';
import { MAX_PORTS, ST_RX, ST_TX, ST_DROP, CTL_WORD, type FwdArgs } from '../examples/l2fwd/fwd.js';
import { NetLab, netLabSkipReason } from './helpers/netns.js';
import { Testpmd, testpmdPath } from '../bench/dpdk/testpmd.js';
import { startPort } from './helpers/ports.js';
import { runExample } from './helpers/ts-child.js';

const skip = netLabSkipReason() ?? (existsSync('/dev/net/tun') ? null : 'needs /dev/net/tun (modprobe tun)');
const fwdModule = new URL('../examples/l2fwd/fwd.ts', import.meta.url);
const cpus = pktio.cpusAllowed();
const lab = skip ? null : new NetLab('ptap');
const tag = 'ptap';
const fds = () => readdirSync('/proc/self/fd').length;
const exists = (ifname: string) => existsSync(`/sys/class/net/${ifname}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (skip) {
  t.skip(`net_tap tests: ${skip}`);
} else {
  t.before(async () => {
    await pktio.init(['--no-pci', '--no-huge', '-m', '128', '--log-level', 'error', '--lcores', `0@${cpus[0]},1@${cpus[cpus.length - 1]}`]);
  });
  t.teardown(async () => {
    await pktio.cleanup();
    lab!.cleanup();
  });
}

const setup = (p: number, pool: Mempool, nq = 1, mtu?: number): void => startPort(p, pool, nq, 512, mtu ? { rxmode: { mtu } } : {});

/** No IPv6 chatter on a tap this test made (router solicitations would add frames to the counters). */
function quiet(ifname: string): void {
  lab!.must(['sysctl', '-q', '-w', `net.ipv6.conf.${ifname}.disable_ipv6=1`]);
}

/** Sends `n` frames of `len` bytes (broadcast, EtherType 0x88b5) from the port's queue q; returns how many were taken. */
function sendFrames(p: number, pool: Mempool, n: number, len = 60, q = 0): number {
  const m = new Uint32Array(n);
  const got = pktmbufAllocBurst(pool, m, n);
  for (let i = 0; i < got; i++) {
    append(m[i], len);
    writeData(m[i], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5, i & 0xff]);
  }
  const sent = txBurst(p, q, m, got);
  if (sent < got) pktmbufFreeBulk(m, got - sent, sent);
  return sent;
}

/** Receives until `want` packets arrived or 2 s passed; frees them; returns the count. */
async function drain(p: number, q: number, want: number): Promise<number> {
  const out = new Uint32Array(32);
  let got = 0;
  const end = Date.now() + 2000;
  while (got < want && Date.now() < end) {
    const k = rxBurst(p, q, out, 32);
    if (k === 0) await sleep(5);
    pktmbufFreeBulk(out, k);
    got += k;
  }
  return got;
}

/** Receives on queues 0..nq-1 until they stay empty for 200 ms; frees the packets; returns the counts per queue. */
async function drainAll(p: number, nq: number): Promise<number[]> {
  const out = new Uint32Array(32);
  const got = new Array<number>(nq).fill(0);
  let idle = Date.now();
  while (Date.now() - idle < 200) {
    for (let q = 0; q < nq; q++) {
      const k = rxBurst(p, q, out, 32);
      pktmbufFreeBulk(out, k);
      got[q] += k;
      if (k > 0) idle = Date.now();
    }
    await sleep(2);
  }
  return got;
}

t.test('probe makes a multi-queue tap, start brings it up, close deletes it', { skip: skip ?? false }, async (t) => {
  const fd0 = fds();
  const p = await pktio.devProbe(`net_tap0,iface=${tag}a,mac=fixed`);
  const ifname = `${tag}a`;
  t.ok(exists(ifname), 'the interface exists after probe');
  t.equal(ifTunFlags(ifname), 0x1102, 'IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE');
  t.same([...macAddrGet(p)], [0x02, 0x64, 0x74, 0x61, 0x70, 0x30], "mac=fixed: DPDK's 02:64:74:61:70:'0'");
  t.same([...ifMac(ifname)], [...macAddrGet(p)], 'the interface has the port\'s MAC');
  t.equal(ifMtu(ifname), 1500);
  quiet(ifname);
  const pool = pktmbufPoolCreate('tap_basic', 511, 0);
  setup(p, pool);
  t.ok(ifFlags(ifname) & IFF_UP, 'started: IFF_UP');
  t.match(linkGet(p), { up: true, speed: 10000, fullDuplex: true });
  pktio.promiscuousEnable(p);
  t.ok(ifFlags(ifname) & IFF_PROMISC, 'promiscuous mode is the interface\'s');
  pktio.promiscuousDisable(p);
  const before = lab!.counters(null, ifname);
  t.equal(sendFrames(p, pool, 10), 10);
  const after = lab!.counters(null, ifname);
  t.equal(after.rx_packets - before.rx_packets, 10, 'the kernel received the 10 frames the port sent');
  t.equal(after.rx_bytes - before.rx_bytes, 600);
  devStop(p);
  t.notOk(ifFlags(ifname) & IFF_UP, 'stopped: down');
  t.match(linkGet(p), { up: false });
  t.equal(pool.inUseCount(), 0, 'a stopped port holds no mbufs');
  devClose(p);
  t.notOk(exists(ifname), 'close deleted the interface');
  t.equal(fds(), fd0, 'every file is closed');
});

t.test('the default name is dtap%d, the MAC random and locally administered', { skip: skip ?? false }, async (t) => {
  const p = await pktio.devProbe('net_tap1');
  const info = pktio.devInfoGet(p);
  t.match(info, { driverName: 'net_tap', maxRxQueues: 16, maxTxQueues: 16, maxMtu: 9000 });
  const mac = macAddrGet(p);
  t.equal(mac[0] & 3, 2, 'unicast, locally administered');
  const name = readdirSync('/sys/class/net').find((n) => /^dtap\d+$/.test(n) && ifTunFlags(n) !== null && ifMac(n).every((b, i) => b === mac[i]));
  t.ok(name, `a dtap interface carries the port's MAC (${name})`);
  devClose(p);
  t.notOk(name && exists(name), 'and is gone after close');
});

t.test('bad input: one clear line, nothing left behind', { skip: skip ?? false }, async (t) => {
  const [veth] = lab!.veth('v0', 'v1');
  const fd0 = fds();
  // other programs on the machine make interfaces too: count this test's (tag prefix) and dtap ones
  const ours = () => readdirSync('/sys/class/net').filter((n) => n.startsWith(tag) || n.startsWith('dtap')).sort().join(' ');
  const links0 = ours();
  const bad: Array<[string, RegExp]> = [
    [`net_tap2,iface=${veth}`, new RegExp(`^--vdev net_tap2,iface=${veth}: net_tap: iface=${veth} exists and is not a tap device: choose another name`)],
    ['net_tap2,iface=lo', /iface=lo exists and is not a tap device/],
    ['net_tap2,mac=zz:00:00:00:00:01', /net_tap: mac=zz:00:00:00:00:01: expected mac=fixed or six hex bytes like 02:00:00:00:00:01$/],
    ['net_tap2,mac=01:00:00:00:00:01', /mac=01:00:00:00:00:01 is a multicast address: give a unicast one/],
    ['net_tap2,remote=lo', /net_tap: remote=lo: redirecting another interface's traffic is not supported by pktio's net_tap: leave remote= out$/],
    ['net_tap2,iface=a/b', /'a\/b' is not a valid interface name/],
    ['net_tap2,iface=abcdefghijklmnopq', /is not a valid interface name \(1 to 15 characters/],
    ['net_tap2,persist=maybe', /net_tap: persist=maybe: expected 0 or 1/],
    ['net_tap2,speed=10', /net_tap has no argument 'speed' \(valid: iface, mac, persist, remote\)/],
  ];
  for (const [vdev, re] of bad) {
    const e = await pktio.devProbe(vdev).then(() => null, (x: Error) => x);
    t.match(e?.message ?? 'probed', re, vdev);
    t.notOk(e?.message.includes('\n'), 'one line');
  }
  lab!.must(['ip', 'tuntap', 'add', `${tag}tun`, 'mode', 'tun']);
  lab!.must(['ip', 'tuntap', 'add', `${tag}sq`, 'mode', 'tap']);
  let e = await pktio.devProbe(`net_tap2,iface=${tag}tun`).then(() => null, (x: Error) => x);
  t.match(e?.message, /iface=ptaptun is a tun device, not a tap: choose another name or delete it \(ip link del ptaptun\)$/);
  e = await pktio.devProbe(`net_tap2,iface=${tag}sq`).then(() => null, (x: Error) => x);
  t.match(e?.message, /iface=ptapsq is a single-queue tap: delete it \(ip link del ptapsq\) or make it with ip tuntap add ptapsq mode tap multi_queue$/);
  lab!.must(['ip', 'tuntap', 'add', `${tag}mq`, 'mode', 'tap', 'multi_queue']);
  const pre = await pktio.devProbe(`net_tap2,iface=${tag}mq`);
  t.equal(ifTunFlags(`${tag}mq`), 0x1102, 'an existing multi-queue tap is attached to');
  devClose(pre);
  t.notOk(exists(`${tag}mq`), 'and, not persistent, deleted on close like one the port made');
  lab!.must(['ip', 'link', 'del', `${tag}tun`]);
  lab!.must(['ip', 'link', 'del', `${tag}sq`]);
  t.equal(fds(), fd0, 'no file left open');
  t.equal(ours(), links0, 'no interface left behind');

  const p = await pktio.devProbe(`net_tap2,iface=${tag}b`);
  t.throws(() => devConfigure(p, 2, 1), { message: /net_tap net_tap2 \(ptapb\): 2 RX and 1 TX queues: a tap has one file per queue pair, configure as many of each$/ });
  const pool = pktmbufPoolCreate('tap_bad', 255, 0);
  setup(p, pool);
  t.throws(() => mtuSet(p, 9000), { message: /RX queue 0 holds frames up to 2048 bytes, MTU 9000 needs 9022: set the MTU before setting up the RX queues/ });
  mtuSet(p, 1400);
  t.equal(ifMtu(`${tag}b`), 1400, 'a smaller MTU is the interface\'s');
  devClose(p);
  t.equal(pool.inUseCount(), 0);
  t.notOk(exists(`${tag}b`));
  t.equal(fds(), fd0);
});

t.test('persist keeps the interface after close; a second probe reattaches', { skip: skip ?? false }, async (t) => {
  const ifname = `${tag}p`;
  let p = await pktio.devProbe(`net_tap3,iface=${ifname},persist,mac=02:00:00:00:aa:01`);
  quiet(ifname);
  const pool = pktmbufPoolCreate('tap_persist', 255, 0);
  setup(p, pool);
  devStop(p);
  t.ok(ifFlags(ifname) & IFF_UP, 'a persistent tap stays up after stop, as in DPDK');
  devClose(p);
  t.ok(exists(ifname), 'still there after close');
  t.match(readText(`/sys/class/net/${ifname}/tun_flags`), /^0x1902$/, 'IFF_PERSIST set');
  p = await pktio.devProbe(`net_tap4,iface=${ifname},mac=02:00:00:00:aa:02`);
  setup(p, pool);
  t.equal(sendFrames(p, pool, 5), 5, 'the reattached port sends');
  t.same([...ifMac(ifname)], [2, 0, 0, 0, 0xaa, 2]);
  devClose(p);
  t.notOk(exists(ifname), 'without persist, close deletes it');
  t.equal(pool.inUseCount(), 0);
});

function readText(path: string): string {
  return lab!.must(['cat', path]).trim();
}

t.test('two queue pairs: two files, each queue gets its flows, counters exact', { skip: skip ?? false }, async (t) => {
  const ifname = `${tag}m`;
  const ns = lab!.netns('m');
  const p = await pktio.devProbe(`net_tap5,iface=${ifname}`);
  const pool = pktmbufPoolCreate('tap_mq', 1023, 0);
  const fd0 = fds();
  setup(p, pool, 2);
  t.equal(fds(), fd0 + 2, 'one file per queue pair');
  lab!.adopt(ifname, ns, '10.71.0.1/24');
  lab!.exec(ns, ['ip', 'neigh', 'add', '10.71.0.2', 'lladdr', '02:00:00:00:00:02', 'dev', ifname, 'nud', 'permanent']);
  t.ok(readdirSync('/proc/self/fd').length >= fd0 + 2);
  const k0 = lab!.counters(ns, ifname);
  // 64 UDP flows (one datagram each): the tap spreads them over its queues by flow hash
  const r = lab!.exec(ns, ['bash', '-c', 'for i in $(seq 1 64); do echo x > /dev/udp/10.71.0.2/$((2000 + i)); done']);
  t.equal(r.status, 0, r.stderr);
  const got = await drainAll(p, 2);
  const k1 = lab!.counters(ns, ifname);
  t.equal(got[0] + got[1], k1.tx_packets - k0.tx_packets, `every frame the kernel sent (queue 0: ${got[0]}, queue 1: ${got[1]})`);
  t.ok(got[0] + got[1] >= 64, 'the 64 datagrams among them');
  t.ok(got[0] > 0 && got[1] > 0, 'both queues received some');
  t.equal(sendFrames(p, pool, 7, 60, 1), 7, 'queue 1 sends');
  await sleep(50);
  const k2 = lab!.counters(ns, ifname);
  const s = statsGet(p);
  t.equal(s.ipackets, k2.tx_packets - k0.tx_packets, 'port RX = the kernel\'s TX on the tap');
  t.equal(s.ibytes, k2.tx_bytes - k0.tx_bytes);
  t.equal(s.opackets, k2.rx_packets - k0.rx_packets, 'port TX = the kernel\'s RX on the tap');
  t.same(s.qOpackets, [0, 7]);
  devClose(p);
  t.equal(pool.inUseCount(), 0);
  t.equal(lab!.exec(ns, ['ip', 'link', 'show', ifname]).status !== 0, true, 'the tap is gone from its namespace too');
});

t.test('a frame longer than the armed buffers is counted in ierrors and dropped', { skip: skip ?? false }, async (t) => {
  const ifname = `${tag}j`;
  const p = await pktio.devProbe(`net_tap9,iface=${ifname}`);
  quiet(ifname);
  const pool = pktmbufPoolCreate('tap_trunc', 255, 0);
  setup(p, pool); // RX sized for the 1500-byte MTU: one 2048-byte mbuf per frame
  lab!.must(['ip', 'link', 'set', ifname, 'mtu', '9000']); // behind the port's back
  lab!.must(['ip', 'addr', 'add', '10.74.0.1/24', 'dev', ifname]);
  lab!.must(['ip', 'neigh', 'replace', '10.74.0.2', 'lladdr', '02:00:00:00:00:02', 'dev', ifname, 'nud', 'permanent']);
  await drainAll(p, 1);
  const before = statsGet(p);
  spawnPing(['-c', '1', '-s', '4000', '-M', 'do', '-W', '0.2', '10.74.0.2']);
  spawnPing(['-c', '1', '-s', '100', '-W', '0.2', '10.74.0.2']);
  const got = await drainAll(p, 1);
  const after = statsGet(p);
  t.equal(after.ierrors - before.ierrors, 1, 'the 4042-byte frame: one RX error');
  t.equal(got[0], 1, 'the next frame arrives whole');
  t.equal(after.ibytes - before.ibytes, 142, 'a 142-byte echo request');
  devClose(p);
  t.equal(pool.inUseCount(), 0);
});

function spawnPing(args: string[]): void {
  lab!.must(['sh', '-c', `ping ${args.join(' ')} >/dev/null; true`]);
}

/** The l2fwd counters zone examples/l2fwd/fwd.ts writes. */
function l2fwdZone(): Float64Array {
  const z = memzoneReserve('l2fwd', (MAX_PORTS * 4 + 16) * 8);
  return new Float64Array(mem().buf, z.off, MAX_PORTS * 4 + 16);
}

t.test('the kernel pings through l2fwd between two taps in two namespaces', { skip: skip ?? false }, async (t) => {
  const a = `${tag}0`;
  const b = `${tag}1`;
  const nsA = lab!.netns('a');
  const nsB = lab!.netns('b');
  const p0 = await pktio.devProbe(`net_tap6,iface=${a}`);
  const p1 = await pktio.devProbe(`net_tap7,iface=${b}`);
  const pool = pktmbufPoolCreate('tap_l2fwd', 2047, 32);
  // 9000-byte MTU: a jumbo echo spans five 2 KB mbufs on RX and leaves as a five-iovec writev
  setup(p0, pool, 1, 9000);
  setup(p1, pool, 1, 9000);
  lab!.adopt(a, nsA, '10.72.0.1/24');
  lab!.adopt(b, nsB, '10.72.0.2/24');
  t.equal(ifMtuIn(nsA, a), 9000);
  const st = l2fwdZone();
  const dst = new Array(MAX_PORTS).fill(-1);
  dst[p0] = p1;
  dst[p1] = p0;
  const args: FwdArgs = { rxPorts: [p0, p1], dst, macUpdating: false, macs: [] };
  pktio.remoteLaunch(1, fwdModule, args);
  // the loop answers a mark once it runs (its module loads first)
  const ctl = new Int32Array(st.buffer, st.byteOffset, CTL_WORD + 2);
  Atomics.store(ctl, CTL_WORD, 1);
  await until('the l2fwd loop to run', () => Atomics.load(ctl, CTL_WORD + 1) === 1);
  await sleep(300); // quiesce: what the kernel sent when the taps came up is forwarded before the baseline
  const k0 = [lab!.counters(nsA, a), lab!.counters(nsB, b)];
  const s0 = [statsGet(p0), statsGet(p1)];
  const ping = lab!.exec(nsA, ['ping', '-c', '5', '-i', '0.2', '-W', '2', '10.72.0.2']);
  t.match(ping.stdout, / 5 received, 0% packet loss/, 'ping 10.72.0.2 from namespace a');
  const big = lab!.exec(nsA, ['ping', '-c', '3', '-i', '0.2', '-W', '2', '-s', '8000', '-M', 'do', '10.72.0.2']);
  t.match(big.stdout, / 3 received, 0% packet loss/, '8000-byte pings (jumbo frames, not fragmented)');
  await sleep(300); // quiesce: frames in flight land while l2fwd still forwards
  pktio.requestQuit();
  await pktio.waitLcore(1);
  pktio.clearQuit();
  const k1 = [lab!.counters(nsA, a), lab!.counters(nsB, b)];
  const s = [statsGet(p0), statsGet(p1)];
  for (const [i, p] of [p0, p1].entries()) {
    t.equal(s[i].ipackets - s0[i].ipackets, k1[i].tx_packets - k0[i].tx_packets, `port ${p} RX = the kernel's TX on its tap`);
    t.equal(s[i].ibytes - s0[i].ibytes, k1[i].tx_bytes - k0[i].tx_bytes);
    t.equal(s[i].opackets - s0[i].opackets, k1[i].rx_packets - k0[i].rx_packets, `port ${p} TX = the kernel's RX on its tap`);
    t.equal(s[i].obytes - s0[i].obytes, k1[i].rx_bytes - k0[i].rx_bytes);
    t.equal(st[p * 4 + ST_DROP], 0, 'l2fwd dropped nothing');
  }
  t.ok(s[0].ipackets - s0[0].ipackets >= 8, `${s[0].ipackets - s0[0].ipackets} frames from a`);
  t.equal(st[p0 * 4 + ST_RX], st[p1 * 4 + ST_TX], 'l2fwd sent on b what it received from a');
  t.equal(s[0].ipackets, s[1].opackets);
  t.equal(s[1].ipackets, s[0].opackets);
  devStop(p0);
  devStop(p1);
  t.equal(pool.inUseCount(), 0, 'every mbuf is back');
  devClose(p0);
  devClose(p1);
  memzoneFree('l2fwd');
  t.notOk(lab!.exec(nsA, ['ip', 'link', 'show', a]).status === 0, 'the taps are gone with their ports');
});

function ifMtuIn(ns: string, ifname: string): number {
  return Number(lab!.exec(ns, ['cat', `/sys/class/net/${ifname}/mtu`]).stdout.trim());
}

/**
 * Waits until the receiver counted every packet the peer says it sent. DPDK's af_packet counts a burst as sent once
 * its frames are in the TX ring, even when its kick (sendto, MSG_DONTWAIT) leaves some there for lack of socket
 * buffer; they leave at its next kick. So while some are missing, the peer sends one more burst (kick) and the
 * totals are compared again.
 */
async function settle(peer: Testpmd, received: () => Promise<number>, kernelTx: () => number): Promise<{ sent: number; bytes: number; got: number; seen: string }> {
  // what each round saw, for a failure to say which side is short: dpdk-testpmd's count, pktio's, and the tap's
  // own (frames the kernel passed from the af_packet socket to the tap's reader)
  const seen: string[] = [];
  for (let i = 0; ; i++) {
    const [ps] = await peer.portStats();
    // on a loaded machine the last frames may take a while: give them 2 s before kicking
    let got = await received();
    for (const end = Date.now() + 2000; got < ps.txPackets && Date.now() < end;) got = await received();
    seen.push(`round ${i}: dpdk-testpmd sent ${ps.txPackets} (errors ${ps.txErrors}), pktio got ${got}, the tap passed ${kernelTx()}`);
    if (got >= ps.txPackets || i === 3) return { sent: ps.txPackets, bytes: ps.txBytes, got, seen: seen.join('; ') };
    await peer.cmd('start tx_first 1');
    await sleep(200);
    await peer.cmd('stop');
  }
}

t.test('dpdk-testpmd (net_af_packet) on the kernel side of a tap: counters equal', { skip: skip ?? (testpmdPath() ? false : 'needs dpdk-testpmd') }, async (t) => {
  const ifname = `${tag}x`;
  const p = await pktio.devProbe(`net_tap8,iface=${ifname}`);
  quiet(ifname);
  const pool = pktmbufPoolCreate('tap_tp', 2047, 0);
  setup(p, pool);
  const tp = await Testpmd.start({ vdevs: [`net_af_packet0,iface=${ifname}`], fwd: 'rxonly', appArgs: ['--port-topology=loop'], ealArgs: ['--main-lcore', '1'] });
  try {
    await tp.cmd('start');
    const k0 = lab!.counters(null, ifname);
    // pktio -> tap -> testpmd
    let sent = 0;
    // paced: testpmd's af_packet ring (512 frames) must not overflow while it polls
    for (let i = 0; i < 20; i++) {
      sent += sendFrames(p, pool, 50, 60 + i * 10);
      await sleep(10);
    }
    t.equal(sent, 1000);
    await sleep(300);
    await tp.cmd('stop');
    const [tps] = await tp.portStats();
    t.equal(tps.rxPackets, 1000, 'testpmd received what pktio sent');
    t.equal(tps.rxBytes, statsGet(p).obytes, 'byte for byte');
    // testpmd -> tap -> pktio: 8 bursts of 32, io forward on one port (loop topology) with nothing coming back
    await tp.cmd('set fwd io');
    await tp.cmd('start tx_first 8');
    await sleep(300);
    await tp.cmd('stop');
    let got = 0;
    const r = await settle(tp, async () => (got += (await drainAll(p, 1))[0]), () => lab!.counters(null, ifname).tx_packets - k0.tx_packets);
    t.ok(r.sent >= 256, `testpmd sent 8 bursts (and ${(r.sent - 256) / 32} to kick its ring)`);
    t.equal(got, r.sent, `pktio received every one (${r.seen})`);
    t.equal(statsGet(p).ibytes, r.bytes, 'byte for byte');
    const k1 = lab!.counters(null, ifname);
    t.equal(k1.tx_packets - k0.tx_packets, r.sent, 'the kernel counted them out of the tap');
    t.equal(k1.rx_packets - k0.rx_packets, 1000);
  } finally {
    await tp.quit();
  }
  devClose(p);
  t.equal(pool.inUseCount(), 0);
});

const example = (rel: string, args: string[]) => runExample(rel, args, cpus);

/** Waits for f() (a deadline, not a window: an example under tsx on a loaded host took over 20 s to its prompt). */
async function until(what: string, f: () => boolean, ms = 90000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

t.test('examples/l2fwd, unchanged, forwards pings between two taps', { skip: skip ?? false }, async (t) => {
  const a = `${tag}e0`;
  const b = `${tag}e1`;
  const nsA = lab!.netns('ea');
  const nsB = lab!.netns('eb');
  const l2 = example('examples/l2fwd/main.ts', ['--no-pci', '--no-huge', '-m', '128', '-l', `${cpus[0]},${cpus[cpus.length - 1]}`,
    '--vdev', `net_tap0,iface=${a}`, '--vdev', `net_tap1,iface=${b}`, '--', '--no-mac-updating', '-q', '2', '-T', '0']);
  try {
    await until('l2fwd to start', () => l2.out().includes('L2FWD: MAC updating disabled') || l2.exitCode !== null);
    t.equal(l2.exitCode, null, `l2fwd runs: ${l2.exitCode === null ? '' : l2.out()}`);
    t.match(l2.out(), /Port 0 Link up at 10000 Mbps FDX/, 'l2fwd sees the tap\'s link up');
    lab!.adopt(a, nsA, '10.73.0.1/24');
    lab!.adopt(b, nsB, '10.73.0.2/24');
    const ping = lab!.exec(nsA, ['ping', '-c', '3', '-i', '0.2', '-W', '2', '10.73.0.2']);
    t.match(ping.stdout, / 3 received, 0% packet loss/, 'ping through the example');
  } finally {
    l2.kill('SIGINT');
  }
  t.equal(await l2.exited, 0, 'SIGINT stops it cleanly');
  t.match(l2.out(), /Total packets received:\s+\d+/);
  t.notOk(lab!.exec(nsA, ['ip', 'link', 'show', a]).status === 0, 'its taps went away with it');
});

t.test('examples/testpmd, unchanged, receives exactly what dpdk-testpmd sends into its tap', { skip: skip ?? (testpmdPath() ? false : 'needs dpdk-testpmd') }, async (t) => {
  const ifname = `${tag}t`;
  const ours = example('examples/testpmd/main.ts', ['--no-pci', '--no-huge', '-m', '128', '-l', `${cpus[0]},${cpus[cpus.length - 1]}`,
    '--vdev', `net_tap0,iface=${ifname}`, '--', '-i', '--forward-mode=rxonly']);
  let peer: Testpmd | null = null;
  try {
    await until('testpmd> prompt', () => ours.out().includes('testpmd> ') || ours.exitCode !== null);
    t.ok(exists(ifname), `the example made its tap: ${ours.exitCode === null ? '' : ours.out()}`);
    quiet(ifname);
    ours.stdin.write('start\n');
    await until('start', () => /rxonly packet forwarding/.test(ours.out()));
    await sleep(300);
    // wait for the clear to be done: the example reads its commands on its main thread, which a loaded machine can
    // hold up past the peer's first bursts; a clear that lands after them wipes frames the kernel counted
    // (seen: 288 counted of 352 the tap passed)
    const from = ours.out().length;
    ours.stdin.write('clear port stats all\n');
    await until('clear port stats', () => ours.out().slice(from).includes('NIC statistics for port 0 cleared'));
    const k0 = lab!.counters(null, ifname);
    // the peer forwards on lcore 0 (CPU 0), the example on CPU 1, as in the benches
    peer = await Testpmd.start({ vdevs: [`net_af_packet0,iface=${ifname}`], fwd: 'io', appArgs: ['--port-topology=loop'], ealArgs: ['--main-lcore', '1'] });
    // 8 bursts of 32 in two rounds of 4. DPDK's af_packet TX fills its mmap ring and kicks with a non-blocking
    // sendto; when the socket's send buffer is full (wmem_default, 208 KiB: about 200 small frames that the tap
    // still holds for a reader slowed by a loaded machine) the kernel answers EAGAIN, testpmd counts the frames as
    // sent anyway, and they leave only at its next kick. 128 frames at a time stay well inside that buffer.
    for (let i = 0; i < 2; i++) {
      await peer.cmd('start tx_first 4');
      await sleep(500);
      await peer.cmd('stop');
    }
    let m: RegExpExecArray | null = null;
    const r = await settle(peer, async () => {
      await sleep(200);
      const from = ours.out().length;
      ours.stdin.write('show port stats 0\n');
      await until('port stats', () => /RX-bytes:\s+\d+/.test(ours.out().slice(from)));
      m = /RX-packets:\s+(\d+)\s+RX-missed:\s+(\d+)\s+RX-bytes:\s+(\d+)/.exec(ours.out().slice(from));
      return Number(m?.[1]);
    }, () => lab!.counters(null, ifname).tx_packets - k0.tx_packets);
    t.ok(r.sent >= 256, 'dpdk-testpmd sent 8 bursts of 32 into the tap');
    t.equal(r.got, lab!.counters(null, ifname).tx_packets - k0.tx_packets, `pktio testpmd counted what the kernel gave it (${r.seen})`);
    t.equal(r.got, r.sent, `pktio testpmd counted every packet (${r.seen})`);
    t.equal(Number(m![3]), r.bytes, 'and every byte');
    ours.stdin.write('quit\n');
  } finally {
    await peer?.quit();
    if (ours.exitCode === null) ours.stdin.end();
  }
  t.equal(await ours.exited, 0, 'quit exits cleanly');
  t.notOk(exists(ifname), 'the tap went away with it');
});
