// net_e1000e: poll-mode driver for the Intel 82574L GbE controller (PCI 8086:10d3), the NIC QEMU emulates as
// "-device e1000e". One RX and one TX queue, legacy descriptors, 2048-byte buffers, CRC stripped, no offloads.
//
// Reference: Intel 82574 GbE Controller Family Datasheet (register names as there; see ./regs.ts for sections):
// 4.6 initialization (reset, link setup), 7.1 receive (legacy descriptors, RCTL), 7.2 transmit (TCTL, TIPG),
// 10.2.7 statistics (clear on read).
//
// Control half (this file, main lcore): reset, MAC, link, queue memory, start/stop, modes, statistics.
// Data half (./rxtx.ts, any lcore): rxBurst / txBurst over the descriptor rings and the BAR.
import * as ffi from '../../eal/ffi.js';
import { mem, memzoneReserve, memzoneLookup, memzoneFree } from '../../eal/memory.js';
import { log } from '../../eal/log.js';
import type { Mempool } from '../../mempool/mempool.js';
import { M, pktmbufFreeBulk } from '../../mempool/mbuf.js';
import type {
  EthDevOps, PmdInfo, DevInfo, EthConf, RxConf, TxConf, Link, HwStats, XStat,
} from '../driver.js';
import { pciAccess, type PciDeviceAccess } from './device.js';
import * as R from './regs.js';
import {
  E1000eRx, E1000eTx, RX_HEADROOM, RX_BUF_SIZE, TX_FREE_BATCH, STATE_BYTES, RXS_NEXT, RXS_DISCARD, TXS_TAIL,
  TXS_CLEAN, TXS_FREE, type E1000eRxSpec, type E1000eTxSpec,
} from './rxtx.js';

export const E1000E_DRIVER = 'net_e1000e';
export const E1000E_PCI_IDS = [{ vendor: 0x8086, device: 0x10d3 }];

const RING_MIN = 64; // >= 2 reclaim batches
const RING_MAX = 4096;
const RING_ALIGN = 8; // RDLEN / TDLEN: multiples of 128 bytes
const DEFAULT_RING = 512;
const DEFAULT_TX_FREE_THRESH = 32;
const LINK_WAIT_MS = 3000;
const CRC_LEN = 4;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

