// What the software ports share (af_packet, tap, pcap, memif): the control half's bookkeeping (SoftPort) and the
// data half's views, counters and packet copies (SoftRxQueue, SoftTxQueue). Like null and ring, these ports
// move packets with the CPU: every byte is copied with copyBytes() between an mbuf and memory that the kernel or
// a peer shares with us (a packet ring or memif region mapped into the EAL window, or a staging buffer in EAL
// memory), so a copy is always inside one ArrayBuffer.
//
// Hot-path rules, as everywhere: nothing allocated per packet (mbufs are handles, chains are walked with the
// header words), counters are plain stores into the queue's QueueStats (one writer: the polling lcore).
import { mem } from '../../eal/memory.js';
import { memzoneReserve, memzoneLookup, memzoneFree, extmemUnmap, extmemLookup, type Memzone } from '../../eal/memory.js';
import { copyBytes } from '../../eal/copy.js';
import { mempoolLookup, type Mempool } from '../../mempool/mempool.js';
import { M, PKTMBUF_HEADROOM, mbufBind, pktmbufAlloc, pktmbufFree } from '../../mempool/mbuf.js';
import {
  QS_PACKETS, QS_BYTES, QS_ERRORS, QS_NOMBUF, QS_MISSED, type DevInfo, type EthConf, type EthDevOps, type Link,
  type QueueStats, type RxConf, type TxConf, plainPortInfo, specNumber, specString,
} from '../driver.js';

/** Fields every software RX queue spec carries. */
export interface SoftRxSpec {
  port: number;
  queue: number;
  pool: string;
}

/** The region views of this lcore and a queue's counters. */
export class SoftQueue {
  protected readonly u8: Uint8Array;
  protected readonly u16: Uint16Array;
  protected readonly u32: Uint32Array;
  protected readonly i32: Int32Array;
  protected readonly f64: Float64Array;
  protected readonly stats: QueueStats;

  constructor(stats: QueueStats) {
    const r = mem();
    mbufBind(r);
    this.u8 = r.u8;
    this.u16 = r.u16;
    this.u32 = r.u32;
    this.i32 = r.i32;
    this.f64 = r.f64;
    this.stats = stats;
  }
}

/**
 * An RX queue that builds mbufs from bytes at region offsets. fill() copies one received frame into a fresh mbuf
 * (chaining more mbufs of the pool when the frame is longer than one), aligning the mbuf's data to the source
 * modulo 8 so short frames copy with 8-byte words.
 */
export class SoftRxQueue extends SoftQueue {
  protected readonly pool: Mempool;
  protected readonly port: number;
  /** bytes of data an mbuf of the pool holds after the standard headroom */
  protected readonly segRoom: number;

  constructor(driver: string, spec: unknown, stats: QueueStats) {
    super(stats);
    const name = specString(driver, spec, 'pool');
    const pool = mempoolLookup(name);
    if (!pool) throw new Error(`${driver}: no mempool '${name}'`);
    this.pool = pool;
    this.port = specNumber(driver, spec, 'port');
    this.segRoom = pool.dataRoom - Math.min(PKTMBUF_HEADROOM, pool.dataRoom);
  }

  /**
   * Makes m (fresh from the pool, as pktmbufAllocBurst leaves it) a received packet of `len` bytes copied from
   * region offset `src`. Returns false when a chained frame found the pool empty: m is then left a valid empty
   * packet for the caller to free, and the drop is counted in rx_nombuf.
   */
  protected fill(m: number, src: number, len: number): boolean {
    const u32 = this.u32;
    const u16 = this.u16;
    const room = this.segRoom;
    u32[m + M.PKT_LEN] = len;
    u16[(m << 1) + M.H_PORT] = this.port;
    const buf = u32[m + M.BUF_OFF];
    if (len <= room) {
      // shift the data by (src - dst) mod 8 when the buffer has the room: 8-byte copies, IP header 4-aligned
      const shift = (src - buf - PKTMBUF_HEADROOM) & 7;
      const off = PKTMBUF_HEADROOM + (len + shift <= room ? shift : 0);
      u32[m + M.DATA] = (off << 16) | len;
      copyBytes(this.u8, this.f64, buf + off, src, len);
      return true;
    }
    return this.fillChain(m, src, len);
  }

  private fillChain(m: number, src: number, len: number): boolean {
    const u32 = this.u32;
    const u16 = this.u16;
    const room = this.segRoom;
    let seg = m;
    let done = 0;
    let segs = 1;
    for (;;) {
      const n = len - done < room ? len - done : room;
      u32[seg + M.DATA] = (PKTMBUF_HEADROOM << 16) | n;
      copyBytes(this.u8, this.f64, u32[seg + M.BUF_OFF] + PKTMBUF_HEADROOM, src + done, n);
      done += n;
      if (done === len) break;
      const nx = pktmbufAlloc(this.pool);
      if (nx === 0) {
        // give back what was chained and leave m a one-segment empty packet
        const rest = u32[m + M.NEXT];
        u32[m + M.NEXT] = 0;
        u16[(m << 1) + M.H_NB_SEGS] = 1;
        if (rest !== 0) {
          u16[(rest << 1) + M.H_NB_SEGS] = segs - 1;
          pktmbufFree(rest);
        }
        u32[m + M.PKT_LEN] = 0;
        u32[m + M.DATA] = PKTMBUF_HEADROOM << 16;
        this.stats[QS_NOMBUF]++;
        return false;
      }
      u32[seg + M.NEXT] = nx;
      seg = nx;
      segs++;
    }
    u16[(m << 1) + M.H_NB_SEGS] = segs;
    return true;
  }

