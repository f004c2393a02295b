// net_tap: a port on a Linux tap interface (DPDK's net_tap, drivers/net/tap/rte_eth_tap.c in 22.11).
//
//   --vdev net_tap0[,iface=NAME][,mac=fixed|xx:xx:xx:xx:xx:xx][,persist]
//
// The port is the "wire" end of the tap: what the kernel sends out of the interface, the port receives, and what
// the port sends, the kernel receives on the interface. As in DPDK:
// - the interface is dtap%d unless iface= names it; an existing multi-queue tap of that name is attached to, an
//   existing interface of another kind is refused;
// - probe opens a keep-alive file detached from the queues (TUNSETQUEUE IFF_DETACH_QUEUE), so the interface lives
//   from probe to close; each queue pair then has its own file (IFF_MULTI_QUEUE), opened at queue setup;
// - the MAC (random locally administered, mac=fixed, or mac=...) is both the port's and the interface's; MTU,
//   promiscuous and allmulticast are the interface's; start sets IFF_UP, stop clears it (unless persist);
// - the link is up when the interface is IFF_UP and IFF_RUNNING (carrier), at 10G;
// - close closes every file: the kernel deletes the interface, unless `persist` (TUNSETPERSIST) keeps it. Unlike
//   DPDK, a probe without `persist` also clears a persist flag an earlier run left, so the interface goes away.
// `remote=` (DPDK's tc redirection of another interface's traffic) is not supported and is refused. The tap may be
// moved to another network namespace once its queues are set up (ip link set ... netns): its files keep carrying
// the traffic; its name and flags are then out of this process's reach, so the link reads as the port's started
// state and MTU, promiscuous and allmulticast changes are left to that namespace.
//
// Data path. A tap file has no batched read or write: every read(2)/readv(2) returns exactly one frame and every
// write(2)/writev(2) takes exactly one (drivers/net/tun.c: tun_do_read, tun_get_user); there is no recvmmsg or
// ring on a tap file. So the port makes one syscall per frame, as DPDK's net_tap does, plus the one read per
// RX burst that finds the queue empty (EAGAIN; DPDK skips it with a SIGIO trigger, but a Node.js signal handler
// runs on the main thread's event loop, not beside the polling lcore). Nothing else enters the kernel per packet or per burst, and nothing is allocated:
// - RX reads straight into mbufs: each RX queue keeps `nseg` mbufs armed in an iovec array in its memzone (one
//   when a frame fits one mbuf, more for jumbo frames: the frame is then a chain, like DPDK's scatter), and a
//   stash of fresh mbufs taken from the pool a burst at a time. After a read the used mbufs leave with the frame
//   and stash mbufs take their place; an iovec's address is rewritten with two 32-bit stores (region base +
//   buffer offset, as numbers). A read returns at most what the iovecs hold (tun_chr_read_iter clamps the
//   frame's length to them), so one more iovec of one byte follows the mbufs: a read that reaches it was a frame
//   longer than the armed buffers, cut short; it is counted in ierrors and dropped, as DPDK does on TUN_PKT_STRIP
//   (DPDK keeps the 4-byte packet-information header to learn it; the spill byte costs no header per packet).
// - TX writes each packet with writev, one iovec per segment, from the mbufs themselves. A packet longer than
//   MTU + 22 or a failed write (EAGAIN, interface down) stops the burst; the rest are not taken and are counted in
//   oerrors, as DPDK counts them.
// Armed and stashed mbufs are given back to the pool on stop, queue release and close (the control half reads the
// memzone), so a stopped port holds none.
import { randomBytes } from 'node:crypto';
import * as ffi from '../../eal/ffi.js';
import { mem, type Memzone } from '../../eal/memory.js';
import type { Mempool } from '../../mempool/mempool.js';
import { M, PKTMBUF_HEADROOM, pktmbufAllocBurst, pktmbufFree, pktmbufFreeBulk } from '../../mempool/mbuf.js';
import {
  specNumber, type EthConf, type Link, type PmdInfo, type QueueStats, type RxConf, type RxQueue, type TxQueue,
  type RxIntrSource,
} from '../driver.js';
import { registerDataPlane } from '../registry.js';
import { SoftPort, SoftRxQueue, SoftTxQueue, QS_ERRORS, QS_NOMBUF, type SoftLimits } from '../soft/base.js';
import { DevArgError, argBool, argMac, argStr } from '../soft/args.js';
import { checkIfName, ifFlags, ifSetFlags, ifSetMac, ifSetMtu, IFF_ALLMULTI, IFF_PROMISC, IFF_RUNNING, IFF_UP } from '../soft/netif.js';
import { TapError, TUNSETPERSIST, checkExisting, tunOpen } from './tun.js';

