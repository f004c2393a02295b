// net_pcap's live interfaces (rx_iface=, rx_iface_in=, tx_iface=, iface=): where DPDK's net_pcap opens the
// interface with pcap_open_live(), pktio opens an AF_PACKET socket with PACKET_MMAP rings through net_af_packet's
// packet-ring.ts (PacketSocket, PacketRxRing, PacketTxRing) and copies frames between the rings and mbufs.
// As libpcap's live capture: promiscuous (DPDK's RTE_ETH_PCAP_PROMISC), frames as they were on the wire (an 802.1Q
// tag the kernel took off goes back into the frame), rx_iface sees both directions, rx_iface_in only incoming
// frames (DPDK: pcap_setdirection(PCAP_D_IN)).
//
// Hot-path rules (rxBurst/txBurst and what they call): nothing allocated per packet or per burst, counters are
// plain stores; RX makes no syscall, TX one sendto() kick per burst (the kernel needs it to send): see queues.ts.
import { checkIfName, ifMtu } from '../soft/netif.js';
import { PacketSocket, PACKET_MR_PROMISC } from '../af_packet/packet-ring.js';
import { AfPacketRx, AfPacketTx, type AfRxSpec, type AfTxSpec } from '../af_packet/queues.js';

const DRIVER = 'net_pcap';
const ETH_HLEN = 14;
/** ring geometry of a live queue: 2 KiB frames (standard MTU), 1024 of them per ring */
export const LIVE_RING = { blockSize: 1 << 16, frameSize: 1 << 11, frameCount: 1 << 10 } as const;

export interface LiveRxSpec extends AfRxSpec {
  kind: 'iface';
}

export interface LiveTxSpec extends AfTxSpec {
  kind: 'iface';
}

/**
 * The queues are net_af_packet's (queues.ts) with the tag put back into the frame (no VLAN_STRIP), as libpcap's
 * live capture gives frames as they were on the wire; TX sends at most the interface's MTU plus the header.
 */
export const LiveRx = AfPacketRx;
export const LiveTx = AfPacketTx;

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
