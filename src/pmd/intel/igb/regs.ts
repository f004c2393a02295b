// Intel 82576 GbE controller (and its successors I350, I210/I211): register offsets and bits net_igb uses.
//
// Source: Intel 82576EB GbE Controller Datasheet, section 8 (register descriptions: general 8.2, EEPROM/flash 8.4,
// interrupts 8.8, receive 8.10, transmit 8.12, statistics 8.19) and section 7 (advanced receive descriptors 7.1.5,
// RSS 7.1.2.10, advanced transmit descriptors 7.2.2); 4.5/4.6 for the reset and initialization order. Register
// names are the datasheet's. Offsets were cross-checked with DPDK's drivers/net/e1000/base (e1000_regs.h,
// e1000_defines.h, e1000_82575.h) and QEMU's hw/net/igb_regs.h. The I350 and I210 datasheets keep this layout for
// everything below (they add registers pktio does not use).
//
// All registers are 32 bits wide; the constants are BYTE offsets into BAR 0.

// ---- general (8.2) ----------------------------------------------------------------------------------------------
export const CTRL = 0x00000;
export const STATUS = 0x00008;
export const EECD = 0x00010;
export const EERD = 0x00014;
export const CTRL_EXT = 0x00018;
export const MDIC = 0x00020;
/** VLAN Ether Type: VET (15:0) for the single / inner tag, VET_EXT (31:16) for the outer one */
export const VET = 0x00038;
/** manageability EEPROM control: CFG_DONE per LAN port once the PHY configuration load is over */
export const EEMNGCTL = 0x01010;
/** software semaphore (SMBI, SWESMBI) and the software/firmware resource bits behind it */
export const SWSM = 0x05b50;
export const SW_FW_SYNC = 0x05b5c;

// ---- interrupts (8.8; MSI-X 7.3) --------------------------------------------------------------------------------
export const ICR = 0x000c0;
export const IMS = 0x000d0;
export const IMC = 0x000d8;
/** general purpose interrupt enable: MSI-X mode and its companions (bits below) */
export const GPIE = 0x01514;
/** extended interrupt cause set / mask set / mask clear / auto clear / auto mask: one bit per MSI-X vector */
export const EICS = 0x01520;
export const EIMS = 0x01524;
export const EIMC = 0x01528;
export const EIAC = 0x0152c;
export const EIAM = 0x01530;
export const EICR = 0x01580;
/** per-vector throttling: interval (14:2) in 1 us units, CNT_IGNR (31) */
export const EITR = (v: number): number => 0x01680 + v * 4;
/**
 * interrupt vector allocation: IVAR0[n] (n 0-7) holds four one-byte entries: RX queue n, TX queue n, RX queue n + 8,
 * TX queue n + 8; an entry is a vector (4:0) and IVAR_VALID
 */
export const IVAR0 = (n: number): number => 0x01700 + n * 4;
/** IVAR_MISC: byte 1 routes the "other" causes (link status among them) */
export const IVAR_MISC = 0x01740;
export const IVAR_VALID = 0x80;
/** byte shift of RX queue q's entry in IVAR0[q & 7] */
export const IVAR_RXQ_SHIFT = (q: number): number => (q < 8 ? 0 : 16);
export const IVAR_MISC_OTHER_SHIFT = 8;
export const GPIE_NSICR = 1 << 0;
export const GPIE_MSIX_MODE = 1 << 4;
export const GPIE_EIAME = 1 << 30;
export const GPIE_PBA_SUPPORT = 1 << 31;
export const EITR_CNT_IGNR = 1 << 31;
/** ~20,000 interrupts/s at most: 50 us (49 << 2), Linux igb's IGB_20K_ITR */
export const EITR_20K = 196;
export const ICR_LSC = 1 << 2;

