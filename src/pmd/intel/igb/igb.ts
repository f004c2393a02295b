// net_igb: Intel's 82576 GbE controller (PCI 8086:10c9, what QEMU 8+ emulates as "-device igb") and its successors
// I350 and I210/I211 (by datasheet), on the shared Intel core (../common). Up to 8 RX/TX queue pairs (I210: 4,
// I211: 2) with RSS, advanced RX descriptors (status, RSS hash, packet type and VLAN in the write-back), advanced TX
// descriptors with context descriptors for VLAN insertion and IPv4/TCP/UDP checksum offload, 2 KiB buffers with
// frames up to 16383 bytes spanning several, CRC stripped, RX checksum status, VLAN strip, several unicast MAC
// filters, promiscuous / all-multicast, per-queue start and stop, hardware statistics, IEEE 1588 timestamps of
// L2 PTP frames (timesync* below; src/ethdev/timesync.ts for the API).
//
// Reference: Intel 82576EB GbE Controller Datasheet (register names as there; ./regs.ts for sections): 4.5 / 4.6
// initialization (global reset after GIO master disable, NVM auto-read, interrupts masked, link set-up, RX and TX
// set-up, enable), 7.1 receive (SRRCTL, advanced descriptors, RSS 7.1.2.10), 7.2 transmit (advanced data and
// context descriptors), 8.19 statistics. Where QEMU's igb departs from the datasheet, the code follows what works
// on both (see /work/shared/reference/qemu-nics.md): RSS with RXCSUM.PCSD set, the PHY's autonegotiation restarted
// through MDIC so the link comes up, the IPv6 TCP hash also enabled through its "Ex" bit.
//
// I350 / I210 / I211 (same register layout for everything here) -- what differs and what is done about it:
// - implemented: queue counts (devices.ts), receive address filters (I350 32, I210 16), CRC strip per queue in
//   DVMOLR.STRCRC as well as RCTL.SECRC (the I350 / I210 strip per queue);
// - not implemented: SerDes / SGMII / 1000BASE-KX link set-up through the PCS (those ports get CTRL.SLU only; the
//   copper PHY autonegotiation restart is skipped for them), the I350's byte-swapped VLAN tag of VM-to-VM loopback
//   frames (pktio uses no VMDq), EEE and DMA coalescing (left as the NVM configures them), the I210's flashless
//   iNVM beyond the MAC address the hardware loads into RAL0/RAH0, Qav / time-based TX scheduling of the I210.
// Not implemented on any of them: flow control set-up, multicast hash filters (all-multicast only), VLAN filters,
// TSO, header split, MSI / INTx (RX interrupts are MSI-X only), VMDq / SR-IOV.
import {
  RX_OFFLOAD_VLAN_STRIP, RX_OFFLOAD_IPV4_CKSUM, RX_OFFLOAD_UDP_CKSUM, RX_OFFLOAD_TCP_CKSUM, RX_OFFLOAD_CHECKSUM,
  RX_OFFLOAD_RSS_HASH, RX_OFFLOAD_SCATTER, TX_OFFLOAD_VLAN_INSERT, TX_OFFLOAD_IPV4_CKSUM, TX_OFFLOAD_UDP_CKSUM,
  TX_OFFLOAD_TCP_CKSUM, TX_OFFLOAD_MULTI_SEGS, RSS_IPV4, RSS_NONFRAG_IPV4_TCP, RSS_NONFRAG_IPV4_UDP, RSS_IPV6,
  RSS_NONFRAG_IPV6_TCP, RSS_NONFRAG_IPV6_UDP, RSS_IPV6_EX, RSS_IPV6_TCP_EX, RSS_IPV6_UDP_EX,
  type Link, type HwStats, type RxConf, type TxConf,
} from '../../driver.js';
import { log } from '../../../eal/log.js';
import type { Mempool } from '../../../mempool/mempool.js';
import type { PciDeviceAccess } from '../../pci/access.js';
import type { IntelDevice } from '../devices.js';
import { type FamilyTraits, type RingRegs, type IntrRegs } from '../common/port.js';
import type { IntelRxSpec, IntelTxSpec } from '../common/layout.js';
import { intelPmd } from '../common/pmd.js';
import { macFromRar, rarFromMac } from '../common/regs.js';
import { delayMs } from '../../../eal/lcore.js';
import type { StatReg } from '../common/stats.js';
import { E1000_STAT_REGS, e1000HwStats, gbeLink } from '../common/gbe.js';
import { IntelTimesync, IntelTimesyncPort } from '../common/timesync.js';
import * as R from './regs.js';

