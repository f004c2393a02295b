// net_e1000e: the Intel 82574L GbE controller (PCI 8086:10d3), the NIC QEMU emulates as "-device e1000e", on the
// shared Intel core (../common). Two RX and two TX queues with RSS, extended RX descriptors (status, RSS hash and
// VLAN in the write-back), legacy TX descriptors, 2048-byte buffers with frames up to 9 KB spanning several, CRC
// stripped, RX checksum status, VLAN strip and insert (both through CTRL.VME), hardware statistics.
//
// Reference: Intel 82574 GbE Controller Family Datasheet (register names as there; ./regs.ts for sections):
// 4.6 initialization (reset, link set-up), 7.1 receive (extended descriptors 7.1.5, RSS 7.1.6, RCTL), 7.2 transmit
// (TCTL, TIPG, legacy descriptors), 10.2.7 statistics (clear on read).
import {
  RX_OFFLOAD_VLAN_STRIP, RX_OFFLOAD_CHECKSUM, RX_OFFLOAD_RSS_HASH, RX_OFFLOAD_SCATTER, TX_OFFLOAD_VLAN_INSERT,
  TX_OFFLOAD_MULTI_SEGS, RSS_IPV4, RSS_NONFRAG_IPV4_TCP, RSS_IPV6, RSS_NONFRAG_IPV6_TCP, RSS_IPV6_EX, RSS_IPV6_TCP_EX,
  type Link, type HwStats,
} from '../../driver.js';
import type { PciDeviceAccess } from '../../pci/access.js';
import type { IntelDevice } from '../devices.js';
import { IntelPort, type FamilyTraits, type RingRegs, type IntrRegs } from '../common/port.js';
import { intelPmd } from '../common/pmd.js';
import { macFromRar, rarFromMac } from '../common/regs.js';
import { delayMs } from '../../../eal/lcore.js';
import { E1000_STAT_REGS, e1000HwStats, gbeLink } from '../common/gbe.js';
import * as R from './regs.js';

export const E1000E_DRIVER = 'net_e1000e';

/** RSS hash types -> MRQC field bits (the 82574 hashes IPv4, IPv6 and TCP; not UDP). */
const MRQC_FIELDS: Array<[number, number]> = [
  [RSS_IPV4, R.MRQC_IPV4], [RSS_NONFRAG_IPV4_TCP, R.MRQC_TCP_IPV4], [RSS_IPV6, R.MRQC_IPV6],
  [RSS_NONFRAG_IPV6_TCP, R.MRQC_TCP_IPV6], [RSS_IPV6_EX, R.MRQC_IPV6_EX], [RSS_IPV6_TCP_EX, R.MRQC_TCP_IPV6_EX],
];

const TRAITS: FamilyTraits = {
  driver: E1000E_DRIVER, rxCodec: 'ext-82574', txCodec: 'legacy', rxBufSize: 2048, maxRxPktLen: 9234,
  retaSize: R.RETA_ENTRIES, hashKeySize: 40, flowTypeRssOffloads: MRQC_FIELDS.reduce((a, [hf]) => a | hf, 0),
  rxOffloadCapa: RX_OFFLOAD_VLAN_STRIP | RX_OFFLOAD_CHECKSUM | RX_OFFLOAD_RSS_HASH | RX_OFFLOAD_SCATTER,
  txOffloadCapa: TX_OFFLOAD_VLAN_INSERT | TX_OFFLOAD_MULTI_SEGS, maxMacAddrs: 16, speedCapa: [10, 100, 1000],
  descMax: 4096, rxDescAlign: 8, statRegs: E1000_STAT_REGS, perQueueStart: false,
};

export class E1000ePort extends IntelPort {
  constructor(name: string, dev: PciDeviceAccess, model: IntelDevice) {
    super(name, dev, model, TRAITS, 0x10000);
  }

  /** Global reset (4.6.1 / 4.6.2): mask interrupts, quiesce DMA (GIO master disable), CTRL.RST, mask again. */
  protected hwReset(): void {
    const r = this.r;
    r.wr(R.IMC, 0xffffffff);
    r.wr(R.RCTL, 0);
    r.wr(R.TCTL, R.TCTL_PSP);
    r.rd(R.STATUS); // flush posted writes
    delayMs(10); // in-flight DMA lands
    r.set(R.CTRL, R.CTRL_GIO_MASTER_DISABLE);
    r.waitFor(R.STATUS, R.STATUS_GIO_MASTER_ENABLE, 0);
    r.set(R.CTRL, R.CTRL_RST);
    delayMs(20); // RST self-clears within 1 ms; the NVM auto-load follows
    r.waitFor(R.EECD, R.EECD_AUTO_RD, R.EECD_AUTO_RD, 10);
    r.wr(R.IMC, 0xffffffff);
    r.rd(R.ICR);
  }

