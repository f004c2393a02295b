// IEEE 1588 on net_igb against the simulated 82576 (test/helpers/igb-sim.ts), extended here with the time sync
// block as QEMU 10's igb models it (hw/net/igb_core.c, e1000x_common.c):
// - SYSTIM = timadj + clock * IV / (IP * 16), read through SYSTIML (which latches SYSTIMH); writes to SYSTIML/H
//   change nothing (QEMU moves the clock only through TIMINCA and TIMADJ);
// - RX: a frame whose EtherType matches an enabled ETQF filter gets pkt_info (ETQF | index) << 4; with the filter's
//   1588 bit, TSYNCRXCTL.EN, no time latched, PTP version 2 and a first byte equal to TSYNCRXCFG.MSGT, RXSTMP
//   latches, VALID is set and the write-back carries TS (bit 16); reading RXSATRH frees the latch;
// - TX: a packet whose data descriptor has MAC_TSTAMP, with TSYNCTXCTL.EN and no time latched, latches TXSTMP and
//   sets VALID; reading TXSTMPH frees it.
// The test clock is a number the test moves, so every time is checked exactly.
import t from 'tap';
import { ealInit, ealCleanup, mem } from '../src/eal/index.js';
import {
  pktmbufPoolCreate, pktmbufAllocBulk, pktmbufFreeBulk, writeData, append, olFlags, setOlFlags, packetType,
  setVlanTci, RX_IEEE1588_PTP, RX_IEEE1588_TMST, TX_IEEE1588_TMST, TX_VLAN, PTYPE_L2_ETHER, PTYPE_L2_ETHER_TIMESYNC,
  type Mempool,
} from '../src/mempool/mbuf.js';
import {
  ethDevAllocate, devConfigure, rxQueueSetup, txQueueSetup, devStart, devStop, devClose, rxBurst, txBurst, devProbe,
} from '../src/ethdev/ethdev.js';
import {
  timesyncEnable, timesyncDisable, timesyncReadRxTimestamp, timesyncReadTxTimestamp, timesyncReadTime,
  timesyncWriteTime, timesyncAdjustTime, timesyncClockOffset,
} from '../src/ethdev/timesync.js';
import { TX_OFFLOAD_VLAN_INSERT } from '../src/pmd/driver.js';
import { pmd as igbPmd } from '../src/pmd/intel/igb/igb.js';
import * as R from '../src/pmd/intel/igb/regs.js';
import { setPciAccessProvider, type PciDeviceAccess } from '../src/pmd/pci/access.js';
import type { Vfio } from '../src/vfio/index.js';
import { IgbSim } from './helpers/igb-sim.js';
import type { DeliverOpts, SentFrame } from './helpers/intel-sim.js';

const BDF = '0000:00:05.0';
const NB = 64;
const MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x57];

/** The 82576 with QEMU's time sync block; `clock` is QEMU's virtual clock in ns. */
class TimesyncSim extends IgbSim {
  clock = 5_000_000_000n;
  /** free the RX latch on RXSTMPH as the datasheet says (QEMU frees it on RXSATRH) */
  datasheetRx = false;
  private timadj = 0n;

  private systim(): bigint {
    const inca = this.get(R.TIMINCA);
    const iv = BigInt(inca & 0xffffff);
    const ip = BigInt(Math.max(inca >>> 24, 1));
    return BigInt.asUintN(64, this.timadj + (this.clock * iv) / (ip * 16n));
  }

  private latch(lo: number, hi: number): void {
    const v = this.systim();
    this.set(lo, Number(v & 0xffffffffn));
    this.set(hi, Number(v >> 32n));
  }