export const IGB_DRIVER = 'net_igb';
/** the registers net_igb touches end below 0x10000 (TX queue 7 at 0xE1C0); the 82576's BAR 0 is 128 KiB */
const MIN_BAR_LEN = 0x10000;
/** receive buffers: 2 KiB (SRRCTL.BSIZEPACKET = 2), what pktio's default mbufs hold after the headroom */
const RX_BUF_SIZE = 2048;
const QUEUE_POLL_MS = 10;
const VLAN_ETHERTYPE = 0x8100;

// Hardware statistics registers (clear on read), with the xstat names DPDK's igb driver gives them. Each offset
// once: the 82576 names 0x403C both CEXTERR and HTDPMC, 0x40FC both TSCTFC and CBRMPC.
const STAT_REGS: StatReg[] = [
  ...E1000_STAT_REGS, { reg: R.SEC, name: 'rx_sequence_errors' }, { reg: R.RPTHC, name: 'rx_sent_to_host_packets' },
  { reg: R.HGPTC, name: 'tx_sent_by_host_packets' }, { reg: R.SCVPC, name: 'rx_code_violation_packets' },
];

/**
 * RSS hash types -> MRQC field bits. The 82576 hashes IPv4, IPv6 and their TCP and UDP ports, with or without
 * IPv6 extension headers. IPv6 TCP sets the TcpIPv6Ex bit too, as Linux's igb does: QEMU's igb hashes TCP over
 * IPv6 only through that bit (it ignores TcpIPv6 and UdpIPv6Ex), and for a packet without extension headers both
 * give the same hash.
 */
const MRQC_FIELDS: Array<[number, number]> = [
  [RSS_IPV4, R.MRQC_IPV4], [RSS_NONFRAG_IPV4_TCP, R.MRQC_TCP_IPV4], [RSS_NONFRAG_IPV4_UDP, R.MRQC_UDP_IPV4],
  [RSS_IPV6, R.MRQC_IPV6], [RSS_NONFRAG_IPV6_TCP, R.MRQC_TCP_IPV6 | R.MRQC_TCP_IPV6_EX],
  [RSS_NONFRAG_IPV6_UDP, R.MRQC_UDP_IPV6], [RSS_IPV6_EX, R.MRQC_IPV6_EX], [RSS_IPV6_TCP_EX, R.MRQC_TCP_IPV6_EX],
  [RSS_IPV6_UDP_EX, R.MRQC_UDP_IPV6_EX],
];

/** Receive address filters of a family (82576 24, I350 32, I210 / I211 16). */
function rarEntries(model: IntelDevice): number {
  return model.family === 'i350' ? 32 : model.family === 'i210' ? 16 : 24;
}

function traitsFor(model: IntelDevice): FamilyTraits {
  return {
    driver: IGB_DRIVER, rxCodec: 'adv-igb', txCodec: 'adv-igb', rxBufSize: RX_BUF_SIZE,
    // RLPML is 14 bits wide (DPDK reports 0x3FFF too); Intel's feature lists quote jumbo frames of 9.5 KB
    maxRxPktLen: 16383,
    retaSize: R.RETA_ENTRIES, hashKeySize: R.RSS_KEY_BYTES, flowTypeRssOffloads: MRQC_FIELDS.reduce((a, [hf]) => a | hf, 0),
    rxOffloadCapa: RX_OFFLOAD_VLAN_STRIP | RX_OFFLOAD_CHECKSUM | RX_OFFLOAD_RSS_HASH | RX_OFFLOAD_SCATTER,
    txOffloadCapa: TX_OFFLOAD_VLAN_INSERT | TX_OFFLOAD_IPV4_CKSUM | TX_OFFLOAD_UDP_CKSUM | TX_OFFLOAD_TCP_CKSUM |
      TX_OFFLOAD_MULTI_SEGS,
    maxMacAddrs: rarEntries(model), speedCapa: [10, 100, 1000], descMax: 4096,
    // RDLEN / TDLEN count 128-byte units: 8 descriptors
    rxDescAlign: 8, statRegs: STAT_REGS, perQueueStart: true,
  };
}

