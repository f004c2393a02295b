// net_ixgbe: Intel's 10 GbE controllers 82599 (X520 cards), X540 and X550 on the shared Intel core (../common).
//
// What it does: up to 16 RX/TX queue pairs with RSS (Toeplitz over IPv4/IPv6 addresses and TCP/UDP ports, 128-entry
// redirection table, 40-byte key), advanced one-buffer RX descriptors with the RSS hash and packet type written back,
// RX checksum status, VLAN stripping per queue (RXDCTL.VME), advanced TX descriptors with IPv4 / TCP / UDP checksum
// and VLAN insertion through a context descriptor, frames up to 15872 bytes (MAXFRS) received as chains of 2 KiB
// buffers and sent from mbuf chains, promiscuous / all-multicast (FCTRL), 128 unicast address filters (RAL/RAH),
// per-queue start/stop, the hardware counters (clear on read, polled every second so 32-bit counters never wrap
// unseen) as ethdev stats and xstats under DPDK's names.
//
// Bring-up follows the 82599 datasheet, section 4.6: interrupts masked (4.6.3.1), DMA quiesced, global reset
// (CTRL.RST | CTRL.LNK_RST) and its self-clearing polled, interrupts masked again, EEPROM auto-read (EEC.ARD) and DMA
// initialisation (RDRXCTL.DMAIDONE) awaited (4.6.3.2), link set-up (4.6.4), statistics cleared by reading (4.6.5),
// then at start: receive (4.6.7: RXEN off, global filters / CRC strip / jumbo / checksum / RSS, per queue ring
// registers, SRRCTL, RXDCTL.ENABLE polled before the tail is bumped, RXEN with the security RX path halted around
// it, no-snoop off) and transmit (4.6.8: CRC and padding on, MTQC changed only with RTTDCS.ARBDIS set (4.6.11.3.4),
// DMATXCTL.TE before any TXDCTL.ENABLE, each queue's enable polled). Stop disables every queue and polls until the
// NIC agrees before ring registers are touched; close resets the NIC and turns bus mastering off.
//
// Per family:
//   82599  everything above. Link: AUTOC keeps the link mode the NVM loaded (SFI, KR, KX4, ...), AN restarted.
//          Not handled: SFP+ module identification and the multispeed-fiber laser (ESDP SDP3) that Intel's driver
//          switches on for some SFP+ boards; the firmware/NVM defaults are relied on, as ixy does. Nor the SW/FW
//          semaphore Intel's driver takes around AUTOC writes when manageability firmware shares the link (LESM).
//          Errata 44 (UDP frames with a zero checksum reported as L4 errors) is not filtered out by the RX loop.
//   X540   as the 82599 except the link: the internal 10GBASE-T PHY autonegotiates 100M/1G/10G with its power-on
//          advertisement; the driver does not program it over MDIO and leaves AUTOC alone.
//   X550   (X550-T, X550-T1) as the X540, plus 2.5 and 5 Gb/s reported from LINKS.SPEED_NON_STD. EEC is at the
//          82599's offset (only X550EM_a, not in the device table, moves it). The 512-entry RETA (ERETA) is used
//          for its first 128 entries only.
// IEEE 1588 (timesync*, 82599 and X540, by the datasheets and DPDK's ixgbe_timesync_*; UNTESTED on hardware, only
// against the register model of test/ixgbe-timesync.test.ts): the increment per link speed as DPDK programs it,
// EtherType filter 3 for 0x88F7, RX stamping of L2 PTP V2 Sync frames, TX stamping; SYSTIM read every 10 s so its
// short wrap (69 s on the X540) is counted. The X550's SYSTIM (seconds and nanoseconds) is not handled: refused.
// Not done on any: flow control (pause frames follow the NVM defaults), DCB, SR-IOV/VMDq, flow director, TSO, LRO,
// header split, MACsec/IPsec, interrupts (pktio polls).
//
// How it was tested: against a simulated 82599 only (test/helpers/ixgbe-sim.ts, test/ixgbe.test.ts): a register
// model in EAL memory that does the descriptor DMA itself (RX write-back with RSS hash computed from the key and
// RETA the driver programmed, VLAN strip, checksum status, multi-descriptor frames; TX with context descriptors,
// checksum and VLAN insertion) and records every datasheet precondition the driver breaks; the X540 and X550
// paths (link, speeds) run on the same model with their device IDs. No real 10 GbE hardware and no emulator (QEMU
// has none for this family) was available. A user with a real 82599/X540/X550 binds it to vfio-pci and runs the
// unchanged l2fwd: `node dist/examples/l2fwd/main.js -l 0,1 -a 0000:03:00.0 -a 0000:03:00.1 -- -q 2 -P`.
import {
  RX_OFFLOAD_VLAN_STRIP, RX_OFFLOAD_CHECKSUM, RX_OFFLOAD_RSS_HASH, RX_OFFLOAD_SCATTER, TX_OFFLOAD_VLAN_INSERT,
  TX_OFFLOAD_IPV4_CKSUM, TX_OFFLOAD_UDP_CKSUM, TX_OFFLOAD_TCP_CKSUM, TX_OFFLOAD_MULTI_SEGS,
  RSS_IPV4, RSS_FRAG_IPV4, RSS_FRAG_IPV6, RSS_NONFRAG_IPV4_TCP, RSS_NONFRAG_IPV4_UDP, RSS_IPV6, RSS_NONFRAG_IPV6_TCP, RSS_NONFRAG_IPV6_UDP,
  RSS_IPV6_EX, RSS_IPV6_TCP_EX, RSS_IPV6_UDP_EX,
  type Link, type HwStats, type RxConf, type XStat,
} from '../../driver.js';
import type { Mempool } from '../../../mempool/mempool.js';
import type { PciDeviceAccess } from '../../pci/access.js';
import type { IntelDevice, IntelFamily } from '../devices.js';
import { ETHER_OVERHEAD, VLAN_TAG, type FamilyTraits, type RingRegs } from '../common/port.js';
import type { IntelRxSpec } from '../common/layout.js';
import { intelPmd } from '../common/pmd.js';
import { macFromRar, rarFromMac } from '../common/regs.js';
import { delayMs } from '../../../eal/lcore.js';
import type { StatReg } from '../common/stats.js';
import { IntelTimesync, IntelTimesyncPort } from '../common/timesync.js';
import * as R from './regs.js';