  override access(bdf: string): PciDeviceAccess {
    const a = super.access(bdf);
    const base = a.mmioHook!;
    return {
      ...a,
      mmioHook: {
        read: (off, v) => {
          if (off === R.SYSTIML) {
            this.latch(R.SYSTIML, R.SYSTIMH);
            v = this.get(R.SYSTIML);
          }
          if (off === R.TXSTMPH) this.set(R.TSYNCTXCTL, this.get(R.TSYNCTXCTL) & ~R.TSYNC_VALID);
          if (off === (this.datasheetRx ? R.RXSTMPH : R.RXSATRH)) this.set(R.TSYNCRXCTL, this.get(R.TSYNCRXCTL) & ~R.TSYNC_VALID);
          return base.read(off, v);
        },
        write: (off, v) => {
          if (off === R.TIMINCA) {
            // keep SYSTIM continuous across the change
            const before = this.systim();
            base.write(off, v);
            this.set(R.TIMINCA, v);
            this.timadj += before - this.systim();
            return;
          }
          base.write(off, v);
        },
      },
    };
  }

  /** The ETQF filter a frame matches, or -1. */
  private etqf(f: ArrayLike<number>): number {
    const type = (f[12] << 8) | f[13];
    for (let n = 0; n < 8; n++) {
      const q = this.get(R.ETQF(n));
      if ((q & R.ETQF_FILTER_ENABLE) !== 0 && (q & 0xffff) === type) return n;
    }
    return -1;
  }

  override deliver(frame: ArrayLike<number>, opts: DeliverOpts = {}, q = 0): boolean {
    const n = this.etqf(frame);
    if (n < 0) return super.deliver(frame, opts, q);
    const o = { ...opts, w0: ((opts.w0 ?? 0) & 0xf) | ((0x800 | n) << 4) };
    const rxctl = this.get(R.TSYNCRXCTL);
    if ((this.get(R.ETQF(n)) & R.ETQF_1588) !== 0 && (rxctl & R.TSYNC_EN) !== 0 && (rxctl & R.TSYNC_VALID) === 0 &&
      (frame[15] & 15) === 2 && frame[14] === ((this.get(R.TSYNCRXCFG) >>> 8) & 0xff)) {
      this.latch(R.RXSTMPL, R.RXSTMPH);
      this.set(R.TSYNCRXCTL, rxctl | R.TSYNC_VALID);
      o.status = ((o.status ?? 0) | R.RXD_STAT_TS) >>> 0;
    }
    return super.deliver(frame, o, q);
  }

  /** Sends one descriptor at a time, latching TXSTMP for a data descriptor with MAC_TSTAMP (QEMU: the packet's first). */
  override stepTx(q = 0, max = 1 << 30): SentFrame[] {
    const out: SentFrame[] = [];
    const r = mem();
    for (let n = 0; n < max && this.get(R.TDH(q)) !== this.get(R.TDT(q)); n++) {
      const w2 = r.u32[this.txDesc(q, this.get(R.TDH(q))) + 2];
      const txctl = this.get(R.TSYNCTXCTL);
      if ((w2 & (0xf << 20)) === R.TXD_DTYP_DATA && (w2 & R.TXD_MAC_TSTAMP) !== 0 && (txctl & R.TSYNC_EN) !== 0 &&
        (txctl & R.TSYNC_VALID) === 0) {
        this.latch(R.TXSTMPL, R.TXSTMPH);
        this.set(R.TSYNCTXCTL, txctl | R.TSYNC_VALID);
      }
      out.push(...super.stepTx(q, 1));
    }
    return out;
  }
}

/** A PTP version 2 message over Ethernet (EtherType 0x88F7): type 0 Sync, 1 Delay_Req. */
function ptpFrame(dst: number[], type: number, seq: number): Uint8Array {
  const f = new Uint8Array(14 + 44);
  f.set(dst, 0);
  f.set([0x02, 0, 0, 0, 0, 1], 6);
  f.set([0x88, 0xf7], 12);
  f[14] = type; // transportSpecific 0 | messageType
  f[15] = 2; // versionPTP
  f[16] = 0;
  f[17] = 44; // messageLength
  f[44] = seq >> 8; // sequenceId
  f[45] = seq & 0xff;
  return f;
}