export class IgbPort extends IntelTimesyncPort {
  /** SRRCTL.DROP_EN per RX queue (RxConf.dropEn) */
  private readonly dropEn: boolean[] = [];

  constructor(name: string, dev: PciDeviceAccess, model: IntelDevice) {
    super(name, dev, model, traitsFor(model), MIN_BAR_LEN);
  }

  private get lg() {
    return log('igb');
  }

  /** This port's LAN function (0-3): which CFG_DONE bit and which PHY semaphore are its. */
  private lanPort(): number {
    return (this.r.rd(R.STATUS) & R.STATUS_FUNC_MASK) >>> R.STATUS_FUNC_SHIFT;
  }

  // ---- reset and identity ------------------------------------------------------------------------------------
  private maskInterrupts(): void {
    this.r.wr(R.IMC, 0xffffffff);
    this.r.wr(R.EIMC, 0xffffffff);
    this.r.wr(R.EIAC, 0);
    this.r.rd(R.ICR);
    this.r.rd(R.EICR);
  }

  /**
   * Global reset (4.5.x / 4.6.1): interrupts masked, receiver and transmitter off, DMA quiesced by GIO master
   * disable, CTRL.RST (self-clearing); then the NVM auto-read (EECD.AUTO_RD) and, with `waitCfg`, the PHY
   * configuration load (EEMNGCTL.CFG_DONE of this port). Neither wait is fatal: QEMU's igb reports neither bit,
   * and a board without NVM never sets them (DPDK and Linux go on as well).
   */
  private globalReset(waitCfg: boolean): void {
    const r = this.r;
    r.wr(R.IMC, 0xffffffff);
    r.wr(R.EIMC, 0xffffffff);
    r.wr(R.RCTL, 0);
    r.wr(R.TCTL, R.TCTL_PSP);
    r.rd(R.STATUS); // flush posted writes
    delayMs(10); // DMA in flight lands
    r.set(R.CTRL, R.CTRL_GIO_MASTER_DISABLE);
    if (!r.waitFor(R.STATUS, R.STATUS_GIO_MASTER_ENABLE, 0, 80)) {
      this.lg.warn({ dev: this.name }, 'GIO master requests still pending after 80 ms; resetting anyway');
    }
    r.wr(R.CTRL, r.rd(R.CTRL) | R.CTRL_RST);
    delayMs(1);
    if (!r.waitFor(R.CTRL, R.CTRL_RST, 0, 20)) this.lg.warn({ dev: this.name }, 'CTRL.RST did not clear');
    if (!r.waitFor(R.EECD, R.EECD_AUTO_RD, R.EECD_AUTO_RD, 10)) {
      this.lg.debug({ dev: this.name }, 'EECD.AUTO_RD not reported: NVM auto-read not done or not modelled');
    }
    if (waitCfg) {
      const done = R.EEMNGCTL_CFG_DONE(this.lanPort());
      if (!r.waitFor(R.EEMNGCTL, done, done, 100)) {
        this.lg.debug({ dev: this.name }, 'EEMNGCTL.CFG_DONE not reported: PHY configuration cycle not done or not modelled');
      }
    }
    this.maskInterrupts();
  }

  protected hwReset(): void {
    this.globalReset(true);
  }

  /** One NVM word through EERD; -1 on timeout. */
  private eerd(word: number): number {
    this.r.wr(R.EERD, (word << R.EERD_ADDR_SHIFT) | R.EERD_START);
    if (!this.r.waitFor(R.EERD, R.EERD_DONE, R.EERD_DONE)) return -1;
    return this.r.rd(R.EERD) >>> R.EERD_DATA_SHIFT;
  }

  /**
   * MAC address from RAL0/RAH0, which the hardware loads from the NVM for this LAN port at reset; from the NVM's
   * first three words when RAH0.AV is clear (LAN port 0 only: the other ports' addresses derive from it in ways
   * that differ by family).
   */
  protected hwReadMac(): Uint8Array {
    const hi = this.r.rd(R.RAH(0));
    const mac = macFromRar(this.r.rd(R.RAL(0)), hi);
    if ((hi & R.RAH_AV) !== 0 && mac.some((b) => b !== 0)) return mac;
    const fail = (why: string) => new Error(`${IGB_DRIVER} ${this.name}: no MAC address: RAH0.AV is clear and ${why}`);
    if (this.lanPort() !== 0) throw fail(`this is LAN port ${this.lanPort()}, whose NVM address pktio does not derive`);
    for (let w = 0; w < 3; w++) {
      const v = this.eerd(w);
      if (v < 0) throw fail('the NVM does not answer (EERD)');
      mac[w * 2] = v & 0xff;
      mac[w * 2 + 1] = v >>> 8;
    }
    return mac;
  }