export const IXGBE_DRIVER = 'net_ixgbe';
/** BAR 0 must reach every register the driver touches (the highest is EEMNGCTL at 0x10110) */
export const IXGBE_MIN_BAR = 0x20000;
const CRC_LEN = 4;
/** largest frame without HLREG0.JUMBOEN: 1518, 1522 with a VLAN tag */
const STD_FRAME = 1500 + ETHER_OVERHEAD + VLAN_TAG;
const RX_BUF = 2048;
/** TXDCTL thresholds: prefetch when 32 descriptors are free in the on-chip cache, host threshold 1, write-back
 * of each RS descriptor at once (WTHRESH 0: the reclaim loop reads DD on one descriptor per batch) */
const TXDCTL_THRESH = (32 << R.TXDCTL_PTHRESH_SHIFT) | (1 << R.TXDCTL_HTHRESH_SHIFT);

function statRegs(): StatReg[] {
  const s = (reg: number, name: string, wide = false): StatReg => (wide ? { reg, name, wide } : { reg, name });
  const out: StatReg[] = [
    s(R.CRCERRS, 'rx_crc_errors'), s(R.ILLERRC, 'rx_illegal_byte_errors'), s(R.ERRBC, 'rx_error_bytes'),
    s(R.MLFC, 'mac_local_errors'), s(R.MRFC, 'mac_remote_errors'), s(R.RLEC, 'rx_length_errors'),
    s(R.LXONTXC, 'tx_xon_packets'), s(R.LXONRXCNT, 'rx_xon_packets'), s(R.LXOFFTXC, 'tx_xoff_packets'),
    s(R.LXOFFRXCNT, 'rx_xoff_packets'), s(R.PRC64, 'rx_size_64_packets'), s(R.PRC127, 'rx_size_65_to_127_packets'),
    s(R.PRC255, 'rx_size_128_to_255_packets'), s(R.PRC511, 'rx_size_256_to_511_packets'),
    s(R.PRC1023, 'rx_size_512_to_1023_packets'), s(R.PRC1522, 'rx_size_1024_to_max_packets'),
    s(R.BPRC, 'rx_broadcast_packets'), s(R.MPRC, 'rx_multicast_packets'), s(R.RFC, 'rx_fragment_errors'),
    s(R.RUC, 'rx_undersize_errors'), s(R.ROC, 'rx_oversize_errors'), s(R.RJC, 'rx_jabber_errors'),
    s(R.MNGPRC, 'rx_management_packets'), s(R.MNGPDC, 'rx_management_dropped'), s(R.MNGPTC, 'tx_management_packets'),
    s(R.TPR, 'rx_total_packets'), s(R.TORL, 'rx_total_bytes', true), s(R.TPT, 'tx_total_packets'),
    s(R.PTC64, 'tx_size_64_packets'), s(R.PTC127, 'tx_size_65_to_127_packets'), s(R.PTC255, 'tx_size_128_to_255_packets'),
    s(R.PTC511, 'tx_size_256_to_511_packets'), s(R.PTC1023, 'tx_size_512_to_1023_packets'),
    s(R.PTC1522, 'tx_size_1024_to_max_packets'), s(R.MPTC, 'tx_multicast_packets'), s(R.BPTC, 'tx_broadcast_packets'),
    s(R.MSPDC, 'rx_mac_short_packet_dropped'), s(R.XEC, 'rx_l3_l4_xsum_error'),
    // the good-packet counters DPDK folds into its basic stats (names as net_e1000e's)
    s(R.GPRC, 'rx_good_packets_hw'), s(R.GPTC, 'tx_good_packets_hw'), s(R.GORCL, 'rx_good_bytes_hw', true),
    s(R.GOTCL, 'tx_good_bytes_hw', true),
  ];
  for (let i = 0; i < 8; i++) out.push(s(R.MPC(i), `rx_priority${i}_dropped`));
  // per-queue counters (RQSMR / TQSM map queue q onto counter q): DPDK reports them as q_ipackets etc.; here they
  // are xstats next to ethdev's software rx_q<n>_packets
  for (let q = 0; q < R.QUEUE_STAT_COUNTERS; q++) {
    out.push(s(R.QPRC(q), `rx_q${q}_packets_hw`), s(R.QBRC_L(q), `rx_q${q}_bytes_hw`, true), s(R.QPRDC(q), `rx_q${q}_dropped_hw`),
      s(R.QPTC(q), `tx_q${q}_packets_hw`), s(R.QBTC_L(q), `tx_q${q}_bytes_hw`, true));
  }
  return out;
}

