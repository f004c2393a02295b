// The queues of a packet socket's rings (net_af_packet's, and net_pcap's live interfaces'): RX copies each frame
// the kernel filled into an mbuf and hands the frame back; TX copies packets into free frames and kicks the kernel
// once per burst.
//
// Hot-path rules (rxBurst/txBurst and what they call): nothing allocated per packet or per burst, counters are plain
// stores, the only syscall is TX's one sendto per burst, which the kernel needs to start sending.
import { copyBytes } from '../../eal/copy.js';
import * as ffi from '../../eal/ffi.js';
import { M, RX_VLAN, RX_VLAN_STRIPPED, TX_VLAN, pktmbufAllocBurst, pktmbufFree, pktmbufFreeBulk } from '../../mempool/mbuf.js';
import { specNumber, type QueueStats, type RxQueue, type TxQueue } from '../driver.js';
import { QS_ERRORS, QS_NOMBUF, SoftRxQueue, SoftTxQueue } from '../soft/base.js';
import { PacketRxRing, PacketTxRing, TP_STATUS_VLAN_TPID_VALID, TP_STATUS_VLAN_VALID, type PacketRingSpec } from './packet-ring.js';

const ETH_P_8021Q = 0x8100;

export interface AfRxSpec {
  port: number;
  queue: number;
  pool: string;
  ring: PacketRingSpec;
  /** the driver, for messages (default net_af_packet) */
  driver?: string;
  /** VLAN_STRIP asked: a tag the kernel took off stays in the mbuf's vlan_tci; else it goes back into the frame */
  vlanStrip: boolean;
}

export interface AfTxSpec {
  port: number;
  queue: number;
  ring: PacketRingSpec;
  driver?: string;
  /** the longest frame the interface sends: its MTU plus the Ethernet header, when the queue was set up */
  mtuLen: number;
}

export class AfPacketRx extends SoftRxQueue implements RxQueue {
  private readonly ring: PacketRxRing;
  private readonly strip: boolean;

  constructor(spec: AfRxSpec, stats: QueueStats) {
    super(spec.driver ?? 'net_af_packet', spec, stats);
    this.ring = new PacketRxRing(spec.ring);
    this.strip = spec.vlanStrip === true;
  }

  // RX interrupt: the socket is the source, readable while the ring holds a frame for us (the kernel's
  // tpacket_poll), so there is nothing to arm or mask: a level source
  intrEnable(): void {}
  intrDisable(): void {}

  rxBurst(mbufs: Uint32Array, n: number): number {
    const ring = this.ring;
    // frames are filled in ring order: count the ready ones, then take that many mbufs at once
    let k = 0;
    while (k < n && ring.readyAt(k)) k++;
    if (k === 0) return 0;
    const got = pktmbufAllocBurst(this.pool, mbufs, k);
    if (got < k) this.stats[QS_NOMBUF] += k - got;
    let out = 0;
    let bytes = 0;
    for (let i = 0; i < got; i++) {
      const h = ring.head();
      const m = mbufs[i];
      const status = ring.status(h);
      const len = ring.snapLen(h);
      if (len < ring.wireLen(h)) {
        // longer than a ring frame holds (an interface MTU above framesz allows): cut short, so dropped as an error
        this.stats[QS_ERRORS]++;
        pktmbufFree(m);
      } else if (this.fill(m, ring.data(h), len)) {
        if ((status & TP_STATUS_VLAN_VALID) !== 0) this.vlan(m, h, status);
        mbufs[out++] = m;
        bytes += this.u32[m + M.PKT_LEN];
      } else {
        pktmbufFree(m); // a long frame found the pool empty (counted in rx_nombuf): the frame is dropped
      }
      ring.release(h);
    }
    this.count(out, bytes);
    return out;
  }