t.test('igb IEEE 1588 on a simulated 82576 (QEMU 10 time sync model)', async (t) => {
  await ealInit(['--no-huge', '-m', '64', '-l', '0']);
  t.teardown(ealCleanup);
  const pool: Mempool = pktmbufPoolCreate('ts_pool', 1023, 32);
  const sim = new TimesyncSim('igb_ts_bar', { mac: MAC, autonegMs: 1 });
  setPciAccessProvider((bdf) => sim.access(bdf));
  t.teardown(() => setPciAccessProvider(null));
  const port = ethDevAllocate(BDF, igbPmd.probePci!(BDF, null as unknown as Vfio), igbPmd);
  devConfigure(port, 1, 1, { txmode: { offloads: TX_OFFLOAD_VLAN_INSERT } });
  rxQueueSetup(port, 0, NB, 0, null, pool);
  txQueueSetup(port, 0, NB, 0, null);
  devStart(port);
  sim.linkUpNow();

  const mb = new Uint32Array(32);
  const mk = (bytes: Uint8Array, ol = 0): number => {
    const m = new Uint32Array(1);
    if (!pktmbufAllocBulk(pool, m, 1, 0)) throw new Error('pool empty');
    append(m[0], bytes.length);
    writeData(m[0], bytes);
    setOlFlags(m[0], ol);
    return m[0];
  };
  /** receives one frame; returns [ol_flags, packet_type] */
  const recv = (tt: Tap.Test, f: Uint8Array): [number, number] => {
    tt.ok(sim.receive(f), 'delivered');
    const k = rxBurst(port, 0, mb, 32);
    tt.equal(k, 1, 'one frame received');
    const res: [number, number] = [olFlags(mb[0]), packetType(mb[0])];
    pktmbufFreeBulk(mb, k, 0);
    return res;
  };

  t.test('before timesyncEnable: one line saying what to call', async (t) => {
    t.throws(() => timesyncReadTime(port), { message: /timesyncReadTime needs timesyncEnable\(port\) first/ });
    t.throws(() => timesyncReadTxTimestamp(port), { message: /needs timesyncEnable/ });
  });

  t.test('enable: clock counting ns, ETQF 3 for 0x88F7 with its 1588 bit, RX and TX stamping on', async (t) => {
    timesyncEnable(port);
    t.equal(sim.get(R.TIMINCA), 0x01000010, 'TIMINCA: 16 every 16 ns');
    t.equal(sim.get(R.ETQF(3)), (0x88f7 | R.ETQF_FILTER_ENABLE | R.ETQF_1588) >>> 0, 'ETQF(3)');
    t.equal(sim.get(R.TSYNCRXCTL) & (R.TSYNC_EN | R.TSYNCRXCTL_TYPE_MASK), R.TSYNC_EN, 'TSYNCRXCTL: EN, type L2 V2');
    t.equal(sim.get(R.TSYNCTXCTL) & R.TSYNC_EN, R.TSYNC_EN, 'TSYNCTXCTL: EN');
    t.equal(sim.get(R.TSYNCRXCFG), 0, 'TSYNCRXCFG.MSGT 0: Sync messages');
    t.equal(timesyncReadTime(port), 0n, 'the clock starts at 0');
    sim.clock += 1234n;
    t.equal(timesyncReadTime(port), 1234n, 'and counts nanoseconds');
  });

  t.test('write and adjust the clock', async (t) => {
    const T = 1_764_000_000_123_456_789n; // beyond 2^53: a PTP time
    timesyncWriteTime(port, T);
    t.equal(timesyncReadTime(port), T, 'written time read back exactly');
    sim.clock += 500n;
    t.equal(timesyncReadTime(port), T + 500n);
    timesyncAdjustTime(port, -200n);
    t.equal(timesyncReadTime(port), T + 300n, 'adjusted back 200 ns');
    timesyncAdjustTime(port, 1000);
    t.equal(timesyncReadTime(port), T + 1300n, 'adjusted by a number');
    t.throws(() => timesyncWriteTime(port, -1n), { message: /bigint in 0\.\.2\^64-1/ });
    t.throws(() => timesyncAdjustTime(port, 1.5), { message: /whole nanoseconds/ });
    t.same(timesyncClockOffset(port, port), { offsetNs: 0n, errorNs: 0n }, 'a port against itself, clock still: offset 0 +- 0');
    timesyncWriteTime(port, 0n);
  });

  t.test('RX: a Sync frame is stamped, flags set; the latch holds until read', async (t) => {
    const base = timesyncReadTime(port);
    sim.clock += 10_000n;
    const [ol, pt] = recv(t, ptpFrame(MAC, 0, 1));
    t.equal(ol & (RX_IEEE1588_PTP | RX_IEEE1588_TMST), RX_IEEE1588_PTP | RX_IEEE1588_TMST, 'RX_IEEE1588_PTP and _TMST');
    t.equal(pt, PTYPE_L2_ETHER_TIMESYNC, 'packet type L2_ETHER_TIMESYNC');
    sim.clock += 777n;
    const [ol2, pt2] = recv(t, ptpFrame(MAC, 0, 2));
    t.equal(ol2 & RX_IEEE1588_TMST, 0, 'the next Sync is not stamped while the latch is full');
    t.equal(pt2, PTYPE_L2_ETHER_TIMESYNC);
    t.equal(timesyncReadRxTimestamp(port), base + 10_000n, 'the first frame\'s receive time, exactly');
    t.equal(timesyncReadRxTimestamp(port), null, 'latch empty: null');
    sim.clock += 1n;
    const [ol3] = recv(t, ptpFrame(MAC, 0, 3));
    t.ok(ol3 & RX_IEEE1588_TMST, 'stamped again once read');
    t.equal(timesyncReadRxTimestamp(port, 0), base + 10_778n);
    const [ol4, pt4] = recv(t, ptpFrame(MAC, 1, 4));
    t.equal(ol4 & (RX_IEEE1588_PTP | RX_IEEE1588_TMST), 0, 'a Delay_Req is not stamped (TSYNCRXCFG.MSGT is Sync)');
    t.equal(pt4, PTYPE_L2_ETHER_TIMESYNC, 'but is a PTP frame by its EtherType filter');
    const plain = ptpFrame(MAC, 0, 5);
    plain[12] = 0x88;
    plain[13] = 0xb5;
    const [ol5, pt5] = recv(t, plain);
    t.equal(ol5, 0, 'another EtherType: no flags');
    t.equal(pt5, PTYPE_L2_ETHER);
    t.equal(timesyncReadRxTimestamp(port), null);
  });

  t.test('RX latch freed by RXSTMPH (the datasheet) as well as by RXSATRH (QEMU)', async (t) => {
    sim.datasheetRx = true;
    const base = timesyncReadTime(port);
    recv(t, ptpFrame(MAC, 0, 20));
    t.equal(timesyncReadRxTimestamp(port), base, 'read');
    t.equal(timesyncReadRxTimestamp(port), null, 'freed');
    sim.clock += 9n;
    const [ol] = recv(t, ptpFrame(MAC, 0, 21));
    t.ok(ol & RX_IEEE1588_TMST, 'the next frame is stamped');
    t.equal(timesyncReadRxTimestamp(port), base + 9n);
    sim.datasheetRx = false;
  });

  t.test('TX: TX_IEEE1588_TMST sets MAC_TSTAMP; the time latches when the NIC sends it', async (t) => {
    const r = mem();
    const tail = sim.get(R.TDT(0));
    mb[0] = mk(ptpFrame([1, 0x1b, 0x19, 0, 0, 0], 0, 7), TX_IEEE1588_TMST);
    mb[1] = mk(ptpFrame([1, 0x1b, 0x19, 0, 0, 0], 0, 8));
    t.equal(txBurst(port, 0, mb, 2, 0), 2);
    t.ok(r.u32[sim.txDesc(0, tail) + 2] & R.TXD_MAC_TSTAMP, 'MAC_TSTAMP on the stamped frame');
    t.equal(r.u32[sim.txDesc(0, tail + 1) + 2] & R.TXD_MAC_TSTAMP, 0, 'not on the other (fast path)');
    t.equal(timesyncReadTxTimestamp(port), null, 'nothing latched before the NIC sent it');
    const at = timesyncReadTime(port) + 5000n;
    sim.clock += 5000n;
    t.equal(sim.stepTx(0).length, 2);
    t.equal(timesyncReadTxTimestamp(port), at, 'its transmit time, exactly');
    t.equal(timesyncReadTxTimestamp(port), null, 'read once');
    // with a VLAN tag: through a context descriptor, the timestamp bit still on the data descriptor
    mb[0] = mk(ptpFrame([1, 0x1b, 0x19, 0, 0, 0], 0, 9), TX_IEEE1588_TMST | TX_VLAN);
    setVlanTci(mb[0], 7);
    const t2 = sim.get(R.TDT(0));
    t.equal(txBurst(port, 0, mb, 1, 0), 1);
    t.ok(r.u32[sim.txDesc(0, (t2 + 1) % NB) + 2] & R.TXD_MAC_TSTAMP, 'MAC_TSTAMP on the data descriptor after the context');
    sim.clock += 3n;
    const at2 = timesyncReadTime(port);
    const sent = sim.stepTx(0);
    t.equal(sent[0].vlan, 7, 'tag inserted');
    t.equal(timesyncReadTxTimestamp(port), at2);
  });

  t.test('RX minus TX of a frame looped from TX to RX: the wire time', async (t) => {
    mb[0] = mk(ptpFrame(MAC, 0, 10), TX_IEEE1588_TMST);
    t.equal(txBurst(port, 0, mb, 1, 0), 1);
    sim.clock += 100n;
    const [f] = sim.stepTx(0);
    sim.clock += 672n; // 84 bytes at 1 Gbit/s
    const [ol] = recv(t, f.bytes);
    t.ok(ol & RX_IEEE1588_TMST);
    const tx = timesyncReadTxTimestamp(port)!;
    const rx = timesyncReadRxTimestamp(port)!;
    t.equal(rx - tx, 672n, 'rx - tx');
  });

  t.test('disable: stamping off, filter cleared, clock stopped; a port without timesync says so', async (t) => {
    timesyncDisable(port);
    t.equal(sim.get(R.ETQF(3)), 0);
    t.equal(sim.get(R.TSYNCRXCTL) & R.TSYNC_EN, 0);
    t.equal(sim.get(R.TSYNCTXCTL) & R.TSYNC_EN, 0);
    t.equal(sim.get(R.TIMINCA), 0);
    t.throws(() => timesyncReadTime(port), { message: /needs timesyncEnable/ });
    const [ol] = recv(t, ptpFrame(MAC, 0, 11));
    t.equal(ol & RX_IEEE1588_TMST, 0, 'no stamp when disabled');
    const nul = await devProbe('net_null0');
    t.throws(() => timesyncEnable(nul), {
      message: /^port \d+: timesyncEnable is not supported by net_null: hardware timestamps need a NIC with IEEE 1588 support \(net_igb, net_ixgbe on an 82599 or X540\); use software timestamps on this port$/,
    });
    t.throws(() => timesyncReadTime(99), { message: /invalid port 99/ });
    devClose(nul);
  });

  t.test('stop returns every mbuf', async (t) => {
    devStop(port);
    t.equal(pool.inUseCount(), 0);
    devClose(port);
  });
});
