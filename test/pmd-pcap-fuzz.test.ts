// net_pcap's reader against 1,000 corrupted captures (seeded): truncations, flipped bytes, bad record and block
// lengths, in pcap (both byte orders) and pcapng. Each file must give one clear line at probe, or read to a clean
// stop: the frames before the damage (files of 1.6 MB among them, read in two chunks), ierrors 0 or 1 (with one line naming the file and the byte offset), no
// exception, every mbuf back in its pool, every descriptor and memzone released.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import * as pktio from '../src/index.js';
import { devProbe, devConfigure, rxQueueSetup, txQueueSetup, devStart, devClose, rxBurst, statsGet } from '../src/ethdev/ethdev.js';
import { pktmbufPoolCreate, pktmbufFreeBulk } from '../src/mempool/mbuf.js';
import { memzoneList } from '../src/eal/memory.js';
import { setRootLogger } from '../src/eal/log.js';
import { makeFrames, pcapBytes, pcapngBytes, prng } from './helpers/pcap-files.js';

const FILES = 1000;
const dir = fs.mkdtempSync(join(os.tmpdir(), 'pktio-pcap-fuzz-'));
const logged: string[] = [];

t.before(async () => {
  await pktio.init(['--no-pci', '--no-huge', '-m', '128', '--log-level', 'error', '-l', `${pktio.cpusAllowed()[0]}`]);
  setRootLogger(pino({ level: 'error' }, { write: (s: string) => { logged.push((JSON.parse(s) as { msg: string }).msg); } }));
});
t.teardown(async () => {
  setRootLogger(null);
  await pktio.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Base { name: string; bytes: Buffer; lengths: number[] }

/** Offsets of the length fields of a pcap file's records (incl_len) or a pcapng file's blocks (both copies). */
function pcapLengths(b: Buffer, be: boolean): number[] {
  const out = [16];
  for (let at = 24; at + 16 <= b.length;) {
    out.push(at + 8, at + 12);
    at += 16 + (be ? b.readUInt32BE(at + 8) : b.readUInt32LE(at + 8));
  }
  return out;
}

function pcapngLengths(b: Buffer): number[] {
  const out: number[] = [];
  let le = true;
  for (let at = 0; at + 12 <= b.length;) {
    if (b.readUInt32LE(at) === 0x0a0d0d0a) le = b.readUInt32LE(at + 8) === 0x1a2b3c4d;
    const len = le ? b.readUInt32LE(at + 4) : b.readUInt32BE(at + 4);
    const type = le ? b.readUInt32LE(at) : b.readUInt32BE(at);
    out.push(at + 4, at + len - 4);
    if (type === 6) out.push(at + 8, at + 20, at + 24);
    if (type === 3) out.push(at + 8);
    at += len;
  }
  return out;
}

function bases(): Base[] {
  const frames = [...makeFrames(20, 21), ...makeFrames(2, 22, 3000, 9018)];
  const le = pcapBytes(frames);
  const be = pcapBytes(frames, { be: true, nsec: true });
  const ng = pcapngBytes([
    { ifaces: [1, 1], packets: frames.slice(0, 10).map((frame, i) => ({ frame, iface: i & 1, spb: i === 3 })), extraBlocks: true },
    { be: true, packets: frames.slice(10).map((frame) => ({ frame })) },
  ]);
  // larger than one 1 MiB read: records and blocks straddle the chunk end
  const jumbo = makeFrames(250, 23, 4000, 9018);
  const bigNg = pcapngBytes([{ packets: jumbo.map((frame) => ({ frame })) }]);
  return [
    { name: 'big.pcapng', bytes: bigNg, lengths: pcapngLengths(bigNg) },
    { name: 'le.pcap', bytes: le, lengths: pcapLengths(le, false) },
    { name: 'be.pcap', bytes: be, lengths: pcapLengths(be, true) },
    { name: 'ng.pcapng', bytes: ng, lengths: pcapngLengths(ng) },
  ];
}

/** One corrupted copy of a base file: what was done to it, and the bytes. */
function corrupt(b: Base, rnd: () => number): { how: string; bytes: Buffer } {
  const c = Buffer.from(b.bytes);
  const pick = (n: number) => Math.floor(rnd() * n);
  const kind = pick(5);
  if (kind === 0) {
    const len = pick(c.length);
    return { how: `truncated to ${len}`, bytes: c.subarray(0, len) };
  }
  if (kind === 1 || kind === 2) {
    // flipped bytes anywhere, or in the first 64 (the headers)
    const n = 1 + pick(8);
    for (let i = 0; i < n; i++) c[pick(kind === 1 ? c.length : Math.min(64, c.length))] ^= 1 + pick(255);
    return { how: `${n} bytes flipped${kind === 2 ? ' in the header' : ''}`, bytes: c };
  }
  const at = b.lengths[pick(b.lengths.length)];
  const values = [0, 1, 3, 7, 12, 15, 16, 65535, 65536, 262144, 262145, 0x7fffffff, 0xffffffff, pick(0x100000000)];
  const v = values[pick(values.length)];
  if (at + 4 <= c.length) c.writeUInt32LE(v >>> 0, at);
  if (kind === 3) return { how: `length field at ${at} = ${v}`, bytes: c };
  const len = pick(c.length);
  return { how: `length field at ${at} = ${v}, truncated to ${len}`, bytes: c.subarray(0, len) };
}

t.test(`${FILES} corrupted captures: a clear error at probe or a clean stop with counts`, async (t) => {
  const pool = pktmbufPoolCreate('pcap_fuzz', 1023, 0);
  const rnd = prng(0x5eed);
  const all = bases();
  const fds = fs.readdirSync('/proc/self/fd').length;
  // (ethdev's port table is a memzone made at the first probe: count after one)
  fs.writeFileSync(join(dir, 'warm.pcap'), all[1].bytes);
  devClose(await devProbe(`net_pcap0,rx_pcap=${join(dir, 'warm.pcap')}`));
  const zones = memzoneList().map((z) => z.name).join(',');
  const tally = { probe: 0, badRecord: 0, clean: 0, frames: 0 };
  const failures: string[] = [];
  const b = new Uint32Array(32);
  for (let i = 0; i < FILES; i++) {
    const base = all[i % all.length];
    const { how, bytes } = corrupt(base, rnd);
    const path = join(dir, `fz${i}-${base.name}`);
    fs.writeFileSync(path, bytes);
    const what = `#${i} ${base.name} ${how}`;
    logged.length = 0;
    let p: number;
    try {
      p = await devProbe(`net_pcap0,rx_pcap=${path}`);
    } catch (e) {
      const msg = (e as Error).message;
      if (!msg.startsWith(`--vdev net_pcap0,rx_pcap=${path}: ${path}: `) || !/: give |expected /.test(msg) || msg.includes('\n')) failures.push(`${what}: unclear probe error: ${msg}`);
      tally.probe++;
      fs.rmSync(path);
      continue;
    }
    try {
      devConfigure(p, 1, 1);
      rxQueueSetup(p, 0, 512, -1, null, pool);
      txQueueSetup(p, 0, 512, -1);
      devStart(p);
      let got = 0;
      for (let n; (n = rxBurst(p, 0, b, 32)) > 0 && got < 100000;) {
        got += n;
        pktmbufFreeBulk(b, n);
      }
      const s = statsGet(p);
      if (s.ipackets !== got) failures.push(`${what}: ipackets ${s.ipackets}, received ${got}`);
      if (rxBurst(p, 0, b, 32) !== 0) failures.push(`${what}: more frames after the stop`);
      if (s.ierrors === 1) {
        tally.badRecord++;
        if (logged.length !== 1 || !logged[0].startsWith(`${path}: `) || !/, at byte \d+; reading stops here/.test(logged[0])) {
          failures.push(`${what}: the stop is not one clear line: ${JSON.stringify(logged)}`);
        }
      } else if (s.ierrors === 0 && logged.length === 0) tally.clean++;
      else failures.push(`${what}: ierrors ${s.ierrors}, lines ${JSON.stringify(logged)}`);
      tally.frames += got;
      devClose(p);
    } catch (e) {
      failures.push(`${what}: exception ${(e as Error).stack}`);
    }
    if (pool.inUseCount() !== 0) failures.push(`${what}: ${pool.inUseCount()} mbufs not back`);
    fs.rmSync(path);
  }
  t.same(failures.slice(0, 10), [], 'every file: a clear line or a clean stop');
  t.equal(tally.probe + tally.badRecord + tally.clean, FILES);
  t.ok(tally.probe > 50 && tally.badRecord > 100 && tally.clean > 50, `the corruptions reach every outcome: ${JSON.stringify(tally)}`);
  t.equal(pool.inUseCount(), 0, 'every mbuf back in its pool');
  t.equal(fs.readdirSync('/proc/self/fd').length, fds, 'every descriptor closed');
  t.equal(memzoneList().map((z) => z.name).join(','), zones, 'every staging memzone freed');
  t.comment(`outcomes: ${JSON.stringify(tally)}`);
});
