// PACKET_MMAP rings of an AF_PACKET socket (TPACKET_V2), shared by net_af_packet and net_pcap's live-interface
// modes. The kernel side is described in the kernel's Documentation/networking/packet_mmap.rst and
// include/uapi/linux/if_packet.h; the steps follow DPDK's drivers/net/af_packet/rte_eth_af_packet.c.
//
// Control half (main lcore): openPacketSocket() makes one socket bound to an interface with an RX ring, a TX ring
// or both, maps them into the EAL window (extmemMap) and returns a PacketSocket whose `spec` (JSON-able) tells the
// data half where the rings are. Data half (any lcore): PacketRxRing and PacketTxRing walk the frames of a ring
// at region offsets. A frame is owned by whoever its tp_status word says; handing it over is one store.
//
// Ring layout (packet_mmap.rst): the mapping holds the RX ring, then the TX ring. Each ring is tp_block_nr blocks
// of tp_block_size bytes; a block holds tp_block_size / tp_frame_size frames; frames do not cross blocks.
// A frame starts with a struct tpacket2_hdr; RX data sits at tp_mac from the frame start, TX data right after the
// header (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll) = 32 bytes in), when PACKET_TX_HAS_OFF is off.
//
// Each ring's position (the next frame to look at) lives in a small memzone, not in the walker: ethdev makes a
// new queue object after every port restart or on another lcore, and that object must go on where the last one
// stopped, because the kernel walks the ring in order from its own head.
import * as ffi from '../../eal/ffi.js';
import { mem, memzoneReserve, memzoneFree, memzoneLookup, extmemMap, extmemUnmap, extmemLookup } from '../../eal/memory.js';
import { ifIndex } from '../soft/netif.js';
import { specNumber } from '../driver.js';

// ---- include/uapi/linux/if_packet.h ------------------------------------------------------------------------------
/** setsockopt(SOL_PACKET, ...) option names */
export const PACKET_ADD_MEMBERSHIP = 1;
export const PACKET_DROP_MEMBERSHIP = 2;
export const PACKET_RX_RING = 5;
export const PACKET_STATISTICS = 6;
export const PACKET_VERSION = 10;
export const PACKET_TX_RING = 13;
export const PACKET_LOSS = 14;
export const PACKET_FANOUT = 18;
export const PACKET_QDISC_BYPASS = 20;
export const PACKET_IGNORE_OUTGOING = 23;
/** enum tpacket_versions */
export const TPACKET_V2 = 1;
/** PACKET_FANOUT modes and flags (the flags go in the high byte of type_flags) */
export const PACKET_FANOUT_HASH = 0;
export const PACKET_FANOUT_LB = 1;
export const PACKET_FANOUT_CPU = 2;
export const PACKET_FANOUT_ROLLOVER = 3;
export const PACKET_FANOUT_RND = 4;
export const PACKET_FANOUT_QM = 5;
export const PACKET_FANOUT_FLAG_ROLLOVER = 0x1000;
export const PACKET_FANOUT_FLAG_DEFRAG = 0x8000;
/** fanout_mode= words of net_af_packet, to their PACKET_FANOUT_* mode */
export const FANOUT_MODES = { hash: PACKET_FANOUT_HASH, lb: PACKET_FANOUT_LB, cpu: PACKET_FANOUT_CPU,
  rollover: PACKET_FANOUT_ROLLOVER, rnd: PACKET_FANOUT_RND, qm: PACKET_FANOUT_QM } as const;