/** RSS hash types -> MRQC field bits (82599 datasheet 7.1.2.8). */
const MRQC_FIELDS: Array<[number, number]> = [
  // fragments are hashed on their addresses: the IPv4 / IPv6 functions cover them (testpmd's --rss-ip asks for them)
  [RSS_IPV4 | RSS_FRAG_IPV4, R.MRQC_RSS_FIELD_IPV4], [RSS_NONFRAG_IPV4_TCP, R.MRQC_RSS_FIELD_IPV4_TCP],
  [RSS_NONFRAG_IPV4_UDP, R.MRQC_RSS_FIELD_IPV4_UDP], [RSS_IPV6 | RSS_FRAG_IPV6, R.MRQC_RSS_FIELD_IPV6],
  [RSS_NONFRAG_IPV6_TCP, R.MRQC_RSS_FIELD_IPV6_TCP], [RSS_NONFRAG_IPV6_UDP, R.MRQC_RSS_FIELD_IPV6_UDP],
  [RSS_IPV6_EX, R.MRQC_RSS_FIELD_IPV6_EX], [RSS_IPV6_TCP_EX, R.MRQC_RSS_FIELD_IPV6_EX_TCP],
  [RSS_IPV6_UDP_EX, R.MRQC_RSS_FIELD_IPV6_EX_UDP],
];

const SPEEDS: Record<string, number[]> = {
  '82599': [1000, 10000],
  x540: [100, 1000, 10000],
  x550: [100, 1000, 2500, 5000, 10000],
};