  /** One NVM word through EERD; -1 on timeout. */
  private eerd(word: number): number {
    this.r.wr(R.EERD, (word << R.EERD_ADDR_SHIFT) | R.EERD_START);
    if (!this.r.waitFor(R.EERD, R.EERD_DONE, R.EERD_DONE)) return -1;
    return this.r.rd(R.EERD) >>> R.EERD_DATA_SHIFT;
  }

  /** MAC address from RAL0/RAH0 (loaded from the NVM at reset); from the NVM itself when RAH0.AV is clear. */
  protected hwReadMac(): Uint8Array {
    const hi = this.r.rd(R.RAH0);
    const mac = macFromRar(this.r.rd(R.RAL0), hi);
    if ((hi & R.RAH_AV) !== 0 && mac.some((b) => b !== 0)) return mac;
    for (let w = 0; w < 3; w++) {
      const v = this.eerd(w);
      if (v < 0) throw new Error(`${E1000E_DRIVER} ${this.name}: no MAC address: RAH0.AV is clear and the NVM does not answer (EERD)`);
      mac[w * 2] = v & 0xff;
      mac[w * 2 + 1] = v >>> 8;
    }
    return mac;
  }

  /** Link by autonegotiation (no forced speed/duplex), set link up; empty multicast table; RAR0 valid. */
  protected hwInit(): void {
    const r = this.r;
    const ctrl = r.rd(R.CTRL) & ~(R.CTRL_RST | R.CTRL_PHY_RST | R.CTRL_FRCSPD | R.CTRL_FRCDPX | R.CTRL_GIO_MASTER_DISABLE);
    r.wr(R.CTRL, ctrl | R.CTRL_SLU);
    r.wr(R.RCTL, 0);
    r.wr(R.TCTL, R.TCTL_PSP);
    for (let i = 0; i < R.MTA_COUNT; i++) r.wr(R.MTA + i * 4, 0);
    this.hwMacFilter(0, this.mac);
  }

  protected rxRing(q: number): RingRegs {
    return { bal: R.RDBAL(q), bah: R.RDBAH(q), len: R.RDLEN(q), head: R.RDH(q), tail: R.RDT(q) };
  }

  protected txRing(q: number): RingRegs {
    return { bal: R.TDBAL(q), bah: R.TDBAH(q), len: R.TDLEN(q), head: R.TDH(q), tail: R.TDT(q) };
  }

  /** CTRL.VME strips tags on receive and is what lets TX descriptors insert them: one switch for both. */
  protected override stripsVlan(q: number): boolean {
    return this.vme() || super.stripsVlan(q);
  }

  private vme(): boolean {
    const tx = this.conf.txmode?.offloads ?? 0;
    return (this.rxOffloads() & RX_OFFLOAD_VLAN_STRIP) !== 0 || (tx & TX_OFFLOAD_VLAN_INSERT) !== 0;
  }

  private rctl(): number {
    let v = R.RCTL_BAM | R.RCTL_SECRC | R.RCTL_BSIZE_2048 | R.RCTL_RDMTS_HALF;
    if (this.mtu > 1500) v |= R.RCTL_LPE; // frames up to 9 KB, spanning 2048-byte buffers
    if (this.promisc) v |= R.RCTL_UPE | R.RCTL_MPE;
    if (this.allmulti) v |= R.RCTL_MPE;
    return v;
  }

  /** Receiver off; extended descriptors (latched when RCTL.EN is next set); checksum, RSS and VLAN settings. */
  protected hwRxConfigure(): void {
    const r = this.r;
    r.wr(R.RCTL, 0);
    r.set(R.RFCTL, R.RFCTL_EXSTEN);
    r.wr(R.RDTR, 0);
    r.wr(R.RADV, 0);
    const cksum = (this.rxOffloads() & RX_OFFLOAD_CHECKSUM) !== 0 ? R.RXCSUM_IPOFLD | R.RXCSUM_TUOFLD : 0;
    r.wr(R.RXCSUM, cksum | (this.rssOn() ? R.RXCSUM_PCSD : 0));
    this.hwRss();
    if (this.vme()) r.set(R.CTRL, R.CTRL_VME);
    else r.clear(R.CTRL, R.CTRL_VME);
  }

  protected hwRxQueueInit(q: number): void {
    const { iova, nb } = this.rxRingOf(q);
    this.programRing(this.rxRing(q), iova, nb);
    this.r.wr(R.RXDCTL(q), R.RXDCTL_GRAN | (1 << 16));
  }

  protected hwRxEnable(): void {
    this.r.wr(R.RCTL, this.rctl() | R.RCTL_EN);
  }

  protected hwRxDisable(): void {
    this.r.clear(R.RCTL, R.RCTL_EN);
    this.r.rd(R.STATUS);
  }

