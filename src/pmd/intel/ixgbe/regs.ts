// Intel 82599 / X540 / X550 10 GbE controllers: register offsets and bits the ixgbe driver (and its simulator) use.
//
// Source: Intel 82599 10 GbE Controller Datasheet, section 8 (register descriptions; 8.2.3.x) with the sequences of
// section 4.6 (initialisation) and the descriptor layouts of section 7; X540 and X550 datasheets where they differ.
// Names are the datasheets'. Offsets cross-checked against Intel's shared-code header ixgbe_type.h (as carried by
// DPDK, Linux and ixy). Every register is 32 bits wide; the constants are BYTE offsets into BAR 0.
//
// Per-queue registers are functions of the queue. The 82599 keeps 82598-compatible aliases for some of them
// (SRRCTL and DCA_RXCTRL of queues 0-15 at 0x2100 / 0x2200, RETA / RSSRK / MRQC at 0x5C00 / 0x5C80 / 0x5818 next to
// 0xEB00 / 0xEB80 / 0xEC80); this table uses the per-queue 0x1000 block for queues, and for RSS the 0x5xxx
// addresses that Intel's, Linux's and DPDK's drivers program on all three families.

// ---- general ------------------------------------------------------------------------------------------------------
export const CTRL = 0x00000;
export const STATUS = 0x00008;
export const CTRL_EXT = 0x00018;
/** EEPROM/flash control. The same offset on the 82599, X540 and X550 (only X550EM_a moves it, to 0x15FF8). */
export const EEC = 0x10010;
export const EERD = 0x10014;
/** manageability EEPROM control: CFG_DONE0/1 once firmware has configured port 0/1 */
export const EEMNGCTL = 0x10110;

export const CTRL_GIO_DIS = 1 << 2; // PCIe master disable (quiesce DMA before a reset)
export const CTRL_LNK_RST = 1 << 3; // link reset
export const CTRL_RST = 1 << 26; // device (software) reset
export const CTRL_RST_MASK = CTRL_LNK_RST | CTRL_RST; // both self-clear

export const STATUS_LAN_ID_SHIFT = 2;
export const STATUS_LAN_ID_MASK = 3 << 2;
export const STATUS_GIO = 1 << 19; // PCIe master enable status (clears once GIO_DIS took effect)

export const CTRL_EXT_PFRSTD = 1 << 14;
export const CTRL_EXT_NS_DIS = 1 << 16; // no-snoop disable
export const CTRL_EXT_RO_DIS = 1 << 17;
export const CTRL_EXT_DRV_LOAD = 1 << 28; // a driver owns the port (firmware leaves it alone)

export const EEC_PRES = 1 << 8;
export const EEC_ARD = 1 << 9; // EEPROM auto-read done

export const EEMNGCTL_CFG_DONE0 = 1 << 18;
export const EEMNGCTL_CFG_DONE1 = 1 << 19;

// ---- interrupts ---------------------------------------------------------------------------------------------------
export const EICR = 0x00800;
export const EICS = 0x00808;
export const EIMS = 0x00880;
export const EIMC = 0x00888;
export const EIAC = 0x00810;
/** the queue-cause halves of EIMC on the 82599 and later: queues 0-31, 32-63 */
export const EIMC_EX = (i: number): number => 0x00ab0 + i * 4;
/** every cause bit of EIMC (bit 31 is reserved) */
export const EIMC_ALL = 0x7fffffff;

// ---- receive DMA, per queue (queues 0-63 at 0x1000 + 0x40 q, 64-127 at 0xD000 + 0x40 (q - 64)) -----------------------
const rxq = (base: number) => (q: number): number => (q < 64 ? base + q * 0x40 : base + 0xc000 + (q - 64) * 0x40);
export const RDBAL = rxq(0x01000);
export const RDBAH = rxq(0x01004);
export const RDLEN = rxq(0x01008);
export const DCA_RXCTRL = rxq(0x0100c);
export const RDH = rxq(0x01010);
export const SRRCTL = rxq(0x01014);
export const RDT = rxq(0x01018);
export const RXDCTL = rxq(0x01028);
/** per-queue statistics counters (16 of each; a queue counts into the one RQSMR maps it to) */
export const QPRC = (i: number): number => 0x01030 + i * 0x40;
export const QBRC_L = (i: number): number => 0x01034 + i * 0x40;
export const QBRC_H = (i: number): number => 0x01038 + i * 0x40;
export const QPRDC = (i: number): number => 0x01430 + i * 0x40;
/** 82598-compatible aliases (82599 datasheet: queues 0-15 only) */
export const SRRCTL_ALIAS = (q: number): number => 0x02100 + q * 4;
export const DCA_RXCTRL_ALIAS = (q: number): number => 0x02200 + q * 4;
/** RX queue -> statistics counter map: 4 queues per register, one byte each */
export const RQSMR = (i: number): number => 0x02300 + i * 4;