function traitsFor(family: IntelFamily): FamilyTraits {
  return {
    driver: IXGBE_DRIVER, rxCodec: 'adv-ixgbe', txCodec: 'adv-ixgbe', rxBufSize: RX_BUF, maxRxPktLen: 15872,
    retaSize: R.RETA_ENTRIES, hashKeySize: 40, flowTypeRssOffloads: MRQC_FIELDS.reduce((a, [hf]) => a | hf, 0),
    rxOffloadCapa: RX_OFFLOAD_VLAN_STRIP | RX_OFFLOAD_CHECKSUM | RX_OFFLOAD_RSS_HASH | RX_OFFLOAD_SCATTER,
    txOffloadCapa: TX_OFFLOAD_VLAN_INSERT | TX_OFFLOAD_IPV4_CKSUM | TX_OFFLOAD_UDP_CKSUM | TX_OFFLOAD_TCP_CKSUM |
      TX_OFFLOAD_MULTI_SEGS,
    maxMacAddrs: R.RAR_COUNT, speedCapa: SPEEDS[family] ?? SPEEDS['82599'], descMax: 8192, rxDescAlign: 8,
    statRegs: statRegs(), perQueueStart: true,
  };
}

export class IxgbePort extends IntelTimesyncPort {
  /** SRRCTL.DROP_EN per RX queue (RxConf.dropEn; DPDK's default is off) */
  private readonly dropEn: boolean[] = [];

  constructor(name: string, dev: PciDeviceAccess, model: IntelDevice) {
    super(name, dev, model, traitsFor(model.family), IXGBE_MIN_BAR);
  }

  private fail(what: string): never {
    throw new Error(`${IXGBE_DRIVER} ${this.name}: ${what}`);
  }

  /** 4.6.3.1: every interrupt cause masked (EIMC, and the queue halves EIMC_EX on the 82599 and later). */
  private maskInterrupts(): void {
    this.r.wr(R.EIMC, R.EIMC_ALL);
    this.r.wr(R.EIMC_EX(0), 0xffffffff);
    this.r.wr(R.EIMC_EX(1), 0xffffffff);
  }

  /** Stops bus-master DMA before a reset (CTRL.GIO_DIS, then STATUS.GIO clears when outstanding requests are done). */
  private quiesce(): void {
    this.r.wr(R.RXCTRL, 0);
    this.r.set(R.CTRL, R.CTRL_GIO_DIS);
    this.r.waitFor(R.STATUS, R.STATUS_GIO, 0, 50);
  }

  /** Global reset (4.6.3.2); CTRL.RST and LNK_RST self-clear. Only CTRL, STATUS and EIMC are touched until it is done. */
  private globalReset(): void {
    this.r.wr(R.CTRL, this.r.rd(R.CTRL) | R.CTRL_RST_MASK);
    if (!this.r.waitFor(R.CTRL, R.CTRL_RST_MASK, 0, 20)) this.fail('the global reset did not complete (CTRL.RST stays set)');
    delayMs(10); // the datasheet asks for at least 10 ms before the initialisation goes on
    this.maskInterrupts(); // 4.6.3.1: again after the reset
  }

  protected hwReset(): void {
    this.maskInterrupts();
    this.quiesce();
    this.globalReset();
    // 4.6.3: the NVM auto-read (MAC address, link mode...) and the DMA initialisation must be done before anything
    // else is touched
    if (!this.r.waitFor(R.EEC, R.EEC_ARD, R.EEC_ARD, 500)) {
      this.fail(`EEPROM auto-read did not complete (EEC.ARD; EEC = 0x${this.r.rd(R.EEC).toString(16)}): NVM missing or corrupt`);
    }
    if (!this.r.waitFor(R.RDRXCTL, R.RDRXCTL_DMAIDONE, R.RDRXCTL_DMAIDONE, 500)) {
      this.fail('DMA initialisation did not complete after reset (RDRXCTL.DMAIDONE)');
    }
  }

  /** MAC address from RAL0/RAH0, which the NVM auto-read loads. */
  protected hwReadMac(): Uint8Array {
    const hi = this.r.rd(R.RAH(0));
    const mac = macFromRar(this.r.rd(R.RAL(0)), hi);
    if ((hi & R.RAH_AV) === 0 || mac.every((b) => b === 0)) this.fail('no MAC address in RAL0/RAH0 after the NVM auto-read');
    return mac;
  }

  private family(): IntelFamily {
    return this.model.family;
  }

