// Intel 82574 GbE Controller (82574L, PCI 8086:10d3): register offsets, bits and descriptor layouts.
//
// Source: Intel 82574 GbE Controller Family Datasheet, section 10 (Programming Interface: register
// summary 10.2, general 10.2.2, interrupts 10.2.4, receive 10.2.5, transmit 10.2.6, statistics 10.2.7)
// and section 7 (legacy receive descriptor 7.1.4, legacy transmit descriptor 7.2.10). Names are the
// datasheet's. Offsets cross-checked against Linux e1000e (hw.h / defines.h), DPDK's e1000 base code
// (e1000_regs.h / e1000_defines.h) and QEMU's hw/net/e1000_regs.h.
//
// All registers are 32 bits wide; the constants below are BYTE offsets into BAR 0 (divide by 4 for an
// index into a 32-bit typed array view of the BAR).

// ---- general (10.2.2) ---------------------------------------------------------------------------------------------
export const CTRL = 0x00000;
export const STATUS = 0x00008;
export const EECD = 0x00010;
export const EERD = 0x00014;
export const CTRL_EXT = 0x00018;
/** CTRL_EXT: MSI-X PBA support (set with MSI-X, as Linux does; QEMU then clears a vector's pending bit on IMS) */
export const CTRL_EXT_PBA_SUPPORT = 1 << 31;
export const MDIC = 0x00020;

// ---- interrupts (10.2.4) ------------------------------------------------------------------------------------------
export const ICR = 0x000c0;
/** interrupt throttling: minimum interval between interrupts (15:0) in 256 ns units */
export const ITR = 0x000c4;
export const ICS = 0x000c8;
export const IMS = 0x000d0;
export const IMC = 0x000d8;
/** interrupt acknowledge auto-mask */
export const IAM = 0x000e0;
/** extended interrupt auto clear (MSI-X): the ICR bits 24:20 (RxQ0..Other) cleared, and masked, when their vector fires */
export const EIAC = 0x000dc;
/** interrupt vector allocation (MSI-X): per cause a 3-bit vector and a valid bit (INT_ALLOC) */
export const IVAR = 0x000e4;
/** per MSI-X vector throttling, same units as ITR: vectors 0-4 */
export const EITR = (v: number): number => 0x000e8 + v * 4;

// ---- interrupt causes (ICR / ICS / IMS / IMC / EIAC bits) -----------------------------------------------------------
export const ICR_LSC = 1 << 2;
export const ICR_RXQ0 = 1 << 20;
/** RX queue q's cause in MSI-X mode (RxQ0, RxQ1) */
export const ICR_RXQ = (q: number): number => ICR_RXQ0 << q;
/** causes without a vector of their own (LSC among them) go to the Other vector */
export const ICR_OTHER = 1 << 24;

// ---- IVAR: INT_ALLOC[0..4] = RxQ0, RxQ1, TxQ0, TxQ1, Other; each 3 vector bits + a valid bit ------------------------
export const IVAR_VALID = 0x8;
export const IVAR_RXQ_SHIFT = (q: number): number => q * 4;
export const IVAR_OTHER_SHIFT = 16;
/** ~20,000 interrupts/s at most (195 x 256 ns = 50 us), Linux e1000e's default (InterruptThrottleRate 20000) */
export const ITR_20K = 195;

// ---- receive (10.2.5) ---------------------------------------------------------------------------------------------
export const RCTL = 0x00100;
// per-queue registers: queue n (0 or 1) at +0x100 * n
export const RDBAL = (q: number): number => 0x02800 + q * 0x100;
export const RDBAH = (q: number): number => 0x02804 + q * 0x100;
export const RDLEN = (q: number): number => 0x02808 + q * 0x100;
export const RDH = (q: number): number => 0x02810 + q * 0x100;
export const RDT = (q: number): number => 0x02818 + q * 0x100;
export const RXDCTL = (q: number): number => 0x02828 + q * 0x100;
export const RDTR = 0x02820;
export const RADV = 0x0282c;
export const RXCSUM = 0x05000;
export const RFCTL = 0x05008;
export const MRQC = 0x05818;
export const RETA = (i: number): number => 0x05c00 + i * 4; // 32 registers, 4 one-byte entries each; the queue is bit 7 of an entry
export const RETA_ENTRIES = 128;
export const RSSRK = (i: number): number => 0x05c80 + i * 4; // 10 registers: the 40-byte key, byte 0 in the low byte of RSSRK0
export const MTA = 0x05200; // 128 registers
export const MTA_COUNT = 128;
export const RAL0 = 0x05400;
export const RAH0 = 0x05404;

// ---- transmit (10.2.6) --------------------------------------------------------------------------------------------
export const TCTL = 0x00400;
export const TIPG = 0x00410;
export const TDBAL = (q: number): number => 0x03800 + q * 0x100;
export const TDBAH = (q: number): number => 0x03804 + q * 0x100;
export const TDLEN = (q: number): number => 0x03808 + q * 0x100;
export const TDH = (q: number): number => 0x03810 + q * 0x100;
export const TDT = (q: number): number => 0x03818 + q * 0x100;
export const TXDCTL = (q: number): number => 0x03828 + q * 0x100;
export const TIDV = 0x03820;
export const TADV = 0x0382c;