export type FanoutMode = keyof typeof FANOUT_MODES;
/** struct packet_mreq mr_type */
export const PACKET_MR_MULTICAST = 0;
export const PACKET_MR_PROMISC = 1;
export const PACKET_MR_ALLMULTI = 2;
/** tp_status, RX side (frame owner and what the kernel says about it) */
export const TP_STATUS_KERNEL = 0;
export const TP_STATUS_USER = 1 << 0;
export const TP_STATUS_COPY = 1 << 1;
export const TP_STATUS_LOSING = 1 << 2;
export const TP_STATUS_VLAN_VALID = 1 << 4;
export const TP_STATUS_VLAN_TPID_VALID = 1 << 6;
/** tp_status, TX side */
export const TP_STATUS_AVAILABLE = 0;
export const TP_STATUS_SEND_REQUEST = 1 << 0;
export const TP_STATUS_SENDING = 1 << 1;
export const TP_STATUS_WRONG_FORMAT = 1 << 2;
/** timestamp bits the kernel may leave in a TX frame's status (DPDK masks them off; kernel commit 171c3b151118) */
export const TP_STATUS_TS_SOFTWARE = 1 << 29;
export const TP_STATUS_TS_RAW_HARDWARE = 1 << 31;
const TX_STATUS_MASK = ~(TP_STATUS_TS_SOFTWARE | TP_STATUS_TS_RAW_HARDWARE);
/** struct tpacket2_hdr: byte offsets of its fields (32 bytes in all) */
export const TP2 = { STATUS: 0, LEN: 4, SNAPLEN: 8, MAC: 12, NET: 14, SEC: 16, NSEC: 20, VLAN_TCI: 24, VLAN_TPID: 26, SIZE: 32 } as const;
/** TPACKET_ALIGNMENT: frames and headers are 16-byte aligned */
export const TPACKET_ALIGNMENT = 16;
const SOCKADDR_LL_SIZE = 20;
/** TPACKET2_HDRLEN = TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) + sizeof(struct sockaddr_ll) */
export const TPACKET2_HDRLEN = TP2.SIZE + SOCKADDR_LL_SIZE;
/** where TX data starts in a frame (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll)) */
export const TX_DATA_OFF = TPACKET2_HDRLEN - SOCKADDR_LL_SIZE;
/**
 * where the kernel puts an Ethernet frame's first byte in an RX frame (tpacket_rcv: netoff =
 * TPACKET_ALIGN(tp_hdrlen + max(maclen, 16)), macoff = netoff - maclen, maclen 14): the most an RX frame holds is
 * tp_frame_size minus this.
 */
export const RX_MAC_OFF = ((TPACKET2_HDRLEN + 16 + TPACKET_ALIGNMENT - 1) & ~(TPACKET_ALIGNMENT - 1)) - 14;
/** linux/if_ether.h ETH_P_ALL: every protocol */
export const ETH_P_ALL = 0x0003;
const PAGE_SIZE = 4096;
/** the smallest frame size that holds a minimal Ethernet frame (60 bytes) after the RX header */
export const MIN_FRAME_SIZE = (RX_MAC_OFF + 60 + TPACKET_ALIGNMENT - 1) & ~(TPACKET_ALIGNMENT - 1);

export class PacketRingError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'PacketRingError';
  }
}

/** Ring geometry (struct tpacket_req), the same for the RX and the TX ring. */
export interface RingGeometry {
  blockSize: number;
  frameSize: number;
  frameCount: number;
}

/**
 * Checks a geometry the way packet_set_ring() will (block a multiple of the page, frame a multiple of 16 and at
 * least a header, whole blocks of frames) and says which devarg to change; `who` names the device.
 */
export function checkGeometry(who: string, g: RingGeometry): void {
  if (!Number.isInteger(g.blockSize) || g.blockSize < PAGE_SIZE || g.blockSize % PAGE_SIZE !== 0) {
    throw new PacketRingError(`${who}: blocksz=${g.blockSize}: expected a multiple of the page size ${PAGE_SIZE}`);
  }
  if (!Number.isInteger(g.frameSize) || g.frameSize % TPACKET_ALIGNMENT !== 0 || g.frameSize < MIN_FRAME_SIZE) {
    throw new PacketRingError(`${who}: framesz=${g.frameSize}: expected a multiple of ${TPACKET_ALIGNMENT} from ${MIN_FRAME_SIZE} ` +
      `(${RX_MAC_OFF} bytes of header, then the packet)`);
  }
  if (g.frameSize > g.blockSize) throw new PacketRingError(`${who}: framesz=${g.frameSize} is larger than blocksz=${g.blockSize}`);
  const perBlock = Math.floor(g.blockSize / g.frameSize);
  if (!Number.isInteger(g.frameCount) || g.frameCount < perBlock || g.frameCount % perBlock !== 0) {
    throw new PacketRingError(`${who}: framecnt=${g.frameCount}: expected a multiple of ${perBlock} ` +
      `(the frames of one ${g.blockSize}-byte block of ${g.frameSize}-byte frames)`);
  }
}