  /** Driver-loaded flag, link set-up (4.6.4), filters, queue-statistics mapping. */
  protected hwInit(): void {
    const r = this.r;
    r.set(R.CTRL_EXT, R.CTRL_EXT_DRV_LOAD);
    if (this.family() === '82599') {
      // the link mode (LMS) stays what the NVM loaded for this board; restarting autonegotiation brings the link up
      r.wr(R.AUTOC, r.rd(R.AUTOC) | R.AUTOC_AN_RESTART);
    }
    // X540 / X550: the 10GBASE-T PHY negotiates by itself with its power-on advertisement (no MDIO programming here)
    for (let i = 0; i < R.MTA_COUNT; i++) r.wr(R.MTA(i), 0);
    for (let i = 1; i < R.RAR_COUNT; i++) this.hwMacFilter(i, null);
    this.hwMacFilter(0, this.mac);
    // queue q counts into statistics counter q (these mappings must be rewritten after every reset)
    for (let i = 0; i < R.QUEUE_STAT_COUNTERS / 4; i++) {
      const v = ((4 * i) | ((4 * i + 1) << 8) | ((4 * i + 2) << 16) | ((4 * i + 3) << 24)) >>> 0;
      r.wr(R.RQSMR(i), v);
      r.wr(R.TQSM(i), v);
    }
  }

  protected rxRing(q: number): RingRegs {
    return { bal: R.RDBAL(q), bah: R.RDBAH(q), len: R.RDLEN(q), head: R.RDH(q), tail: R.RDT(q) };
  }

  protected txRing(q: number): RingRegs {
    return { bal: R.TDBAL(q), bah: R.TDBAH(q), len: R.TDLEN(q), head: R.TDH(q), tail: R.TDT(q) };
  }

  override rxQueueSetup(q: number, nb: number, conf: RxConf, pool: Mempool, portId: number): IntelRxSpec {
    const spec = super.rxQueueSetup(q, nb, conf, pool, portId);
    this.dropEn[q] = conf.dropEn === true;
    return spec;
  }

  private jumbo(): boolean {
    return this.maxFrame() > STD_FRAME;
  }

  /** MAXFRS and HLREG0.JUMBOEN from the MTU (frames over one 2 KiB buffer chain in the RX loop). */
  private applyMtu(): void {
    const r = this.r;
    r.wr(R.MAXFRS, ((r.rd(R.MAXFRS) & 0xffff) | (this.maxFrame() << R.MAXFRS_MFS_SHIFT)) >>> 0);
    const hl = r.rd(R.HLREG0);
    r.wr(R.HLREG0, this.jumbo() ? hl | R.HLREG0_JUMBOEN : hl & ~R.HLREG0_JUMBOEN);
  }

  /** 4.6.7, global part: receiver off while the filters, CRC strip, frame size, checksum and RSS are set. */
  protected hwRxConfigure(): void {
    const r = this.r;
    r.clear(R.RXCTRL, R.RXCTRL_RXEN);
    r.wr(R.FCTRL, R.FCTRL_BAM | (this.promisc ? R.FCTRL_UPE | R.FCTRL_MPE : 0) | (this.allmulti ? R.FCTRL_MPE : 0));
    r.set(R.HLREG0, R.HLREG0_RXCRCSTRP); // CRC stripped: HLREG0 and RDRXCTL must agree
    this.applyMtu();
    r.wr(R.RDRXCTL, ((r.rd(R.RDRXCTL) | R.RDRXCTL_CRCSTRIP) & ~R.RDRXCTL_RSCFRSTSIZE) >>> 0);
    // PCSD: the write-back's w1 carries the RSS hash (not the fragment checksum); IP/L4 checks are always on
    r.wr(R.RXCSUM, (r.rd(R.RXCSUM) | R.RXCSUM_PCSD) & ~R.RXCSUM_IPPCSE);
    this.hwRss();
    r.set(R.CTRL_EXT, R.CTRL_EXT_NS_DIS); // the last step of 4.6.7: no-snoop off
  }

