// net_af_packet: a port on a kernel network interface through AF_PACKET sockets with PACKET_MMAP rings
// (DPDK's drivers/net/af_packet, same devargs and defaults):
//
//   --vdev net_af_packet0,iface=veth0[,qpairs=1][,blocksz=4096][,framesz=2048][,framecnt=512][,qdisc_bypass=1]
//          [,fanout_mode=hash|lb|cpu|rollover|rnd|qm]
//
// Each queue pair is one socket with an RX ring and a TX ring (packet-ring.ts), bound to the interface for every
// protocol. With several RX queues the sockets join one PACKET_FANOUT group and the kernel spreads frames over
// them (fanout_mode, default hash with the defrag and rollover flags, as DPDK 22.11 sets them; fanout_mode is a
// later DPDK devarg). RX copies each frame the kernel filled into mbufs and hands the frame back; TX copies
// packets into free frames and kicks the kernel once per burst. MAC and link come from the interface, imissed
// from the sockets' drop counters (PACKET_STATISTICS).
import { copyBytes } from '../../eal/copy.js';
import { log } from '../../eal/log.js';
import * as ffi from '../../eal/ffi.js';
import type { Mempool } from '../../mempool/mempool.js';
import { M, RX_VLAN, RX_VLAN_STRIPPED, TX_VLAN, pktmbufAllocBurst, pktmbufFree, pktmbufFreeBulk } from '../../mempool/mbuf.js';
import {
  RX_OFFLOAD_VLAN_STRIP, TX_OFFLOAD_MULTI_SEGS, TX_OFFLOAD_VLAN_INSERT, type DevInfo, type HwStats, type Link,
  type PmdInfo, type QueueStats, type RxConf, type RxQueue, type TxConf, type TxQueue, specNumber,
} from '../driver.js';
import { registerDataPlane } from '../registry.js';
import { QS_ERRORS, QS_NOMBUF, SoftPort, SoftRxQueue, SoftTxQueue, type SoftLimits } from '../soft/base.js';
import { DevArgError, argBool, argChoice, argInt, argStr } from '../soft/args.js';
import { IFF_RUNNING, checkIfName, ifFlags, ifIndex, ifMac, ifMtu, ifSetMtu, ifSpeed } from '../soft/netif.js';
import {
  FANOUT_MODES, PACKET_FANOUT_FLAG_DEFRAG, PACKET_FANOUT_FLAG_ROLLOVER, PACKET_FANOUT_ROLLOVER, PACKET_MR_ALLMULTI,
  PACKET_MR_PROMISC, PacketRxRing, PacketSocket, PacketTxRing, RX_MAC_OFF, TP_STATUS_VLAN_TPID_VALID, TP_STATUS_VLAN_VALID,
  checkGeometry, type FanoutMode, type PacketRingSpec,
} from './packet-ring.js';

const DRIVER = 'net_af_packet';
/** DPDK's defaults: blocksz = the page size, DFLT_FRAME_SIZE 1 << 11, DFLT_FRAME_COUNT 1 << 9, one queue pair */
const DEFAULT_BLOCK_SIZE = 4096;
const DEFAULT_FRAME_SIZE = 1 << 11;
const DEFAULT_FRAME_COUNT = 1 << 9;
const MAX_QPAIRS = 16;
const ETH_P_8021Q = 0x8100;
const ETH_HLEN = 14;
/** link speed when the interface reports none (DPDK's af_packet always says 10G) */
const DEFAULT_SPEED = 10000;

interface AfRxSpec {
  port: number;
  queue: number;
  pool: string;
  ring: PacketRingSpec;
  /** VLAN_STRIP asked: a tag the kernel took off stays in the mbuf's vlan_tci; else it goes back into the frame */
  vlanStrip: boolean;
}

interface AfTxSpec {
  port: number;
  queue: number;
  ring: PacketRingSpec;
  /** the longest frame the interface sends: its MTU plus the Ethernet header, when the queue was set up */
  mtuLen: number;
}

// ---- data half ----------------------------------------------------------------------------------------------------
// Hot-path rules (rxBurst/txBurst and what they call): nothing allocated per packet or per burst, counters are plain
// stores, the only syscall is TX's one sendto per burst, which the kernel needs to start sending.

class AfPacketRx extends SoftRxQueue implements RxQueue {
  private readonly ring: PacketRxRing;
  private readonly strip: boolean;

  constructor(spec: AfRxSpec, stats: QueueStats) {
    super(DRIVER, spec, stats);
    this.ring = new PacketRxRing(spec.ring);
    this.strip = spec.vlanStrip === true;
  }

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

class AfPacketTx extends SoftTxQueue implements TxQueue {
  private readonly ring: PacketTxRing;
  private readonly mtuLen: number;
  /** the longest untagged frame this queue sends: what a ring frame holds and the interface takes */
  private readonly maxLen: number;