/** What the data half needs to reach one socket's rings: plain JSON for a queue spec. */
export interface PacketRingSpec {
  /** the socket (a TX ring's kick is a sendto on it) */
  fd: number;
  blockSize: number;
  frameSize: number;
  frameCount: number;
  /** region offset of the RX ring, -1 without one */
  rxOff: number;
  /** region offset of the TX ring, -1 without one */
  txOff: number;
  /** region offset of two i32 words: the RX ring's next frame, the TX ring's next frame */
  curOff: number;
}

export interface PacketSocketOptions extends RingGeometry {
  /** unique name: the EAL window mapping and the position memzone are named after it */
  name: string;
  ifname: string;
  /** an RX ring; the socket is bound to every protocol (ETH_P_ALL) */
  rx: boolean;
  /** a TX ring */
  tx: boolean;
  /** PACKET_QDISC_BYPASS: frames go straight to the driver, past the interface's queueing discipline */
  qdiscBypass: boolean;
  /** do not receive frames leaving the interface (PACKET_IGNORE_OUTGOING), as a NIC would not (default true) */
  ignoreOutgoing?: boolean;
  /** join a PACKET_FANOUT group: its 16-bit id, mode and flags */
  fanout?: { id: number; mode: number; flags: number };
}

function setIntOpt(fd: number, opt: number, v: number, what: string): void {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  if (ffi.setsockopt(fd, ffi.SOL_PACKET, opt, b, 4) < 0) throw new ffi.SysError(what, ffi.errno());
}

function setRing(fd: number, opt: number, g: RingGeometry | null, what: string): void {
  const b = Buffer.alloc(16); // struct tpacket_req: block size, block count, frame size, frame count
  if (g) {
    b.writeUInt32LE(g.blockSize, 0);
    b.writeUInt32LE(g.frameCount / Math.floor(g.blockSize / g.frameSize), 4);
    b.writeUInt32LE(g.frameSize, 8);
    b.writeUInt32LE(g.frameCount, 12);
  }
  if (ffi.setsockopt(fd, ffi.SOL_PACKET, opt, b, 16) < 0) throw new ffi.SysError(what, ffi.errno());
}

function bindTo(fd: number, ifindex: number, protocol: number, ifname: string): void {
  const sa = Buffer.alloc(SOCKADDR_LL_SIZE); // struct sockaddr_ll: family, protocol (network order), ifindex
  sa.writeUInt16LE(ffi.AF_PACKET, 0);
  sa.writeUInt16BE(protocol, 2);
  sa.writeInt32LE(ifindex, 4);
  if (ffi.bind(fd, sa, SOCKADDR_LL_SIZE) < 0) throw new ffi.SysError(`bind the packet socket to ${ifname}`, ffi.errno());
}

/** Sets up the socket's options and rings (DPDK's order: version, loss, bypass, rings); returns the mapping length. */
function configureSocket(fd: number, o: PacketSocketOptions): number {
  const on = `on the packet socket of ${o.ifname}`;
  setIntOpt(fd, PACKET_VERSION, TPACKET_V2, `PACKET_VERSION (TPACKET_V2) ${on}`);
  // PACKET_LOSS: the kernel skips a TX frame it cannot send (marks it available) instead of stopping the ring
  setIntOpt(fd, PACKET_LOSS, 1, `PACKET_LOSS ${on}`);
  if (o.qdiscBypass) setIntOpt(fd, PACKET_QDISC_BYPASS, 1, `PACKET_QDISC_BYPASS ${on}`);
  if (o.rx && o.ignoreOutgoing !== false) {
    try {
      setIntOpt(fd, PACKET_IGNORE_OUTGOING, 1, `PACKET_IGNORE_OUTGOING ${on}`);
    } catch { /* kernels before 4.20: outgoing frames of other sockets are seen too */ }
  }
  const ringLen = (o.frameCount / Math.floor(o.blockSize / o.frameSize)) * o.blockSize;
  if (o.rx) setRing(fd, PACKET_RX_RING, o, `PACKET_RX_RING ${on} (blocksz=${o.blockSize} framesz=${o.frameSize} framecnt=${o.frameCount})`);
  if (o.tx) setRing(fd, PACKET_TX_RING, o, `PACKET_TX_RING ${on} (blocksz=${o.blockSize} framesz=${o.frameSize} framecnt=${o.frameCount})`);
  return ringLen * ((o.rx ? 1 : 0) + (o.tx ? 1 : 0));
}

