// Run by test/fuzz-vdev.test.ts in a network namespace of its own (unshare --net) and a scratch directory: probes
// mutated --vdev strings of every virtual driver in the CATALOG, closes what probed, and prints one JSON result.
//   node <tap's TypeScript loader> fuzz-vdev-child.ts N
import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import * as pktio from '../../src/index.js';
import { fuzz, mutateString, pick } from './fuzz.js';

/** Valid strings of each driver; files and sockets are relative names in the scratch directory. */
const VALID: Record<string, string[]> = {
  net_null: ['net_null0,size=64,copy=1', 'net_null1,no-rx=1', 'net_null2'],
  net_ring: ['net_ring0', 'net_ring1,rxring=fz_a,txring=fz_b', 'net_ring2,rxring=fz_a:fz_b,txring=fz_b:fz_a'],
  net_af_packet: ['net_af_packet0,iface=fzv0', 'net_af_packet1,iface=fzv1,qpairs=2,blocksz=4096,framesz=2048,framecnt=512,qdisc_bypass=1,fanout_mode=hash'],
  net_tap: ['net_tap0,iface=fz0', 'net_tap1,iface=fz1,mac=02:00:00:00:00:01', 'net_tap2,mac=fixed,persist=0'],
  net_pcap: ['net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap', 'net_pcap1,iface=lo', 'net_pcap2,rx_pcap=in.pcap,infinite_rx=1,tx_pcap=o2.pcap',
    'net_pcap3,rx_iface_in=lo,tx_iface=lo,phy_mac=1'],
  net_memif: ['net_memif0,role=server,id=0,socket=fz.sock,bsize=2048,rsize=10', 'net_memif1,role=client,id=1,socket=fz.sock,mac=02:00:00:00:00:02,zero-copy=no',
    'net_memif2,socket=fz2.sock,socket-abstract=no,secret=abc'],
};

/** A pcap file with one 60-byte frame (libpcap format, microsecond timestamps). */
function writePcap(file: string): void {
  const b = Buffer.alloc(24 + 16 + 60);
  b.writeUInt32LE(0xa1b2c3d4, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeUInt32LE(65535, 16);
  b.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  b.writeUInt32LE(60, 24 + 8);
  b.writeUInt32LE(60, 24 + 12);
  writeFileSync(file, b);
}

const n = Number(process.argv[2] ?? 1000);
await pktio.init(['--no-huge', '-m', '128', '-l', `${pktio.cpusAllowed()[0]}`, '--no-pci', '--log-level', 'silent']);
writePcap('in.pcap');
/** This process's open descriptors, each with what it is (a path, socket:[inode], anon_inode:[eventfd], ...). */
function fdTable(): Map<string, string> {
  const m = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try { m.set(fd, readlinkSync(`/proc/self/fd/${fd}`)); } catch { /* the directory's own descriptor, closed */ }
  }
  return m;
}
/** The descriptors of `now` that `before` did not have, as "fd -> what". */
function newFds(before: Map<string, string>, now: Map<string, string>): string[] {
  return [...now].filter(([fd, what]) => before.get(fd) !== what).map(([fd, what]) => `${fd} -> ${what}`);
}
const fds0 = fdTable();
const out: Record<string, unknown> = {};
let seed = 100;
// PKTIO_FUZZ_VDEV_DRIVERS=net_null,net_ring: only these (a long run without net_tap, whose create/delete waits on RCU)
const only = process.env.PKTIO_FUZZ_VDEV_DRIVERS?.split(',');
for (const c of pktio.CATALOG.filter((e) => e.vdev && (!only || only.includes(e.name)))) {
  const valid = VALID[c.name];
  if (!valid) {
    out[c.name] = { missing: true };
    continue;
  }
  await pktio.loadPmd(c.name);
  const gen = (r: () => number) => {
    let s = pick(r, valid);
    const k = 1 + Math.floor(r() * 3);
    for (let i = 0; i < k; i++) s = mutateString(r, s);
    return s;
  };
  // probeVdev is devProbe without the loading (done above): synchronous, so fuzz() times each call
  const before = fdTable();
  out[c.name] = { ...fuzz(n, seed++, gen, (s) => pktio.devClose(pktio.probeVdev(s)), [pktio.EthdevError]), fdsLeft: [] as string[] };
  // what this driver left open (a failure names the descriptors; the loaded module's own count as its driver's)
  (out[c.name] as { fdsLeft: string[] }).fdsLeft = newFds(before, fdTable());
  process.stderr.write(`fuzz-vdev: ${c.name} done: ${JSON.stringify(out[c.name])}\n`); // progress of a long run
}
out.portsLeft = pktio.portIds().length;
const left = newFds(fds0, fdTable());
out.fdsLeaked = left.length;
out.fdsLeft = left;
await pktio.cleanup();
process.stdout.write(`FUZZ-RESULT ${JSON.stringify(out)}\n`);