  // ---- PHY access (MDIC under the software/firmware semaphore) ---------------------------------------------------
  /** SWSM: the driver semaphore (SMBI, taken by reading it clear), then the software/firmware one (SWESMBI). */
  private swsmTake(): boolean {
    const r = this.r;
    if (!r.waitFor(R.SWSM, R.SWSM_SMBI, 0, 20)) return false;
    for (let i = 0; i < 20; i++) {
      r.wr(R.SWSM, r.rd(R.SWSM) | R.SWSM_SWESMBI);
      if ((r.rd(R.SWSM) & R.SWSM_SWESMBI) !== 0) return true;
      delayMs(1);
    }
    this.swsmGive();
    return false;
  }

  private swsmGive(): void {
    this.r.wr(R.SWSM, this.r.rd(R.SWSM) & ~(R.SWSM_SMBI | R.SWSM_SWESMBI));
  }

  /** Takes this port's PHY in SW_FW_SYNC (firmware may be using it: manageability shares the PHY). */
  private phyLock(): boolean {
    const mask = R.SWFW_PHY_SM(this.lanPort());
    for (let i = 0; i < 20; i++) {
      if (!this.swsmTake()) return false;
      const v = this.r.rd(R.SW_FW_SYNC);
      if ((v & (mask | (mask << R.SWFW_FW_SHIFT))) === 0) {
        this.r.wr(R.SW_FW_SYNC, v | mask);
        this.swsmGive();
        return true;
      }
      this.swsmGive();
      delayMs(5);
    }
    return false;
  }

  private phyUnlock(): void {
    const mask = R.SWFW_PHY_SM(this.lanPort());
    if (!this.swsmTake()) return;
    this.r.wr(R.SW_FW_SYNC, this.r.rd(R.SW_FW_SYNC) & ~mask);
    this.swsmGive();
  }

  /** One MDIO read or write of the internal PHY; the data read, or -1 when MDIC reports an error or times out. */
  private mdic(op: number, reg: number, data = 0): number {
    const r = this.r;
    r.wr(R.MDIC, (data & R.MDIC_DATA_MASK) | (reg << R.MDIC_REG_SHIFT) | (R.PHY_ADDR << R.MDIC_PHY_SHIFT) | op);
    if (!r.waitFor(R.MDIC, R.MDIC_READY, R.MDIC_READY, 100)) return -1;
    const v = r.rd(R.MDIC);
    return (v & R.MDIC_ERROR) !== 0 ? -1 : v & R.MDIC_DATA_MASK;
  }

  /**
   * Copper link set-up (4.6.6 / 4.6.7): the MAC follows the PHY's autonegotiation (CTRL.SLU, no forced speed or
   * duplex) and the PHY is told to (re)negotiate: BMCR autonegotiation enable + restart, powered up, not isolated.
   * A PHY negotiates by itself after power-up, so on hardware this only restarts it; QEMU's igb raises STATUS.LU
   * only after such a restart. Ports without the internal copper PHY (SerDes, SGMII, KX) are left to the NVM.
   */
  private setupLink(): void {
    const r = this.r;
    const ctrl = r.rd(R.CTRL) & ~(R.CTRL_RST | R.CTRL_PHY_RST | R.CTRL_FRCSPD | R.CTRL_FRCDPX | R.CTRL_GIO_MASTER_DISABLE);
    r.wr(R.CTRL, ctrl | R.CTRL_SLU);
    if ((r.rd(R.CTRL_EXT) & R.CTRL_EXT_LINK_MODE_MASK) !== R.CTRL_EXT_LINK_MODE_COPPER) {
      this.lg.info({ dev: this.name }, 'not a copper port: link set-up left to the NVM (SerDes/SGMII/KX is not configured by pktio)');
      return;
    }
    if (!this.phyLock()) {
      this.lg.warn({ dev: this.name }, 'PHY semaphore (SW_FW_SYNC) not granted: autonegotiation not restarted');
      return;
    }
    try {
      const bmcr = this.mdic(R.MDIC_OP_READ, R.PHY_BMCR);
      if (bmcr < 0) {
        this.lg.warn({ dev: this.name }, 'PHY does not answer through MDIC: autonegotiation not restarted');
        return;
      }
      const v = (bmcr & ~(R.BMCR_POWER_DOWN | R.BMCR_ISOLATE)) | R.BMCR_AN_ENABLE | R.BMCR_RESTART_AN;
      if (this.mdic(R.MDIC_OP_WRITE, R.PHY_BMCR, v) < 0) this.lg.warn({ dev: this.name }, 'PHY BMCR write failed');
    } finally {
      this.phyUnlock();
    }
  }