/** The control half of one packet socket: its descriptor, its mapped rings, counters and membership calls. */
export class PacketSocket {
  readonly name: string;
  readonly ifname: string;
  readonly ifindex: number;
  readonly spec: PacketRingSpec;
  private fd: number;
  private drops = 0;
  private packets = 0;
  private readonly statBuf = Buffer.alloc(8);
  private readonly statLen = new Uint32Array(1);

  private constructor(name: string, ifname: string, ifindex: number, fd: number, spec: PacketRingSpec) {
    this.name = name;
    this.ifname = ifname;
    this.ifindex = ifindex;
    this.fd = fd;
    this.spec = spec;
  }

  /**
   * Opens a socket on `ifname` with the rings asked for, maps them and binds (DPDK's steps, see above). Throws a
   * PacketRingError or SysError that names the interface and the step; everything taken so far is given back.
   */
  static open(o: PacketSocketOptions): PacketSocket {
    checkGeometry(o.name, o);
    if (!o.rx && !o.tx) throw new PacketRingError(`${o.name}: a packet socket needs an RX ring, a TX ring or both`);
    const ifindex = ifIndex(o.ifname);
    const fd = ffi.socket(ffi.AF_PACKET, ffi.SOCK_RAW | ffi.SOCK_CLOEXEC, 0);
    if (fd < 0) {
      const e = ffi.errno();
      throw new ffi.SysError(`open a packet socket for ${o.ifname}`, e, e === ffi.EPERM ? 'Run as root or with CAP_NET_RAW' : undefined);
    }
    let mapped = false;
    let cur = '';
    try {
      const len = configureSocket(fd, o);
      const x = extmemMap(`${o.name}_ring`, fd, len);
      mapped = true;
      cur = `${o.name}_cur`;
      if (memzoneLookup(cur)) memzoneFree(cur);
      const z = memzoneReserve(cur, 64);
      const half = len / ((o.rx ? 1 : 0) + (o.tx ? 1 : 0));
      const spec: PacketRingSpec = {
        fd, blockSize: o.blockSize, frameSize: o.frameSize, frameCount: o.frameCount,
        rxOff: o.rx ? x.off : -1, txOff: o.tx ? x.off + (o.rx ? half : 0) : -1, curOff: z.off,
      };
      // bound to ETH_P_ALL the socket receives every frame from now on; a TX-only socket binds to protocol 0,
      // which sends but receives nothing
      bindTo(fd, ifindex, o.rx ? ETH_P_ALL : 0, o.ifname);
      if (o.fanout) setIntOpt(fd, PACKET_FANOUT, (o.fanout.id & 0xffff) | ((o.fanout.mode | o.fanout.flags) << 16),
        `PACKET_FANOUT on the packet socket of ${o.ifname}`);
      return new PacketSocket(o.name, o.ifname, ifindex, fd, spec);
    } catch (e) {
      if (cur && memzoneLookup(cur)) memzoneFree(cur);
      if (mapped) extmemUnmap(`${o.name}_ring`);
      ffi.close(fd);
      throw e;
    }
  }

  get open(): boolean {
    return this.fd >= 0;
  }

  /**
   * Counters of the socket since it was opened: frames the kernel handed to it and frames it dropped because
   * the RX ring was full (PACKET_STATISTICS tp_packets / tp_drops; the kernel zeroes them on every read, so they
   * are added up here). Main lcore.
   */
  stats(): { packets: number; drops: number } {
    if (this.fd >= 0) {
      this.statLen[0] = 8;
      if (ffi.getsockopt(this.fd, ffi.SOL_PACKET, PACKET_STATISTICS, this.statBuf, this.statLen) === 0) {
        // tp_packets counts the dropped frames too
        const drops = this.statBuf.readUInt32LE(4);
        this.packets += this.statBuf.readUInt32LE(0) - drops;
        this.drops += drops;
      }
    }
    return { packets: this.packets, drops: this.drops };
  }

