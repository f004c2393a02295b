// The software-port benches (memif, af_packet, tap): the same two-port forwarding loop measured twice in one run,
// once with dpdk-testpmd as the device under test (io forward) and once with pktio's l2fwd (no MAC rewrite), against
// one dpdk-testpmd peer that injects packets (`start tx_first N`) and forwards back everything it receives:
//
//   peer port 0 ──> DUT port 0 ──> DUT port 1 ──> peer port 1 ──> (peer io forward) ──> peer port 0 ...
//
// The rate is what the peer receives per second in the measured window, so both DUTs are measured by the same
// counter. Two CPUs suffice: the DUT forwards on lcore 1, the peer on lcore 0 (their main lcores stay idle).
// Both testpmds run `set fwd io retry`, so the loop keeps its packets; pktio's l2fwd drops what a full TX ring
// refuses, as DPDK's l2fwd does, and the peer's count shows any such loss.
import { Testpmd, testpmdPath, NO_TESTPMD, type TestpmdPortStats } from './dpdk/testpmd.js';
import { BenchError, keepOutput, sleep, type BenchOpts, type BenchResult } from './common.js';
import { pktioL2fwd } from './l2fwd-inproc.js';

export interface SoftLoopSpec {
  /** DUT ports for pktio, as --vdev strings: port 0 faces peer port 0, port 1 faces peer port 1 */
  pktioVdevs: [string, string];
  /** the same two ports for testpmd as the DUT */
  testpmdVdevs: [string, string];
  /** the peer's two ports */
  peerVdevs: [string, string];
  /** before each round: make the medium (veth pairs, ...); after it: remove it */
  setup?: () => Promise<void> | void;
  teardown?: () => Promise<void> | void;
  /** start the peer before the DUT (it is the server of sockets the DUT connects to); default: DUT first */
  peerFirst?: boolean;
  /** bursts per port the peer injects (default 16) */
  inject?: number;
  /** more testpmd options for the peer / the testpmd DUT (after --) */
  peerAppArgs?: string[];
  dutAppArgs?: string[];
}

const sum = (s: TestpmdPortStats[], k: 'rxPackets' | 'txPackets') => s.reduce((a, p) => a + p[k], 0);

async function startPeer(spec: SoftLoopSpec, o: BenchOpts): Promise<Testpmd> {
  const peer = await Testpmd.start({
    lcores: '0,1', ealArgs: ['--main-lcore', '1'], vdevs: spec.peerVdevs, fwd: 'io',
    appArgs: [`--burst=${o.burst}`, `--txpkts=${o.size ?? 64}`, ...(spec.peerAppArgs ?? [])],
  });
  await peer.cmd('set fwd io retry');
  return peer;
}

/** Waits until testpmd reports every port's link up (a memif or tap peer may take a moment). */
async function linkUp(tp: Testpmd, ports: number, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const txt = await tp.cmd('show port summary all');
    const up = (txt.match(/\bup\b/gi) ?? []).length;
    if (up >= ports) return;
    if (Date.now() > end) throw new BenchError(`the peer's links did not come up in ${ms / 1000} s: ${txt.trim().split('\n').join(' | ')}`);
    await sleep(200);
  }
}

async function inject(peer: Testpmd, spec: SoftLoopSpec): Promise<void> {
  await linkUp(peer, 2);
  await peer.cmd(`start tx_first ${spec.inject ?? 16}`);
}

/** The window's packet count: what the peer received on both ports. */
const peerCount = (peer: Testpmd) => async () => sum(await peer.portStats(), 'rxPackets');

export async function dpdkRound(spec: SoftLoopSpec, o: BenchOpts): Promise<number> {
  let dut: Testpmd | null = null;
  let peer: Testpmd | null = null;
  await spec.setup?.();
  try {
    if (spec.peerFirst) peer = await startPeer(spec, o);
    dut = await Testpmd.start({ lcores: '0,1', vdevs: spec.testpmdVdevs, fwd: 'io', appArgs: [`--burst=${o.burst}`, ...(spec.dutAppArgs ?? [])] });
    await dut.cmd('set fwd io retry');
    await dut.cmd('start');
    if (!peer) peer = await startPeer(spec, o);
    await inject(peer, spec);
    const count = peerCount(peer);
    await sleep(Math.min(3000, o.seconds * 200 + 1000));
    const c0 = await count();
    const t0 = performance.now();
    await sleep(o.seconds * 1000);
    const c1 = await count();
    const t1 = performance.now();
    return (c1 - c0) / ((t1 - t0) / 1000) / 1e6;
  } catch (e) {
    const kept = [dut, peer].filter((x): x is Testpmd => x !== null).map((x, i) => keepOutput(`softloop-testpmd-${i}`, x.out));
    throw new BenchError(`${(e as Error).message} (testpmd output: ${kept.join(', ')})`);
  } finally {
    await peer?.quit();
    await dut?.quit();
    await spec.teardown?.();
  }
}

async function pktioRound(spec: SoftLoopSpec, o: BenchOpts) {
  let peer: Testpmd | null = null;
  await spec.setup?.();
  try {
    if (spec.peerFirst) peer = await startPeer(spec, o);
    return await pktioL2fwd({
      vdevs: spec.pktioVdevs, seconds: o.seconds, macUpdating: false,
      afterLaunch: async () => {
        if (!peer) peer = await startPeer(spec, o);
        await inject(peer, spec);
      },
      count: async () => sum(await peer!.portStats(), 'rxPackets'),
    });
  } catch (e) {
    if (peer) throw new BenchError(`${(e as Error).message} (peer testpmd output: ${keepOutput('softloop-peer', (peer as Testpmd).out)})`);
    throw e;
  } finally {
    await (peer as Testpmd | null)?.quit();
    await spec.teardown?.();
  }
}

/** Runs pktio's round (and testpmd's with --vs-dpdk) and returns the bench record. */
export async function softLoopBench(scenario: string, spec: SoftLoopSpec, o: BenchOpts): Promise<BenchResult> {
  if (!testpmdPath()) throw new BenchError(`${scenario} needs dpdk-testpmd as its peer: ${NO_TESTPMD}`);
  const ours = await pktioRound(spec, o);
  const dpdkMpps = o.vsDpdk ? await dpdkRound(spec, o) : null;
  return {
    scenario, mpps: ours.mpps, dpdkMpps, ratio: dpdkMpps !== null ? ours.mpps / dpdkMpps : null, packets: ours.packets,
    seconds: ours.seconds, gcCount: ours.gcCount, heapBytesPerPacket: ours.heapBytesPerPacket, mbufsLost: ours.mbufsLost,
    dropped: ours.dropped, rxPerIteration: ours.rxPerIteration,
    size: o.size ?? 64, burst: o.burst,
  };
}