// Hardware statistics registers (clear on read), with the xstat names DPDK's Intel 1G drivers use.
// 64-bit counters list their low register; the high one follows at +4 and is read after it.
interface StatReg { reg: number; name: string; wide?: boolean }
const STAT_REGS: StatReg[] = [
  { reg: R.CRCERRS, name: 'rx_crc_errors' },
  { reg: R.ALGNERRC, name: 'rx_align_errors' },
  { reg: R.SYMERRS, name: 'rx_symbol_errors' },
  { reg: R.RXERRC, name: 'rx_receive_errors' },
  { reg: R.MPC, name: 'rx_missed_packets' },
  { reg: R.SCC, name: 'tx_single_collision_packets' },
  { reg: R.ECOL, name: 'tx_excessive_collision_packets' },
  { reg: R.MCC, name: 'tx_multiple_collision_packets' },
  { reg: R.LATECOL, name: 'tx_late_collisions' },
  { reg: R.COLC, name: 'tx_total_collisions' },
  { reg: R.DC, name: 'tx_deferred_packets' },
  { reg: R.TNCRS, name: 'tx_no_carrier_sense_packets' },
  { reg: R.CEXTERR, name: 'rx_carrier_ext_errors' },
  { reg: R.RLEC, name: 'rx_length_errors' },
  { reg: R.XONRXC, name: 'rx_xon_packets' },
  { reg: R.XONTXC, name: 'tx_xon_packets' },
  { reg: R.XOFFRXC, name: 'rx_xoff_packets' },
  { reg: R.XOFFTXC, name: 'tx_xoff_packets' },
  { reg: R.FCRUC, name: 'rx_flow_control_unsupported_packets' },
  { reg: R.PRC64, name: 'rx_size_64_packets' },
  { reg: R.PRC127, name: 'rx_size_65_to_127_packets' },
  { reg: R.PRC255, name: 'rx_size_128_to_255_packets' },
  { reg: R.PRC511, name: 'rx_size_256_to_511_packets' },
  { reg: R.PRC1023, name: 'rx_size_512_to_1023_packets' },
  { reg: R.PRC1522, name: 'rx_size_1024_to_max_packets' },
  { reg: R.GPRC, name: 'rx_good_packets_hw' },
  { reg: R.BPRC, name: 'rx_broadcast_packets' },
  { reg: R.MPRC, name: 'rx_multicast_packets' },
  { reg: R.GPTC, name: 'tx_good_packets_hw' },
  { reg: R.GORCL, name: 'rx_good_bytes_hw', wide: true },
  { reg: R.GOTCL, name: 'tx_good_bytes_hw', wide: true },
  { reg: R.RNBC, name: 'rx_no_buffer_count' },
  { reg: R.RUC, name: 'rx_undersize_errors' },
  { reg: R.RFC, name: 'rx_fragment_errors' },
  { reg: R.ROC, name: 'rx_oversize_errors' },
  { reg: R.RJC, name: 'rx_jabber_errors' },
  { reg: R.MGTPRC, name: 'rx_management_packets' },
  { reg: R.MGTPDC, name: 'rx_management_dropped' },
  { reg: R.MGTPTC, name: 'tx_management_packets' },
  { reg: R.TORL, name: 'rx_total_bytes', wide: true },
  { reg: R.TOTL, name: 'tx_total_bytes', wide: true },
  { reg: R.TPR, name: 'rx_total_packets' },
  { reg: R.TPT, name: 'tx_total_packets' },
  { reg: R.PTC64, name: 'tx_size_64_packets' },
  { reg: R.PTC127, name: 'tx_size_65_to_127_packets' },
  { reg: R.PTC255, name: 'tx_size_128_to_255_packets' },
  { reg: R.PTC511, name: 'tx_size_256_to_511_packets' },
  { reg: R.PTC1023, name: 'tx_size_512_to_1023_packets' },
  { reg: R.PTC1522, name: 'tx_size_1024_to_max_packets' },
  { reg: R.MPTC, name: 'tx_multicast_packets' },
  { reg: R.BPTC, name: 'tx_broadcast_packets' },
  { reg: R.TSCTC, name: 'tx_tso_packets' },
  { reg: R.TSCTFC, name: 'tx_tso_errors' },
  { reg: R.IAC, name: 'interrupt_assert_count' },
];
const STAT_INDEX = new Map(STAT_REGS.map((s, i) => [s.reg, i]));

interface RxSetup { nb: number; ring: string; sw: string; pool: Mempool; port: number }
interface TxSetup { nb: number; ring: string; sw: string; freeThresh: number }

export class E1000ePort implements EthDevOps {
  readonly driverName = E1000E_DRIVER;
  readonly hwCountsPackets = true;
  private readonly name: string;
  private readonly dev: PciDeviceAccess;
  private readonly bar: Int32Array;
  private readonly mac: Uint8Array;
  private readonly hw = new Float64Array(STAT_REGS.length);
  private rx: RxSetup | null = null;
  private tx: TxSetup | null = null;
  private started = false;
  private closed = false;
  private promisc = false;
  private allmulti = false;

  constructor(name: string, dev: PciDeviceAccess) {
    this.name = name;
    this.dev = dev;
    if (dev.bar0.len < 0x10000) throw new Error(`${E1000E_DRIVER} ${name}: BAR 0 is ${dev.bar0.len} bytes, the 82574 has 128 KiB`);
    this.bar = new Int32Array(ffi.view(dev.bar0.addr, dev.bar0.len));
    this.resetHw();
    this.mac = this.readMac();
    log('e1000e').info({ dev: name, mac: Array.from(this.mac, (b) => b.toString(16).padStart(2, '0')).join(':') }, 'e1000e probed');
  }

  // ---- register access (control path) ------------------------------------------------------------------------
  rd(off: number): number {
    return Atomics.load(this.bar, off >> 2) >>> 0;
  }

  wr(off: number, v: number): void {
    Atomics.store(this.bar, off >> 2, v | 0);
  }

  private live(): void {
    if (this.closed) throw new Error(`${E1000E_DRIVER} ${this.name}: the port is closed`);
  }