  /** After reset: driver-loaded flag, link, VLAN ether type, filters cleared, RAR0 valid, every queue disabled. */
  protected hwInit(): void {
    const r = this.r;
    r.set(R.CTRL_EXT, R.CTRL_EXT_DRV_LOAD);
    this.setupLink();
    r.wr(R.VET, (VLAN_ETHERTYPE << 16) | VLAN_ETHERTYPE);
    r.wr(R.RCTL, 0);
    r.wr(R.TCTL, R.TCTL_PSP);
    for (let i = 0; i < R.MTA_COUNT; i++) r.wr(R.MTA + i * 4, 0);
    for (let i = 0; i < R.VFTA_COUNT; i++) r.wr(R.VFTA + i * 4, 0);
    for (let i = 0; i < R.UTA_COUNT; i++) r.wr(R.UTA + i * 4, 0);
    this.hwMacFilter(0, this.mac);
    for (let i = 1; i < rarEntries(this.model); i++) this.hwMacFilter(i, null);
    // queue 0 comes out of reset enabled: every queue stays off until it is set up and started
    for (let q = 0; q < this.model.queues; q++) {
      this.queueOff(R.RXDCTL(q));
      this.queueOff(R.TXDCTL(q));
    }
  }

  protected rxRing(q: number): RingRegs {
    return { bal: R.RDBAL(q), bah: R.RDBAH(q), len: R.RDLEN(q), head: R.RDH(q), tail: R.RDT(q) };
  }

  protected txRing(q: number): RingRegs {
    return { bal: R.TDBAL(q), bah: R.TDBAH(q), len: R.TDLEN(q), head: R.TDH(q), tail: R.TDT(q) };
  }

  // ---- queue set-up checks -------------------------------------------------------------------------------------
  /**
   * CTRL.VME strips tags on every queue (there is no per-queue switch without VMDq). It is turned on for TX VLAN
   * insertion as well, as on the 82574 and as Linux's igb does (it ties the two together); QEMU's igb inserts
   * without it. So: one port-wide switch, on when the port asks for strip or insert, and received tags are then
   * always reported in the mbuf.
   */
  private vme(): boolean {
    const tx = this.conf.txmode?.offloads ?? 0;
    return ((this.conf.rxmode?.offloads ?? 0) & RX_OFFLOAD_VLAN_STRIP) !== 0 || (tx & TX_OFFLOAD_VLAN_INSERT) !== 0;
  }

  protected override stripsVlan(_q: number): boolean {
    return this.vme();
  }

  override rxQueueSetup(q: number, nb: number, conf: RxConf, pool: Mempool, portId: number): IntelRxSpec {
    if (((conf.offloads ?? 0) & RX_OFFLOAD_VLAN_STRIP) !== 0 && !this.vme()) {
      throw new Error(`${IGB_DRIVER} ${this.name}: VLAN strip is port-wide on the ${this.model.name} (CTRL.VME): ` +
        'ask for RX_OFFLOAD_VLAN_STRIP in rxmode.offloads, not per queue');
    }
    this.dropEn[q] = conf.dropEn === true;
    return super.rxQueueSetup(q, nb, conf, pool, portId);
  }

  override txQueueSetup(q: number, nb: number, conf: TxConf, portId: number): IntelTxSpec {
    if (((conf.offloads ?? 0) & TX_OFFLOAD_VLAN_INSERT) !== 0 && !this.vme()) {
      throw new Error(`${IGB_DRIVER} ${this.name}: VLAN insert goes with the port-wide CTRL.VME on the ${this.model.name}: ` +
        'ask for TX_OFFLOAD_VLAN_INSERT in txmode.offloads, not per queue');
    }
    return super.txQueueSetup(q, nb, conf, portId);
  }

