// A simulated 82574 for host tests, on the shared Intel NIC model (intel-sim.ts): two queues, extended RX
// write-back, legacy TX, 2048-byte buffers, and the counters the driver reads. Registers are plain memory (no
// clear-on-read, no self-clearing bits), which the driver must tolerate.
import { IntelSim, spyDoorbells as spy, type SimLayout, type DeliverOpts } from './intel-sim.js';
import * as R from '../../src/pmd/intel/e1000e/regs.js';

export const BAR_LEN = 128 * 1024;

/** Extended write-back error bits (82574 7.1.5.2): CRC error, and the checksum errors. */
export const ERR_CE = 1 << 24;
export const ERR_TCPE = 1 << 29;
export const ERR_IPE = 1 << 30;
export const ST_UDPCS = 1 << 4;
export const ST_TCPCS = 1 << 5;
export const ST_IPCS = 1 << 6;

const LAYOUT: SimLayout = {
  barLen: BAR_LEN,
  vendorId: 0x8086,
  deviceId: 0x10d3,
  rx: (q) => ({ bal: R.RDBAL(q), bah: R.RDBAH(q), len: R.RDLEN(q), head: R.RDH(q), tail: R.RDT(q) }),
  tx: (q) => ({ bal: R.TDBAL(q), bah: R.TDBAH(q), len: R.TDLEN(q), head: R.TDH(q), tail: R.TDT(q) }),
  rxEnabled: (sim) => (sim.get(R.RCTL) & R.RCTL_EN) !== 0,
  txEnabled: (sim) => (sim.get(R.TCTL) & R.TCTL_EN) !== 0,
  rxBufSize: () => 2048,
  txFormat: 'legacy',
  onRx(sim, frame, opts: DeliverOpts) {
    if (((opts.status ?? 0) & ERR_CE) === 0) {
      sim.add(R.GPRC, 1);
      sim.add(R.GORCL, frame.length + 4);
    } else {
      sim.add(R.CRCERRS, 1);
    }
  },
  onMissed: (sim) => sim.add(R.MPC, 1),
  clearOnRead: (off) => off >= R.STATS_START && off <= R.STATS_END,
  onWrite(sim, off, v) {
    if (off === R.CTRL && (v & R.CTRL_RST) !== 0) {
      sim.resets++;
      sim.set(R.CTRL, v & ~R.CTRL_RST); // self-clearing
    }
  },
  onTx(sim, frame) {
    sim.add(R.GPTC, 1);
    sim.add(R.GOTCL, frame.length + 4);
  },
};

export class E1000eSim extends IntelSim {
  constructor(name = 'e1k_sim_bar', mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]) {
    super(name, LAYOUT);
    this.set(R.STATUS, R.STATUS_LU | R.STATUS_FD | (2 << R.STATUS_SPEED_SHIFT));
    this.set(R.EECD, R.EECD_AUTO_RD);
    this.set(R.RAL0, mac[0] | (mac[1] << 8) | (mac[2] << 16) | (mac[3] << 24));
    this.set(R.RAH0, mac[4] | (mac[5] << 8) | R.RAH_AV);
  }
}

export function spyDoorbells(): ReturnType<typeof spy> {
  return spy(BAR_LEN);
}