  /** Global reset (4.6.1 / 4.6.2): mask interrupts, quiesce DMA, CTRL.RST, mask again, clear ICR, link up. */
  private resetHw(): void {
    this.wr(R.IMC, 0xffffffff);
    this.wr(R.RCTL, 0);
    this.wr(R.TCTL, R.TCTL_PSP);
    this.rd(R.STATUS); // flush posted writes
    sleepMs(10); // let in-flight DMA finish
    // stop PCIe master requests before the reset (GIO master disable, then STATUS.GIO_MASTER_ENABLE clears)
    this.wr(R.CTRL, this.rd(R.CTRL) | R.CTRL_GIO_MASTER_DISABLE);
    for (let i = 0; i < 100 && (this.rd(R.STATUS) & R.STATUS_GIO_MASTER_ENABLE) !== 0; i++) sleepMs(1);
    this.wr(R.CTRL, this.rd(R.CTRL) | R.CTRL_RST);
    sleepMs(20); // RST self-clears within 1 ms; the NVM auto-load follows
    for (let i = 0; i < 10 && (this.rd(R.EECD) & R.EECD_AUTO_RD) === 0; i++) sleepMs(1);
    this.wr(R.IMC, 0xffffffff);
    this.rd(R.ICR);
    // link: let the PHY negotiate (no forced speed/duplex), set link up
    const ctrl = this.rd(R.CTRL) & ~(R.CTRL_RST | R.CTRL_PHY_RST | R.CTRL_FRCSPD | R.CTRL_FRCDPX | R.CTRL_GIO_MASTER_DISABLE);
    this.wr(R.CTRL, ctrl | R.CTRL_SLU);
    this.wr(R.RCTL, 0);
    this.wr(R.TCTL, R.TCTL_PSP);
    for (let i = 0; i < R.MTA_COUNT; i++) this.wr(R.MTA + i * 4, 0);
    this.readStats();
    this.hw.fill(0);
  }

  /** One NVM word through EERD; -1 on timeout. */
  private eerd(word: number): number {
    this.wr(R.EERD, (word << R.EERD_ADDR_SHIFT) | R.EERD_START);
    for (let i = 0; i < 100; i++) {
      const v = this.rd(R.EERD);
      if (v & R.EERD_DONE) return v >>> R.EERD_DATA_SHIFT;
      sleepMs(1);
    }
    return -1;
  }

  /** MAC address from RAL0/RAH0 (loaded from the NVM at reset); from the NVM itself when RAH0.AV is clear. */
  private readMac(): Uint8Array {
    const lo = this.rd(R.RAL0);
    const hi = this.rd(R.RAH0);
    const mac = Uint8Array.from([lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24, hi & 0xff, (hi >>> 8) & 0xff]);
    if ((hi & R.RAH_AV) !== 0 && mac.some((b) => b !== 0)) return mac;
    for (let w = 0; w < 3; w++) {
      const v = this.eerd(w);
      if (v < 0) throw new Error(`${E1000E_DRIVER} ${this.name}: no MAC address: RAH0.AV is clear and the NVM does not answer (EERD)`);
      mac[w * 2] = v & 0xff;
      mac[w * 2 + 1] = v >>> 8;
    }
    this.wr(R.RAL0, mac[0] | (mac[1] << 8) | (mac[2] << 16) | (mac[3] << 24));
    this.wr(R.RAH0, mac[4] | (mac[5] << 8) | R.RAH_AV);
    return mac;
  }

  // ---- ethdev ops ------------------------------------------------------------------------------------------
  infoGet(): DevInfo {
    const lim = { nbMax: RING_MAX, nbMin: RING_MIN, nbAlign: RING_ALIGN };
    return {
      driverName: E1000E_DRIVER, deviceName: this.name, maxRxQueues: 1, maxTxQueues: 1, minRxBufSize: RX_BUF_SIZE,
      maxRxPktLen: 1522, maxMacAddrs: 1, rxDescLim: lim, txDescLim: { ...lim }, speedCapa: [10, 100, 1000],
      pciAddr: this.dev.bdf, defaultRxRingSize: DEFAULT_RING, defaultTxRingSize: DEFAULT_RING, rxOffloadCapa: 0,
      txOffloadCapa: 0,
    };
  }

