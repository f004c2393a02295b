// Descriptor formats of Intel's NIC families, as numbers the shared RX/TX loops read.
//
// Every format is 16 bytes (four u32 words). The read format (what the driver writes) is the same for all of them:
// buffer address in words 0-1, words 2-3 zero (the advanced format's header address, whose low bit is also DD, must
// be 0). What differs is where the NIC writes status, length, VLAN, hash and packet type back, and the bit values:
//
//   format       used by          w0            w1              w2                          w3
//   legacy RX    (none now)       address lo    address hi      length | csum<<16           status | errors<<8 | vlan<<16
//   extended RX  82574 (e1000e)   MRQ: RSS type RSS hash        status | errors (31:20)     length | vlan<<16
//   advanced RX  82576, 82599...  pkt_info      RSS hash        status | errors             length | vlan<<16
//   legacy TX    82574            address lo    address hi      length | CMD<<24            STA (DD bit 0) | special<<16
//   advanced TX  82576, 82599...  address lo    address hi      length | DTYP | DCMD<<24    STA | IDX | POPTS | PAYLEN<<14
//
// Sources: 82574 datasheet 7.1.5 (extended RX), 7.2.10 (legacy TX); 82576 datasheet 7.1.5 (advanced RX), 7.2.2.3
// (advanced TX data and context descriptors); 82599 datasheet 7.1.6 and 7.2.3.2. Bit names are the datasheets'.
// The shared loops copy these numbers into their own fields when a queue is attached, so one class serves every
// family without a branch on the family in the hot path.

export const DESC_BYTES = 16;
export const DESC_WORDS = 4;

export interface RxCodec {
  /** word holding status and error bits */
  statWord: number;
  /** word holding the packet length in bits 15:0 */
  lenWord: number;
  DD: number;
  EOP: number;
  /** VLAN packet (tag stripped into the VLAN field when stripping is on) */
  VP: number;
  IPCS: number;
  /** TCP checksum computed (L4I on igb) */
  L4CS: number;
  UDPCS: number;
  IPE: number;
  /** L4 checksum error (TCPE) */
  L4E: number;
  /** errors that make the frame itself bad (CRC, symbol, sequence, carrier extension, RX data error, length...) */
  FRAME_ERR: number;
  /** w0 holds pkt_info (bits 3:0 RSS type, packet type from bit 4): advanced formats */
  pktInfo: boolean;
  /** w1 holds the RSS hash when w0's RSS type (bits 3:0) is not 0 */
  rssInW1: boolean;
  /** TS: the frame's receive time is latched (IEEE 1588); 0 where pktio does not use it */
  TS: number;
}

const STAT_DD = 1 << 0;
const STAT_EOP = 1 << 1;
const STAT_VP = 1 << 3;
const STAT_UDPCS = 1 << 4;
const STAT_L4CS = 1 << 5;
const STAT_IPCS = 1 << 6;

/** 82574 extended RX (RFCTL.EXSTEN): errors CE 24, SE 25, SEQ 26, CXE 28, TCPE 29, IPE 30, RXE 31. */
export const RX_EXTENDED_82574: RxCodec = {
  statWord: 2, lenWord: 3, DD: STAT_DD, EOP: STAT_EOP, VP: STAT_VP, IPCS: STAT_IPCS, L4CS: STAT_L4CS, UDPCS: STAT_UDPCS,
  IPE: 1 << 30, L4E: 1 << 29, FRAME_ERR: (1 << 24) | (1 << 25) | (1 << 26) | (1 << 28) | (1 << 31),
  pktInfo: false, rssInW1: true, TS: 0,
};

/**
 * 82576 / I350 / I210 advanced RX: the same status/error bits as the 82574's extended format; pkt_info in w0;
 * TS (bit 16, E1000_RXDADV_STAT_TS) on a frame whose time RXSTMP latched.
 */
export const RX_ADVANCED_IGB: RxCodec = { ...RX_EXTENDED_82574, pktInfo: true, TS: 1 << 16 };

/**
 * 82599 / X540 / X550 advanced RX (82599 datasheet 7.1.6.2): extended errors in w2 bits 31:20: FDIRERR/FCERR 22:20,
 * HBO 23, reserved 25:24, OUTERIPER 26 (X550 tunnels), SECERR 28:27 (MACsec/IPsec, only with those offloads on),
 * RXE 29 (any MAC error: CRC, length, under/oversize; reported only when FCTRL.SBP keeps bad frames), L4E 30, IPE 31.
 * The 82598's CE 24 / LE 25 / PE 27 / OSE 28 / USE 29 meanings do not apply: the 82599 summarises them in RXE
 * (IXGBE_RXDADV_ERR_FRAME_ERR_MASK_82599 in Intel's ixgbe_type.h).
 */