export const RDRXCTL = 0x02f00;
export const RXCTRL = 0x03000;
export const RXPBSIZE = (i: number): number => 0x03c00 + i * 4;

export const RXDCTL_ENABLE = 1 << 25;
export const RXDCTL_SWFLSH = 1 << 26;
export const RXDCTL_VME = 1 << 30; // strip VLAN tags on this queue (82599 and later)

export const SRRCTL_BSIZEPKT_SHIFT = 10; // BSIZEPACKET is in 1 KiB units
export const SRRCTL_BSIZEPKT_MASK = 0x1f; // bits 4:0 (valid 1..16 KiB)
export const SRRCTL_BSIZEHDR_MASK = 0x3f00;
export const SRRCTL_DESCTYPE_MASK = 7 << 25;
export const SRRCTL_DESCTYPE_LEGACY = 0;
export const SRRCTL_DESCTYPE_ADV_ONEBUF = 1 << 25;
export const SRRCTL_DROP_EN = 1 << 28;

/** DCA_RXCTRL bit 12: reserved, 1 after reset, to be cleared by the driver (82599 datasheet 4.6.7, as ixy reads it) */
export const DCA_RXCTRL_BIT12 = 1 << 12;

export const RDRXCTL_CRCSTRIP = 1 << 1;
export const RDRXCTL_DMAIDONE = 1 << 3; // DMA initialisation done after reset
export const RDRXCTL_RSCFRSTSIZE = 0x1f << 17;
export const RDRXCTL_RSCACKC = 1 << 25;
export const RDRXCTL_FCOE_WRFIX = 1 << 26;

export const RXCTRL_RXEN = 1 << 0;

// ---- receive filters, checksum, RSS ---------------------------------------------------------------------------------
export const RXCSUM = 0x05000;
export const RXCSUM_IPPCSE = 1 << 12; // IP payload checksum (fragmented UDP)
export const RXCSUM_PCSD = 1 << 13; // packet checksum off: w1 of the write-back carries the RSS hash

export const FCTRL = 0x05080;
export const FCTRL_SBP = 1 << 1; // store bad packets
export const FCTRL_MPE = 1 << 8; // multicast promiscuous
export const FCTRL_UPE = 1 << 9; // unicast promiscuous
export const FCTRL_BAM = 1 << 10; // broadcast accept
export const FCTRL_PMCF = 1 << 12;
export const FCTRL_DPF = 1 << 13;

export const VLNCTRL = 0x05088;
export const VLNCTRL_VET_MASK = 0xffff; // VLAN ether type, 0x8100 after reset
export const VLNCTRL_VFE = 1 << 30; // VLAN filter table on

export const MCSTCTRL = 0x05090;
export const MTA = (i: number): number => 0x05200 + i * 4;
export const MTA_COUNT = 128;

/** receive address (unicast filter) registers: 128 on the 82599, X540 and X550 */
export const RAL = (i: number): number => (i <= 15 ? 0x05400 + i * 8 : 0x0a200 + i * 8);
export const RAH = (i: number): number => (i <= 15 ? 0x05404 + i * 8 : 0x0a204 + i * 8);
export const RAR_COUNT = 128;
export const RAH_AV = 1 << 31;
/** pool select of receive address i (VMDq); pool 0 is the PF's */
export const MPSAR_LO = (i: number): number => 0x0a600 + i * 8;
export const MPSAR_HI = (i: number): number => 0x0a604 + i * 8;

export const MRQC = 0x05818;
export const MRQC_ALIAS = 0x0ec80;
export const RETA = (i: number): number => 0x05c00 + i * 4; // 32 registers, 4 one-byte entries each (entry 4i in bits 7:0)
export const RETA_ALIAS = (i: number): number => 0x0eb00 + i * 4;
export const RETA_ENTRIES = 128;
export const RSSRK = (i: number): number => 0x05c80 + i * 4; // 10 registers: the 40-byte key, byte 4i in bits 7:0
export const RSSRK_ALIAS = (i: number): number => 0x0eb80 + i * 4;
/** X550: RETA entries 128-511 (pktio uses the first 128, like the 82599) */
export const ERETA = (i: number): number => 0x0ee80 + i * 4;

