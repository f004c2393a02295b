// IEEE 1588 on net_ixgbe against the simulated 82599 / X540 / X550 (test/helpers/ixgbe-sim.ts), extended here with
// the time sync registers as the datasheets describe them: SYSTIM a raw 64-bit counter the test sets (reading
// SYSTIML latches SYSTIMH), RX and TX latches the test fills (VALID set; reading RXSTMPH / TXSTMPH frees them).
// What is checked: TIMINCA per family and link speed as DPDK programs it, the 1588 EtherType filter and the enables,
// SYSTIM's fraction bits and its wrap (69 s on the X540) turned into a continuous ns clock, the latches, MAC_TSTAMP
// on a stamped frame's descriptor, the X550 refused. No real 10 GbE NIC was available: untested on hardware.
import t from 'tap';
import { ealInit, ealCleanup, mem } from '../src/eal/index.js';
import { pktmbufPoolCreate, pktmbufAllocBulk, append, writeData, setOlFlags, TX_IEEE1588_TMST, type Mempool } from '../src/mempool/mbuf.js';
import { ethDevAllocate, devConfigure, rxQueueSetup, txQueueSetup, devStart, devClose, txBurst } from '../src/ethdev/ethdev.js';
import {
  timesyncEnable, timesyncDisable, timesyncReadRxTimestamp, timesyncReadTxTimestamp, timesyncReadTime, timesyncWriteTime,
} from '../src/ethdev/timesync.js';
import { setPciAccessProvider } from '../src/pmd/pci/access.js';
import { pmd } from '../src/pmd/intel/ixgbe/ixgbe.js';
import { TX_ADVANCED_IXGBE, RX_ADVANCED_IXGBE } from '../src/pmd/intel/common/codec.js';
import * as R from '../src/pmd/intel/ixgbe/regs.js';
import type { Vfio } from '../src/vfio/index.js';
import { IxgbeSim, type SimOptions } from './helpers/ixgbe-sim.js';

/** The simulated NIC with its time sync registers: `raw` is SYSTIM. */
class TsSim extends IxgbeSim {
  raw = 0n;
  private hiLatch = 0;

  constructor(o: SimOptions) {
    super(o);
  }

  /** Fills a latch as the NIC does when it stamps a frame. */
  latch(ctl: number, lo: number, hi: number, raw: bigint): void {
    this.poke(lo, Number(raw & 0xffffffffn));
    this.poke(hi, Number(raw >> 32n));
    this.poke(ctl, this.peek(ctl) | R.TSYNC_VALID);
  }

  override mmioRead(off: number): number {
    if (off === R.SYSTIML) {
      this.hiLatch = Number(BigInt.asUintN(64, this.raw) >> 32n);
      return Number(BigInt.asUintN(64, this.raw) & 0xffffffffn);
    }
    if (off === R.SYSTIMH) return this.hiLatch;
    const v = super.mmioRead(off);
    if (off === R.RXSTMPH) this.poke(R.TSYNCRXCTL, this.peek(R.TSYNCRXCTL) & ~R.TSYNC_VALID);
    if (off === R.TXSTMPH) this.poke(R.TSYNCTXCTL, this.peek(R.TSYNCTXCTL) & ~R.TSYNC_VALID);
    return v;
  }
}