  protected count(packets: number, bytes: number): void {
    const st = this.stats;
    st[QS_PACKETS] += packets;
    st[QS_BYTES] += bytes;
  }

  /** Frames the kernel or the peer dropped before this queue saw them (imissed). */
  protected missed(n: number): void {
    this.stats[QS_MISSED] += n;
  }
}

/** A TX queue that copies packets (every segment, in order) to region offsets. */
export class SoftTxQueue extends SoftQueue {
  /** Copies the whole packet m to region offset dst; returns its length. */
  protected copyOut(m: number, dst: number): number {
    const u32 = this.u32;
    const u16 = this.u16;
    let at = dst;
    for (let s = m; s !== 0; s = u32[s + M.NEXT]) {
      const n = u16[(s << 1) + M.H_DATA_LEN];
      copyBytes(this.u8, this.f64, at, u32[s + M.BUF_OFF] + u16[(s << 1) + M.H_DATA_OFF], n);
      at += n;
    }
    return at - dst;
  }

  protected count(packets: number, bytes: number, errors: number): void {
    const st = this.stats;
    st[QS_PACKETS] += packets;
    st[QS_BYTES] += bytes;
    st[QS_ERRORS] += errors;
  }
}

/** DevInfo of a software port, from the few numbers that differ between drivers. */
export interface SoftLimits {
  maxRxQueues: number;
  maxTxQueues: number;
  /** largest frame, L2 header to FCS */
  maxRxPktLen: number;
  descMax: number;
  descMin?: number;
  defaultRing: number;
  speed: number;
}

/**
 * The control half's bookkeeping: name, MAC, queue counts, started flag, and the EAL memory the port holds
 * (memzones and external mappings), released on queueRelease/close. Drivers override link, MAC and mode calls
 * where the kernel or the peer has a say.
 */
export abstract class SoftPort implements EthDevOps {
  abstract readonly driverName: string;
  readonly name: string;
  protected mac: Uint8Array;
  protected nbRxq = 0;
  protected nbTxq = 0;
  protected conf: EthConf = {};
  protected started = false;
  private zones: string[] = [];
  private exts: string[] = [];

  constructor(name: string, mac: Uint8Array) {
    this.name = name;
    this.mac = mac;
  }

  protected abstract limits(): SoftLimits;
  abstract rxQueueSetup(q: number, nbDesc: number, conf: RxConf, pool: Mempool, portId: number): unknown;
  abstract txQueueSetup(q: number, nbDesc: number, conf: TxConf, portId: number): unknown;

  infoGet(): DevInfo {
    const l = this.limits();
    const desc = { nbMax: l.descMax, nbMin: l.descMin ?? 1, nbAlign: 1 };
    return {
      driverName: this.driverName, deviceName: this.name, maxRxQueues: l.maxRxQueues, maxTxQueues: l.maxTxQueues,
      minRxBufSize: 0, ...plainPortInfo(l.maxRxPktLen), maxMacAddrs: 1, rxDescLim: desc, txDescLim: { ...desc },
      speedCapa: [l.speed], defaultRxRingSize: l.defaultRing, defaultTxRingSize: l.defaultRing,
      rxOffloadCapa: 0, txOffloadCapa: 0,
    };
  }

  configure(nbRxq: number, nbTxq: number, conf: EthConf): void {
    this.nbRxq = nbRxq;
    this.nbTxq = nbTxq;
    this.conf = conf;
  }

  start(): void { this.started = true; }
  stop(): void { this.started = false; }

  close(): void {
    this.queueRelease();
  }

  /** Frees the memzones and external mappings the port took (zone()/trackExt()). */
  queueRelease(): void {
    for (const z of this.zones) if (memzoneLookup(z)) memzoneFree(z);
    for (const x of this.exts) if (extmemLookup(x)) extmemUnmap(x);
    this.zones = [];
    this.exts = [];
  }

  /** Reserves a memzone this port owns (named after the port), freed with the port's queues. */
  protected zone(tag: string, len: number, align = 64): Memzone {
    const name = `${this.name}_${tag}`;
    if (memzoneLookup(name)) memzoneFree(name);
    const z = memzoneReserve(name, len, { align });
    this.zones.push(name);
    return z;
  }

  /** Records an extmemMap() of this port's, unmapped with the port's queues. */
  protected trackExt(name: string): void {
    this.exts.push(name);
  }

  linkGet(_wait: boolean): Link {
    return { up: this.started, speed: this.limits().speed, fullDuplex: true, autoneg: false };
  }

  macAddr(): Uint8Array { return this.mac; }
  setPromiscuous(_on: boolean): void {}
  setAllmulticast(_on: boolean): void {}
}

export { QS_PACKETS, QS_BYTES, QS_ERRORS, QS_NOMBUF, QS_MISSED };