const D = 'net_tap';
/** DPDK's RTE_PMD_TAP_MAX_QUEUES */
const MAX_QUEUES = 16;
/** largest frame: a 9000-byte MTU plus the Ethernet header and FCS (DPDK's tap stops at 1522; jumbo is ours) */
const MAX_FRAME = 9018;
/** bytes a frame may have beyond the MTU: Ethernet header 14, FCS 4, one VLAN tag 4 (DPDK's TX bound) */
const MTU_OVERHEAD = 22;
const DEFAULT_MTU = 1500;
const SPEED = 10000;
const TWO32 = 4294967296;

// A queue pair's memzone: two iovec arrays, then u32 words (struct iovec: 8-byte base, 8-byte length)
const RX_IOV_MAX = 64;
const TX_IOV_MAX = 64;
const IOV_BYTES = 16;
const TX_IOV_OFF = RX_IOV_MAX * IOV_BYTES;
/** u32 index (from the zone's start) of the mbufs armed in the RX iovecs, one per iovec, 0 = empty */
const W_SLOTS = (TX_IOV_OFF + TX_IOV_MAX * IOV_BYTES) >> 2;
/** 1 when every RX iovec holds an mbuf */
const W_ARMED = W_SLOTS + RX_IOV_MAX;
const W_STASH_N = W_ARMED + 1;
/** largest packet TX takes, MTU + MTU_OVERHEAD (the control half rewrites it on an MTU change) */
const W_MAX_TX = W_STASH_N + 1;
const W_STASH = W_MAX_TX + 2;
/** fresh mbufs taken from the pool at once */
const STASH = 64;
/** the spill byte the RX iovec after the mbufs points to */
const W_SPILL = W_STASH + STASH;
const ZONE_LEN = (W_SPILL + 2) * 4;

interface TapRxSpec { port: number; queue: number; pool: string; fd: number; zone: number; nseg: number }
interface TapTxSpec { port: number; queue: number; fd: number; zone: number }

/** The EAL region's native base address as two 32-bit halves (iovec addresses are built from them). */
function baseHalves(): [number, number] {
  const b = mem().base;
  return [Number(b & 0xffffffffn), Number(b >> 32n)];
}

class TapRx extends SoftRxQueue implements RxQueue {
  private readonly fd: number;
  /** native address of the RX iovec array */
  private readonly iov: bigint;
  private readonly nseg: number;
  /** bytes the armed mbufs hold: the first after its headroom, the others whole */
  private readonly cap: number;
  private readonly hr: number;
  private readonly bufLen: number;
  private readonly wIov: number;
  private readonly wSlots: number;
  private readonly wArmed: number;
  private readonly wStashN: number;
  private readonly wStash: number;
  private readonly baseLo: number;
  private readonly baseHi: number;

  constructor(spec: unknown, stats: QueueStats) {
    super(D, spec, stats);
    this.fd = specNumber(D, spec, 'fd');
    const zone = specNumber(D, spec, 'zone');
    this.nseg = specNumber(D, spec, 'nseg');
    this.iov = mem().va(zone);
    this.bufLen = this.pool.dataRoom;
    this.hr = this.bufLen - this.segRoom;
    this.cap = this.segRoom + (this.nseg - 1) * this.bufLen;
    const w = zone >> 2;
    this.wIov = w;
    this.wSlots = w + W_SLOTS;
    this.wArmed = w + W_ARMED;
    this.wStashN = w + W_STASH_N;
    this.wStash = w + W_STASH;
    [this.baseLo, this.baseHi] = baseHalves();
  }

