// Fuzzed command lines: the EAL's parser, l2fwd's and testpmd's, and PCI addresses. FUZZ_N mutated vectors each
// (10,000; PKTIO_FUZZ_N=100000 for the full run): only pktio's own error classes, one line, never a hang.
import t, { type Test } from 'tap';
import { parseEalArgs, EalArgError } from '../src/eal/args.js';
import { parsePciAddressLoose } from '../src/eal/pciaddr.js';
import { parsePciAddress, PciError } from '../src/eal/pci.js';
import { parseL2fwdArgs, UsageError as L2fwdUsageError } from '../examples/l2fwd/main.js';
import { parseTestpmdArgs, UsageError as TestpmdUsageError } from '../examples/testpmd/params.js';
import { FUZZ_N, fuzz, mutateArgv, mutateString, pick, type FuzzResult } from './helpers/fuzz.js';

const N = FUZZ_N;
/** A call over this is a hang (or runaway backtracking) in a parser of a few dozen characters; GC pauses stay below. */
const SLOW_MS = 1000;

function report(t: Test, what: string, r: FuzzResult): void {
  t.comment(`${what}: ${r.n} vectors, ${r.accepted} accepted, ${r.rejected} rejected, slowest ${r.maxMs.toFixed(1)} ms`);
  t.same(r.bad, [], `${what}: every rejection is pktio's own error with a one-line message`);
  t.ok(r.maxMs < SLOW_MS, `${what}: no call took over ${SLOW_MS} ms (slowest ${r.maxMs.toFixed(1)} ms)`);
}

const EAL_VALID: string[][] = [
  ['-l', '0-3', '--main-lcore', '1', '-m', '512', '--no-pci', '--vdev', 'net_null0,size=64', '--log-level', 'debug'],
  ['--lcores', '0@1,1@(2-3),2@4', '-a', '0000:00:03.0,packed_vq=0', '-a', '00:04.0', '--iova-mode', 'pa', '--', '-p', '0x3'],
  ['-l', '0,2', '--no-huge', '-m', '64', '--file-prefix', 'pg1', '--vdev=net_ring0', '--vfio-flow', 'cdev', '--log-format', 'json'],
  ['-b', '0000:01:00.1', '--huge-dir', '/dev/hugepages', '--base-virtaddr', '0x200000000', '--vfio-noiommu', '--iommufd-compat', '-h'],
];
const EAL_TOKENS = ['-l', '--lcores', '--main-lcore', '-a', '--allow', '-b', '--block', '--vdev', '--no-huge', '--no-pci', '-m',
  '--huge-dir', '--iova-mode', '--file-prefix', '--log-level', '--log-format', '--vfio-noiommu', '--vfio-flow', '--base-virtaddr',
  '--', '-h', '--help', '-', '=', '--lcores=', '-l0', '--vdev=', 'net_null0', '0000:00:03.0', '(', ')', '@'];

t.test('EAL arguments', async (t) => {
  report(t, 'parseEalArgs', fuzz(N, 1, (r) => mutateArgv(r, pick(r, EAL_VALID), EAL_TOKENS), parseEalArgs, [EalArgError]));
});

const L2FWD_VALID: string[][] = [
  ['-p', '0x3', '-P', '-q', '2', '-T', '5', '--no-mac-updating'],
  ['--portmap=(0,1),(2,3)', '--duration', '1.5', '--max-pkt-len', '9018', '--mac-updating'],
  ['-p', 'ff', '--portmap', '( 1 , 0 ), (0,1)', '-T', '0'],
];
const L2FWD_TOKENS = ['-p', '-P', '-q', '-T', '--portmap', '--mac-updating', '--no-mac-updating', '--duration', '--max-pkt-len', '-h', '--help',
  '--portmap=', '(0,1)', '0x', '--', '-'];

t.test('l2fwd arguments', async (t) => {
  report(t, 'parseL2fwdArgs', fuzz(N, 2, (r) => mutateArgv(r, pick(r, L2FWD_VALID), L2FWD_TOKENS), parseL2fwdArgs, [L2fwdUsageError]));
});

const TESTPMD_VALID: string[][] = [
  ['-i', '--forward-mode=mac', '--rxq=2', '--txq=2', '--nb-cores=2', '--rss-udp', '--burst=64', '--rxd=512', '--txd=512'],
  ['-a', '--forward-mode', 'txonly', '--txpkts=64,128', '--tx-first', '--stats-period', '1', '--portmask=0x3', '--eth-peer=0,02:00:00:00:00:01'],
  ['--total-num-mbufs=8192', '--max-pkt-len=1518', '--enable-rx-cksum', '--no-flush-rx', '--disable-rss', '--duration=2', '-h'],
];
const TESTPMD_TOKENS = ['--interactive', '--auto-start', '--forward-mode', '--rxq', '--txq', '--nb-cores', '--burst', '--txpkts', '--eth-peer',
  '--portmask', '--rxd', '--txd', '--total-num-mbufs', '--max-pkt-len', '--stats-period', '--duration', '-i', '-a', '-h', '=', '--'];

t.test('testpmd arguments', async (t) => {
  report(t, 'parseTestpmdArgs', fuzz(N, 3, (r) => mutateArgv(r, pick(r, TESTPMD_VALID), TESTPMD_TOKENS), parseTestpmdArgs, [TestpmdUsageError]));
});

const PCI_VALID = ['0000:00:03.0', '00:03.0', '0000:ff:1f.7', 'ffff:00:00.0', '1:2:3.4', '0000:3b:00.1'];

t.test('PCI addresses', async (t) => {
  const gen = (r: () => number) => {
    let s = pick(r, PCI_VALID);
    const k = 1 + Math.floor(r() * 3);
    for (let i = 0; i < k; i++) s = mutateString(r, s);
    return s;
  };
  report(t, 'parsePciAddressLoose', fuzz(N, 4, gen, (s) => parsePciAddressLoose(s), [Error]));
  report(t, 'parsePciAddress (EAL)', fuzz(N, 4, gen, (s) => parsePciAddressLoose(s, EalArgError), [EalArgError]));
  report(t, 'parsePciAddress (pci)', fuzz(N, 4, gen, parsePciAddress, [PciError]));
  // what is accepted is normal form, and parsing it again gives itself
  const r = fuzz(N, 5, gen, (s) => {
    const a = parsePciAddressLoose(s);
    if (!/^[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$/.test(a) || parsePciAddressLoose(a) !== a) throw new TypeError(`'${s}' -> '${a}'`);
  }, [Error]);
  t.same(r.bad.filter((b) => b.includes('TypeError')), [], 'accepted addresses come back in DDDD:BB:DD.F form');
});