  /** 4.6.7, per queue: ring registers and SRRCTL with the queue disabled, then RXDCTL.ENABLE until it reads back. */
  protected hwRxQueueInit(q: number): void {
    const r = this.r;
    const { iova, nb } = this.rxRingOf(q);
    this.programRing(this.rxRing(q), iova, nb);
    r.wr(R.SRRCTL(q), R.SRRCTL_DESCTYPE_ADV_ONEBUF | (RX_BUF >> R.SRRCTL_BSIZEPKT_SHIFT) | (this.dropEn[q] ? R.SRRCTL_DROP_EN : 0));
    r.clear(R.DCA_RXCTRL(q), R.DCA_RXCTRL_BIT12);
    // VLAN stripping is per queue on the 82599 and later (VLNCTRL.VET keeps 0x8100; the VLAN filter stays off)
    const vme = this.stripsVlan(q) ? R.RXDCTL_VME : 0;
    r.wr(R.RXDCTL(q), ((r.rd(R.RXDCTL(q)) & ~R.RXDCTL_VME) | R.RXDCTL_ENABLE | vme) >>> 0);
    if (!r.waitFor(R.RXDCTL(q), R.RXDCTL_ENABLE, R.RXDCTL_ENABLE, 20)) this.fail(`RX queue ${q} does not enable (RXDCTL.ENABLE)`);
  }

  /** RXCTRL.RXEN with the security RX path halted around the change (4.6.7 step 11). */
  protected hwRxEnable(): void {
    const r = this.r;
    r.set(R.SECRXCTRL, R.SECRXCTRL_RX_DIS);
    if (!r.waitFor(R.SECRXSTAT, R.SECRXSTAT_SECRX_RDY, R.SECRXSTAT_SECRX_RDY, 20)) this.fail('the security RX path does not halt (SECRXSTAT.SECRX_RDY)');
    r.set(R.RXCTRL, R.RXCTRL_RXEN);
    r.clear(R.SECRXCTRL, R.SECRXCTRL_RX_DIS);
  }

  protected hwRxDisable(): void {
    this.r.clear(R.RXCTRL, R.RXCTRL_RXEN);
    for (const q of this.rxQueuesOn()) this.hwRxQueueDisable(q);
  }

  /** 4.6.7.1: RXDCTL.ENABLE off, polled until the NIC agrees; then DMA in flight has a moment to land. */
  protected override hwRxQueueDisable(q: number): void {
    const r = this.r;
    r.clear(R.RXDCTL(q), R.RXDCTL_ENABLE);
    if (!r.waitFor(R.RXDCTL(q), R.RXDCTL_ENABLE, 0, 20)) this.fail(`RX queue ${q} does not disable (RXDCTL.ENABLE)`);
    delayMs(1);
  }

  protected hwRxConfigureMtu(): void {
    this.applyMtu();
  }

  /** 4.6.8, global part: CRC and padding on, MTQC with the arbiter off (4.6.11.3.4: DCB off, VT off), DMA on. */
  protected hwTxConfigure(): void {
    const r = this.r;
    r.set(R.HLREG0, R.HLREG0_TXCRCEN | R.HLREG0_TXPADEN);
    r.set(R.RTTDCS, R.RTTDCS_ARBDIS);
    r.wr(R.MTQC, R.MTQC_64Q_1PB);
    r.clear(R.RTTDCS, R.RTTDCS_ARBDIS);
    // before any TXDCTL.ENABLE; DMATXCTL.VT keeps its reset value 0x8100, the ether type VLE inserts (no double VLAN)
    r.set(R.DMATXCTL, R.DMATXCTL_TE);
  }

  protected hwTxQueueInit(q: number): void {
    const r = this.r;
    const { iova, nb } = this.txRingOf(q);
    this.programRing(this.txRing(q), iova, nb);
    r.wr(R.TXDCTL(q), TXDCTL_THRESH);
    r.wr(R.TXDCTL(q), TXDCTL_THRESH | R.TXDCTL_ENABLE);
    if (!r.waitFor(R.TXDCTL(q), R.TXDCTL_ENABLE, R.TXDCTL_ENABLE, 20)) this.fail(`TX queue ${q} does not enable (TXDCTL.ENABLE)`);
  }

  /** DMATXCTL.TE is set in hwTxConfigure (it must precede the queue enables): nothing left to do. */
  protected hwTxEnable(): void {}

  protected hwTxDisable(): void {
    for (const q of this.txQueuesOn()) this.hwTxQueueDisable(q);
  }

