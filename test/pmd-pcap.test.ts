// net_pcap: reading pcap (µs/ns, both byte orders) and pcapng (sections, interfaces, EPB/SPB, skipped blocks),
// files made by editcap, writing nanosecond pcap that tshark reads, queues per key, infinite_rx, bad files at probe
// and bad records at run time (one clear line, a clean stop with counts, every mbuf back), a dry pool, then
// examples/l2fwd from an rx_pcap to a tx_pcap checked with tshark, and dpdk-testpmd against examples/testpmd on the
// same input (outputs equal frame by frame, counters equal).
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import * as pktio from '../src/index.js';
import {
  devProbe, devConfigure, rxQueueSetup, txQueueSetup, devStart, devStop, devClose, rxBurst, txBurst, statsGet, devInfoGet, ethDevCount,
} from '../src/ethdev/ethdev.js';
import { pktmbufPoolCreate, pktmbufFreeBulk, pktmbufAllocBurst, packetBytes, append, writeData } from '../src/mempool/mbuf.js';
import type { Mempool } from '../src/mempool/mempool.js';
import { setRootLogger } from '../src/eal/log.js';
import { Testpmd, testpmdPath, parsePortStats, NO_TESTPMD, type TestpmdPortStats } from '../bench/dpdk/testpmd.js';
import { makeFrames, pcapBytes, pcapngBytes, readPcap, tsharkFrames, haveTool } from './helpers/pcap-files.js';
import { NetLab, netLabSkipReason } from './helpers/netns.js';
import { pcapPmd } from '../src/pmd/pcap/pcap.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = fs.mkdtempSync(join(os.tmpdir(), 'pktio-pcap-'));
const cpus = pktio.cpusAllowed();
const f = (name: string) => join(dir, name);
/**
 * a main and a worker lcore for the examples, on two CPUs when the process may use two (the children run under
 * taskset with the CPUs this process had before init pinned its main lcore)
 */
const lcores = `0@${cpus[0]},1@${cpus[cpus.length - 1]}`;

/** error lines pktio logs (the readers' "stopped on bad input" lines) */
const logged: string[] = [];

let pool: Mempool;

