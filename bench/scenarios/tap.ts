// `tap`: a forwarding loop over two taps. The device under test (pktio's l2fwd on two net_tap ports, then
// dpdk-testpmd io on two of DPDK's net_tap ports) owns taps pbtap0 and pbtap1 and forwards between them; the peer
// testpmd reaches their kernel side with net_af_packet, injects bursts and forwards back what comes out:
//
//   peer af_packet 0 -> kernel pbtap0 -> DUT net_tap 0 -> DUT net_tap 1 -> kernel pbtap1 -> peer af_packet 1 -> ...
//
// Both DUTs make one read or write syscall per frame (a tap file has no batched I/O), so the ratio compares what
// each spends around those syscalls. The taps are made by the DUT at probe and deleted when it closes them.
import { softLoopBench } from '../softloop.js';
import type { BenchOpts, BenchResult } from '../common.js';

const TAPS = ['pbtap0', 'pbtap1'] as const;

export function describe(_o: BenchOpts, r: BenchResult): string {
  const vs = r.dpdkMpps !== null ? `, testpmd net_tap ${r.dpdkMpps.toFixed(3)} Mpps, ratio ${r.ratio!.toFixed(2)}` : '';
  return `tap loop: pktio l2fwd ${r.mpps?.toFixed(3)} Mpps${vs}`;
}

export async function run(o: BenchOpts): Promise<BenchResult> {
  return softLoopBench('tap', {
    pktioVdevs: [`net_tap0,iface=${TAPS[0]}`, `net_tap1,iface=${TAPS[1]}`],
    testpmdVdevs: [`net_tap0,iface=${TAPS[0]}`, `net_tap1,iface=${TAPS[1]}`],
    peerVdevs: [`net_af_packet0,iface=${TAPS[0]}`, `net_af_packet1,iface=${TAPS[1]}`],
  }, o);
}
