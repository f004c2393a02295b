// net_pcap's live interfaces (rx_iface=, rx_iface_in=, tx_iface=, iface=): where DPDK's net_pcap opens the
// interface with pcap_open_live(), pktio opens an AF_PACKET socket with PACKET_MMAP rings through net_af_packet's
// packet-ring.ts (PacketSocket, PacketRxRing, PacketTxRing) and copies frames between the rings and mbufs.
// As libpcap's live capture: promiscuous (DPDK's RTE_ETH_PCAP_PROMISC), frames as they were on the wire (an 802.1Q
// tag the kernel took off goes back into the frame), rx_iface sees both directions, rx_iface_in only incoming
// frames (DPDK: pcap_setdirection(PCAP_D_IN)).
//
// Hot-path rules (rxBurst/txBurst and what they call): nothing allocated per packet or per burst, counters are
// plain stores; RX makes no syscall, TX one sendto() kick per burst (the kernel needs it to send).
import * as ffi from '../../eal/ffi.js';
import { copyBytes } from '../../eal/copy.js';
import { M, RX_VLAN, pktmbufAllocBurst, pktmbufFree, pktmbufFreeBulk } from '../../mempool/mbuf.js';
import { specNumber, type QueueStats, type RxQueue, type TxQueue } from '../driver.js';
import { QS_NOMBUF, SoftRxQueue, SoftTxQueue } from '../soft/base.js';
import { checkIfName, ifMtu } from '../soft/netif.js';
import {
  PacketSocket, PacketRxRing, PacketTxRing, PACKET_MR_PROMISC, TP_STATUS_VLAN_VALID, TP_STATUS_VLAN_TPID_VALID, type PacketRingSpec,
} from '../af_packet/packet-ring.js';

const DRIVER = 'net_pcap';
/** linux/if_ether.h */
const ETH_P_8021Q = 0x8100;
const ETH_HLEN = 14;
/** ring geometry of a live queue: 2 KiB frames (standard MTU), 1024 of them per ring */
export const LIVE_RING = { blockSize: 1 << 16, frameSize: 1 << 11, frameCount: 1 << 10 } as const;

export interface LiveRxSpec {
  port: number;
  queue: number;
  pool: string;
  kind: 'iface';
  ring: PacketRingSpec;
}

export interface LiveTxSpec {
  port: number;
  queue: number;
  kind: 'iface';
  ring: PacketRingSpec;
  /** the longest frame the interface sends: its MTU plus the Ethernet header */
  maxLen: number;
}

/** Frames of an RX ring, copied into mbufs in ring order. */
export class LiveRx extends SoftRxQueue implements RxQueue {
  private readonly ring: PacketRxRing;

  constructor(spec: LiveRxSpec, stats: QueueStats) {
    super(DRIVER, spec, stats);
    this.ring = new PacketRxRing(spec.ring);
  }

  rxBurst(mbufs: Uint32Array, n: number): number {
    const ring = this.ring;
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
      if (this.fill(m, ring.data(h), ring.snapLen(h))) {
        if ((status & TP_STATUS_VLAN_VALID) !== 0) this.retag(m, h, status);
        mbufs[out++] = m;
        bytes += this.u32[m + M.PKT_LEN];
      } else {
        pktmbufFree(m); // a long frame found the pool empty (counted in rx_nombuf): dropped, as a NIC would
      }
      ring.release(h);
    }
    this.count(out, bytes);
    return out;
  }

  /**
   * The kernel took the frame's 802.1Q tag off: put it back after the addresses, as libpcap does for a live
   * capture (the data moves 4 bytes into the headroom, the addresses with it); vlan_tci and RX_VLAN say it too.
   */
  private retag(m: number, h: number, status: number): void {
    const u16 = this.u16;
    const u8 = this.u8;
    const tci = this.ring.vlanTci(h);
    const tpid = (status & TP_STATUS_VLAN_TPID_VALID) !== 0 ? this.ring.vlanTpid(h) : ETH_P_8021Q;
    const off = u16[(m << 1) + M.H_DATA_OFF] - 4;
    const e = this.u32[m + M.BUF_OFF] + off;
    copyBytes(u8, this.f64, e, e + 4, 12); // dst before src, 4 apart: copyBytes's memmove path
    u8[e + 12] = tpid >> 8;
    u8[e + 13] = tpid & 0xff;
    u8[e + 14] = tci >> 8;
    u8[e + 15] = tci & 0xff;
    u16[(m << 1) + M.H_VLAN_TCI] = tci;
    this.u32[m + M.OL_FLAGS] |= RX_VLAN;
    u16[(m << 1) + M.H_DATA_OFF] = off;
    u16[(m << 1) + M.H_DATA_LEN] += 4;
    this.u32[m + M.PKT_LEN] += 4;
  }
}

/** Packets copied into a TX ring's frames, one kick per burst. */
export class LiveTx extends SoftTxQueue implements TxQueue {
  private readonly ring: PacketTxRing;
  private readonly maxLen: number;

  constructor(spec: LiveTxSpec, stats: QueueStats) {
    super(stats);
    this.ring = new PacketTxRing(spec.ring);
    this.maxLen = Math.min(this.ring.room, specNumber(DRIVER, spec, 'maxLen'));
  }

  txBurst(mbufs: Uint32Array, n: number, from: number): number {
    if (n === 0) return 0;
    const ring = this.ring;
    let sent = 0;
    let bytes = 0;
    let errors = 0;
    let i = 0;
    for (; i < n; i++) {
      const m = mbufs[from + i];
      if (this.u32[m + M.PKT_LEN] > this.maxLen) {
        errors++; // longer than a ring frame or than the interface sends: dropped, counted, freed below
        continue;
      }
      const h = ring.peek();
      if (h < 0) break; // ring full: the rest stay the caller's
      const len = this.copyOut(m, ring.data(h));
      ring.publish(h, len);
      sent++;
      bytes += len;
    }
    if (sent > 0 || i < n) {
      const err = ring.kick();
      if (err !== 0 && err !== ffi.EAGAIN && err !== ffi.ENOBUFS) {
        errors += sent; // the kernel refused the burst (interface down...): counted as errors
        sent = 0;
        bytes = 0;
      }
    }
    pktmbufFreeBulk(mbufs, i, from);
    this.count(sent, bytes, errors);
    return i;
  }
}

/** One live interface of a port: its socket (opened at probe, as DPDK opens pcap_open_live at probe). */
export interface LiveIface {
  ifname: string;
  sock: PacketSocket;
}

/** Opens a socket on ifname with an RX ring, a TX ring or both; RX sockets are promiscuous. One line on failure. */
export function openLive(name: string, key: string, ifname: string, rx: boolean, tx: boolean, incomingOnly: boolean): LiveIface {
  checkIfName(`${DRIVER}: ${key}`, ifname);
  let sock: PacketSocket;
  try {
    sock = PacketSocket.open({ name, ifname, rx, tx, qdiscBypass: false, ignoreOutgoing: incomingOnly, ...LIVE_RING });
  } catch (e) {
    throw new Error(`${DRIVER}: ${key}=${ifname}: ${(e as Error).message}`);
  }
  if (rx) {
    try {
      sock.membership(PACKET_MR_PROMISC, true);
    } catch (e) {
      sock.close();
      throw new Error(`${DRIVER}: ${key}=${ifname}: ${(e as Error).message}`);
    }
  }
  return { ifname, sock };
}

/** The longest frame ifname sends (MTU + Ethernet header), for a TX queue spec. */
export function liveMaxLen(ifname: string): number {
  return ifMtu(ifname) + ETH_HLEN;
}