// ---- CTRL bits --------------------------------------------------------------------------------------------------
export const CTRL_FD = 1 << 0;
export const CTRL_GIO_MASTER_DISABLE = 1 << 2;
export const CTRL_ASDE = 1 << 5;
export const CTRL_SLU = 1 << 6;
export const CTRL_FRCSPD = 1 << 11;
export const CTRL_VME = 1 << 30; // VLAN mode: strip tags on RX, allow VLE insertion on TX
export const CTRL_FRCDPX = 1 << 12;
export const CTRL_RST = 1 << 26;
export const CTRL_PHY_RST = 1 << 31;

// ---- STATUS bits ------------------------------------------------------------------------------------------------
export const STATUS_FD = 1 << 0;
export const STATUS_LU = 1 << 1;
export const STATUS_SPEED_SHIFT = 6; // bits 7:6: 00 10 Mb/s, 01 100 Mb/s, 10/11 1000 Mb/s
export const STATUS_SPEED_MASK = 3 << 6;
export const STATUS_GIO_MASTER_ENABLE = 1 << 19;

// ---- EECD / EERD ------------------------------------------------------------------------------------------------
export const EECD_AUTO_RD = 1 << 9;
/** EERD on the 82574: START bit 0, DONE bit 1, word address from bit 2, data in bits 31:16 */
export const EERD_START = 1 << 0;
export const EERD_DONE = 1 << 1;
export const EERD_ADDR_SHIFT = 2;
export const EERD_DATA_SHIFT = 16;

// ---- RCTL bits --------------------------------------------------------------------------------------------------
export const RCTL_EN = 1 << 1;
export const RCTL_SBP = 1 << 2;
export const RCTL_UPE = 1 << 3;
export const RCTL_MPE = 1 << 4;
export const RCTL_LPE = 1 << 5;
export const RCTL_LBM_MASK = 3 << 6;
export const RCTL_RDMTS_HALF = 0 << 8;
export const RCTL_DTYP_MASK = 3 << 10; // 00 = legacy descriptors
export const RCTL_MO_MASK = 3 << 12;
export const RCTL_BAM = 1 << 15;
/** BSIZE bits 17:16 = 00 with BSEX = 0: 2048-byte receive buffers */
export const RCTL_BSIZE_MASK = 3 << 16;
export const RCTL_BSIZE_2048 = 0 << 16;
export const RCTL_VFE = 1 << 18;
export const RCTL_DPF = 1 << 22;
export const RCTL_BSEX = 1 << 25;
export const RCTL_SECRC = 1 << 26;

// ---- RFCTL / RXCSUM / MRQC ----------------------------------------------------------------------------------------
export const RFCTL_EXSTEN = 1 << 15; // extended RX descriptors (what pktio uses: RSS hash and status in write-back)
export const RXCSUM_IPOFLD = 1 << 8;
export const RXCSUM_TUOFLD = 1 << 9;
/** packet checksum disable: the write-back's w1 carries the RSS hash instead (needed for RSS) */
export const RXCSUM_PCSD = 1 << 13;
export const MRQC_RSS_ENABLE = 0x1;
export const MRQC_TCP_IPV4 = 1 << 16;
export const MRQC_IPV4 = 1 << 17;
export const MRQC_TCP_IPV6_EX = 1 << 18;
export const MRQC_IPV6_EX = 1 << 19;
export const MRQC_IPV6 = 1 << 20;
export const MRQC_TCP_IPV6 = 1 << 21;

// ---- TCTL / TIPG / TXDCTL ---------------------------------------------------------------------------------------
export const TCTL_EN = 1 << 1;
export const TCTL_PSP = 1 << 3;
export const TCTL_CT_SHIFT = 4;
export const TCTL_COLD_SHIFT = 12;
export const TCTL_RTLC = 1 << 24;
/** collision threshold 15, collision distance 63 (full duplex), as the reference drivers program it */
export const TCTL_DEFAULT = TCTL_EN | TCTL_PSP | TCTL_RTLC | (0x0f << TCTL_CT_SHIFT) | (0x3f << TCTL_COLD_SHIFT);
/** IPGT 8, IPGR1 8, IPGR2 6: the copper defaults (802.3 IPG of 96 bit times) */
export const TIPG_DEFAULT = 8 | (8 << 10) | (6 << 20);
/** TXDCTL: GRAN = 1 (descriptor units), WTHRESH = 1, bit 22 (count descriptors; must be set on 8257x) */
export const TXDCTL_GRAN = 1 << 24;
export const TXDCTL_WTHRESH_1 = 1 << 16;
export const TXDCTL_COUNT_DESC = 1 << 22;
export const TXDCTL_DEFAULT = TXDCTL_GRAN | TXDCTL_WTHRESH_1 | TXDCTL_COUNT_DESC;
/** RXDCTL: GRAN = 1; thresholds 0 (write back every descriptor at once) */
export const RXDCTL_GRAN = 1 << 24;

// ---- RAH --------------------------------------------------------------------------------------------------------
export const RAH_AV = 1 << 31;

// ---- statistics (10.2.7): clear on read: the block the 1G controllers share -------------------------------------
export * from '../common/gbe.js';
export const STATS_START = 0x04000;
export const STATS_END = 0x04100; // exclusive (IAC is outside the 0x4000-0x40FF block)

// Descriptor formats: extended RX, legacy TX (../common/codec.ts).
