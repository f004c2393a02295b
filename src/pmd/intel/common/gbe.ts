// What the Intel 1G controllers (82574, 82576 and its successors) share beyond the core: the statistics block
// (82574 datasheet 10.2.7, 82576 datasheet 8.19: the same clear-on-read registers at the same offsets from 0x4000,
// named as the datasheets name them, with the xstat names DPDK's e1000/igb drivers give them, and the ethdev
// counters they make; a family adds its own registers, igb: SEC, RPTHC, HGPTC, SCVPC) and the link bits of STATUS.
import type { HwStats, Link } from '../../driver.js';
import type { HwStatsReader, StatReg } from './stats.js';

export const CRCERRS = 0x04000;
export const ALGNERRC = 0x04004;
export const SYMERRS = 0x04008;
export const RXERRC = 0x0400c;
export const MPC = 0x04010;
export const SCC = 0x04014;
export const ECOL = 0x04018;
export const MCC = 0x0401c;
export const LATECOL = 0x04020;
export const COLC = 0x04028;
export const DC = 0x04030;
export const TNCRS = 0x04034;
/** carrier extension errors (the 82576 also calls this offset HTDPMC, host TX discarded packets) */
export const CEXTERR = 0x0403c;
export const RLEC = 0x04040;
export const XONRXC = 0x04048;
export const XONTXC = 0x0404c;
export const XOFFRXC = 0x04050;
export const XOFFTXC = 0x04054;
export const FCRUC = 0x04058;
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
export const RNBC = 0x040a0;
export const RUC = 0x040a4;
export const RFC = 0x040a8;
export const ROC = 0x040ac;
export const RJC = 0x040b0;
export const MGTPRC = 0x040b4;
export const MGTPDC = 0x040b8;
export const MGTPTC = 0x040bc;
export const TORL = 0x040c0;
export const TORH = 0x040c4;
export const TOTL = 0x040c8;
export const TOTH = 0x040cc;
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
/** TCP segmentation contexts transmitted / failed (the 82576 also calls 0x40FC CBRMPC) */
export const TSCTC = 0x040f8;
export const TSCTFC = 0x040fc;
export const IAC = 0x04100;

/** The shared registers with DPDK's xstat names; 64-bit counters name their low register. */
export const E1000_STAT_REGS: readonly StatReg[] = [
  { reg: CRCERRS, name: 'rx_crc_errors' }, { reg: ALGNERRC, name: 'rx_align_errors' },
  { reg: SYMERRS, name: 'rx_symbol_errors' }, { reg: RXERRC, name: 'rx_receive_errors' },
  { reg: MPC, name: 'rx_missed_packets' }, { reg: SCC, name: 'tx_single_collision_packets' },
  { reg: ECOL, name: 'tx_excessive_collision_packets' }, { reg: MCC, name: 'tx_multiple_collision_packets' },
  { reg: LATECOL, name: 'tx_late_collisions' }, { reg: COLC, name: 'tx_total_collisions' },
  { reg: DC, name: 'tx_deferred_packets' }, { reg: TNCRS, name: 'tx_no_carrier_sense_packets' },
  { reg: CEXTERR, name: 'rx_carrier_ext_errors' }, { reg: RLEC, name: 'rx_length_errors' },
  { reg: XONRXC, name: 'rx_xon_packets' }, { reg: XONTXC, name: 'tx_xon_packets' },
  { reg: XOFFRXC, name: 'rx_xoff_packets' }, { reg: XOFFTXC, name: 'tx_xoff_packets' },
  { reg: FCRUC, name: 'rx_flow_control_unsupported_packets' }, { reg: PRC64, name: 'rx_size_64_packets' },
  { reg: PRC127, name: 'rx_size_65_to_127_packets' }, { reg: PRC255, name: 'rx_size_128_to_255_packets' },
  { reg: PRC511, name: 'rx_size_256_to_511_packets' }, { reg: PRC1023, name: 'rx_size_512_to_1023_packets' },
  { reg: PRC1522, name: 'rx_size_1024_to_max_packets' }, { reg: GPRC, name: 'rx_good_packets_hw' },
  { reg: BPRC, name: 'rx_broadcast_packets' }, { reg: MPRC, name: 'rx_multicast_packets' },
  { reg: GPTC, name: 'tx_good_packets_hw' }, { reg: GORCL, name: 'rx_good_bytes_hw', wide: true },
  { reg: GOTCL, name: 'tx_good_bytes_hw', wide: true }, { reg: RNBC, name: 'rx_no_buffer_count' },
  { reg: RUC, name: 'rx_undersize_errors' }, { reg: RFC, name: 'rx_fragment_errors' },
  { reg: ROC, name: 'rx_oversize_errors' }, { reg: RJC, name: 'rx_jabber_errors' },
  { reg: MGTPRC, name: 'rx_management_packets' }, { reg: MGTPDC, name: 'rx_management_dropped' },
  { reg: MGTPTC, name: 'tx_management_packets' }, { reg: TORL, name: 'rx_total_bytes', wide: true },
  { reg: TOTL, name: 'tx_total_bytes', wide: true }, { reg: TPR, name: 'rx_total_packets' },
  { reg: TPT, name: 'tx_total_packets' }, { reg: PTC64, name: 'tx_size_64_packets' },
  { reg: PTC127, name: 'tx_size_65_to_127_packets' }, { reg: PTC255, name: 'tx_size_128_to_255_packets' },
  { reg: PTC511, name: 'tx_size_256_to_511_packets' }, { reg: PTC1023, name: 'tx_size_512_to_1023_packets' },
  { reg: PTC1522, name: 'tx_size_1024_to_max_packets' }, { reg: MPTC, name: 'tx_multicast_packets' },
  { reg: BPTC, name: 'tx_broadcast_packets' }, { reg: TSCTC, name: 'tx_tso_packets' },
  { reg: TSCTFC, name: 'tx_tso_errors' }, { reg: IAC, name: 'interrupt_assert_count' },
];

const CRC_LEN = 4;

/** ethdev's counters from the accumulated registers (the byte counters include the FCS; ethdev's do not). */
export function e1000HwStats(s: HwStatsReader): HwStats {
  const gprc = s.get(GPRC);
  const gptc = s.get(GPTC);
  return {
    ipackets: gprc,
    opackets: gptc,
    ibytes: Math.max(0, s.get(GORCL) - CRC_LEN * gprc),
    obytes: Math.max(0, s.get(GOTCL) - CRC_LEN * gptc),
    imissed: s.get(MPC),
    ierrors: s.get(CRCERRS) + s.get(ALGNERRC) + s.get(RXERRC) + s.get(RLEC) + s.get(CEXTERR),
    oerrors: s.get(ECOL) + s.get(LATECOL),
  };
}

// STATUS (0x0008): FD bit 0, LU bit 1, SPEED bits 7:6 (00 10 Mb/s, 01 100 Mb/s, 1x 1000 Mb/s)
const STATUS_FD = 1 << 0;
const STATUS_LU = 1 << 1;
const STATUS_SPEED_SHIFT = 6;

/** The link as a 1G controller's STATUS register reports it. */
export function gbeLink(status: number): Link {
  if ((status & STATUS_LU) === 0) return { up: false, speed: 0, fullDuplex: false, autoneg: true };
  const sp = (status >>> STATUS_SPEED_SHIFT) & 3;
  return { up: true, speed: sp === 0 ? 10 : sp === 1 ? 100 : 1000, fullDuplex: (status & STATUS_FD) !== 0, autoneg: true };
}