export const MRQC_MRQE_MASK = 0xf;
export const MRQC_RSSEN = 0x1;
export const MRQC_RSS_FIELD_IPV4_TCP = 1 << 16;
export const MRQC_RSS_FIELD_IPV4 = 1 << 17;
export const MRQC_RSS_FIELD_IPV6_EX_TCP = 1 << 18;
export const MRQC_RSS_FIELD_IPV6_EX = 1 << 19;
export const MRQC_RSS_FIELD_IPV6 = 1 << 20;
export const MRQC_RSS_FIELD_IPV6_TCP = 1 << 21;
export const MRQC_RSS_FIELD_IPV4_UDP = 1 << 22;
export const MRQC_RSS_FIELD_IPV6_UDP = 1 << 23;
export const MRQC_RSS_FIELD_IPV6_EX_UDP = 1 << 24;

// ---- MAC ------------------------------------------------------------------------------------------------------------
export const HLREG0 = 0x04240;
export const HLREG0_TXCRCEN = 1 << 0;
export const HLREG0_RXCRCSTRP = 1 << 1;
export const HLREG0_JUMBOEN = 1 << 2;
export const HLREG0_TXPADEN = 1 << 10;
export const HLREG0_LPBK = 1 << 15;

/** max frame size: MFS in bits 31:16, FCS included (checked when HLREG0.JUMBOEN is set; 1518 otherwise) */
export const MAXFRS = 0x04268;
export const MAXFRS_MFS_SHIFT = 16;

export const AUTOC = 0x042a0;
export const AUTOC_FLU = 1 << 0;
export const AUTOC_AN_RESTART = 1 << 12; // self-clearing
export const AUTOC_LMS_SHIFT = 13;
export const AUTOC_LMS_MASK = 7 << 13;
export const AUTOC_LMS_10G_SERIAL = 3 << 13;

export const LINKS = 0x042a4;
export const LINKS_KX_AN_COMP = 1 << 31;
export const LINKS_UP = 1 << 30;
export const LINKS_SPEED_MASK = 3 << 28; // 11: 10 Gb/s, 10: 1 Gb/s, 01: 100 Mb/s (X550EM_a: 00 10 Mb/s)
export const LINKS_SPEED_10G = 3 << 28;
export const LINKS_SPEED_1G = 2 << 28;
export const LINKS_SPEED_100 = 1 << 28;
/** X550: with SPEED 10G means 2.5 Gb/s, with SPEED 100 means 5 Gb/s */
export const LINKS_SPEED_NON_STD = 1 << 27;

// ---- transmit -------------------------------------------------------------------------------------------------------
const txq = (base: number) => (q: number): number => base + q * 0x40;
export const TDBAL = txq(0x06000);
export const TDBAH = txq(0x06004);
export const TDLEN = txq(0x06008);
export const DCA_TXCTRL = txq(0x0600c);
export const TDH = txq(0x06010);
export const TDT = txq(0x06018);
export const TXDCTL = txq(0x06028);

export const TXDCTL_PTHRESH_SHIFT = 0;
export const TXDCTL_HTHRESH_SHIFT = 8;
export const TXDCTL_WTHRESH_SHIFT = 16;
export const TXDCTL_ENABLE = 1 << 25;
export const TXDCTL_SWFLSH = 1 << 26;

export const DMATXCTL = 0x04a80;
export const DMATXCTL_TE = 1 << 0; // transmit DMA on (before any TXDCTL.ENABLE)
export const DMATXCTL_VT_SHIFT = 16; // VLAN ether type inserted by VLE, 0x8100 after reset

/** DCB transmit descriptor plane control: ARBDIS must be set while MTQC changes */
export const RTTDCS = 0x04900;
export const RTTDCS_ARBDIS = 1 << 6;
export const MTQC = 0x08120;
export const MTQC_64Q_1PB = 0; // DCB off, VT off: 64 queues, one packet buffer
/** TX queue -> statistics counter map (82599 and later; the 82598's TQSMR is at 0x7300) */
export const TQSM = (i: number): number => 0x08600 + i * 4;
export const TXPBSIZE = (i: number): number => 0x0cc00 + i * 4;

/** security RX path: halted around RXCTRL.RXEN changes (82599 datasheet 4.6.7) */
export const SECRXCTRL = 0x08d00;
export const SECRXCTRL_RX_DIS = 1 << 1;
export const SECRXSTAT = 0x08d04;
export const SECRXSTAT_SECRX_RDY = 1 << 0;