t.before(async () => {
  await pktio.init(['--no-pci', '--no-huge', '-m', '256', '--log-level', 'error', '-l', `${cpus[0]}`]);
  setRootLogger(pino({ level: 'error' }, { write: (s: string) => { logged.push((JSON.parse(s) as { msg: string }).msg); } }));
  pool = pktmbufPoolCreate('pcap_test', 4095, 0);
});
t.teardown(async () => {
  setRootLogger(null);
  await pktio.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Probes a vdev and starts it with nRx/nTx queues (default: all the port has). */
async function open(vdev: string, nRx?: number, nTx?: number): Promise<number> {
  const p = await devProbe(vdev);
  const info = devInfoGet(p);
  const rx = nRx ?? info.maxRxQueues;
  const tx = nTx ?? info.maxTxQueues;
  devConfigure(p, rx, tx);
  for (let q = 0; q < rx; q++) rxQueueSetup(p, q, 512, -1, null, pool);
  for (let q = 0; q < tx; q++) txQueueSetup(p, q, 512, -1);
  devStart(p);
  return p;
}

/** Receives until the queue gives nothing (or max frames); returns the frames' bytes, mbufs freed. */
function drain(p: number, q = 0, max = 1e6): Buffer[] {
  const out: Buffer[] = [];
  const b = new Uint32Array(32);
  while (out.length < max) {
    const n = rxBurst(p, q, b, Math.min(32, max - out.length));
    if (n === 0) break;
    for (let i = 0; i < n; i++) out.push(Buffer.from(packetBytes(b[i])));
    pktmbufFreeBulk(b, n);
  }
  return out;
}

function sameFrames(t: Tap.Test, got: Buffer[], want: Uint8Array[], what: string): void {
  t.equal(got.length, want.length, `${what}: ${want.length} frames`);
  const bad = want.findIndex((w, i) => !got[i] || Buffer.compare(got[i], Buffer.from(w)) !== 0);
  t.equal(bad, -1, `${what}: every frame identical, in order`);
}

// 200 frames from 60 to 1514 bytes and a few jumbo ones that span several 2 KiB mbufs
const frames = [...makeFrames(200, 7), ...makeFrames(5, 8, 6000, 9018)];

t.test('pcap in both byte orders, with µs and ns timestamps', async (t) => {
  for (const be of [false, true]) {
    for (const nsec of [false, true]) {
      const name = `in-${be ? 'be' : 'le'}-${nsec ? 'ns' : 'us'}.pcap`;
      fs.writeFileSync(f(name), pcapBytes(frames, { be, nsec }));
      const p = await open(`net_pcap0,rx_pcap=${f(name)}`);
      sameFrames(t, drain(p), frames, name);
      t.equal(rxBurst(p, 0, new Uint32Array(4), 4), 0, 'the end of the file: rxBurst returns 0');
      t.match(statsGet(p), { ipackets: frames.length, ibytes: frames.reduce((s, x) => s + x.length, 0), ierrors: 0 });
      devClose(p);
    }
  }
  t.equal(pool.inUseCount(), 0, 'every mbuf back');
});

t.test('nanosecond pcap and pcapng written by editcap', { skip: !haveTool('editcap') && 'editcap is not installed (apt-get install tshark)' }, async (t) => {
  fs.writeFileSync(f('src.pcap'), pcapBytes(frames));
  for (const [fmt, name] of [['nsecpcap', 'ed-ns.pcap'], ['pcapng', 'ed.pcapng']]) {
    const r = spawnSync('editcap', ['-F', fmt, f('src.pcap'), f(name)], { encoding: 'utf8' });
    t.equal(r.status, 0, `editcap -F ${fmt}: ${r.stderr}`);
    const p = await open(`net_pcap0,rx_pcap=${f(name)}`);
    sameFrames(t, drain(p), frames, name);
    t.match(statsGet(p), { ipackets: frames.length, ierrors: 0 });
    devClose(p);
  }
  t.equal(readPcap(f('ed-ns.pcap')).nsec, true, 'editcap wrote magic a1b23c4d');
  t.equal(pool.inUseCount(), 0);
});

t.test('pcapng: sections in both byte orders, several interfaces, SPBs, blocks to skip', async (t) => {
  const a = frames.slice(0, 50);
  const b = frames.slice(50, 120);
  const c = frames.slice(120);
  fs.writeFileSync(f('multi.pcapng'), pcapngBytes([
    { be: false, ifaces: [1, 1], packets: a.map((frame, i) => ({ frame, iface: i % 2 })), extraBlocks: true },
    { be: true, ifaces: [1], packets: b.map((frame, i) => ({ frame, spb: i % 3 === 0 })) },
    { be: false, ifaces: [228, 1], packets: c.map((frame) => ({ frame, iface: 1 })), extraBlocks: true },
  ]));
  const p = await open(`net_pcap0,rx_pcap=${f('multi.pcapng')}`);
  sameFrames(t, drain(p), frames, 'three sections');
  t.match(statsGet(p), { ipackets: frames.length, ierrors: 0 });
  devClose(p);
  if (haveTool('tshark')) t.same(tsharkFrames(f('multi.pcapng')).lens, frames.map((x) => x.length), 'tshark reads the same file the same way');

  fs.writeFileSync(f('raw-if.pcapng'), pcapngBytes([{ ifaces: [1, 101], packets: [{ frame: frames[0] }, { frame: frames[1], iface: 1 }, { frame: frames[2] }] }]));
  logged.length = 0;
  const q = await open(`net_pcap0,rx_pcap=${f('raw-if.pcapng')}`);
  t.equal(drain(q).length, 1, 'the packets before it');
  t.match(statsGet(q), { ipackets: 1, ierrors: 1 });
  t.match(logged, [new RegExp(`^${f('raw-if.pcapng')}: packet of interface 1 whose link type is 101, not Ethernet \\(1\\), at byte \\d+; reading stops here`)]);
  devClose(q);
  t.equal(pool.inUseCount(), 0);
});

t.test('TX writes a nanosecond pcap that tshark reads', async (t) => {
  const p = await open(`net_pcap0,tx_pcap=${f('tx.pcap')}`);
  t.equal(rxBurst(p, 0, new Uint32Array(4), 4), 0, 'no rx_pcap: the RX queue receives nothing');
  const before = Date.now();
  const b = new Uint32Array(32);
  for (let i = 0; i < frames.length; i += 32) {
    const n = Math.min(32, frames.length - i);
    t.equal(pktmbufAllocBurst(pool, b, n), n);
    for (let k = 0; k < n; k++) {
      append(b[k], Math.min(frames[i + k].length, 2048 - 128));
      writeData(b[k], frames[i + k].subarray(0, 2048 - 128));
    }
    t.equal(txBurst(p, 0, b, n), n);
  }
  devClose(p);
  const want = frames.map((x) => x.subarray(0, 2048 - 128));
  const got = readPcap(f('tx.pcap'));
  t.match(got, { nsec: true, be: false, snaplen: 65535, linktype: 1 });
  sameFrames(t, got.records.map((r) => r.data), want, 'written');
  const ts = got.records[0].sec * 1000 + got.records[0].frac / 1e6;
  t.ok(ts >= before - 1000 && ts <= Date.now() + 1000, 'timestamps are the current time');
  t.ok(got.records.every((r) => r.frac < 1e9 && r.orig === r.data.length));
  if (haveTool('tshark')) {
    const r = tsharkFrames(f('tx.pcap'));
    t.equal(r.status, 0, 'tshark reads it');
    t.notMatch(r.stderr, /appears to|damaged|corrupt|cut short/i, 'without complaint');
    sameFrames(t, r.frames, want, 'tshark');
  }
  t.equal(pool.inUseCount(), 0);
});

t.test('TX under load: full bursts are staged, a short burst or a port stop writes them', async (t) => {
  const p = await open(`net_pcap0,tx_pcap=${f('batch.pcap')}`);
  const small = makeFrames(32, 41, 60, 200);
  const send = (k: number) => {
    const b = new Uint32Array(32);
    t.equal(pktmbufAllocBurst(pool, b, k), k);
    for (let i = 0; i < k; i++) {
      append(b[i], small[i].length);
      writeData(b[i], small[i]);
    }
    t.equal(txBurst(p, 0, b, k), k);
  };
  const records = () => readPcap(f('batch.pcap')).records.length;
  for (let i = 0; i < 4; i++) send(32);
  t.equal(records(), 0, 'four full bursts: staged (one write will take several bursts)');
  send(5);
  t.equal(records(), 133, 'a short burst: everything written');
  send(32);
  send(32);
  t.equal(statsGet(p).opackets, 197);
  devStop(p);
  t.equal(records(), 197, 'the port stops: the rest is written');
  sameFrames(t, readPcap(f('batch.pcap')).records.slice(133).map((r) => r.data), [...small, ...small], 'in order');
  devClose(p);
  t.equal(pool.inUseCount(), 0);
});

t.test('a queue per rx_pcap and tx_pcap key, in order; dropping TX without tx_pcap', async (t) => {
  const a = frames.slice(0, 30);
  const b = frames.slice(30, 40);
  fs.writeFileSync(f('qa.pcap'), pcapBytes(a));
  fs.writeFileSync(f('qb.pcap'), pcapBytes(b, { nsec: true }));
  const p = await open(`net_pcap0,rx_pcap=${f('qa.pcap')},rx_pcap=${f('qb.pcap')},tx_pcap=${f('oa.pcap')},tx_pcap=${f('ob.pcap')}`);
  t.match(devInfoGet(p), { maxRxQueues: 2, maxTxQueues: 2 });
  sameFrames(t, drain(p, 1), b, 'queue 1 reads the second file');
  sameFrames(t, drain(p, 0), a, 'queue 0 the first');
  devClose(p);
  t.equal(readPcap(f('ob.pcap')).records.length, 0, 'both outputs created');
  const d = await open(`net_pcap0,rx_pcap=${f('qa.pcap')}`);
  const m = new Uint32Array(32);
  const n = rxBurst(d, 0, m, 32);
  t.equal(txBurst(d, 0, m, n), n, 'no tx_pcap: TX takes the packets');
  t.match(statsGet(d), { opackets: n, obytes: a.reduce((s, x) => s + x.length, 0), oerrors: 0 });
  devClose(d);
  t.equal(pool.inUseCount(), 0, 'and frees them');
});

t.test('infinite_rx replays the file', async (t) => {
  const small = frames.slice(0, 7);
  fs.writeFileSync(f('small.pcap'), pcapBytes(small));
  const p = await open(`net_pcap0,rx_pcap=${f('small.pcap')},infinite_rx=1`);
  sameFrames(t, drain(p, 0, 7 * 5 + 3), [...small, ...small, ...small, ...small, ...small, ...small.slice(0, 3)], 'a file held whole');
  devClose(p);
  // larger than one 1 MiB chunk: the replay reads the file again
  const big = makeFrames(300, 9, 4000, 9018);
  fs.writeFileSync(f('big.pcapng'), pcapngBytes([{ packets: big.map((frame) => ({ frame })) }]));
  const q = await open(`net_pcap0,rx_pcap=${f('big.pcapng')},infinite_rx=1`);
  sameFrames(t, drain(q, 0, 750), [...big, ...big, ...big.slice(0, 150)], 'a 2 MiB pcapng read again from its start');
  devClose(q);
  fs.writeFileSync(f('none.pcap'), pcapBytes([]));
  const e = await open(`net_pcap0,rx_pcap=${f('none.pcap')},infinite_rx=1`);
  t.equal(drain(e).length, 0, 'a file without packets: 0, not a busy loop');
  devClose(e);
  // device-wide (DPDK): every rx_pcap queue replays its own file, the same file twice included
  const two = await open(`net_pcap0,rx_pcap=${f('small.pcap')},rx_pcap=${f('big.pcapng')},rx_pcap=${f('small.pcap')},infinite_rx=1`);
  sameFrames(t, drain(two, 1, 400), [...big, ...big.slice(0, 100)], 'queue 1 replays its file');
  sameFrames(t, drain(two, 2, 10), [...small, ...small.slice(0, 3)], 'queue 2 its own');
  sameFrames(t, drain(two, 0, 8), [...small, small[0]], 'queue 0 its own');
  devClose(two);
  await t.rejects(devProbe(`net_pcap0,tx_pcap=${f('x.pcap')},infinite_rx=1`), { message: /infinite_rx=1 replays rx_pcap= files: give at least one rx_pcap=/ });
  await t.rejects(devProbe(`net_pcap0,rx_pcap=${f('small.pcap')},infinite_rx=1,infinite_rx=0`), { message: /infinite_rx= given more than once/ });
  t.equal(pool.inUseCount(), 0);
});

t.test('a dry pool: records wait for mbufs, none is lost', async (t) => {
  const tiny = pktmbufPoolCreate('pcap_tiny', 15, 0);
  fs.writeFileSync(f('dry.pcap'), pcapBytes(frames.slice(0, 100)));
  const p = await devProbe(`net_pcap0,rx_pcap=${f('dry.pcap')}`);
  devConfigure(p, 1, 1);
  rxQueueSetup(p, 0, 512, -1, null, tiny);
  txQueueSetup(p, 0, 512, -1);
  devStart(p);
  const got: Buffer[] = [];
  const b = new Uint32Array(32);
  for (let round = 0; round < 100; round++) {
    const n = rxBurst(p, 0, b, 32);
    if (n === 0) break;
    t.ok(n <= 15);
    for (let i = 0; i < n; i++) got.push(Buffer.from(packetBytes(b[i])));
    pktmbufFreeBulk(b, n);
  }
  sameFrames(t, got, frames.slice(0, 100), 'all frames, in order');
  t.ok(statsGet(p).rxNombuf > 0, 'rx_nombuf counts the waits');
  devClose(p);
  t.equal(tiny.inUseCount(), 0);
});

t.test('a dry pool on a 2 MiB pcapng of jumbo frames: chains wait across chunk ends, none is lost', async (t) => {
  const tiny = pktmbufPoolCreate('pcap_tiny2', 15, 0);
  const big = makeFrames(300, 9, 4000, 9018);
  fs.writeFileSync(f('dry.pcapng'), pcapngBytes([{ packets: big.map((frame) => ({ frame })) }]));
  const p = await devProbe(`net_pcap0,rx_pcap=${f('dry.pcapng')}`);
  devConfigure(p, 1, 1);
  rxQueueSetup(p, 0, 512, -1, null, tiny);
  txQueueSetup(p, 0, 512, -1);
  devStart(p);
  const got: Buffer[] = [];
  const b = new Uint32Array(32);
  for (let round = 0; round < 5000 && got.length < big.length; round++) {
    const n = rxBurst(p, 0, b, 32);
    for (let i = 0; i < n; i++) got.push(Buffer.from(packetBytes(b[i])));
    pktmbufFreeBulk(b, n);
  }
  sameFrames(t, got, big, 'all frames, in order');
  t.ok(statsGet(p).rxNombuf > 0, `rx_nombuf counts the waits (${statsGet(p).rxNombuf})`);
  devClose(p);
  t.equal(tiny.inUseCount(), 0);
});

t.test('a queue object made on another lcore goes on where the last one stopped; a port start reads from the start', async (t) => {
  fs.writeFileSync(f('resume.pcap'), pcapBytes(frames));
  const ops = pcapPmd.probeVdev!('net_pcap9', new Map([['rx_pcap', f('resume.pcap')]]));
  ops.configure(1, 1, {});
  const spec = JSON.parse(JSON.stringify(ops.rxQueueSetup(0, 512, {}, pool, 9)));
  ops.start();
  const stats = new Float64Array(8);
  const b = new Uint32Array(64);
  const take = (q: { rxBurst(m: Uint32Array, n: number): number }, n: number) => {
    const k = q.rxBurst(b, n);
    const out = [...b.subarray(0, k)].map((m) => Buffer.from(packetBytes(m)));
    pktmbufFreeBulk(b, k);
    return out;
  };
  sameFrames(t, take(pcapPmd.dataPlane.attachRx(spec, stats), 50), frames.slice(0, 50), 'the first queue object');
  sameFrames(t, take(pcapPmd.dataPlane.attachRx(spec, stats), 30), frames.slice(50, 80), 'the next one goes on');
  ops.stop();
  ops.start();
  sameFrames(t, take(pcapPmd.dataPlane.attachRx(spec, stats), 10), frames.slice(0, 10), 'after a restart: from the first record');
  ops.close();
  t.equal(pool.inUseCount(), 0);
});

function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

t.test('bad files at probe: one line naming the file and the fix, nothing left open', async (t) => {
  const hdr = pcapBytes([]);
  const cases: Array<[string, Buffer | null, RegExp]> = [
    ['missing.pcap', null, /missing\.pcap: cannot open \(ENOENT\): give the path of an existing capture file/],
    ['empty.pcap', Buffer.alloc(0), /empty\.pcap: empty file \(0 bytes\): give a pcap or pcapng capture/],
    ['short.pcap', Buffer.from([0xd4, 0xc3]), /short\.pcap: truncated file header \(2 bytes\)/],
    ['magic.pcap', Buffer.from('GIF89a, not a capture file at all'), /magic\.pcap: unknown magic 0x47494638 \(pcap starts a1b2c3d4 or a1b23c4d, pcapng 0a0d0d0a\)/],
    ['trunc-hdr.pcap', hdr.subarray(0, 20), /trunc-hdr\.pcap: truncated pcap file header \(20 of 24 bytes\)/],
    ['version.pcap', Buffer.from(pcapBytes([], {})).fill(3, 4, 5), /version\.pcap: pcap version 3\.4, expected 2\.x/],
    ['linktype.pcap', pcapBytes([], { linktype: 101 }), /linktype\.pcap: link type 101, net_pcap reads Ethernet \(LINKTYPE_ETHERNET = 1\) captures only/],
    ['trunc.pcapng', pcapngBytes([{ packets: [] }]).subarray(0, 20), /trunc\.pcapng: truncated pcapng section header block \(20 of 28 bytes\)/],
    ['bom.pcapng', Buffer.from(pcapngBytes([{ packets: [] }])).fill(0x77, 8, 12), /bom\.pcapng: pcapng byte-order magic 0x77777777 is neither/],
  ];
  const fds = fdCount();
  const ports = ethDevCount();
  for (const [name, bytes, msg] of cases) {
    if (bytes) fs.writeFileSync(f(name), bytes);
    await t.rejects(devProbe(`net_pcap0,rx_pcap=${f(name)},tx_pcap=${f('never.pcap')}`), { message: msg }, name);
  }
  t.notOk(fs.existsSync(f('never.pcap')), 'no output is created when an input is bad');
  await t.rejects(devProbe('net_pcap0'), { message: /no rx_pcap=, tx_pcap=, rx_iface=, tx_iface= or iface= given/ });
  await t.rejects(devProbe('net_pcap0,iface=pktionosuch0'), { message: /net_pcap: iface=pktionosuch0: .*no interface 'pktionosuch0' \(ip link show lists them\)/ });
  await t.rejects(devProbe('net_pcap0,rx_iface=a/b'), { message: /'a\/b' is not a valid interface name/ });
  await t.rejects(devProbe('net_pcap0,iface=lo,iface=lo'), { message: /iface= given 2 times: give one interface/ });
  await t.rejects(devProbe(`net_pcap0,tx_pcap=${join(dir, 'no/such/dir.pcap')}`), { message: /dir\.pcap: cannot create \(ENOENT\): give a writable path/ });
  await t.rejects(devProbe('net_pcap0,tx_pcap=/dev/full'), { message: /\/dev\/full: cannot write the pcap header \(ENOSPC\): give a path on a writable file system with room/ });
  t.equal(fdCount(), fds, 'no descriptor left open');
  t.equal(ethDevCount(), ports, 'no port allocated');
});

t.test('bad records at run time: a clean stop, ierrors, one line with the byte offset', async (t) => {
  const ok = frames.slice(0, 10);
  const good = pcapBytes(ok);
  const at = (k: number) => 24 + ok.slice(0, k).reduce((s, x) => s + 16 + x.length, 0);
  const setIncl = (b: Buffer, k: number, v: number) => { const c = Buffer.from(b); c.writeUInt32LE(v, at(k) + 8); return c; };
  const ng = pcapngBytes([{ packets: ok.map((frame) => ({ frame })) }]);
  const ngAt = 28 + 32; // SHB (28) and IDB (20 + 12 of options)
  const cases: Array<[string, Buffer, number, RegExp]> = [
    ['trunc-rechdr.pcap', good.subarray(0, at(10) - ok[9].length - 6), 9, /truncated record header: 10 of 16 bytes before the end of the file, at byte \d+/],
    ['trunc-rec.pcap', good.subarray(0, good.length - 5), 9, /truncated record: \d+ of \d+ bytes before the end of the file, at byte \d+/],
    ['snaplen.pcap', pcapBytes(ok, { snaplen: 1000 }), ok.findIndex((x) => x.length > 1000), new RegExp(`record length \\d+ is longer than the file's snaplen 1000, at byte ${at(ok.findIndex((x) => x.length > 1000))};`)],
    ['huge.pcap', setIncl(pcapBytes(ok, { snaplen: 0 }), 4, 300000), 4, /record length 300000 is longer than the file's snaplen 262144/],
    ['ng-len.pcapng', Buffer.from(ng).fill(0xff, ngAt + 4, ngAt + 8), 0, /block length 4294967295 \(type 6\) is not a multiple of 4/],
    ['ng-trailer.pcapng', (() => { const c = Buffer.from(ng); c.writeUInt32LE(8, ngAt + c.readUInt32LE(ngAt + 4) - 4); return c; })(), 0, /trailing length 8 differs from leading length/],
    ['ng-cap.pcapng', (() => { const c = Buffer.from(ng); c.writeUInt32LE(5000, ngAt + 20); return c; })(), 0, /captured length 5000 does not fit its \d+-byte block/],
    ['ng-if.pcapng', (() => { const c = Buffer.from(ng); c.writeUInt32LE(3, ngAt + 8); return c; })(), 0, /packet of interface 3, but the section describes 1 interface\(s\)/],
    ['ng-trunc.pcapng', ng.subarray(0, ng.length - 7), 9, /truncated record: \d+ of \d+ bytes before the end of the file/],
  ];
  for (const [name, bytes, good, msg] of cases) {
    fs.writeFileSync(f(name), bytes);
    logged.length = 0;
    const p = await open(`net_pcap0,rx_pcap=${f(name)}`);
    sameFrames(t, drain(p), ok.slice(0, good), `${name}: the frames before the bad record`);
    t.equal(drain(p).length, 0, `${name}: stopped for good`);
    t.match(statsGet(p), { ipackets: good, ierrors: 1 }, `${name}: counted`);
    t.equal(logged.length, 1, `${name}: one line`);
    t.match(logged[0], new RegExp(`^${f(name).replace(/[.]/g, '\\.')}: `), `${name}: names the file`);
    t.match(logged[0], msg, `${name}: says what is wrong and where`);
    devClose(p);
    t.equal(pool.inUseCount(), 0, `${name}: every mbuf back`);
  }
});

// ---- live interfaces (AF_PACKET rings), on a veth pair this test makes -------------------------------------------

/** Sends every frame of port p's RX queue 0 out of its TX queue 0 (burst by burst); returns how many. */
function pump(p: number): number {
  const b = new Uint32Array(32);
  let sent = 0;
  for (let n; (n = rxBurst(p, 0, b, 32)) > 0;) {
    let k = 0;
    for (let tries = 0; k < n && tries < 1000; tries++) k += txBurst(p, 0, b, n - k, k);
    if (k < n) pktmbufFreeBulk(b, n - k, k);
    sent += k;
  }
  return sent;
}

async function drainUntil(p: number, want: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < 100 && out.length < want; i++) {
    out.push(...drain(p));
    if (out.length < want) await new Promise((r) => setTimeout(r, 20));
  }
  return out;
}

/** Runs dpdk-testpmd io-forwarding on one pcap vdev until its port 0 has sent `n` frames (or 10 s), then stops it
 * and returns port 0's final counters. */
async function testpmdUntilSent(vdev: string, n: number): Promise<TestpmdPortStats> {
  const tp = await Testpmd.start({ vdevs: [vdev], fwd: 'io', appArgs: ['--no-flush-rx'] });
  try {
    await tp.cmd('start');
    for (let i = 0; i < 100 && (await tp.portStats())[0].txPackets < n; i++) await new Promise((r) => setTimeout(r, 100));
    await tp.cmd('stop');
    return (await tp.portStats())[0];
  } finally {
    await tp.quit();
  }
}

t.test('live interfaces: rx_pcap -> tx_iface on one veth end, iface= on the other; dpdk-testpmd sending the same', { skip: netLabSkipReason() ?? false }, async (t) => {
  const lab = new NetLab('pcp');
  t.teardown(() => lab.cleanup());
  const [a, b] = lab.veth('a', 'b');
  spawnSync('sysctl', ['-q', '-w', `net.ipv6.conf.${b}.disable_ipv6=1`]);
  const input = makeFrames(300, 31, 60, 1514);
  fs.writeFileSync(f('live-in.pcap'), pcapBytes(input));
  const rxp = await open(`net_pcap1,iface=${b}`);
  const txp = await open(`net_pcap0,rx_pcap=${f('live-in.pcap')},tx_iface=${a}`);
  t.equal(pump(txp), input.length, 'pktio sends the file out of the veth');
  const got = await drainUntil(rxp, input.length);
  sameFrames(t, got, input, 'iface= receives them');
  t.match(statsGet(txp), { opackets: input.length, oerrors: 0 });
  t.match(statsGet(rxp), { ipackets: input.length, ierrors: 0, imissed: 0 });
  devClose(txp);
  // the other way: what iface= sends, rx_iface_in receives
  const back = await open(`net_pcap2,rx_iface_in=${a}`);
  const m = new Uint32Array(32);
  t.equal(pktmbufAllocBurst(pool, m, 20), 20);
  for (let k = 0; k < 20; k++) {
    append(m[k], input[k].length);
    writeData(m[k], input[k]);
  }
  t.equal(txBurst(rxp, 0, m, 20), 20);
  sameFrames(t, await drainUntil(back, 20), input.slice(0, 20), 'rx_iface_in receives what iface= sent');
  t.equal(drain(rxp).length, 0, 'iface= does not receive its own frames (incoming only, as DPDK)');
  devClose(back);
  if (testpmdPath()) {
    const before = statsGet(rxp).ipackets;
    const d = await testpmdUntilSent(`net_pcap0,rx_pcap=${f('live-in.pcap')},tx_iface=${a}`, input.length);
    const fromDpdk = await drainUntil(rxp, input.length);
    t.equal(d.txPackets, input.length, 'dpdk-testpmd sent the file out of the veth (libpcap)');
    t.equal(statsGet(rxp).ipackets - before, d.txPackets, 'pktio counted exactly what dpdk-testpmd sent');
    t.equal(statsGet(rxp).rxNombuf + statsGet(rxp).imissed, 0);
    sameFrames(t, fromDpdk, input, 'frames from dpdk-testpmd');
  } else t.comment(`dpdk-testpmd part skipped: ${NO_TESTPMD}`);
  devClose(rxp);
  t.equal(pool.inUseCount(), 0);
});

// ---- examples, as a user runs them -----------------------------------------------------------------------------

/** Compiles the examples when a source is newer than its output (tsc emits even when another module has type errors). */
function built(): string | null {
  const stale = (d: string): boolean => fs.readdirSync(join(root, d), { withFileTypes: true }).some((e) => {
    const rel = join(d, e.name);
    if (e.isDirectory()) return stale(rel);
    if (!e.name.endsWith('.ts') || e.name.endsWith('.d.ts')) return false;
    const out = join(root, 'dist', rel.replace(/\.ts$/, '.js'));
    return !fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(join(root, rel)).mtimeMs;
  });
  if (!['src', 'examples'].some(stale)) return null;
  spawnSync('npx', ['tsc', '-p', '.'], { cwd: root, encoding: 'utf8' });
  return ['src', 'examples'].some(stale) ? 'dist/ is not up to date and npx tsc -p . did not emit it' : null;
}
const buildError = built();

t.test('examples/l2fwd from an rx_pcap to a tx_pcap: tshark reads the frames, MACs rewritten', { skip: buildError ?? (!haveTool('tshark') && 'tshark is not installed') }, async (t) => {
  const input = makeFrames(3000, 11, 60, 9018);
  fs.writeFileSync(f('l2-in.pcap'), pcapBytes(input));
  const r = spawnSync('taskset', ['-c', cpus.join(','), process.execPath, join(root, 'dist/examples/l2fwd/main.js'), '--no-pci', '--no-huge', '-m', '256', '--lcores', lcores,
    '--log-level', 'warn', '--vdev', `net_pcap0,rx_pcap=${f('l2-in.pcap')}`, '--vdev', `net_pcap1,tx_pcap=${f('l2-out.pcap')}`,
    '--', '-p', '0x3', '-q', '2', '-T', '0', '--duration', '2'], { encoding: 'utf8', timeout: 60000 });
  t.equal(r.status, 0, `l2fwd exits cleanly: ${r.stderr.slice(-400)}`);
  t.match(r.stdout, /Total packets sent:\s+3000\s+Total packets received:\s+3000\s+Total packets dropped:\s+0/);
  const ts = tsharkFrames(f('l2-out.pcap'));
  t.equal(ts.status, 0, 'tshark reads the output');
  t.notMatch(ts.stderr, /appears to|damaged|corrupt|cut short/i);
  t.same(ts.lens, input.map((x) => x.length), 'tshark: frame lengths');
  t.equal(ts.frames.length, input.length);
  const mac = Buffer.from([0x02, 0, 0, 0, 0, 0x01]);
  const bad = input.findIndex((x, i) => {
    const o = ts.frames[i];
    return !o || Buffer.compare(o.subarray(0, 6), mac) !== 0 || Buffer.compare(o.subarray(6, 11), Buffer.from([0x02, 0x70, 0x63, 0x61, 0x70])) !== 0 ||
      Buffer.compare(o.subarray(12), Buffer.from(x.subarray(12))) !== 0;
  });
  t.equal(bad, -1, 'every frame identical after the MACs (dst 02:00:00:00:00:01, src the port\'s 02:70:63:61:70:xx)');
});

/** examples/testpmd at its prompt (interactive), driven like bench/dpdk/testpmd.ts drives DPDK's. */
async function pktioTestpmd(vdev: string, frames: number): Promise<{ stats: TestpmdPortStats; out: string }> {
  const c = spawn('taskset', ['-c', cpus.join(','), process.execPath, join(root, 'dist/examples/testpmd/main.js'), '--no-pci', '--no-huge', '-m', '256', '--lcores', lcores,
    '--log-level', 'warn', '--vdev', vdev, '--', '-i', '--forward-mode=io', '--no-flush-rx'], { cwd: root });
  let out = '';
  c.stdout.on('data', (d: Buffer) => { out += d; });
  c.stderr.on('data', (d: Buffer) => { out += d; });
  const prompt = async (from: number) => {
    for (let i = 0; i < 600 && out.indexOf('testpmd> ', from) < 0 && c.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    return out.slice(from);
  };
  const cmd = async (line: string) => { const from = out.length; c.stdin.write(`${line}\n`); return prompt(from); };
  const exited = new Promise((r) => c.on('close', r));
  await prompt(0);
  await cmd('start');
  let stats = parsePortStats(await cmd('show port stats all'))[0];
  for (let i = 0; i < 100 && (stats?.txPackets ?? 0) < frames; i++) {
    await new Promise((r) => setTimeout(r, 100));
    stats = parsePortStats(await cmd('show port stats all'))[0];
  }
  await cmd('stop');
  stats = parsePortStats(await cmd('show port stats all'))[0];
  c.stdin.write('quit\n');
  await exited;
  return { stats, out };
}

t.test('dpdk-testpmd and examples/testpmd on the same pcap: same output file, same counters', { skip: buildError ?? (!testpmdPath() && NO_TESTPMD) }, async (t) => {
  const input = makeFrames(2000, 12, 60, 9018);
  fs.writeFileSync(f('tp-in.pcap'), pcapBytes(input));
  const d = await testpmdUntilSent(`net_pcap0,rx_pcap=${f('tp-in.pcap')},tx_pcap=${f('tp-dpdk.pcap')}`, input.length);
  const p = await pktioTestpmd(`net_pcap0,rx_pcap=${f('tp-in.pcap')},tx_pcap=${f('tp-pktio.pcap')}`, input.length);
  const pick = (s: TestpmdPortStats) => ({ rx: s.rxPackets, rxBytes: s.rxBytes, rxErr: s.rxErrors, miss: s.rxMissed, nombuf: s.rxNombuf, tx: s.txPackets, txBytes: s.txBytes, txErr: s.txErrors });
  t.same(pick(p.stats), pick(d), `counters equal: ${JSON.stringify(pick(d))}`);
  t.equal(d.rxPackets, input.length);
  const a = readPcap(f('tp-dpdk.pcap')).records;
  const b = readPcap(f('tp-pktio.pcap')).records;
  t.equal(b.length, a.length, `${a.length} frames each`);
  t.equal(b.findIndex((x, i) => !a[i] || Buffer.compare(x.data, a[i].data) !== 0), -1, 'frame by frame identical');
  sameFrames(t, b.map((x) => x.data), input, 'and identical to the input');
});