// ---- receive (8.10) ---------------------------------------------------------------------------------------------
export const RCTL = 0x00100;
export const RXCSUM = 0x05000;
/** receive long packet maximum length (13:0), used with RCTL.LPE */
export const RLPML = 0x05004;
export const MTA = 0x05200; // 128 registers
export const MTA_COUNT = 128;
export const VFTA = 0x05600; // 128 registers
export const VFTA_COUNT = 128;
export const UTA = 0x0a000; // 128 registers (unicast hash table)
export const UTA_COUNT = 128;
export const MRQC = 0x05818;
/** redirection table: 32 registers of four one-byte entries, entry i in byte i % 4 of RETA(i / 4) */
export const RETA = (n: number): number => 0x05c00 + n * 4;
export const RETA_ENTRIES = 128;
/** RSS random key: 10 registers, key byte 0 in the low byte of RSSRK(0) */
export const RSSRK = (n: number): number => 0x05c80 + n * 4;
export const RSS_KEY_BYTES = 40;

/**
 * Receive address filters: entries 0-15 at 0x5400, 16 and up at 0x54E0 (24 on the 82576, 32 on the I350, 16 on
 * the I210/I211).
 */
export const RAL = (n: number): number => (n < 16 ? 0x05400 + n * 8 : 0x054e0 + (n - 16) * 8);
export const RAH = (n: number): number => RAL(n) + 4;

// Per-queue receive registers. The 82576 answers queues 0-3 at 0x2800 + 0x100 n as well (the 82574 layout), but
// every queue at 0x0C000 + 0x40 n: pktio uses that block for all of them.
const rxq = (base: number) => (q: number): number => 0x0c000 + base + q * 0x40;
export const RDBAL = rxq(0x00);
export const RDBAH = rxq(0x04);
export const RDLEN = rxq(0x08);
/** split and replication receive control: buffer size, descriptor type, drop enable */
export const SRRCTL = rxq(0x0c);
export const RDH = rxq(0x10);
export const RDT = rxq(0x18);
export const RXDCTL = rxq(0x28);
/** per-queue DMA offload control of the I350 / I210 (CRC and VLAN strip per queue) */
export const DVMOLR = rxq(0x38);

// ---- transmit (8.12) ---------------------------------------------------------------------------------------------
export const TCTL = 0x00400;
export const TCTL_EXT = 0x00404;
const txq = (base: number) => (q: number): number => 0x0e000 + base + q * 0x40;
export const TDBAL = txq(0x00);
export const TDBAH = txq(0x04);
export const TDLEN = txq(0x08);
export const TDH = txq(0x10);
export const TDT = txq(0x18);
export const TXDCTL = txq(0x28);

// ---- CTRL -------------------------------------------------------------------------------------------------------
export const CTRL_FD = 1 << 0;
export const CTRL_GIO_MASTER_DISABLE = 1 << 2;
export const CTRL_SLU = 1 << 6;
export const CTRL_FRCSPD = 1 << 11;
export const CTRL_FRCDPX = 1 << 12;
export const CTRL_RST = 1 << 26;
/** VLAN mode: strip tags on receive (without VMDq) and allow VLE insertion on transmit */
export const CTRL_VME = 1 << 30;
export const CTRL_PHY_RST = 1 << 31;

// ---- STATUS -----------------------------------------------------------------------------------------------------
export const STATUS_FD = 1 << 0;
export const STATUS_LU = 1 << 1;
/** PCI function number of this LAN port (3:2) */
export const STATUS_FUNC_SHIFT = 2;
export const STATUS_FUNC_MASK = 3 << 2;
export const STATUS_SPEED_SHIFT = 6; // bits 7:6: 00 10 Mb/s, 01 100 Mb/s, 10/11 1000 Mb/s
export const STATUS_SPEED_MASK = 3 << 6;
export const STATUS_GIO_MASTER_ENABLE = 1 << 19;

// ---- CTRL_EXT ---------------------------------------------------------------------------------------------------
/** link mode (23:22): 00 internal copper PHY, 01 1000BASE-KX, 10 SGMII, 11 SerDes */
export const CTRL_EXT_LINK_MODE_MASK = 3 << 22;
export const CTRL_EXT_LINK_MODE_COPPER = 0;
/** tells manageability firmware a driver owns the port */
export const CTRL_EXT_DRV_LOAD = 1 << 28;

