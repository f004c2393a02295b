// `memif`: a forwarding loop over two memif interfaces. The device under test (pktio's l2fwd on two net_memif
// ports, then dpdk-testpmd io on two of DPDK's net_memif ports) is the client of two abstract sockets (DPDK's
// default) whose server is the peer testpmd; the peer injects bursts and forwards back what comes out:
//
//   peer memif 0 (server) -> DUT memif 0 (client) -> DUT memif 1 (client) -> peer memif 1 (server) -> ...
//
// Both DUTs copy every frame twice (in from the peer's ring, out to the other), DPDK with rte_memcpy, pktio with
// copyBytes. The peer starts first (it serves the sockets) and is restarted for each round.
import { softLoopBench } from '../softloop.js';
import type { BenchOpts, BenchResult } from '../common.js';

export function describe(_o: BenchOpts, r: BenchResult): string {
  const vs = r.dpdkMpps !== null ? `, testpmd net_memif ${r.dpdkMpps.toFixed(3)} Mpps, ratio ${r.ratio!.toFixed(2)}` : '';
  return `memif loop: pktio l2fwd ${r.mpps?.toFixed(3)} Mpps${vs}`;
}

export async function run(o: BenchOpts): Promise<BenchResult> {
  const socket = (i: number) => `socket=/pktio-bench-memif-${process.pid}-${i}`;
  const dut = (i: number) => `net_memif${i},role=client,id=0,${socket(i)}`;
  return softLoopBench('memif', {
    pktioVdevs: [dut(0), dut(1)],
    testpmdVdevs: [dut(0), dut(1)],
    peerVdevs: [`net_memif0,role=server,id=0,${socket(0)}`, `net_memif1,role=server,id=0,${socket(1)}`],
    peerFirst: true,
  }, o);
}