// ---- statistics (clear on read; 36-bit byte counters as low/high pairs, low first) --------------------------------
export const CRCERRS = 0x04000;
export const ILLERRC = 0x04004;
export const ERRBC = 0x04008;
export const MSPDC = 0x04010;
/** missed packets per packet buffer (8): frames dropped because the buffer was full */
export const MPC = (i: number): number => 0x03fa0 + i * 4;
export const MLFC = 0x04034;
export const MRFC = 0x04038;
export const RLEC = 0x04040;
export const LXONTXC = 0x03f60;
export const LXOFFTXC = 0x03f68;
export const LXONRXCNT = 0x041a4;
export const LXOFFRXCNT = 0x041a8;
export const PRC64 = 0x0405c;
export const PRC127 = 0x04060;
export const PRC255 = 0x04064;
export const PRC511 = 0x04068;
export const PRC1023 = 0x0406c;
export const PRC1522 = 0x04070;
export const GPRC = 0x04074;
export const BPRC = 0x04078;
export const MPRC = 0x0407c;
export const GPTC = 0x04080;
export const GORCL = 0x04088;
export const GORCH = 0x0408c;
export const GOTCL = 0x04090;
export const GOTCH = 0x04094;
export const RUC = 0x040a4;
export const RFC = 0x040a8;
export const ROC = 0x040ac;
export const RJC = 0x040b0;
export const MNGPRC = 0x040b4;
export const MNGPDC = 0x040b8;
export const MNGPTC = 0x0cf90;
export const TORL = 0x040c0;
export const TORH = 0x040c4;
export const TPR = 0x040d0;
export const TPT = 0x040d4;
export const PTC64 = 0x040d8;
export const PTC127 = 0x040dc;
export const PTC255 = 0x040e0;
export const PTC511 = 0x040e4;
export const PTC1023 = 0x040e8;
export const PTC1522 = 0x040ec;
export const MPTC = 0x040f0;
export const BPTC = 0x040f4;
export const XEC = 0x04120;
/** as Intel's shared code reads it on every family (82598 layout, next to the TX ring registers) */
export const QPTC = (i: number): number => 0x06030 + i * 0x40;
export const QBTC_L = (i: number): number => 0x08700 + i * 8;
export const QBTC_H = (i: number): number => 0x08704 + i * 8;
/** statistics counters per queue direction (RQSMR / TQSM map queues onto them) */
export const QUEUE_STAT_COUNTERS = 16;

// Descriptor formats: advanced RX (one buffer) and advanced TX data / context descriptors, ../common/codec.ts.

// ---- IEEE 1588 time sync (82599 / X540; ixgbe_type.h "Time Sync Registers") ----------------------------------------
/** system time, 64 bits in fractions of a ns (see TIMINCA): reading SYSTIML latches SYSTIMH */
export const SYSTIML = 0x08c0c;
export const SYSTIMH = 0x08c10;
/**
 * increment attributes. X540: SYSTIM += TIMINCA every 6.4 ns (10 Gb/s). 82599: IV (23:0) every IP (31:24) periods
 * of the link clock. What DPDK and Linux program, per link speed: the increment and the fraction bits of SYSTIM.
 */
export const TIMINCA = 0x08c14;
export const INCVAL_10GB = 0x66666666;
export const INCVAL_1GB = 0x40000000;
export const INCVAL_100 = 0x50000000;
export const INCVAL_SHIFT_10GB = 28;
export const INCVAL_SHIFT_1GB = 24;
export const INCVAL_SHIFT_100 = 21;
/** the 82599 takes the increment 7 bits lower, with a period of 1 in IP */
export const INCVAL_SHIFT_82599 = 7;
export const INCPER_SHIFT_82599 = 24;
/** auxiliary control: DISABLE_SYSTIME (31), cleared as DPDK does */
export const TSAUXC = 0x08c20;
export const TSAUXC_DISABLE_SYSTIME = 1 << 31;
/** RX time sync control: VALID (0), Type (3:1, 000 L2 PTP V2 by RXMTRL), EN (4) */
export const TSYNCRXCTL = 0x05188;
export const RXSTMPL = 0x051e8;
export const RXSTMPH = 0x051a4;
export const RXSATRL = 0x051a0;
export const RXSATRH = 0x051a8;
/** RX message type register: the PTP message type stamped (CTRLT 7:0, MSGT 15:8); 0: Sync */
export const RXMTRL = 0x05120;
/** TX time sync control: VALID (0), EN (4) */
export const TSYNCTXCTL = 0x08c00;
export const TXSTMPL = 0x08c04;
export const TXSTMPH = 0x08c08;
export const TSYNC_VALID = 1 << 0;
export const TSYNC_EN = 1 << 4;
export const TSYNCRXCTL_TYPE_MASK = 7 << 1;
/** EtherType queue filters (8): EtherType (15:0), 1588 time stamp (30), filter enable (31) */
export const ETQF = (n: number): number => 0x05128 + n * 4;
export const ETQF_1588 = 1 << 30;
export const ETQF_FILTER_EN = 1 << 31;
/** the filter pktio gives PTP (IXGBE_ETQF_FILTER_1588) */
export const ETQF_FILTER_1588 = 3;
export const ETHER_TYPE_1588 = 0x88f7;
/** advanced TX data descriptor: MAC_TSTAMP (cmd_type_len bit 19), latch the frame's transmit time */
export const TXD_MAC_TSTAMP = 1 << 19;