  /** 4.6.8.1: TXDCTL.ENABLE off (pending write-backs flushed), polled until the NIC agrees. */
  protected override hwTxQueueDisable(q: number): void {
    const r = this.r;
    r.wr(R.TXDCTL(q), ((r.rd(R.TXDCTL(q)) & ~R.TXDCTL_ENABLE) | R.TXDCTL_SWFLSH) >>> 0);
    if (!r.waitFor(R.TXDCTL(q), R.TXDCTL_ENABLE, 0, 20)) this.fail(`TX queue ${q} does not disable (TXDCTL.ENABLE)`);
  }

  /** LINKS: up in bit 30, speed in bits 29:28 (X550: SPEED_NON_STD turns 10G into 2.5G and 100M into 5G). */
  protected hwLink(): Link {
    const l = this.r.rd(R.LINKS);
    if ((l & R.LINKS_UP) === 0) return { up: false, speed: 0, fullDuplex: false, autoneg: true };
    const nonStd = this.family() === 'x550' && (l & R.LINKS_SPEED_NON_STD) !== 0;
    let speed: number;
    switch ((l & R.LINKS_SPEED_MASK) >>> 0) {
      case R.LINKS_SPEED_10G >>> 0: speed = nonStd ? 2500 : 10000; break;
      case R.LINKS_SPEED_1G: speed = 1000; break;
      case R.LINKS_SPEED_100: speed = nonStd ? 5000 : 100; break;
      default: speed = 10;
    }
    return { up: true, speed, fullDuplex: true, autoneg: true };
  }

  protected hwRxModes(): void {
    this.programRxModes(R.FCTRL, R.FCTRL_UPE, R.FCTRL_MPE);
  }


  /** RSSRK, RETA (queue index in bits 3:0 of each entry) and MRQC; MRQC = 0 turns RSS off (everything to queue 0). */
  protected hwRss(): void {
    this.programRss({ mrqc: R.MRQC, rssrk: R.RSSRK, reta: R.RETA }, (q) => q & 0xf, MRQC_FIELDS, R.MRQC_RSSEN);
  }

  /** Receive address `index` (RAL/RAH, AV = valid) in pool 0 (MPSAR). */
  protected hwMacFilter(index: number, mac: Uint8Array | null): void {
    const [lo, hi] = mac ? rarFromMac(mac) : [0, 0];
    this.r.wr(R.RAL(index), lo);
    this.r.wr(R.RAH(index), mac ? (hi | R.RAH_AV) >>> 0 : 0);
    this.r.wr(R.MPSAR_LO(index), mac ? 1 : 0);
    this.r.wr(R.MPSAR_HI(index), 0);
  }

  /**
   * The ethdev counters, as DPDK's ixgbe computes them: received packets and bytes from the per-queue counters
   * (GPRC also counts missed packets, an 82599 erratum; with CRC stripping the byte counters exclude the FCS),
   * transmitted ones from GPTC / GOTC less the FCS, missed from the packet-buffer MPCs.
   */
  protected hwStatsFrom(): HwStats {
    const s = this.stats;
    let ipackets = 0;
    let ibytes = 0;
    for (let q = 0; q < R.QUEUE_STAT_COUNTERS; q++) {
      ipackets += s.get(R.QPRC(q));
      ibytes += s.get(R.QBRC_L(q));
    }
    let imissed = 0;
    for (let i = 0; i < 8; i++) imissed += s.get(R.MPC(i));
    const gptc = s.get(R.GPTC);
    let ierrors = s.get(R.CRCERRS) + s.get(R.MSPDC) + s.get(R.RLEC) + s.get(R.RUC) + s.get(R.ROC) + s.get(R.ILLERRC) +
      s.get(R.ERRBC) + s.get(R.RFC);
    if (this.family() !== '82599') ierrors += s.get(R.XEC); // 82599 erratum: zero-checksum UDP counted in XEC
    return { ipackets, ibytes, opackets: gptc, obytes: Math.max(0, s.get(R.GOTCL) - CRC_LEN * gptc), imissed, ierrors, oerrors: 0 };
  }