  // ---- receive ------------------------------------------------------------------------------------------------
  private rctl(): number {
    let v = R.RCTL_BAM | R.RCTL_SECRC | R.RCTL_RDMTS_HALF;
    if (this.mtu > 1500) v |= R.RCTL_LPE; // long frames up to RLPML, spanning 2 KiB buffers
    if (this.promisc) v |= R.RCTL_UPE | R.RCTL_MPE;
    if (this.allmulti) v |= R.RCTL_MPE;
    return v;
  }

  /** Clears a queue's enable and waits until the queue reports itself stopped. */
  private queueOff(reg: number): void {
    this.r.wr(reg, this.r.rd(reg) & ~R.XDCTL_ENABLE);
    if (!this.r.waitFor(reg, R.XDCTL_ENABLE, 0, QUEUE_POLL_MS)) {
      this.lg.warn({ dev: this.name, reg: `0x${reg.toString(16)}` }, 'queue enable did not clear');
    }
  }

  /** Sets a queue's enable (with its thresholds) and waits until it reads back set (before the tail is written). */
  private queueOn(reg: number, v: number, what: string): void {
    this.r.wr(reg, v | R.XDCTL_ENABLE);
    if (!this.r.waitFor(reg, R.XDCTL_ENABLE, R.XDCTL_ENABLE, QUEUE_POLL_MS)) {
      throw new Error(`${IGB_DRIVER} ${this.name}: ${what} did not come up (its enable bit does not read back set)`);
    }
  }

  private usesDvmolr(): boolean {
    return this.model.family === 'i350' || this.model.family === 'i210';
  }

  /** Receiver off; long-frame limit, checksum status, RSS and VLAN mode; the descriptor type is per queue. */
  protected hwRxConfigure(): void {
    const r = this.r;
    r.wr(R.RCTL, 0);
    r.wr(R.RLPML, this.maxFrame());
    let ip = false;
    let l4 = false;
    for (let q = 0; q < Math.max(1, this.nbRxq); q++) {
      const off = this.rxOffloads(q);
      ip ||= (off & RX_OFFLOAD_IPV4_CKSUM) !== 0;
      l4 ||= (off & (RX_OFFLOAD_TCP_CKSUM | RX_OFFLOAD_UDP_CKSUM)) !== 0;
    }
    // PCSD always: w1 of the write-back is the RSS hash (never the IP identification), and QEMU hashes only so
    r.wr(R.RXCSUM, R.RXCSUM_PCSD | (ip ? R.RXCSUM_IPOFLD : 0) | (l4 ? R.RXCSUM_TUOFLD : 0));
    this.hwRss();
    if (this.vme()) r.set(R.CTRL, R.CTRL_VME);
    else r.clear(R.CTRL, R.CTRL_VME);
  }

  protected hwRxQueueInit(q: number): void {
    const r = this.r;
    const { iova, nb } = this.rxRingOf(q);
    this.queueOff(R.RXDCTL(q));
    this.programRing(this.rxRing(q), iova, nb);
    r.wr(R.SRRCTL(q), R.SRRCTL_DESCTYPE_ADV_ONEBUF | ((RX_BUF_SIZE >> R.SRRCTL_BSIZEPACKET_SHIFT) & R.SRRCTL_BSIZEPACKET_MASK) |
      (this.dropEn[q] ? R.SRRCTL_DROP_EN : 0));
    if (this.usesDvmolr()) r.set(R.DVMOLR(q), R.DVMOLR_STRCRC);
    this.queueOn(R.RXDCTL(q), R.RXDCTL_DEFAULT, `RX queue ${q}`);
  }

  protected hwRxEnable(): void {
    this.r.wr(R.RCTL, this.rctl() | R.RCTL_EN);
  }

  protected hwRxDisable(): void {
    this.r.clear(R.RCTL, R.RCTL_EN);
    for (const q of this.rxQueuesOn()) this.queueOff(R.RXDCTL(q));
  }

  protected override hwRxQueueDisable(q: number): void {
    this.queueOff(R.RXDCTL(q));
  }