  constructor(spec: AfTxSpec, stats: QueueStats) {
    super(stats);
    this.ring = new PacketTxRing(spec.ring);
    this.mtuLen = specNumber(DRIVER, spec, 'mtuLen');
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

// ---- control half -------------------------------------------------------------------------------------------------

interface AfPacketArgs {
  iface: string;
  qpairs: number;
  blockSize: number;
  frameSize: number;
  frameCount: number;
  qdiscBypass: boolean;
  fanoutMode: FanoutMode;
}

/** Reads the devargs with DPDK's names and defaults; one DevArgError line per mistake. */
export function parseAfPacketArgs(devName: string, args: Map<string, string>): AfPacketArgs {
  const iface = argStr(devName, args, 'iface');
  if (iface === null) throw new DevArgError(`${devName}: no interface: give iface=<name> (ip link show lists them)`);
  checkIfName(devName, iface);
  const a: AfPacketArgs = {
    iface,
    qpairs: argInt(devName, args, 'qpairs', 1, 1, MAX_QPAIRS),
    blockSize: argInt(devName, args, 'blocksz', DEFAULT_BLOCK_SIZE, 1, 1 << 30),
    frameSize: argInt(devName, args, 'framesz', DEFAULT_FRAME_SIZE, 1, 1 << 20),
    frameCount: argInt(devName, args, 'framecnt', DEFAULT_FRAME_COUNT, 1, 1 << 20),
    qdiscBypass: argBool(devName, args, 'qdisc_bypass', true),
    fanoutMode: argChoice(devName, args, 'fanout_mode', 'hash', Object.keys(FANOUT_MODES) as FanoutMode[]),
  };
  try {
    checkGeometry(devName, a);
  } catch (e) {
    throw new DevArgError((e as Error).message);
  }
  return a;
}

let instances = 0;

export class AfPacketPort extends SoftPort {
  readonly driverName = DRIVER;
  readonly a: AfPacketArgs;
  private readonly fanoutId: number;
  private socks: PacketSocket[] = [];
  /** drops of sockets already closed (reconfigure), so imissed does not go back */
  private closedDrops = 0;
  /** frames that arrived while the port was stopped, dropped at start */
  private stoppedDrops = 0;
  private promisc = false;
  private allmulti = false;

  constructor(name: string, a: AfPacketArgs) {
    const ifindex = ifIndex(a.iface);
    super(name, ifMac(a.iface));
    this.a = a;
    const mtu = ifMtu(a.iface);
    const max = this.infoGet().maxMtu;
    if (mtu > max) {
      log('af_packet').warn({ dev: name, iface: a.iface, mtu, framesz: a.frameSize },
        `${a.iface}'s MTU ${mtu} is more than a ${a.frameSize}-byte ring frame holds (MTU ${max}): longer frames are counted ` +
        'as RX errors; raise framesz');
    }
    // DPDK's group id: (pid ^ ifindex) & 0xffff; the instance keeps two ports of one process on one interface apart
    this.fanoutId = (process.pid ^ ifindex ^ (instances++ << 12)) & 0xffff;
  }

  protected limits(): SoftLimits {
    return {
      maxRxQueues: this.a.qpairs, maxTxQueues: this.a.qpairs,
      // a frame with its FCS (not in the ring) must fit in a ring frame after the kernel's header
      maxRxPktLen: this.a.frameSize - RX_MAC_OFF + 4,
      descMax: 65535, descMin: 0, defaultRing: this.a.frameCount, speed: ifSpeed(this.a.iface) || DEFAULT_SPEED,
    };
  }

  override infoGet(): DevInfo {
    return { ...super.infoGet(), rxOffloadCapa: RX_OFFLOAD_VLAN_STRIP, txOffloadCapa: TX_OFFLOAD_MULTI_SEGS | TX_OFFLOAD_VLAN_INSERT };
  }

  /** The socket of queue pair q, opened on first use: an RX ring when q is an RX queue, a TX ring when a TX queue. */
  private socket(q: number): PacketSocket {
    const had = this.socks[q];
    if (had?.open) return had;
    const rx = q < this.nbRxq;
    const mode = FANOUT_MODES[this.a.fanoutMode];
    const flags = PACKET_FANOUT_FLAG_DEFRAG | (mode === PACKET_FANOUT_ROLLOVER ? 0 : PACKET_FANOUT_FLAG_ROLLOVER);
    let s: PacketSocket;
    try {
      s = PacketSocket.open({
        name: `${this.name}_q${q}`, ifname: this.a.iface, rx, tx: q < this.nbTxq, qdiscBypass: this.a.qdiscBypass,
        blockSize: this.a.blockSize, frameSize: this.a.frameSize, frameCount: this.a.frameCount,
        fanout: rx && this.nbRxq > 1 ? { id: this.fanoutId, mode, flags } : undefined,
      });
    } catch (e) {
      (e as Error).message = `${this.name} queue ${q}: ${(e as Error).message}`;
      throw e;
    }
    this.socks[q] = s;
    if (this.promisc) s.membership(PACKET_MR_PROMISC, true);
    if (this.allmulti) s.membership(PACKET_MR_ALLMULTI, true);
    return s;
  }

  rxQueueSetup(q: number, _nbDesc: number, conf: RxConf, pool: Mempool, portId: number): AfRxSpec {
    const strip = (((this.conf.rxmode?.offloads ?? 0) | (conf.offloads ?? 0)) & RX_OFFLOAD_VLAN_STRIP) !== 0;
    return { port: portId, queue: q, pool: pool.name, ring: this.socket(q).spec, vlanStrip: strip };
  }

  txQueueSetup(q: number, _nbDesc: number, _conf: TxConf, portId: number): AfTxSpec {
    const ring = this.socket(q).spec;
    return { port: portId, queue: q, ring, mtuLen: ifMtu(this.a.iface) + ETH_HLEN };
  }

  /**
   * A stopped port receives nothing, as a stopped NIC: the frames the kernel put in the RX rings meanwhile are handed
   * back unread at start and counted in imissed (the kernel counted them received on the interface).
   */
  override start(): void {
    for (const s of this.socks) if (s.open && s.spec.rxOff >= 0) this.stoppedDrops += new PacketRxRing(s.spec).flush();
    super.start();
  }

  /** Closes the sockets (their rings unmapped): frames still in an RX ring are dropped with it. */
  override queueRelease(): void {
    for (const s of this.socks) {
      if (!s.open) continue;
      s.close();
      this.closedDrops += s.stats().drops;
    }
    this.socks = [];
    super.queueRelease();
  }

  hwStats(): HwStats {
    let drops = this.closedDrops + this.stoppedDrops;
    for (const s of this.socks) if (s.open) drops += s.stats().drops;
    return { imissed: drops };
  }

  override linkGet(_wait: boolean): Link {
    let running = false;
    try {
      running = (ifFlags(this.a.iface) & IFF_RUNNING) !== 0;
    } catch { /* the interface went away: link down */ }
    return { up: this.started && running, speed: this.limits().speed, fullDuplex: true, autoneg: false };
  }

  /** Promiscuous mode as a socket membership (PACKET_MR_PROMISC): the kernel drops it when the socket closes. */
  override setPromiscuous(on: boolean): void {
    if (on !== this.promisc) for (const s of this.socks) if (s.open) s.membership(PACKET_MR_PROMISC, on);
    this.promisc = on;
  }

  override setAllmulticast(on: boolean): void {
    if (on !== this.allmulti) for (const s of this.socks) if (s.open) s.membership(PACKET_MR_ALLMULTI, on);
    this.allmulti = on;
  }

  /** Sets the interface's MTU (DPDK does too), up to what a ring frame holds. */
  mtuSet(mtu: number): void {
    const max = this.infoGet().maxMtu;
    if (mtu > max) throw new Error(`${this.name}: MTU ${mtu} does not fit a ${this.a.frameSize}-byte ring frame (at most ${max}; raise framesz)`);
    ifSetMtu(this.a.iface, mtu);
  }
}

/** Opens and closes one packet socket: the clear error of a process without CAP_NET_RAW, at probe time. */
function checkPacketSockets(devName: string): void {
  const fd = ffi.socket(ffi.AF_PACKET, ffi.SOCK_RAW | ffi.SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const e = ffi.errno();
    throw new Error(`${devName}: cannot open an AF_PACKET socket: ${ffi.strerror(e)}${e === ffi.EPERM ? ' (run as root or with CAP_NET_RAW)' : ''}`);
  }
  ffi.close(fd);
}

export const pmd: PmdInfo = {
  name: DRIVER,
  dataPlaneUrl: import.meta.url,
  vdevArgs: ['iface', 'qpairs', 'blocksz', 'framesz', 'framecnt', 'qdisc_bypass', 'fanout_mode'],
  dataPlane: {
    attachRx: (spec, stats) => new AfPacketRx(spec as AfRxSpec, stats),
    attachTx: (spec, stats) => new AfPacketTx(spec as AfTxSpec, stats),
  },
  probeVdev(devName, args) {
    const a = parseAfPacketArgs(devName, args);
    checkPacketSockets(devName);
    return new AfPacketPort(devName, a);
  },
};

registerDataPlane(pmd.name, pmd.dataPlane);