  configure(_nbRxq: number, _nbTxq: number, conf: EthConf): void {
    this.live();
    const mtu = conf.rxmode?.mtu;
    if (mtu !== undefined && mtu > 1500) throw new Error(`${E1000E_DRIVER} ${this.name}: MTU ${mtu}: jumbo frames are not supported (max 1500)`);
    if (conf.lpbkMode) throw new Error(`${E1000E_DRIVER} ${this.name}: loopback mode ${conf.lpbkMode} is not supported`);
  }

  private zone(kind: string): string {
    return `e1k_${this.name}_${kind}`;
  }

  private freeZone(name: string): void {
    if (memzoneLookup(name)) memzoneFree(name);
  }

  rxQueueSetup(_q: number, nb: number, _conf: RxConf, pool: Mempool, portId: number): E1000eRxSpec {
    this.live();
    if (pool.dataRoom < RX_HEADROOM + RX_BUF_SIZE) {
      throw new Error(`${E1000E_DRIVER} ${this.name}: mbufs of pool '${pool.name}' have ${pool.dataRoom} bytes of data room; ` +
        `the 82574 needs ${RX_HEADROOM} headroom + ${RX_BUF_SIZE} buffer (the default 2176)`);
    }
    this.releaseRx();
    const ring = this.zone('rxr');
    const sw = this.zone('rxs');
    memzoneReserve(ring, nb * R.DESC_BYTES, { align: 4096, contig: true });
    memzoneReserve(sw, STATE_BYTES + nb * 4, { align: 64 });
    this.rx = { nb, ring, sw, pool, port: portId };
    return this.rxSpec();
  }

  private rxSpec(): E1000eRxSpec {
    const rx = this.rx!;
    return {
      bar: this.dev.bar0.addr.toString(), barLen: this.dev.bar0.len, ring: memzoneLookup(rx.ring)!.off, nb: rx.nb,
      sw: memzoneLookup(rx.sw)!.off, pool: rx.pool.name, port: rx.port,
    };
  }

  txQueueSetup(_q: number, nb: number, conf: TxConf): E1000eTxSpec {
    this.live();
    const want = conf.freeThresh ?? DEFAULT_TX_FREE_THRESH;
    const freeThresh = Math.max(1, Math.min(want, nb - 1 - TX_FREE_BATCH));
    this.releaseTx();
    const ring = this.zone('txr');
    const sw = this.zone('txs');
    memzoneReserve(ring, nb * R.DESC_BYTES, { align: 4096, contig: true });
    memzoneReserve(sw, STATE_BYTES + nb * 4, { align: 64 });
    this.tx = { nb, ring, sw, freeThresh };
    return {
      bar: this.dev.bar0.addr.toString(), barLen: this.dev.bar0.len, ring: memzoneLookup(ring)!.off, nb,
      sw: memzoneLookup(sw)!.off, freeThresh,
    };
  }

  private releaseRx(): void {
    if (!this.rx) return;
    this.freeZone(this.rx.ring);
    this.freeZone(this.rx.sw);
    this.rx = null;
  }

  private releaseTx(): void {
    if (!this.tx) return;
    this.freeZone(this.tx.ring);
    this.freeZone(this.tx.sw);
    this.tx = null;
  }

  queueRelease(): void {
    if (this.started) this.stop();
    this.releaseRx();
    this.releaseTx();
  }

  private rctl(): number {
    let v = R.RCTL_EN | R.RCTL_BAM | R.RCTL_SECRC | R.RCTL_BSIZE_2048 | R.RCTL_RDMTS_HALF;
    if (this.promisc) v |= R.RCTL_UPE | R.RCTL_MPE;
    if (this.allmulti) v |= R.RCTL_MPE;
    return v;
  }

