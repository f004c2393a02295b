// examples/l2fwd and examples/testpmd, unchanged, as programs on net_af_packet ports (a file of its own: each
// program compiles its TypeScript at start, which takes a while on a loaded machine).
import t from 'tap';
import { cpusAllowed } from '../src/eal/lcore.js';
import { NetLab, netLabSkipReason } from './helpers/netns.js';
import { runExample } from './helpers/ts-child.js';

const cpus = cpusAllowed();
const skip = netLabSkipReason();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const example = (rel: string, args: string[]) => runExample(rel, args, cpus);

t.test('examples/l2fwd and examples/testpmd, unchanged, on af_packet ports', { skip: skip ?? false }, async (t) => {
  const lab = new NetLab('afe');
  t.teardown(() => lab.cleanup());
  const nsA = lab.netns('a');
  const nsB = lab.netns('b');
  const [p0] = lab.veth('p0', 'n0', { nsB: nsA, ipB: '10.94.0.1/24' });
  const [p1] = lab.veth('p1', 'n1', { nsB: nsB, ipB: '10.94.0.2/24' });
  // testpmd: both ends of one veth pair are its two ports; --tx-first starts a loop through the pair
  const [c0, c1] = lab.veth('c0', 'c1');
  lab.must(['sysctl', '-q', '-w', `net.ipv6.conf.${c1}.disable_ipv6=1`]);
  const eal = ['--no-pci', '--no-huge', '-m', '128', '-l', `${cpus[0]},${cpus[cpus.length - 1]}`];
  // both at once (each compiles its TypeScript first)
  const tp = example('examples/testpmd/main.ts', [...eal, '--vdev', `net_af_packet0,iface=${c0}`, '--vdev', `net_af_packet1,iface=${c1}`,
    '--', '--forward-mode=io', '--tx-first', '--duration', '2']);
  const l2 = example('examples/l2fwd/main.ts', [...eal, '--vdev', `net_af_packet0,iface=${p0}`, '--vdev', `net_af_packet1,iface=${p1}`,
    '--', '--no-mac-updating', '-q', '2', '-T', '0']);
  try {
    for (let i = 0; i < 1200 && !l2.out().includes('L2FWD: MAC updating disabled') && l2.exitCode === null; i++) await sleep(50);
    t.equal(l2.exitCode, null, `l2fwd runs: ${l2.exitCode === null ? '' : l2.out()}`);
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) ok = lab.exec(nsA, ['ping', '-c', '1', '-W', '1', '10.94.0.2']).status === 0;
    t.ok(ok, 'l2fwd bridges a ping between the namespaces');
  } finally {
    l2.kill('SIGINT');
  }
  t.equal(await l2.exited, 0, 'l2fwd exits 0 on SIGINT');
  t.match(l2.out(), /Bye\.\.\./);
  t.notMatch(l2.out(), /mbufs were not returned/);
  const kill = setTimeout(() => tp.kill('SIGKILL'), 60000);
  const code = await tp.exited;
  clearTimeout(kill);
  t.equal(code, 0, `testpmd exits 0: ${code === 0 ? '' : tp.out().slice(-800)}`);
  const total = /Accumulated forward statistics for all ports\+*\s+RX-packets: (\d+)\s+RX-dropped: (\d+)[^\n]*\n\s+TX-packets: (\d+)/.exec(tp.out());
  t.ok(total && Number(total[1]) > 64, `frames went around the pair: ${total?.[0].replace(/\s+/g, ' ')}`);
  t.match(tp.out(), /Bye\.\.\./);
});