  protected hwRxConfigureMtu(): void {
    this.r.wr(R.RLPML, this.maxFrame());
    const en = this.r.rd(R.RCTL) & R.RCTL_EN;
    this.r.wr(R.RCTL, this.rctl() | en);
  }

  // ---- transmit -----------------------------------------------------------------------------------------------
  /** Transmitter off and configured: pad short frames, retransmit on late collision, collision threshold/distance. */
  protected hwTxConfigure(): void {
    const r = this.r;
    r.wr(R.TCTL, R.TCTL_PSP | R.TCTL_RTLC | R.TCTL_CT_DEFAULT);
    r.wr(R.TCTL_EXT, (r.rd(R.TCTL_EXT) & ~R.TCTL_EXT_COLD_MASK) | R.TCTL_EXT_COLD_DEFAULT);
  }

  protected hwTxQueueInit(q: number): void {
    const { iova, nb } = this.txRingOf(q);
    this.queueOff(R.TXDCTL(q));
    this.programRing(this.txRing(q), iova, nb);
    this.queueOn(R.TXDCTL(q), R.TXDCTL_DEFAULT, `TX queue ${q}`);
  }

  /** Transmit on, once every queue is set up (the datasheet's order). */
  protected hwTxEnable(): void {
    this.r.set(R.TCTL, R.TCTL_EN);
  }

  protected hwTxDisable(): void {
    this.r.clear(R.TCTL, R.TCTL_EN);
    for (const q of this.txQueuesOn()) this.queueOff(R.TXDCTL(q));
  }

  protected override hwTxQueueDisable(q: number): void {
    this.queueOff(R.TXDCTL(q));
  }

  // ---- link, modes, RSS, filters -------------------------------------------------------------------------------
  protected hwLink(): Link {
    return gbeLink(this.r.rd(R.STATUS));
  }


  protected hwRxModes(): void {
    this.programRxModes(R.RCTL, R.RCTL_UPE, R.RCTL_MPE);
  }


  /** RSSRK, RETA (one queue number per byte entry), then MRQC with RSS on and the hash fields. */
  protected hwRss(): void {
    this.programRss({ mrqc: R.MRQC, rssrk: R.RSSRK, reta: R.RETA }, (q) => q, MRQC_FIELDS, R.MRQC_ENABLE_RSS);
  }

  /** Receive address `index`: RAL, then RAH with AV (the entry turns valid with its whole address); null clears it. */
  protected hwMacFilter(index: number, mac: Uint8Array | null): void {
    if (mac === null) {
      this.r.wr(R.RAH(index), 0);
      this.r.wr(R.RAL(index), 0);
      return;
    }
    const [lo, hi] = rarFromMac(mac);
    this.r.wr(R.RAL(index), lo);
    this.r.wr(R.RAH(index), (hi | R.RAH_AV) >>> 0);
  }

  // ---- interrupts (82576 datasheet 7.3: MSI-X; 8.8: GPIE, IVAR, EIAC, EIAM, EITR) ----------------------------------
  /** In MSI-X mode EICR / EIMS / EIMC have one bit per vector: RX queue q's is vector q. */
  protected override rxIntrRegs(q: number): IntrRegs {
    return { set: R.EIMS, clear: R.EIMC, bit: 1 << q };
  }

  /**
   * GPIE: MSI-X mode, PBA support, EIAME (auto-mask by EIAM when a vector fires), NSICR. IVAR0: RX queue q -> vector
   * q (valid); TX queues unrouted; IVAR_MISC: other causes (LSC) -> lscVector. EIAC + EIAM: a queue vector clears its
   * EICR bit and masks itself when it fires (QEMU's igb auto-clears but does not auto-mask: the lcore masks it with
   * EIMC when it wakes, RxQueue.intrDisable). EITR of each used vector at ~20k interrupts/s. Queues start masked.
   */
  protected override hwIntrConfigure(rxqs: number[], lscVector: number, lsc: boolean): void {
    const r = this.r;
    r.wr(R.GPIE, (R.GPIE_MSIX_MODE | R.GPIE_PBA_SUPPORT | R.GPIE_EIAME | R.GPIE_NSICR) >>> 0);
    for (let n = 0; n < 8; n++) r.wr(R.IVAR0(n), 0);
    let vecs = 0;
    for (const q of rxqs) {
      const reg = R.IVAR0(q & 7);
      r.wr(reg, (r.rd(reg) | ((q | R.IVAR_VALID) << R.IVAR_RXQ_SHIFT(q))) >>> 0);
      r.wr(R.EITR(q), (R.EITR_20K | R.EITR_CNT_IGNR) >>> 0);
      vecs |= 1 << q;
    }
    r.wr(R.IVAR_MISC, lsc ? (lscVector | R.IVAR_VALID) << R.IVAR_MISC_OTHER_SHIFT : 0);
    r.wr(R.EIAC, vecs);
    r.wr(R.EIAM, vecs);
    r.wr(R.EIMC, 0xffffffff);
    r.wr(R.IMC, 0xffffffff);
    r.rd(R.ICR);
    r.wr(R.EICR, 0xffffffff);
    if (lsc) {
      r.wr(R.EITR(lscVector), (R.EITR_20K | R.EITR_CNT_IGNR) >>> 0);
      r.wr(R.IMS, R.ICR_LSC);
      r.wr(R.EIMS, 1 << lscVector);
    }
  }