  // RX interrupt: the queue's tap file is the source, readable while the kernel holds a frame for it: nothing
  // to arm or mask (a level source)
  intrEnable(): void {}
  intrDisable(): void {}

  rxBurst(mbufs: Uint32Array, n: number): number {
    const u32 = this.u32;
    let got = 0;
    let bytes = 0;
    while (got < n) {
      if (u32[this.wArmed] === 0 && !this.arm()) break;
      // one readv per frame: the kernel gives a tap file one frame per read (see the header); the last iovec
      // is the spill byte
      const len = ffi.readvAt(this.fd, this.iov, this.nseg + 1);
      if (len <= 0) break; // EAGAIN: the queue is empty
      if (len > this.cap) {
        // the frame reached the spill byte: it was longer than the armed buffers and was cut. Drop it, keep the
        // buffers armed
        this.stats[QS_ERRORS]++;
        continue;
      }
      mbufs[got++] = this.take(len);
      bytes += len;
    }
    this.count(got, bytes);
    return got;
  }

  /** Puts an mbuf from the stash into every empty iovec (the stash refills from the pool a burst at a time). */
  private arm(): boolean {
    const u32 = this.u32;
    for (let i = 0; i < this.nseg; i++) {
      if (u32[this.wSlots + i] !== 0) continue;
      let k = u32[this.wStashN];
      if (k === 0) {
        k = pktmbufAllocBurst(this.pool, u32, STASH, this.wStash);
        if (k === 0) {
          this.stats[QS_NOMBUF]++;
          return false;
        }
      }
      k--;
      const m = u32[this.wStash + k];
      u32[this.wStashN] = k;
      u32[this.wSlots + i] = m;
      // iov_base = region base + buffer offset (+ headroom in the first segment); the u32 store keeps the low half
      const lo = this.baseLo + u32[m + M.BUF_OFF] + (i === 0 ? this.hr : 0);
      const w = this.wIov + (i << 2);
      u32[w] = lo;
      u32[w + 1] = this.baseHi + (lo >= TWO32 ? 1 : 0);
    }
    u32[this.wArmed] = 1;
    return true;
  }

  /** Makes the armed mbufs holding a frame of len bytes a packet (a chain when it spans several). */
  private take(len: number): number {
    const u32 = this.u32;
    const ws = this.wSlots;
    const m = u32[ws];
    u32[ws] = 0;
    u32[this.wArmed] = 0;
    u32[m + M.PKT_LEN] = len;
    this.u16[(m << 1) + M.H_PORT] = this.port;
    if (len <= this.segRoom) {
      u32[m + M.DATA] = (this.hr << 16) | len;
      return m;
    }
    u32[m + M.DATA] = (this.hr << 16) | this.segRoom;
    let left = len - this.segRoom;
    let prev = m;
    let i = 1;
    for (; left > 0; i++) {
      const s = u32[ws + i];
      u32[ws + i] = 0;
      const l = left < this.bufLen ? left : this.bufLen;
      u32[s + M.DATA] = l; // data_off 0: later segments use their whole buffer, as in DPDK
      u32[prev + M.NEXT] = s;
      prev = s;
      left -= l;
    }
    this.u16[(m << 1) + M.H_NB_SEGS] = i;
    return m;
  }
}

class TapTx extends SoftTxQueue implements TxQueue {
  private readonly fd: number;
  private readonly iov: bigint;
  private readonly wIov: number;
  private readonly wMaxTx: number;
  private readonly baseLo: number;
  private readonly baseHi: number;

  constructor(spec: unknown, stats: QueueStats) {
    super(stats);
    this.fd = specNumber(D, spec, 'fd');
    const zone = specNumber(D, spec, 'zone');
    this.iov = mem().va(zone + TX_IOV_OFF);
    this.wIov = (zone + TX_IOV_OFF) >> 2;
    this.wMaxTx = (zone >> 2) + W_MAX_TX;
    [this.baseLo, this.baseHi] = baseHalves();
  }