  /** PACKET_ADD/DROP_MEMBERSHIP of type PACKET_MR_PROMISC or PACKET_MR_ALLMULTI: held while the socket is open. */
  membership(type: number, on: boolean): void {
    if (this.fd < 0) return;
    const mreq = Buffer.alloc(16); // struct packet_mreq: ifindex, type, address length, address[8]
    mreq.writeInt32LE(this.ifindex, 0);
    mreq.writeUInt16LE(type, 4);
    const what = `${on ? 'PACKET_ADD_MEMBERSHIP' : 'PACKET_DROP_MEMBERSHIP'} (${type === PACKET_MR_PROMISC ? 'promiscuous' : 'all-multicast'}) on ${this.ifname}`;
    if (ffi.setsockopt(this.fd, ffi.SOL_PACKET, on ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP, mreq, 16) < 0) {
      throw new ffi.SysError(what, ffi.errno());
    }
  }

  /** Unmaps the rings, frees the position words and closes the socket. Safe to call twice. */
  close(): void {
    if (this.fd < 0) return;
    this.stats();
    if (extmemLookup(`${this.name}_ring`)) extmemUnmap(`${this.name}_ring`);
    if (memzoneLookup(`${this.name}_cur`)) memzoneFree(`${this.name}_cur`);
    ffi.close(this.fd);
    this.fd = -1;
  }
}

/** Region offsets of every frame header of a ring (frames do not cross blocks). Made once per queue object. */
function frameTable(spec: PacketRingSpec, base: number): Uint32Array {
  const perBlock = Math.floor(spec.blockSize / spec.frameSize);
  const t = new Uint32Array(spec.frameCount);
  for (let i = 0; i < spec.frameCount; i++) t[i] = base + Math.floor(i / perBlock) * spec.blockSize + (i % perBlock) * spec.frameSize;
  return t;
}

/** Both walkers: this lcore's views, the frame table, the shared position word. */
class RingWalker {
  protected readonly u16: Uint16Array;
  protected readonly u32: Uint32Array;
  protected readonly i32: Int32Array;
  /** region offsets (up to 4 GiB: unsigned, shifted with >>>) */
  protected readonly frames: Uint32Array;
  protected readonly count: number;
  /** i32 index of this ring's position word */
  protected readonly curWord: number;
  protected cur: number;

  constructor(spec: PacketRingSpec, base: number, word: number) {
    for (const f of ['fd', 'blockSize', 'frameSize', 'frameCount', 'rxOff', 'txOff', 'curOff']) specNumber('packet ring', spec, f);
    const r = mem();
    this.u16 = r.u16;
    this.u32 = r.u32;
    this.i32 = r.i32;
    this.frames = frameTable(spec, base);
    this.count = spec.frameCount;
    this.curWord = (spec.curOff >>> 2) + word;
    this.cur = this.i32[this.curWord];
  }

  /** Moves to the next frame and records the position for the next queue object (a plain store). */
  protected advance(): void {
    const c = this.cur + 1 === this.count ? 0 : this.cur + 1;
    this.cur = c;
    this.i32[this.curWord] = c;
  }
}

/**
 * The RX ring, walked in order. Hot path: nothing allocated; peek() is one Atomics.load of the frame's status word
 * (the kernel writes it last, after the frame; the atomic load is never hoisted out of a polling loop), release()
 * one plain store that gives the frame back. Plain, as the project's doorbells (virtio/vq.ts): V8 keeps typed-array
 * stores in program order and x86 orders stores after earlier loads and stores, so the kernel sees the status only
 * after this lcore is done with the frame; Atomics.store would be a locked XCHG per frame.
 */
export class PacketRxRing extends RingWalker {
  constructor(spec: PacketRingSpec) {
    super(spec, spec.rxOff, 0);
    if (spec.rxOff < 0) throw new PacketRingError('packet socket has no RX ring');
  }