t.test('ixgbe IEEE 1588 on simulated 82599 / X540 / X550 register files', async (t) => {
  await ealInit(['--no-huge', '-m', '160', '-l', '0']);
  t.teardown(ealCleanup);
  const pool: Mempool = pktmbufPoolCreate('ixts_pool', 1023, 32);
  const sims = new Map<string, TsSim>();
  setPciAccessProvider((bdf) => sims.get(bdf)!.access(bdf));
  t.teardown(() => setPciAccessProvider(null));
  let n = 0;
  const open = (deviceId: number, linkSpeed: number): { sim: TsSim; port: number } => {
    const bdf = `0000:07:00.${n++}`;
    const sim = new TsSim({ deviceId, linkSpeed, linkDelayMs: 0, mac: [0x52, 0x54, 0, 0x77, 0, n] });
    sims.set(bdf, sim);
    const port = ethDevAllocate(bdf, pmd.probePci!(bdf, null as unknown as Vfio), pmd);
    sim.setLink(true, linkSpeed);
    return { sim, port };
  };

  t.test('descriptor bits: TS (RX status 16) and MAC_TSTAMP (TX cmd_type_len 19), IXGBE_RXDADV_STAT_TS / ADVTXD_MAC_TSTAMP', async (t) => {
    t.equal(RX_ADVANCED_IXGBE.TS, 0x10000);
    t.equal(TX_ADVANCED_IXGBE.TSTAMP, 0x80000);
  });

  t.test('82599 at 10 Gb/s: TIMINCA, filter, enables; SYSTIM in 2^-21 ns; latches; MAC_TSTAMP on the descriptor', async (t) => {
    const { sim, port } = open(0x10fb, 10000);
    sim.raw = 123456789n;
    timesyncEnable(port);
    t.equal(sim.peek(R.TIMINCA), 0x01cccccc, 'TIMINCA: period 1, 0x66666666 >> 7 (DPDK\'s 82599 value at 10 Gb/s)');
    t.equal(sim.peek(R.ETQF(3)), 0xc00088f7, 'ETQF(3): 0x88F7, 1588, enabled');
    t.equal(sim.peek(R.TSYNCRXCTL) & (R.TSYNC_EN | R.TSYNCRXCTL_TYPE_MASK), R.TSYNC_EN, 'TSYNCRXCTL: EN, L2 V2');
    t.equal(sim.peek(R.TSYNCTXCTL) & R.TSYNC_EN, R.TSYNC_EN, 'TSYNCTXCTL: EN');
    t.equal(sim.peek(R.RXMTRL), 0, 'RXMTRL 0: Sync');
    const base = sim.raw;
    t.equal(timesyncReadTime(port), 0n, 'starts at 0');
    sim.raw = base + (1000n << 21n) + 12345n; // 1000 ns and a fraction
    t.equal(timesyncReadTime(port), 1000n, '2^21 raw units per ns, the fraction dropped');
    sim.latch(R.TSYNCRXCTL, R.RXSTMPL, R.RXSTMPH, base + (900n << 21n));
    t.equal(timesyncReadRxTimestamp(port), 900n, 'RX latch');
    t.equal(timesyncReadRxTimestamp(port), null, 'freed by reading RXSTMPH');
    sim.latch(R.TSYNCTXCTL, R.TXSTMPL, R.TXSTMPH, base + (950n << 21n));
    t.equal(timesyncReadTxTimestamp(port), 950n, 'TX latch');
    t.equal(timesyncReadTxTimestamp(port), null, 'freed by reading TXSTMPH');
    devConfigure(port, 1, 1);
    rxQueueSetup(port, 0, 64, 0, null, pool);
    txQueueSetup(port, 0, 64, 0, null);
    devStart(port);
    sim.autoTx = false;
    const m = new Uint32Array(2);
    t.ok(pktmbufAllocBulk(pool, m, 2, 0));
    for (const x of m) {
      append(x, 60);
      writeData(x, new Uint8Array(60).fill(7));
    }
    setOlFlags(m[0], TX_IEEE1588_TMST);
    t.equal(txBurst(port, 0, m, 2, 0), 2);
    const ring = sim.iovaToOff(sim.peek(R.TDBAH(0)) * 4294967296 + sim.peek(R.TDBAL(0)), 64 * 16) >> 2;
    const u32 = mem().u32;
    t.ok(u32[ring + 2] & R.TXD_MAC_TSTAMP, 'MAC_TSTAMP on the stamped frame');
    t.equal(u32[ring + 4 + 2] & R.TXD_MAC_TSTAMP, 0, 'not on the other');
    sim.stepTx(0);
    timesyncDisable(port);
    t.equal(sim.peek(R.ETQF(3)), 0, 'disable: filter cleared');
    t.equal(sim.peek(R.TIMINCA), 0, 'clock stopped');
    t.equal(sim.peek(R.TSYNCRXCTL) & R.TSYNC_EN, 0);
    t.equal(sim.peek(R.TSYNCTXCTL) & R.TSYNC_EN, 0);
    devClose(port);
    t.same(sim.violations, [], 'no datasheet precondition broken');
    sim.release();
  });

  t.test('X540 at 10 Gb/s: TIMINCA 0x66666666, 2^-28 ns units, the 69-second wrap counted', async (t) => {
    const { sim, port } = open(0x1528, 10000);
    sim.raw = (1n << 64n) - (100n << 28n); // 100 ns before SYSTIM wraps
    timesyncEnable(port);
    t.equal(sim.peek(R.TIMINCA), 0x66666666);
    const T = 1_764_000_000_000_000_000n;
    timesyncWriteTime(port, T);
    sim.raw = 50n << 28n; // wrapped: 150 ns later
    t.equal(timesyncReadTime(port), T + 150n, 'continues across the wrap');
    sim.latch(R.TSYNCRXCTL, R.RXSTMPL, R.RXSTMPH, (1n << 64n) - (10n << 28n)); // stamped before the wrap
    t.equal(timesyncReadRxTimestamp(port), T + 90n, 'a time latched before the wrap stays before it');
    devClose(port);
    sim.release();
  });

  t.test('X540 at 1 Gb/s: TIMINCA 0x40000000, 2^-24 ns units', async (t) => {
    const { sim, port } = open(0x1528, 1000);
    timesyncEnable(port);
    t.equal(sim.peek(R.TIMINCA), 0x40000000);
    sim.raw += 7n << 24n;
    t.equal(timesyncReadTime(port), 7n);
    devClose(port);
    sim.release();
  });

  t.test('X550: refused in one line', async (t) => {
    const { sim, port } = open(0x1563, 10000);
    t.throws(() => timesyncEnable(port), { message: /timesyncEnable is not supported by net_ixgbe on the X550-T \(its SYSTIM counts seconds and nanoseconds/ });
    devClose(port);
    sim.release();
  });
  t.equal(pool.inUseCount(), 0, 'every mbuf back');
});