  txBurst(mbufs: Uint32Array, n: number, from: number): number {
    const u32 = this.u32;
    const u16 = this.u16;
    const max = u32[this.wMaxTx];
    let sent = 0;
    let bytes = 0;
    for (; sent < n; sent++) {
      const m = mbufs[from + sent];
      const len = u32[m + M.PKT_LEN];
      const segs = u16[(m << 1) + M.H_NB_SEGS];
      if (len > max || segs > TX_IOV_MAX) break;
      let w = this.wIov;
      for (let s = m; s !== 0; s = u32[s + M.NEXT]) {
        const lo = this.baseLo + u32[s + M.BUF_OFF] + u16[(s << 1) + M.H_DATA_OFF];
        u32[w] = lo;
        u32[w + 1] = this.baseHi + (lo >= TWO32 ? 1 : 0);
        u32[w + 2] = u16[(s << 1) + M.H_DATA_LEN];
        w += 4;
      }
      // one writev per frame: a tap file takes one frame per write (see the header)
      if (ffi.writevAt(this.fd, this.iov, segs) < 0) break;
      bytes += len;
    }
    if (sent > 0) pktmbufFreeBulk(mbufs, sent, from);
    this.count(sent, bytes, n - sent);
    return sent;
  }
}

/** Frees the mbufs a queue pair's memzone holds (armed and stashed) and empties it. Main lcore, port stopped. */
function releaseParked(z: Memzone): void {
  const u32 = mem().u32;
  const w = z.off >> 2;
  for (let i = 0; i < RX_IOV_MAX; i++) {
    const m = u32[w + W_SLOTS + i];
    if (m !== 0) pktmbufFree(m);
    u32[w + W_SLOTS + i] = 0;
  }
  const k = u32[w + W_STASH_N];
  for (let i = 0; i < k; i++) pktmbufFree(u32[w + W_STASH + i]);
  u32[w + W_STASH_N] = 0;
  u32[w + W_ARMED] = 0;
}

export class TapPort extends SoftPort {
  readonly driverName = D;
  /** the kernel interface */
  readonly iface: string;
  private readonly ifindex: number;
  private readonly persist: boolean;
  private kaFd: number;
  private mtu = DEFAULT_MTU;
  /** per queue pair: its tap file and memzone */
  private fds: number[] = [];
  private qzones: Memzone[] = [];
  /** per RX queue set up: bytes its armed mbufs hold */
  private rxCap: number[] = [];

  constructor(name: string, iface: string, kaFd: number, mac: Uint8Array, persist: boolean) {
    super(name, mac);
    this.iface = iface;
    this.kaFd = kaFd;
    this.persist = persist;
    this.ifindex = ffi.if_nametoindex(iface);
  }

  protected limits(): SoftLimits {
    return { maxRxQueues: MAX_QUEUES, maxTxQueues: MAX_QUEUES, maxRxPktLen: MAX_FRAME, descMax: 4096, defaultRing: 1024, speed: SPEED };
  }

  /**
   * True while the interface is in this process's network namespace. A tap moved to another one (ip link set
   * netns) still carries the port's traffic through its files, but its name and flags are out of reach here.
   */
  private visible(): boolean {
    return this.ifindex !== 0 && ffi.if_nametoindex(this.iface) === this.ifindex;
  }

  private where(): string {
    return `${D} ${this.name} (${this.iface})`;
  }

  override configure(nbRxq: number, nbTxq: number, conf: EthConf): void {
    if (nbRxq !== nbTxq) {
      throw new TapError(`${this.where()}: ${nbRxq} RX and ${nbTxq} TX queues: a tap has one file per queue pair, configure as many of each`);
    }
    const mtu = conf.rxmode?.mtu;
    if (mtu !== undefined && mtu !== this.mtu) this.setIfMtu(mtu);
    super.configure(nbRxq, nbTxq, conf);
  }