  start(): void {
    this.live();
    if (this.started) return;
    const r = mem();
    this.dev.setBusMaster(true);
    if (this.rx) {
      const { nb, pool } = this.rx;
      const ring = memzoneLookup(this.rx.ring)!;
      const sw = memzoneLookup(this.rx.sw)!;
      const bufs = new Uint32Array(nb);
      if (!pool.getBulk(bufs, nb, 0)) {
        throw new Error(`${E1000E_DRIVER} ${this.name}: pool '${pool.name}' has ${pool.availCount()} free mbufs, ` +
          `the RX ring needs ${nb} (give the pool more mbufs than RX + TX descriptors + bursts in flight)`);
      }
      const u32 = r.u32;
      const rw = ring.off >> 2;
      const sh = (sw.off + STATE_BYTES) >> 2;
      for (let i = 0; i < nb; i++) {
        const m = bufs[i];
        const iova = u32[m + M.BUF_IOVA_HI] * 4294967296 + u32[m + M.BUF_IOVA_LO] + RX_HEADROOM;
        u32[rw + i * 4] = iova >>> 0;
        u32[rw + i * 4 + 1] = Math.floor(iova / 4294967296);
        u32[rw + i * 4 + 2] = 0;
        u32[rw + i * 4 + 3] = 0;
        u32[sh + i] = m;
      }
      r.i32[(sw.off >> 2) + RXS_NEXT] = 0;
      r.i32[(sw.off >> 2) + RXS_DISCARD] = 0;
      this.wr(R.RCTL, 0);
      this.wr(R.RFCTL, this.rd(R.RFCTL) & ~R.RFCTL_EXSTEN);
      this.wr(R.RDBAL0, ring.iova >>> 0);
      this.wr(R.RDBAH0, Math.floor(ring.iova / 4294967296));
      this.wr(R.RDLEN0, nb * R.DESC_BYTES);
      this.wr(R.RDH0, 0);
      this.wr(R.RDT0, 0);
      this.wr(R.RDTR, 0);
      this.wr(R.RADV, 0);
      this.wr(R.RXDCTL, R.RXDCTL_GRAN | (1 << 16));
      this.wr(R.RCTL, this.rctl());
      this.wr(R.RDT0, nb - 1);
    }
    if (this.tx) {
      const { nb } = this.tx;
      const ring = memzoneLookup(this.tx.ring)!;
      const sw = memzoneLookup(this.tx.sw)!;
      r.u8.fill(0, ring.off, ring.off + nb * R.DESC_BYTES);
      r.u8.fill(0, sw.off, sw.off + STATE_BYTES + nb * 4);
      r.i32[(sw.off >> 2) + TXS_TAIL] = 0;
      r.i32[(sw.off >> 2) + TXS_CLEAN] = 0;
      r.i32[(sw.off >> 2) + TXS_FREE] = nb - 1;
      this.wr(R.TCTL, R.TCTL_PSP);
      this.wr(R.TDBAL, ring.iova >>> 0);
      this.wr(R.TDBAH, Math.floor(ring.iova / 4294967296));
      this.wr(R.TDLEN, nb * R.DESC_BYTES);
      this.wr(R.TDH, 0);
      this.wr(R.TDT, 0);
      this.wr(R.TXDCTL, R.TXDCTL_DEFAULT);
      this.wr(R.TIPG, R.TIPG_DEFAULT);
      this.wr(R.TCTL, R.TCTL_DEFAULT);
    }
    this.started = true;
  }

  /** Disables RX and TX and gives every mbuf held by the rings back to its pool. */
  stop(): void {
    if (!this.started || this.closed) return;
    const r = mem();
    if (this.tx) {
      // let what is queued go out (a few ms at most), then stop the transmitter
      for (let i = 0; i < 10 && this.rd(R.TDH) !== this.rd(R.TDT); i++) sleepMs(1);
    }
    this.wr(R.RCTL, this.rd(R.RCTL) & ~R.RCTL_EN);
    this.wr(R.TCTL, this.rd(R.TCTL) & ~R.TCTL_EN);
    this.rd(R.STATUS);
    sleepMs(2); // DMA in flight lands
    const back = (sw: number, nb: number) => {
      const sh = (sw + STATE_BYTES) >> 2;
      const out = new Uint32Array(nb);
      let c = 0;
      for (let i = 0; i < nb; i++) {
        const m = r.u32[sh + i];
        if (m !== 0) out[c++] = m;
        r.u32[sh + i] = 0;
      }
      if (c > 0) pktmbufFreeBulk(out, c, 0);
      return c;
    };
    if (this.rx) {
      back(memzoneLookup(this.rx.sw)!.off, this.rx.nb);
      this.wr(R.RDH0, 0);
      this.wr(R.RDT0, 0);
    }
    if (this.tx) {
      back(memzoneLookup(this.tx.sw)!.off, this.tx.nb);
      this.wr(R.TDH, 0);
      this.wr(R.TDT, 0);
    }
    this.started = false;
  }