// ---- EECD / EERD / EEMNGCTL -------------------------------------------------------------------------------------
export const EECD_PRES = 1 << 8;
export const EECD_AUTO_RD = 1 << 9;
export const EERD_START = 1 << 0;
export const EERD_DONE = 1 << 1;
export const EERD_ADDR_SHIFT = 2;
export const EERD_DATA_SHIFT = 16;
/** CFG_DONE of LAN port n is bit 18 + n */
export const EEMNGCTL_CFG_DONE = (port: number): number => 1 << (18 + port);

// ---- SWSM / SW_FW_SYNC ------------------------------------------------------------------------------------------
export const SWSM_SMBI = 1 << 0;
export const SWSM_SWESMBI = 1 << 1;
/** software's PHY lock of LAN port n in SW_FW_SYNC (firmware's is the same bit << 16) */
export const SWFW_PHY_SM = (port: number): number => [0x02, 0x04, 0x20, 0x40][port & 3];
export const SWFW_FW_SHIFT = 16;

// ---- MDIC and the PHY -------------------------------------------------------------------------------------------
export const MDIC_DATA_MASK = 0xffff;
export const MDIC_REG_SHIFT = 16;
export const MDIC_PHY_SHIFT = 21;
export const MDIC_OP_WRITE = 1 << 26;
export const MDIC_OP_READ = 2 << 26;
export const MDIC_READY = 1 << 28;
export const MDIC_ERROR = 1 << 30;
/** MDIO address of the internal copper PHY of the 82576 / I350 / I210 */
export const PHY_ADDR = 1;
/** IEEE 802.3 clause 22 basic control register and its bits */
export const PHY_BMCR = 0;
export const BMCR_RESTART_AN = 1 << 9;
export const BMCR_ISOLATE = 1 << 10;
export const BMCR_POWER_DOWN = 1 << 11;
export const BMCR_AN_ENABLE = 1 << 12;

// ---- RCTL -------------------------------------------------------------------------------------------------------
export const RCTL_EN = 1 << 1;
export const RCTL_SBP = 1 << 2;
export const RCTL_UPE = 1 << 3;
export const RCTL_MPE = 1 << 4;
export const RCTL_LPE = 1 << 5;
export const RCTL_LBM_MASK = 3 << 6;
export const RCTL_RDMTS_HALF = 0 << 8;
export const RCTL_MO_MASK = 3 << 12;
export const RCTL_BAM = 1 << 15;
export const RCTL_VFE = 1 << 18;
export const RCTL_SECRC = 1 << 26;

// ---- SRRCTL -----------------------------------------------------------------------------------------------------
/** packet buffer size in 1 KiB units (6:0); 0 falls back to RCTL.BSIZE */
export const SRRCTL_BSIZEPACKET_SHIFT = 10; // bytes >> 10
export const SRRCTL_BSIZEPACKET_MASK = 0x7f;
/** descriptor type (27:25): 001 advanced, one buffer */
export const SRRCTL_DESCTYPE_MASK = 7 << 25;
export const SRRCTL_DESCTYPE_ADV_ONEBUF = 1 << 25;
export const SRRCTL_DROP_EN = 1 << 31;

// ---- RXDCTL / TXDCTL --------------------------------------------------------------------------------------------
/** prefetch (4:0), host (12:8) and write-back (20:16) thresholds, queue enable (25), software flush (26) */
export const XDCTL_PTHRESH_SHIFT = 0;
export const XDCTL_HTHRESH_SHIFT = 8;
export const XDCTL_WTHRESH_SHIFT = 16;
export const XDCTL_ENABLE = 1 << 25;
/**
 * What pktio programs (DPDK's 82576 defaults): RX prefetch 8, host 8, write-back 1; TX prefetch 8, host 1,
 * write-back 1. A write-back threshold of 1 writes every descriptor back at once: a poll-mode driver sees each
 * frame without waiting for a batch or an interrupt timer.
 */
export const RXDCTL_DEFAULT = (8 << XDCTL_PTHRESH_SHIFT) | (8 << XDCTL_HTHRESH_SHIFT) | (1 << XDCTL_WTHRESH_SHIFT);
export const TXDCTL_DEFAULT = (8 << XDCTL_PTHRESH_SHIFT) | (1 << XDCTL_HTHRESH_SHIFT) | (1 << XDCTL_WTHRESH_SHIFT);