  /** Region offset of the next frame's header when the kernel has filled it (TP_STATUS_USER), else -1. */
  peek(): number {
    const h = this.frames[this.cur];
    return (Atomics.load(this.i32, h >>> 2) & TP_STATUS_USER) !== 0 ? h : -1;
  }

  /** Whether the frame `ahead` places after the next one is filled (counts a burst before allocating mbufs). */
  readyAt(ahead: number): boolean {
    let i = this.cur + ahead;
    if (i >= this.count) i -= this.count;
    return (Atomics.load(this.i32, this.frames[i] >>> 2) & TP_STATUS_USER) !== 0;
  }

  /** Region offset of the next frame's header, without looking at its status (after readyAt(0) said it is filled). */
  head(): number { return this.frames[this.cur]; }

  status(h: number): number { return this.u32[h >>> 2]; }
  /** bytes of the frame in the ring (tp_snaplen: tp_len cut to what the ring frame holds) */
  snapLen(h: number): number { return this.u32[(h + TP2.SNAPLEN) >>> 2]; }
  /** bytes of the frame on the wire (tp_len) */
  wireLen(h: number): number { return this.u32[(h + TP2.LEN) >>> 2]; }
  /** region offset of the frame's first byte */
  data(h: number): number { return h + this.u16[(h + TP2.MAC) >>> 1]; }
  vlanTci(h: number): number { return this.u16[(h + TP2.VLAN_TCI) >>> 1]; }
  vlanTpid(h: number): number { return this.u16[(h + TP2.VLAN_TPID) >>> 1]; }

  /** Hands every filled frame back unread (control path: a port that starts drops what came while it was stopped). */
  flush(): number {
    let n = 0;
    for (let h = this.peek(); h >= 0; h = this.peek()) {
      this.release(h);
      n++;
    }
    return n;
  }

  /** Hands frame h (the one peek() returned) back to the kernel and moves on. */
  release(h: number): void {
    this.i32[h >>> 2] = TP_STATUS_KERNEL;
    this.advance();
  }
}

/**
 * The TX ring, filled in order. Hot path: nothing allocated; one sendto() per burst (kick()) makes the kernel send
 * every frame marked since the last one. Data goes at data(h), at most `room` bytes.
 */
export class PacketTxRing extends RingWalker {
  readonly fd: number;
  /** bytes of data a TX frame holds (tp_frame_size - 32) */
  readonly room: number;

  constructor(spec: PacketRingSpec) {
    super(spec, spec.txOff, 1);
    if (spec.txOff < 0) throw new PacketRingError('packet socket has no TX ring');
    this.fd = spec.fd;
    this.room = spec.frameSize - TX_DATA_OFF;
  }

  /** Region offset of the next frame's header when it is free (TP_STATUS_AVAILABLE), else -1 (the ring is full). */
  peek(): number {
    const h = this.frames[this.cur];
    return (Atomics.load(this.i32, h >>> 2) & TX_STATUS_MASK) === TP_STATUS_AVAILABLE ? h : -1;
  }

  /** region offset where frame h's data goes */
  data(h: number): number { return h + TX_DATA_OFF; }

  /** Marks frame h (from peek(), data written) for sending, `len` bytes, and moves on. */
  publish(h: number, len: number): void {
    const u32 = this.u32;
    u32[(h + TP2.LEN) >>> 2] = len;
    u32[(h + TP2.SNAPLEN) >>> 2] = len;
    // the status word last, a plain store (see PacketRxRing): the kernel reads the frame once it sees SEND_REQUEST
    this.i32[h >>> 2] = TP_STATUS_SEND_REQUEST;
    this.advance();
  }

  /**
   * sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0): the kernel sends every SEND_REQUEST frame from its head on
   * (tpacket_snd) before it returns. Returns 0, or the errno when the kernel refused (ENOBUFS and EAGAIN mean
   * frames stay queued for the next kick).
   */
  kick(): number {
    return ffi.sendKick(this.fd, null, 0, ffi.MSG_DONTWAIT, null, 0) < 0 ? ffi.errno() : 0;
  }
}