export const RX_ADVANCED_IXGBE: RxCodec = {
  statWord: 2, lenWord: 3, DD: STAT_DD, EOP: STAT_EOP, VP: STAT_VP, IPCS: STAT_IPCS, L4CS: STAT_L4CS, UDPCS: STAT_UDPCS,
  IPE: 1 << 31, L4E: 1 << 30, FRAME_ERR: 1 << 29,
  pktInfo: true, rssInW1: true, TS: 1 << 16,
};

export const RX_CODECS = { 'ext-82574': RX_EXTENDED_82574, 'adv-igb': RX_ADVANCED_IGB, 'adv-ixgbe': RX_ADVANCED_IXGBE } as const;
export type RxCodecName = keyof typeof RX_CODECS;

export interface TxCodec {
  /** advanced descriptors: DEXT + DTYP in w2, olinfo (PAYLEN, POPTS, IDX) in w3, context descriptors for offloads */
  advanced: boolean;
  /** DCMD bits, already shifted into w2 */
  EOP: number;
  IFCS: number;
  RS: number;
  /** VLAN insert (VLE) */
  VLE: number;
  /** w2 bits every data descriptor carries (advanced: DTYP data + DEXT) */
  DATA: number;
  /** DD in w3 */
  DD: number;
  /** PAYLEN shift in w3 (advanced) */
  PAYLEN_SHIFT: number;
  /** olinfo POPTS: insert IP checksum, insert L4 checksum */
  IXSM: number;
  TXSM: number;
  /** olinfo bits a data descriptor needs to use context 0 (82599: CC, check context) */
  CTX_USE: number;
  /** MAC_TSTAMP in w2 of a data descriptor: latch the frame's transmit time in TXSTMP (advanced only) */
  TSTAMP: number;
}

const DCMD = (b: number): number => (b << 24) >>> 0;

/** 82574 legacy TX: CMD EOP 0, IFCS 1, RS 3, VLE 6; no offloads through context descriptors here. */
export const TX_LEGACY: TxCodec = {
  advanced: false, EOP: DCMD(0x01), IFCS: DCMD(0x02), RS: DCMD(0x08), VLE: DCMD(0x40), DATA: 0, DD: 1,
  PAYLEN_SHIFT: 0, IXSM: 0, TXSM: 0, CTX_USE: 0, TSTAMP: 0,
};

/**
 * 82576 / I350 / I210 advanced TX: DTYP data 0011 (bits 23:20), DCMD EOP 0, IFCS 1, RS 3, DEXT 5, VLE 6;
 * MAC_TSTAMP bit 19 (E1000_ADVTXD_MAC_TSTAMP, IXGBE_ADVTXD_MAC_TSTAMP on the 82599).
 */
export const TX_ADVANCED_IGB: TxCodec = {
  advanced: true, EOP: DCMD(0x01), IFCS: DCMD(0x02), RS: DCMD(0x08), VLE: DCMD(0x40), DATA: (DCMD(0x20) | (0x3 << 20)) >>> 0,
  DD: 1, PAYLEN_SHIFT: 14, IXSM: 1 << 8, TXSM: 1 << 9, CTX_USE: 0, TSTAMP: 1 << 19,
};

/** 82599 / X540 / X550 advanced TX: as igb, and a data descriptor names its context with CC (olinfo bit 7). */
export const TX_ADVANCED_IXGBE: TxCodec = { ...TX_ADVANCED_IGB, CTX_USE: 1 << 7 };

export const TX_CODECS = { legacy: TX_LEGACY, 'adv-igb': TX_ADVANCED_IGB, 'adv-ixgbe': TX_ADVANCED_IXGBE } as const;
export type TxCodecName = keyof typeof TX_CODECS;

// Advanced context descriptor (82576 7.2.2.3.x, 82599 7.2.3.2.3): w0 vlan_macip_lens (IPLEN 8:0, MACLEN 15:9,
// VLAN 31:16), w1 0, w2 type_tucmd_mlhl (TUCMD 19:9 with IPV4 bit 10, L4T 12:11 (00 UDP, 01 TCP), DTYP 0010 23:20,
// DEXT 29), w3 mss_l4len_idx (IDX 6:4, L4LEN 15:8, MSS 31:16).
export const CTX_TUCMD_IPV4 = 1 << 10;
export const CTX_TUCMD_L4T_UDP = 0 << 11;
export const CTX_TUCMD_L4T_TCP = 1 << 11;
export const CTX_TUCMD_L4T_RSV = 3 << 11;
export const CTX_DTYP = (0x2 << 20) | (1 << 29);
export const CTX_MACLEN_SHIFT = 9;