  close(): void {
    if (this.closed) return;
    this.stop();
    this.releaseRx();
    this.releaseTx();
    try {
      this.wr(R.IMC, 0xffffffff);
      this.wr(R.RCTL, 0);
      this.wr(R.TCTL, R.TCTL_PSP);
      this.wr(R.CTRL, this.rd(R.CTRL) | R.CTRL_RST);
      sleepMs(10);
      this.wr(R.IMC, 0xffffffff);
      this.dev.setBusMaster(false);
    } finally {
      this.closed = true;
      this.dev.close();
    }
  }

  linkGet(wait: boolean): Link {
    this.live();
    let s = this.rd(R.STATUS);
    for (let waited = 0; wait && (s & R.STATUS_LU) === 0 && waited < LINK_WAIT_MS; waited += 50) {
      sleepMs(50);
      s = this.rd(R.STATUS);
    }
    if ((s & R.STATUS_LU) === 0) return { up: false, speed: 0, fullDuplex: false, autoneg: true };
    const sp = (s & R.STATUS_SPEED_MASK) >>> R.STATUS_SPEED_SHIFT;
    return { up: true, speed: sp === 0 ? 10 : sp === 1 ? 100 : 1000, fullDuplex: (s & R.STATUS_FD) !== 0, autoneg: true };
  }

  macAddr(): Uint8Array {
    return this.mac;
  }

  private applyModes(): void {
    const v = this.rd(R.RCTL) & ~(R.RCTL_UPE | R.RCTL_MPE);
    this.wr(R.RCTL, v | (this.promisc ? R.RCTL_UPE | R.RCTL_MPE : 0) | (this.allmulti ? R.RCTL_MPE : 0));
  }

  setPromiscuous(on: boolean): void {
    this.live();
    this.promisc = on;
    this.applyModes();
  }

  setAllmulticast(on: boolean): void {
    this.live();
    this.allmulti = on;
    this.applyModes();
  }

  // ---- statistics ------------------------------------------------------------------------------------------
  /** Reads (and so clears) every statistics register into the running totals. Main lcore. */
  readStats(): void {
    if (this.closed) return;
    const hw = this.hw;
    for (let i = 0; i < STAT_REGS.length; i++) {
      const s = STAT_REGS[i];
      if (s.wide) {
        const lo = this.rd(s.reg); // low first: reading the high register clears the pair
        hw[i] += lo + this.rd(s.reg + 4) * 4294967296;
      } else {
        hw[i] += this.rd(s.reg);
      }
    }
  }

  private stat(reg: number): number {
    return this.hw[STAT_INDEX.get(reg)!];
  }

  hwStats(): HwStats {
    this.readStats();
    const gprc = this.stat(R.GPRC);
    const gptc = this.stat(R.GPTC);
    return {
      ipackets: gprc,
      opackets: gptc,
      // the byte counters include the 4-byte FCS; ethdev counts frames without it
      ibytes: Math.max(0, this.stat(R.GORCL) - CRC_LEN * gprc),
      obytes: Math.max(0, this.stat(R.GOTCL) - CRC_LEN * gptc),
      imissed: this.stat(R.MPC),
      ierrors: this.stat(R.CRCERRS) + this.stat(R.ALGNERRC) + this.stat(R.RXERRC) + this.stat(R.RLEC) + this.stat(R.CEXTERR),
      oerrors: this.stat(R.ECOL) + this.stat(R.LATECOL),
    };
  }

  statsReset(): void {
    this.readStats();
    this.hw.fill(0);
  }

  xstats(): XStat[] {
    this.readStats();
    return STAT_REGS.map((s, i) => ({ name: s.name, value: this.hw[i] }));
  }
}

export const e1000ePmd: PmdInfo = {
  name: E1000E_DRIVER,
  pciIds: E1000E_PCI_IDS,
  dataPlane: {
    attachRx: (spec, stats) => new E1000eRx(spec as E1000eRxSpec, stats),
    attachTx: (spec, stats) => new E1000eTx(spec as E1000eTxSpec, stats),
  },
  probePci(bdf, vfio) {
    const dev = pciAccess(bdf, vfio);
    try {
      return new E1000ePort(bdf, dev);
    } catch (e) {
      dev.close();
      throw e;
    }
  },
};

export { setPciAccessProvider, vfioPciAccess, type PciDeviceAccess, type PciAccessProvider } from './device.js';