  private setIfMtu(mtu: number): void {
    if (!this.visible()) throw new TapError(`${this.where()}: the interface left this network namespace: set the MTU where it is (ip link set ${this.iface} mtu ${mtu})`);
    ifSetMtu(this.iface, mtu);
    this.mtu = mtu;
    for (const z of this.qzones) if (z) mem().u32[(z.off >> 2) + W_MAX_TX] = mtu + MTU_OVERHEAD;
  }

  /** The tap file and memzone of queue pair q, made on first use. */
  private pair(q: number): { fd: number; z: Memzone } {
    if (this.fds[q] === undefined) {
      if (!this.visible()) throw new TapError(`${this.where()}: the interface left this network namespace: set up the queues before moving it`);
      const z = this.zone(`q${q}`, ZONE_LEN);
      mem().u8.fill(0, z.off, z.off + ZONE_LEN);
      mem().u32[(z.off >> 2) + W_MAX_TX] = this.mtu + MTU_OVERHEAD;
      this.fds[q] = tunOpen(D, this.iface).fd;
      this.qzones[q] = z;
    }
    return { fd: this.fds[q], z: this.qzones[q] };
  }

  rxQueueSetup(q: number, _nb: number, _conf: RxConf, pool: Mempool, portId: number): TapRxSpec {
    const hr = Math.min(PKTMBUF_HEADROOM, pool.dataRoom);
    const room0 = pool.dataRoom - hr;
    const frame = this.mtu + MTU_OVERHEAD;
    const nseg = frame <= room0 ? 1 : 1 + Math.ceil((frame - room0) / pool.dataRoom);
    if (room0 <= 0 || nseg + 1 > RX_IOV_MAX) {
      throw new TapError(`${this.where()}: mbufs of pool '${pool.name}' (${pool.dataRoom} bytes) are too small for ${frame}-byte frames: use larger mbufs`);
    }
    const { fd, z } = this.pair(q);
    releaseParked(z);
    const u32 = mem().u32;
    for (let i = 0; i < RX_IOV_MAX; i++) {
      const w = (z.off >> 2) + i * 4;
      u32[w + 2] = i < nseg ? (i === 0 ? room0 : pool.dataRoom) : 0;
      u32[w + 3] = 0;
    }
    // iovec nseg: the spill byte, which tells a frame that filled the mbufs exactly from one that overflowed
    const spill = z.va + BigInt(W_SPILL * 4);
    const ws = (z.off >> 2) + nseg * 4;
    u32[ws] = Number(spill & 0xffffffffn);
    u32[ws + 1] = Number(spill >> 32n);
    u32[ws + 2] = 1;
    this.rxCap[q] = room0 + (nseg - 1) * pool.dataRoom;
    return { port: portId, queue: q, pool: pool.name, fd, zone: z.off, nseg };
  }

  /** RX queue q's interrupt: the queue's tap file, readable while the kernel holds a frame for it (a level source). */
  rxIntrSource(q: number): RxIntrSource {
    return { fd: this.pair(q).fd, kind: 'level' };
  }

  txQueueSetup(q: number, _nb: number, _conf: unknown, portId: number): TapTxSpec {
    const { fd, z } = this.pair(q);
    return { port: portId, queue: q, fd, zone: z.off };
  }

  override start(): void {
    if (this.visible()) ifSetFlags(this.iface, IFF_UP, true);
    super.start();
  }

  override stop(): void {
    for (const z of this.qzones) if (z) releaseParked(z);
    if (!this.persist && this.visible()) ifSetFlags(this.iface, IFF_UP, false);
    super.stop();
  }

  /** Gives the parked mbufs back, closes the queue files and frees the memzones (the keep-alive file stays). */
  override queueRelease(): void {
    for (const z of this.qzones) if (z) releaseParked(z);
    for (const fd of this.fds) if (fd !== undefined) ffi.close(fd);
    this.fds = [];
    this.qzones = [];
    this.rxCap = [];
    super.queueRelease();
  }

  override close(): void {
    super.close();
    if (this.kaFd >= 0) {
      // the last file of a tap that is not persistent: the kernel deletes the interface
      ffi.close(this.kaFd);
      this.kaFd = -1;
    }
  }

