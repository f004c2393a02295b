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
import { log } from '../../eal/log.js';
import * as ffi from '../../eal/ffi.js';
import type { Mempool } from '../../mempool/mempool.js';
import {
  RX_OFFLOAD_VLAN_STRIP, TX_OFFLOAD_MULTI_SEGS, TX_OFFLOAD_VLAN_INSERT, type DevInfo, type HwStats, type Link,
  type PmdInfo, type RxConf, type TxConf, type RxIntrSource,
} from '../driver.js';
import { registerDataPlane } from '../registry.js';
import { SoftPort, type SoftLimits } from '../soft/base.js';
import { DevArgError, argBool, argChoice, argInt, argStr } from '../soft/args.js';
import { IFF_RUNNING, checkIfName, ifFlags, ifIndex, ifMac, ifMtu, ifSetMtu, ifSpeed } from '../soft/netif.js';
import {
  FANOUT_MODES, PACKET_FANOUT_FLAG_DEFRAG, PACKET_FANOUT_FLAG_ROLLOVER, PACKET_FANOUT_ROLLOVER, PACKET_MR_ALLMULTI,
  PACKET_MR_PROMISC, PacketRxRing, PacketSocket, RX_MAC_OFF, checkGeometry, type FanoutMode,
} from './packet-ring.js';
import { AfPacketRx, AfPacketTx, type AfRxSpec, type AfTxSpec } from './queues.js';

const DRIVER = 'net_af_packet';
/** DPDK's defaults: blocksz = the page size, DFLT_FRAME_SIZE 1 << 11, DFLT_FRAME_COUNT 1 << 9, one queue pair */
const DEFAULT_BLOCK_SIZE = 4096;
const DEFAULT_FRAME_SIZE = 1 << 11;
const DEFAULT_FRAME_COUNT = 1 << 9;
const MAX_QPAIRS = 16;
const ETH_HLEN = 14;
/** link speed when the interface reports none (DPDK's af_packet always says 10G) */
const DEFAULT_SPEED = 10000;

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

  /** RX queue q's interrupt: its packet socket, readable while the RX ring holds a frame (a level source). */
  rxIntrSource(q: number): RxIntrSource {
    return { fd: this.socket(q).spec.fd, kind: 'level' };
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