  protected hwRxConfigureMtu(): void {
    const en = this.r.rd(R.RCTL) & R.RCTL_EN;
    this.r.wr(R.RCTL, this.rctl() | en);
  }

  protected hwTxConfigure(): void {
    this.r.wr(R.TCTL, R.TCTL_PSP);
    this.r.wr(R.TIPG, R.TIPG_DEFAULT);
  }

  protected hwTxQueueInit(q: number): void {
    const { iova, nb } = this.txRingOf(q);
    this.programRing(this.txRing(q), iova, nb);
    this.r.wr(R.TXDCTL(q), R.TXDCTL_DEFAULT);
  }

  protected hwTxEnable(): void {
    this.r.wr(R.TCTL, R.TCTL_DEFAULT);
  }

  protected hwTxDisable(): void {
    this.r.clear(R.TCTL, R.TCTL_EN);
    this.r.rd(R.STATUS);
  }

  protected hwLink(): Link {
    return gbeLink(this.r.rd(R.STATUS));
  }


  protected hwRxModes(): void {
    this.programRxModes(R.RCTL, R.RCTL_UPE, R.RCTL_MPE);
  }


  /** RSSRK, RETA (the 82574 picks the queue from bit 7 of an entry), MRQC. */
  protected hwRss(): void {
    this.programRss({ mrqc: R.MRQC, rssrk: R.RSSRK, reta: R.RETA }, (q) => (q & 1) << 7, MRQC_FIELDS, R.MRQC_RSS_ENABLE);
  }

  protected hwMacFilter(index: number, mac: Uint8Array | null): void {
    const [lo, hi] = mac ? rarFromMac(mac) : [0, 0];
    this.r.wr(R.RAL0 + index * 8, lo);
    this.r.wr(R.RAH0 + index * 8, mac ? hi | R.RAH_AV : 0);
  }

  protected hwStatsFrom(): HwStats {
    return e1000HwStats(this.stats);
  }

  // ---- interrupts (82574 datasheet 7.4: MSI-X, IVAR 10.2.4.x, EIAC, EITR) ---------------------------------------
  /** RX queue q's MSI-X cause is RxQ<q> in ICR: unmasked through IMS, masked through IMC. */
  protected override rxIntrRegs(q: number): IntrRegs {
    return { set: R.IMS, clear: R.IMC, bit: R.ICR_RXQ(q) };
  }

  /**
   * IVAR: RxQ<q> -> vector q (valid), Other -> lscVector; TxQ causes unrouted (pktio reclaims TX by polling).
   * EIAC: a queue's cause clears from ICR and IMS when its vector fires (no IAME: not on ICR reads), so it stays
   * masked until RxQueue.intrEnable. ITR and each used EITR at ~20k interrupts/s. CTRL_EXT.PBA_SUPPORT as Linux sets
   * it with MSI-X. IMS: link status (LSC, through Other) when asked; queues start masked.
   */
  protected override hwIntrConfigure(rxqs: number[], lscVector: number, lsc: boolean): void {
    const r = this.r;
    let ivar = 0;
    let eiac = 0;
    for (const q of rxqs) {
      ivar |= (q | R.IVAR_VALID) << R.IVAR_RXQ_SHIFT(q);
      eiac |= R.ICR_RXQ(q);
      r.wr(R.EITR(q), R.ITR_20K);
    }
    if (lsc) {
      ivar |= (lscVector | R.IVAR_VALID) << R.IVAR_OTHER_SHIFT;
      r.wr(R.EITR(lscVector), R.ITR_20K);
    }
    r.set(R.CTRL_EXT, R.CTRL_EXT_PBA_SUPPORT);
    r.wr(R.IAM, 0);
    r.wr(R.ITR, R.ITR_20K);
    r.wr(R.IVAR, ivar >>> 0);
    r.wr(R.EIAC, eiac);
    r.wr(R.IMC, 0xffffffff);
    r.rd(R.ICR); // clear what is pending (ICR clears on read)
    if (lsc) r.wr(R.IMS, R.ICR_LSC | R.ICR_OTHER);
  }

  protected override hwIntrOff(): void {
    this.r.wr(R.IMC, 0xffffffff);
    this.r.wr(R.EIAC, 0);
    this.r.wr(R.IVAR, 0);
    this.r.rd(R.ICR);
  }

  protected hwShutdown(): void {
    const r = this.r;
    r.wr(R.IMC, 0xffffffff);
    r.wr(R.RCTL, 0);
    r.wr(R.TCTL, R.TCTL_PSP);
    r.set(R.CTRL, R.CTRL_RST);
    delayMs(10);
    r.wr(R.IMC, 0xffffffff);
  }
}

export const pmd = intelPmd(E1000E_DRIVER, import.meta.url, (bdf, dev, model) => new E1000ePort(bdf, dev, model));