// ---- DVMOLR (I350 / I210) ---------------------------------------------------------------------------------------
export const DVMOLR_STRCRC = 1 << 31;

// ---- RXCSUM / MRQC ----------------------------------------------------------------------------------------------
export const RXCSUM_IPOFLD = 1 << 8;
export const RXCSUM_TUOFLD = 1 << 9;
/** packet checksum disable: the advanced write-back's w1 carries the RSS hash (QEMU hashes only with it set) */
export const RXCSUM_PCSD = 1 << 13;
/** multiple receive queues enable (2:0): 010 = RSS only */
export const MRQC_ENABLE_MASK = 7;
export const MRQC_ENABLE_RSS = 2;
export const MRQC_TCP_IPV4 = 1 << 16;
export const MRQC_IPV4 = 1 << 17;
export const MRQC_TCP_IPV6_EX = 1 << 18;
export const MRQC_IPV6_EX = 1 << 19;
export const MRQC_IPV6 = 1 << 20;
export const MRQC_TCP_IPV6 = 1 << 21;
export const MRQC_UDP_IPV4 = 1 << 22;
export const MRQC_UDP_IPV6 = 1 << 23;
export const MRQC_UDP_IPV6_EX = 1 << 24;

// ---- TCTL / TCTL_EXT --------------------------------------------------------------------------------------------
export const TCTL_EN = 1 << 1;
export const TCTL_PSP = 1 << 3;
export const TCTL_CT_SHIFT = 4;
export const TCTL_CT_MASK = 0xff << 4;
export const TCTL_RTLC = 1 << 24;
/** collision threshold 15 (as the reference drivers program it) */
export const TCTL_CT_DEFAULT = 0x0f << TCTL_CT_SHIFT;
/** collision distance (19:10), 63 for full duplex */
export const TCTL_EXT_COLD_SHIFT = 10;
export const TCTL_EXT_COLD_MASK = 0x3ff << 10;
export const TCTL_EXT_COLD_DEFAULT = 63 << 10;

// ---- RAH --------------------------------------------------------------------------------------------------------
export const RAH_AV = 1 << 31;

// ---- advanced RX write-back pkt_info (w0): RSS type (3:0) ---------------------------------------------------------
export const RSS_TYPE_TCP_IPV4 = 0x1;
export const RSS_TYPE_IPV4 = 0x2;
export const RSS_TYPE_TCP_IPV6 = 0x3;
export const RSS_TYPE_IPV6_EX = 0x4;
export const RSS_TYPE_IPV6 = 0x5;
export const RSS_TYPE_TCP_IPV6_EX = 0x6;
export const RSS_TYPE_UDP_IPV4 = 0x7;
export const RSS_TYPE_UDP_IPV6 = 0x8;
export const RSS_TYPE_UDP_IPV6_EX = 0x9;
/** packet type bits of pkt_info */
export const PKT_IPV4 = 1 << 4;
export const PKT_IPV4_EX = 1 << 5;
export const PKT_IPV6 = 1 << 6;
export const PKT_IPV6_EX = 1 << 7;
export const PKT_TCP = 1 << 8;
export const PKT_UDP = 1 << 9;
export const PKT_SCTP = 1 << 10;

// ---- advanced RX write-back status / errors (w2) ------------------------------------------------------------------
export const RXD_STAT_DD = 1 << 0;
export const RXD_STAT_EOP = 1 << 1;
export const RXD_STAT_VP = 1 << 3;
export const RXD_STAT_UDPCS = 1 << 4;
export const RXD_STAT_L4I = 1 << 5;
export const RXD_STAT_IPCS = 1 << 6;
export const RXD_ERR_CE = 1 << 24;
export const RXD_ERR_L4E = 1 << 29;
export const RXD_ERR_IPE = 1 << 30;
export const RXD_ERR_RXE = 1 << 31;