  /**
   * The kernel took the frame's 802.1Q tag off (TP_STATUS_VLAN_VALID). With VLAN_STRIP it stays out, in vlan_tci
   * with RX_VLAN | RX_VLAN_STRIPPED (DPDK's af_packet); without, it goes back after the addresses, the frame as it
   * was on the wire (rte_vlan_insert): the data moves 4 bytes into the headroom, the addresses with it.
   */
  private vlan(m: number, h: number, status: number): void {
    const u16 = this.u16;
    const u32 = this.u32;
    const u8 = this.u8;
    const tci = this.ring.vlanTci(h);
    u16[(m << 1) + M.H_VLAN_TCI] = tci;
    if (this.strip) {
      u32[m + M.OL_FLAGS] |= RX_VLAN | RX_VLAN_STRIPPED;
      return;
    }
    u32[m + M.OL_FLAGS] |= RX_VLAN;
    const tpid = (status & TP_STATUS_VLAN_TPID_VALID) !== 0 ? this.ring.vlanTpid(h) : ETH_P_8021Q;
    const off = u16[(m << 1) + M.H_DATA_OFF] - 4;
    const e = u32[m + M.BUF_OFF] + off;
    copyBytes(u8, this.f64, e, e + 4, 12); // overlapping, dst first: copyBytes's memmove path (offsets differ by 4)
    u8[e + 12] = tpid >> 8;
    u8[e + 13] = tpid & 0xff;
    u8[e + 14] = tci >> 8;
    u8[e + 15] = tci & 0xff;
    u16[(m << 1) + M.H_DATA_OFF] = off;
    u16[(m << 1) + M.H_DATA_LEN] += 4;
    u32[m + M.PKT_LEN] += 4;
  }
}

export class AfPacketTx extends SoftTxQueue implements TxQueue {
  private readonly ring: PacketTxRing;
  private readonly mtuLen: number;
  /** the longest untagged frame this queue sends: what a ring frame holds and the interface takes */
  private readonly maxLen: number;

  constructor(spec: AfTxSpec, stats: QueueStats) {
    super(stats);
    this.ring = new PacketTxRing(spec.ring);
    this.mtuLen = specNumber(spec.driver ?? 'net_af_packet', spec, 'mtuLen');
    this.maxLen = Math.min(this.ring.room, this.mtuLen);
  }

  txBurst(mbufs: Uint32Array, n: number, from: number): number {
    if (n === 0) return 0;
    const ring = this.ring;
    const u32 = this.u32;
    let sent = 0;
    let bytes = 0;
    let errors = 0;
    let i = 0;
    for (; i < n; i++) {
      const m = mbufs[from + i];
      const tag = (u32[m + M.OL_FLAGS] & TX_VLAN) !== 0 ? 4 : 0;
      const wire = u32[m + M.PKT_LEN] + tag;
      if (wire > this.maxLen && !this.fitsTagged(m, wire, tag)) {
        // larger than a ring frame (DPDK drops it too) or than the kernel sends (it would skip the frame
        // silently): dropped and counted here, freed with the others below
        errors++;
        continue;
      }
      const h = ring.peek();
      if (h < 0) break; // ring full: the rest stay the caller's, as in DPDK
      const len = tag === 0 ? this.copyOut(m, ring.data(h)) : this.copyOutTagged(m, ring.data(h));
      ring.publish(h, len);
      sent++;
      bytes += len;
    }
    // one kick per burst, also when the ring was full (frames left queued by an earlier ENOBUFS go out with it)
    if (sent > 0 || i < n) {
      const err = ring.kick();
      if (err !== 0 && err !== ffi.EAGAIN && err !== ffi.ENOBUFS) {
        errors += sent; // the kernel refused the whole burst (interface down...): DPDK counts it as errors
        sent = 0;
        bytes = 0;
      }
    }
    pktmbufFreeBulk(mbufs, i, from);
    this.count(sent, bytes, errors);
    return i;
  }

  /**
   * An 802.1Q frame may be 4 bytes over MTU + header (the kernel's packet_extra_vlan_len_allowed: tagged by
   * TX_VLAN here, or an 0x8100 ethertype in the data), if a ring frame holds it.
   */
  private fitsTagged(m: number, wire: number, tag: number): boolean {
    if (wire > this.ring.room || wire > this.mtuLen + 4) return false;
    if (tag !== 0) return true;
    const e = this.u32[m + M.BUF_OFF] + this.u16[(m << 1) + M.H_DATA_OFF];
    return this.u16[(m << 1) + M.H_DATA_LEN] >= 14 && this.u8[e + 12] === ETH_P_8021Q >> 8 && this.u8[e + 13] === (ETH_P_8021Q & 0xff);
  }

  /** TX_VLAN: the packet with m's vlan_tci inserted as an 802.1Q tag after the addresses (rte_vlan_insert). */
  private copyOutTagged(m: number, dst: number): number {
    const u8 = this.u8;
    const len = this.copyOut(m, dst + 4);
    copyBytes(u8, this.f64, dst, dst + 4, 12); // overlapping, dst first: the memmove path
    const tci = this.u16[(m << 1) + M.H_VLAN_TCI];
    u8[dst + 12] = ETH_P_8021Q >> 8;
    u8[dst + 13] = ETH_P_8021Q & 0xff;
    u8[dst + 14] = tci >> 8;
    u8[dst + 15] = tci & 0xff;
    return len + 4;
  }
}