  override linkGet(_wait: boolean): Link {
    const up = this.visible() ? (ifFlags(this.iface) & (IFF_UP | IFF_RUNNING)) === (IFF_UP | IFF_RUNNING) : this.started;
    return { up, speed: SPEED, fullDuplex: true, autoneg: false };
  }

  mtuSet(mtu: number): void {
    const short = this.rxCap.findIndex((c) => c !== undefined && c < mtu + MTU_OVERHEAD);
    if (short >= 0) {
      throw new TapError(`${this.where()}: RX queue ${short} holds frames up to ${this.rxCap[short]} bytes, MTU ${mtu} needs ` +
        `${mtu + MTU_OVERHEAD}: set the MTU before setting up the RX queues (devConfigure rxmode.mtu)`);
    }
    this.setIfMtu(mtu);
  }

  override setPromiscuous(on: boolean): void {
    if (this.visible()) ifSetFlags(this.iface, IFF_PROMISC, on);
  }

  override setAllmulticast(on: boolean): void {
    if (this.visible()) ifSetFlags(this.iface, IFF_ALLMULTI, on);
  }
}

let fixedIndex = 0;

/**
 * The port's MAC: mac=xx:xx:xx:xx:xx:xx, mac=fixed, or a random locally administered unicast address
 * (rte_eth_random_addr). mac=fixed is what Debian's dpdk-testpmd 22.11 gives its taps: 02:64:74:61:70 ("dtap")
 * then '0' + a counter of fixed-MAC ports (02:64:74:61:70:30, :31, ...; set_mac_type in rte_eth_tap.c).
 */
function tapMac(args: Map<string, string>): Uint8Array {
  const v = args.get('mac');
  if (v !== undefined && v.toLowerCase() === 'fixed') return Uint8Array.from([0x02, 0x64, 0x74, 0x61, 0x70, (0x30 + fixedIndex++) & 0xff]);
  if (v !== undefined && !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(v)) {
    throw new DevArgError(`${D}: mac=${v}: expected mac=fixed or six hex bytes like 02:00:00:00:00:01`);
  }
  const mac = argMac(D, args);
  if (mac) return mac;
  const r = randomBytes(6);
  r[0] = (r[0] & 0xfe) | 0x02;
  return Uint8Array.from(r);
}

function probeTap(devName: string, args: Map<string, string>): TapPort {
  if (args.has('remote')) {
    throw new DevArgError(`${D}: remote=${args.get('remote')}: redirecting another interface's traffic is not supported by pktio's net_tap: leave remote= out`);
  }
  const iface = argStr(D, args, 'iface') ?? 'dtap%d';
  checkIfName(D, iface);
  const mac = tapMac(args);
  const persist = argBool(D, args, 'persist');
  if (!iface.includes('%')) checkExisting(D, iface);
  const ka = tunOpen(D, iface, { detach: true });
  try {
    ifSetMtu(ka.name, DEFAULT_MTU);
    ifSetMac(ka.name, mac);
    // last, so that a failed probe leaves an existing tap as it found it (and a new one goes with its file)
    if (ffi.ioctlInt(ka.fd, TUNSETPERSIST, persist ? 1 : 0) < 0) {
      throw new TapError(`${D}: TUNSETPERSIST ${ka.name}: ${ffi.strerror(ffi.errno())}`);
    }
    return new TapPort(devName, ka.name, ka.fd, mac, persist);
  } catch (e) {
    ffi.close(ka.fd);
    throw e;
  }
}

export const tapPmd: PmdInfo = {
  name: D,
  dataPlaneUrl: import.meta.url,
  vdevArgs: ['iface', 'mac', 'persist', 'remote'],
  dataPlane: {
    attachRx: (spec, stats) => new TapRx(spec, stats),
    attachTx: (spec, stats) => new TapTx(spec, stats),
  },
  probeVdev: probeTap,
};

export const pmd = tapPmd;
registerDataPlane(tapPmd.name, tapPmd.dataPlane);
