// `af_packet`: a forwarding loop over two veth pairs. The device under test (pktio's l2fwd on two net_af_packet
// ports, then dpdk-testpmd io on two of DPDK's net_af_packet ports, same devargs) sits on one end of each pair;
// the peer testpmd's net_af_packet ports on the other ends inject bursts and forward back what comes out:
//
//   peer af_packet 0 -> pbafp0 =veth= pbafd0 -> DUT port 0 -> DUT port 1 -> pbafd1 =veth= pbafp1 -> peer 1 -> ...
//
// Both DUTs use PACKET_MMAP rings with one sendto() kick per TX burst, so the ratio compares what each spends
// around the rings and that syscall. The pairs are made before each round and deleted after it.
import { spawnSync } from 'node:child_process';
import { softLoopBench } from '../softloop.js';
import { BenchError, type BenchOpts, type BenchResult } from '../common.js';

/** [DUT end, peer end] of each veth pair */
const PAIRS = [['pbafd0', 'pbafp0'], ['pbafd1', 'pbafp1']] as const;
/**
 * Interface indexes of the ends. DPDK 22.11's af_packet joins every socket to a PACKET_FANOUT group whose id is
 * (pid ^ ifindex) & 0xffff; groups are per network namespace, and joining a group of that id made on another
 * interface fails (EINVAL), so two testpmds whose pids and ifindexes XOR alike cannot both start. Indexes whose
 * XOR across the two sides has bit 14 set keep the ids apart for any two pids less than 16384 apart.
 */
const INDEX = [[0x5101, 0x1101], [0x5102, 0x1102]] as const;

function sh(cmd: string[], mayFail = false): void {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0 && !mayFail) {
    throw new BenchError(`af_packet bench: ${cmd.join(' ')}: ${(r.stderr ?? '').trim() || `exit ${r.status}`} (needs root and iproute2)`);
  }
}

/** Deletes the pairs (a crashed run's too): deleting one end removes its peer. */
function teardown(): void {
  for (const [dut] of PAIRS) sh(['ip', 'link', 'del', dut], true);
}

/** Makes the veth pairs, up, without IPv6 (no router solicitations in the loop). */
function setup(): void {
  teardown();
  PAIRS.forEach(([dut, peer], i) => {
    const [di, pi] = INDEX[i];
    const r = spawnSync('ip', ['link', 'add', dut, 'index', String(di), 'type', 'veth', 'peer', 'name', peer, 'index', String(pi)]);
    if (r.status !== 0) sh(['ip', 'link', 'add', dut, 'type', 'veth', 'peer', 'name', peer]); // an index in use: any index
    for (const end of [dut, peer]) {
      sh(['sysctl', '-q', '-w', `net.ipv6.conf.${end}.disable_ipv6=1`], true);
      sh(['ip', 'link', 'set', end, 'up']);
    }
  });
}

export const jsonExtras = ['mbufsLost', 'size', 'burst', 'rounds'];

export function describe(_o: BenchOpts, r: BenchResult): string {
  const vs = r.dpdkMpps !== null ? `, testpmd net_af_packet ${r.dpdkMpps.toFixed(3)} Mpps, ratio ${r.ratio!.toFixed(2)}` : '';
  return `af_packet loop: pktio l2fwd ${r.mpps?.toFixed(3)} Mpps${vs}`;
}

/**
 * Runs the loop `--rounds` times (at least 3: veth forwarding shares the CPUs with the kernel's softirq work, and
 * one round of each is at the mercy of whatever else the machine runs), pktio then testpmd each round, and reports
 * the median of each side.
 */
export async function run(o: BenchOpts): Promise<BenchResult> {
  if (process.getuid?.() !== 0) throw new BenchError('af_packet bench needs root (veth pairs, packet sockets)');
  const dut = PAIRS.map(([d], i) => `net_af_packet${i},iface=${d}`) as [string, string];
  const spec = {
    pktioVdevs: dut,
    testpmdVdevs: dut,
    peerVdevs: PAIRS.map(([, p], i) => `net_af_packet${i},iface=${p}`) as [string, string],
    setup,
    teardown,
  };
  const rounds: BenchResult[] = [];
  for (let r = 0; r < Math.max(3, o.rounds); r++) rounds.push(await softLoopBench('af_packet', spec, o));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const byPktio = [...rounds].sort((a, b) => (a.mpps ?? 0) - (b.mpps ?? 0));
  const mid = byPktio[byPktio.length >> 1];
  const dpdk = o.vsDpdk ? median(rounds.map((x) => x.dpdkMpps ?? 0)) : null;
  return {
    ...mid, dpdkMpps: dpdk, ratio: dpdk ? (mid.mpps ?? 0) / dpdk : null,
    rounds: rounds.map((x) => ({ pktio: x.mpps, dpdk: x.dpdkMpps })),
  };
}