  /** The register-backed xstats, then the ones DPDK derives from them. */
  override xstats(): XStat[] {
    const x = super.xstats();
    const s = this.stats;
    let missed = 0;
    for (let i = 0; i < 8; i++) missed += s.get(R.MPC(i));
    x.push({ name: 'rx_total_missed_packets', value: missed },
      { name: 'tx_flow_control_xon_packets', value: s.get(R.LXONTXC) }, { name: 'rx_flow_control_xon_packets', value: s.get(R.LXONRXCNT) },
      { name: 'tx_flow_control_xoff_packets', value: s.get(R.LXOFFTXC) }, { name: 'rx_flow_control_xoff_packets', value: s.get(R.LXOFFRXCNT) });
    return x;
  }

  // ---- IEEE 1588 (DPDK's ixgbe_timesync_*; untested on hardware) -------------------------------------------------
  protected readonly timesyncRegs = { txCtl: R.TSYNCTXCTL, rxCtl: R.TSYNCRXCTL, enable: R.TSYNC_EN, etqf: R.ETQF(R.ETQF_FILTER_1588), timinca: R.TIMINCA };

  /** TIMINCA for the link speed and how many fraction bits SYSTIM then has (DPDK's ixgbe_start_timecounters). */
  private timinca(): { inca: number; shift: number } {
    const speed = this.hwLink().speed;
    let [inc, shift] = speed === 100 ? [R.INCVAL_100, R.INCVAL_SHIFT_100] : speed === 1000 ? [R.INCVAL_1GB, R.INCVAL_SHIFT_1GB]
      : [R.INCVAL_10GB, R.INCVAL_SHIFT_10GB]; // 10 Gb/s, and a link that is down
    if (this.family() === '82599') {
      inc >>>= R.INCVAL_SHIFT_82599;
      shift -= R.INCVAL_SHIFT_82599;
      inc = ((1 << R.INCPER_SHIFT_82599) | inc) >>> 0;
    }
    return { inca: inc, shift };
  }

  /**
   * DPDK's ixgbe_timesync_enable: clock stopped and cleared, DISABLE_SYSTIME off, the increment of the current link
   * speed (enable again after the speed changed), EtherType filter 3 for 0x88F7 with its 1588 bit, RX stamping of
   * L2 PTP V2 Sync frames (RXMTRL 0), TX stamping.
   */
  protected timesyncStart(): IntelTimesync {
    if (this.family() === 'x550') {
      throw new Error(`timesyncEnable is not supported by ${IXGBE_DRIVER} on the ${this.model.name} (its SYSTIM counts seconds and nanoseconds; pktio handles the 82599 and X540)`);
    }
    const r = this.r;
    r.wr(R.TIMINCA, 0);
    r.wr(R.SYSTIML, 0);
    r.wr(R.SYSTIMH, 0);
    r.clear(R.TSAUXC, R.TSAUXC_DISABLE_SYSTIME);
    const { inca, shift } = this.timinca();
    r.wr(R.TIMINCA, inca);
    r.wr(R.ETQF(R.ETQF_FILTER_1588), (R.ETHER_TYPE_1588 | R.ETQF_FILTER_EN | R.ETQF_1588) >>> 0);
    r.wr(R.RXMTRL, 0);
    r.wr(R.TSYNCRXCTL, (r.rd(R.TSYNCRXCTL) & ~R.TSYNCRXCTL_TYPE_MASK) | R.TSYNC_EN);
    r.set(R.TSYNCTXCTL, R.TSYNC_EN);
    return new IntelTimesync(r, {
      systimL: R.SYSTIML, systimH: R.SYSTIMH,
      rxCtl: R.TSYNCRXCTL, rxValid: R.TSYNC_VALID, rxStampL: R.RXSTMPL, rxStampH: R.RXSTMPH, rxRelease: [],
      txCtl: R.TSYNCTXCTL, txValid: R.TSYNC_VALID, txStampL: R.TXSTMPL, txStampH: R.TXSTMPH,
    }, shift, 10000);
  }

  /** Receiver off, DMA quiesced, global reset (which also clears CTRL_EXT.DRV_LOAD), interrupts masked. */
  protected hwShutdown(): void {
    this.timesyncForget();
    this.maskInterrupts();
    this.quiesce();
    this.globalReset();
  }
}

export const pmd = intelPmd(IXGBE_DRIVER, import.meta.url, (bdf, dev, model) => new IxgbePort(bdf, dev, model));