  protected override hwIntrOff(): void {
    this.maskInterrupts();
    for (let n = 0; n < 8; n++) this.r.wr(R.IVAR0(n), 0);
    this.r.wr(R.IVAR_MISC, 0);
    this.r.wr(R.GPIE, 0);
  }

  // ---- IEEE 1588 (DPDK's igb_timesync_*, the 82576 datasheet's time sync chapter) ---------------------------------
  protected readonly timesyncRegs = { txCtl: R.TSYNCTXCTL, rxCtl: R.TSYNCRXCTL, enable: R.TSYNC_EN, etqf: R.ETQF(R.ETQF_FILTER_1588), timinca: R.TIMINCA };

  /**
   * The steps of DPDK's igb_timesync_enable: clock stopped (TIMINCA 0) and cleared, DISABLE_SYSTIME off, clock
   * started counting nanoseconds; EtherType filter 3 for 0x88F7 with its 1588 bit; RX stamping of L2 PTP V2 frames
   * of message type TSYNCRXCFG.MSGT (0, Sync: what DPDK leaves it at) and TX stamping on. A frame is stamped only
   * while the latch is free: one RX and one TX time at a time (read them to stamp the next).
   */
  protected timesyncStart(): IntelTimesync {
    const r = this.r;
    r.wr(R.TIMINCA, 0);
    r.wr(R.SYSTIML, 0);
    r.wr(R.SYSTIMH, 0);
    r.clear(R.TSAUXC, R.TSAUXC_DISABLE_SYSTIME);
    r.wr(R.TIMINCA, R.TIMINCA_1NS);
    r.wr(R.ETQF(R.ETQF_FILTER_1588), (R.ETHER_TYPE_1588 | R.ETQF_FILTER_ENABLE | R.ETQF_1588) >>> 0);
    r.wr(R.TSYNCRXCFG, 0);
    r.wr(R.TSYNCRXCTL, (r.rd(R.TSYNCRXCTL) & ~R.TSYNCRXCTL_TYPE_MASK) | R.TSYNCRXCTL_TYPE_L2_V2 | R.TSYNC_EN);
    r.set(R.TSYNCTXCTL, R.TSYNC_EN);
    return new IntelTimesync(r, {
      systimL: R.SYSTIML, systimH: R.SYSTIMH,
      rxCtl: R.TSYNCRXCTL, rxValid: R.TSYNC_VALID, rxStampL: R.RXSTMPL, rxStampH: R.RXSTMPH, rxRelease: [R.RXSATRL, R.RXSATRH],
      txCtl: R.TSYNCTXCTL, txValid: R.TSYNC_VALID, txStampL: R.TXSTMPL, txStampH: R.TXSTMPH,
    });
  }

  // ---- statistics, shutdown ------------------------------------------------------------------------------------
  protected hwStatsFrom(): HwStats {
    return e1000HwStats(this.stats);
  }

  /** Firmware told the driver is gone, then the same global reset as at probe: the NIC stops all DMA. */
  protected hwShutdown(): void {
    this.timesyncForget(); // the reset below stops the clock
    this.r.clear(R.CTRL_EXT, R.CTRL_EXT_DRV_LOAD);
    this.globalReset(false);
  }
}

export const pmd = intelPmd(IGB_DRIVER, import.meta.url, (bdf, dev, model) => new IgbPort(bdf, dev, model));