// ---- advanced TX descriptors (w2 / w3 of a data descriptor) ----------------------------------------------------------
export const TXD_DTYP_DATA = 0x3 << 20;
export const TXD_DTYP_CTXT = 0x2 << 20;
export const TXD_CMD_EOP = 1 << 24;
export const TXD_CMD_IFCS = 1 << 25;
export const TXD_CMD_RS = 1 << 27;
export const TXD_CMD_DEXT = 1 << 29;
export const TXD_CMD_VLE = 1 << 30;
export const TXD_STAT_DD = 1 << 0;
export const TXD_POPTS_IXSM = 1 << 8;
export const TXD_POPTS_TXSM = 1 << 9;
export const TXD_PAYLEN_SHIFT = 14;

// ---- IEEE 1588 time sync (the datasheet's time sync registers; offsets and bits as Linux / DPDK e1000 base) ---
/** system time, 64 bits: reading SYSTIML latches SYSTIMH */
export const SYSTIML = 0x0b600;
export const SYSTIMH = 0x0b604;
/** increment attributes: every IP (31:24) periods of 16 ns, SYSTIM += IV (23:0) */
export const TIMINCA = 0x0b608;
export const TIMINCA_IP_SHIFT = 24;
/** what pktio programs: 16 added every 16 ns, so SYSTIM counts nanoseconds (DPDK and Linux add 16 << 19 on the
 * 82576 for finer frequency steps, which pktio does not offer) */
export const TIMINCA_1NS = ((1 << TIMINCA_IP_SHIFT) | 16) >>> 0;
/** TX time sync control: VALID (0) a TX time is latched, EN (4) */
export const TSYNCTXCTL = 0x0b614;
export const TXSTMPL = 0x0b618;
export const TXSTMPH = 0x0b61c;
/** RX time sync control: VALID (0), Type (3:1), EN (4) */
export const TSYNCRXCTL = 0x0b620;
export const RXSTMPL = 0x0b624;
export const RXSTMPH = 0x0b628;
/** source ID and sequence ID of the stamped frame (QEMU's igb frees the RX latch when RXSATRH is read) */
export const RXSATRL = 0x0b62c;
export const RXSATRH = 0x0b630;
/** auxiliary control: DISABLE_SYSTIME (31) stops SYSTIM on the I350 / I210 (cleared as DPDK does on every family) */
export const TSAUXC = 0x0b640;
/** RX time sync configuration: CTRLT (7:0) and MSGT (15:8), the PTP message type the L2 V2 mode stamps */
export const TSYNCRXCFG = 0x05f50;
/** EtherType queue filters (8): EtherType (15:0), FILTER_ENABLE (26), 1588 time stamp (30) */
export const ETQF = (n: number): number => 0x05cb0 + n * 4;
export const TSYNC_VALID = 1 << 0;
export const TSYNC_EN = 1 << 4;
/** TSYNCRXCTL.Type (3:1): 000 L2 PTP V2 frames whose message type is TSYNCRXCFG.MSGT (0: Sync) */
export const TSYNCRXCTL_TYPE_MASK = 7 << 1;
export const TSYNCRXCTL_TYPE_L2_V2 = 0 << 1;
export const TSAUXC_DISABLE_SYSTIME = 1 << 31;
export const ETQF_FILTER_ENABLE = 1 << 26;
export const ETQF_1588 = 1 << 30;
/** the filter pktio gives PTP (DPDK's E1000_ETQF_FILTER_1588; the RX loop maps it to PTYPE_L2_ETHER_TIMESYNC) */
export const ETQF_FILTER_1588 = 3;
export const ETHER_TYPE_1588 = 0x88f7;
/** advanced RX write-back: TS (16), the frame's time is latched in RXSTMP; advanced TX data: MAC_TSTAMP (19) */
export const RXD_STAT_TS = 1 << 16;
export const TXD_MAC_TSTAMP = 1 << 19;

// ---- statistics (8.19): clear on read: the 1G block (../common/gbe.ts) and the 82576's own ------------
export * from '../common/gbe.js';
/** sequence errors */
export const SEC = 0x04038;
/** packets the receive path handed to the host (RPTHC) and host good packets transmitted (HGPTC) */
export const RPTHC = 0x04104;
export const HGPTC = 0x04118;
/** SerDes / SGMII code violation packets */
export const SCVPC = 0x04228;
export const STATS_START = 0x04000;
export const STATS_END = 0x04140; // exclusive: the 0x4000 block; SCVPC lies outside it
