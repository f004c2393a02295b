// IEEE 1588 time synchronisation of a port (DPDK's rte_eth_timesync_*, in camelCase): the NIC's clock, and the
// times it latches for one received and one sent PTP frame at a time.
//
// How an application uses it (DPDK's examples/ptpclient does the same):
//   timesyncEnable(port)                         clock running, PTP frames (EtherType 0x88F7) recognised
//   received mbuf with RX_IEEE1588_TMST set  ->  timesyncReadRxTimestamp(port)  its receive time
//   sent mbuf with TX_IEEE1588_TMST          ->  timesyncReadTxTimestamp(port)  its transmit time, once it is out
//                                                (null until the NIC has sent it: poll a few times)
//   timesyncReadTime / WriteTime / AdjustTime    the clock itself
//
// Main lcore only, as every control call of ethdev: the latch registers free on being read, so one thread must own
// them (two readers would each get half a timestamp). An lcore that receives or sends a stamped frame hands the
// fact to the main lcore (a ring, a shared counter); the latch waits, since the NIC stamps no other frame until it
// is read.
//
// Times are bigint nanoseconds: the port's clock is a 64-bit counter, and a PTP time (TAI since 1970, about 1.7e18
// ns) is beyond a double's 53 bits (9.0e15 ns, 104 days), where it would round to 256 ns. These are control calls,
// one BigInt each, never on the packet path. "None latched" is null, where DPDK returns -EINVAL.
import { isMainThread } from 'node:worker_threads';
import { portOp, EthdevError } from './ethdev.js';
import type { EthDevOps } from '../pmd/driver.js';

type TimesyncOp = 'timesyncEnable' | 'timesyncDisable' | 'timesyncReadRxTimestamp' | 'timesyncReadTxTimestamp' |
  'timesyncReadTime' | 'timesyncWriteTime' | 'timesyncAdjustTime';

/** The driver's op, on the main lcore; a port without it gets one line saying so (DPDK: -ENOTSUP). */
function tsOp<K extends TimesyncOp>(port: number, name: K): NonNullable<EthDevOps[K]> {
  if (!isMainThread) throw new EthdevError(`${name} runs on the main lcore only`);
  try {
    return portOp(port, name);
  } catch (e) {
    const msg = (e as Error).message;
    if (!msg.includes('not supported')) throw e;
    throw new EthdevError(`${msg}: hardware timestamps need a NIC with IEEE 1588 support (net_igb, net_ixgbe on an 82599 or X540); use software timestamps on this port`);
  }
}

/** Starts the port's clock and timestamping of PTP frames (rte_eth_timesync_enable). The clock starts near 0. */
export function timesyncEnable(port: number): void {
  tsOp(port, 'timesyncEnable')();
}

/** Stops timestamping and the clock (rte_eth_timesync_disable). */
export function timesyncDisable(port: number): void {
  tsOp(port, 'timesyncDisable')();
}

/**
 * The receive time of the last PTP frame the port stamped (an mbuf with RX_IEEE1588_TMST), in ns of the port's
 * clock; null when none is latched (rte_eth_timesync_read_rx_timestamp). Reading frees the latch for the next
 * frame. `flags` is passed to the driver (DPDK's i40e reads a latch index from it; igb ignores it).
 */
export function timesyncReadRxTimestamp(port: number, flags = 0): bigint | null {
  return tsOp(port, 'timesyncReadRxTimestamp')(flags);
}

/**
 * The transmit time of the last frame sent with TX_IEEE1588_TMST, in ns of the port's clock; null while none is
 * latched (the frame may not be out yet) (rte_eth_timesync_read_tx_timestamp). Reading frees the latch.
 */
export function timesyncReadTxTimestamp(port: number): bigint | null {
  return tsOp(port, 'timesyncReadTxTimestamp')();
}

/** The port's clock now, in ns (rte_eth_timesync_read_time). */
export function timesyncReadTime(port: number): bigint {
  return tsOp(port, 'timesyncReadTime')();
}

/** Sets the port's clock to `ns` (rte_eth_timesync_write_time). */
export function timesyncWriteTime(port: number, ns: bigint): void {
  if (typeof ns !== 'bigint' || ns < 0n || ns >= 1n << 64n) {
    throw new EthdevError(`port ${port}: timesyncWriteTime(${String(ns)}): give a time in ns as a bigint in 0..2^64-1, e.g. BigInt(Date.now()) * 1000000n`);
  }
  tsOp(port, 'timesyncWriteTime')(ns);
}

/** Moves the port's clock by deltaNs (negative: back) (rte_eth_timesync_adjust_time). */
export function timesyncAdjustTime(port: number, deltaNs: bigint | number): void {
  if (typeof deltaNs === 'number' && !Number.isSafeInteger(deltaNs)) {
    throw new EthdevError(`port ${port}: timesyncAdjustTime(${deltaNs}): give whole nanoseconds (an integer or a bigint)`);
  }
  tsOp(port, 'timesyncAdjustTime')(BigInt(deltaNs));
}

/**
 * How far port b's clock is ahead of port a's (not a DPDK call; what a generator needs to subtract one port's TX
 * time from another's RX time). Reads a, b, a `rounds` times and keeps the round whose two reads of a are closest
 * together (register reads can stall, under a hypervisor by milliseconds): b's time minus the midpoint of a's, and
 * half that bracket as the error bound.
 */
export function timesyncClockOffset(a: number, b: number, rounds = 16): { offsetNs: bigint; errorNs: bigint } {
  let best: { offsetNs: bigint; errorNs: bigint } | null = null;
  for (let i = 0; i < rounds; i++) {
    const a1 = timesyncReadTime(a);
    const tb = timesyncReadTime(b);
    const a2 = timesyncReadTime(a);
    const err = (a2 - a1) / 2n;
    if (best === null || err < best.errorNs) best = { offsetNs: tb - (a1 + a2) / 2n, errorNs: err };
  }
  return best!;
}
