// net_pcap: a port whose RX queues read capture files and whose TX queues write them (DPDK's net_pcap,
// drivers/net/pcap/pcap_ethdev.c), without libpcap.
//
//   --vdev 'net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap'          one RX and one TX queue
//   --vdev 'net_pcap0,rx_pcap=a.pcap,rx_pcap=b.pcap,tx_pcap=o.pcap'  a queue per key, in order (as DPDK)
//   --vdev 'net_pcap0,rx_pcap=in.pcap,infinite_rx=1'             replays the file forever
//
// As in DPDK: RX of a file stops at its end (rxBurst returns 0 from then on; a restart of the port reads it again);
// without tx_pcap each RX queue gets a TX queue that counts and drops, without rx_pcap each TX queue gets an RX
// queue that receives nothing; infinite_rx=1 makes every rx_pcap queue replay its file. Files are opened (outputs
// created, truncated) at probe time, so a missing or malformed input is one line at --vdev. Reading: pcap (µs and
// ns, both byte orders) and pcapng (format.ts). Writing: pcap, nanosecond timestamps of the current time, snaplen
// 65535, LINKTYPE_ETHERNET. Live interfaces (rx_iface, rx_iface_in, tx_iface, iface, phy_mac) go through AF_PACKET
// packet rings (live.ts).
//
// Data path: RX reads a file in 1 MiB chunks (one pread each) into a staging memzone and copies each frame into an
// mbuf with SoftRxQueue.fill; TX builds records in a staging memzone (SoftTxQueue.copyOut) and writes them with
// write(), at most once per burst.
// Hot-path rules (rxBurst/txBurst and what they call): nothing allocated per packet or per burst (no objects,
// strings, BigInts or boxed doubles: a worker lcore would collect garbage mid-burst), counters are plain stores (one
// writer, the polling lcore); syscalls only where the kernel must act: one pread per MiB read, at most one write
// per burst (under load, one for the records of several bursts: see PcapTx).
import * as fs from 'node:fs';
import { mem } from '../../eal/memory.js';
import { writeAt, clockGettimeAt, CLOCK_REALTIME, errno, strerror } from '../../eal/ffi.js';
import { log } from '../../eal/log.js';
import { M, pktmbufAllocBurst, pktmbufFreeBulk } from '../../mempool/mbuf.js';
import type { Mempool } from '../../mempool/mempool.js';
import { type HwStats, type PmdInfo, type QueueStats, type RxQueue, type TxQueue, specNumber, specString } from '../driver.js';
import { registerDataPlane } from '../registry.js';
import { SoftPort, SoftRxQueue, SoftTxQueue, QS_NOMBUF, type SoftLimits } from '../soft/base.js';
import { argAll, argBool, DevArgError } from '../soft/args.js';
import { ifMac } from '../soft/netif.js';
import {
  CaptureReader, captureRestart, openCapture, createPcap, putRecordHeader, PCAP_REC_HDR_LEN, PCAP_SNAPSHOT_LEN, READ_ZONE, TIMESPEC_LEN, type CaptureInfo,
} from './format.js';
import { LiveRx, LiveTx, openLive, liveMaxLen, type LiveIface, type LiveRxSpec, type LiveTxSpec } from './live.js';

const DRIVER = 'net_pcap';
/** DPDK's RTE_PMD_PCAP_MAX_QUEUES */
const MAX_QUEUES = 16;
/** TX zone: a header word (bytes staged), WRITE_ZONE bytes of records, then a struct timespec for clock_gettime */
const TX_HDR = 64;
const WRITE_ZONE = 1 << 20;
/** staged bytes that make a write() (64 KiB: 800 records of 64-byte frames, 25 bursts of 32) */
const FLUSH_AT = 1 << 16;
/** a burst shorter than this means the traffic is not saturating the queue: its records are written at once */
const FULL_BURST = 32;

interface PcapRxSpec {
  port: number;
  queue: number;
  pool: string;
  /** 'file': read `info` through fd; 'null': receive nothing (no rx_pcap given) */
  kind: 'file' | 'null';
  fd: number;
  info: CaptureInfo | null;
  zone: number;
  infinite: boolean;
}

interface PcapTxSpec {
  port: number;
  queue: number;
  /** 'file': write records to fd; 'drop': count and free (no tx_pcap given) */
  kind: 'file' | 'drop';
  fd: number;
  path: string;
  zone: number;
}

/** Frames of a capture file, in file order. */
class PcapRx extends SoftRxQueue implements RxQueue {
  readonly reader: CaptureReader;

  constructor(spec: PcapRxSpec, stats: QueueStats) {
    super(DRIVER, spec, stats);
    const zone = specNumber(DRIVER, spec, 'zone');
    if (spec.info === null) throw new Error(`${DRIVER}: RX queue spec without a capture file`);
    this.reader = new CaptureReader(specNumber(DRIVER, spec, 'fd'), spec.info, zone, mem().va(zone), stats, spec.infinite);
  }

  rxBurst(mbufs: Uint32Array, n: number): number {
    const rd = this.reader;
    if (rd.done) return 0;
    // mbufs in one bulk get (the pool's cache), records parsed into them; what the file did not fill goes back
    let got = pktmbufAllocBurst(this.pool, mbufs, n);
    let i = 0;
    let bytes = 0;
    for (; i < got; i++) {
      const src = rd.next();
      if (src < 0) break;
      const len = rd.frameLen;
      if (!this.fill(mbufs[i], src, len)) {
        // a chained frame found the pool empty (fill counted it): give back the mbufs this burst took and has not
        // used, so the chain can have them, and try once more; else the record is read again next burst
        pktmbufFreeBulk(mbufs, got - i - 1, i + 1);
        got = i + 1;
        if (!this.fill(mbufs[i], src, len)) {
          rd.unread();
          break;
        }
      }
      bytes += len;
    }
    if (i < got) pktmbufFreeBulk(mbufs, got - i, i);
    else if (got < n && rd.next() >= 0) {
      // the pool ran dry with records left: they wait for the next burst (nothing is lost), one rx_nombuf as DPDK
      rd.unread();
      this.stats[QS_NOMBUF]++;
    }
    rd.commit(); // where the next queue object of this queue (another lcore) goes on from
    this.count(i, bytes);
    return i;
  }
}

/** DPDK's eth_null_rx: the RX queue of a port given only tx_pcap. */
class NullRx implements RxQueue {
  rxBurst(): number { return 0; }
}

/**
 * Writes pcap records with write(): record headers and frames are staged in a memzone (the kernel copies from its
 * native address, a BigInt made once), then the mbufs go back to their pool. Under load the records of several
 * bursts go out in one write() (at most one per burst); a burst shorter than FULL_BURST, or FLUSH_AT staged bytes,
 * writes at once, and the control half writes what is left when the port stops (DPDK closes its dumpers there).
 */
class PcapTx extends SoftTxQueue implements TxQueue {
  private readonly fd: number;
  private readonly path: string;
  /** region offset of the zone: the i32 count of staged bytes, then the staged records, then a struct timespec */
  private readonly zone: number;
  private readonly stage: number;
  /** native address of the staged records */
  private readonly va: bigint;
  /** native address of the struct timespec after the staging bytes */
  private readonly tsVa: bigint;
  private writeFailed = false;

  constructor(spec: PcapTxSpec, stats: QueueStats) {
    super(stats);
    this.fd = specNumber(DRIVER, spec, 'fd');
    this.path = specString(DRIVER, spec, 'path');
    this.zone = specNumber(DRIVER, spec, 'zone');
    this.stage = this.zone + TX_HDR;
    this.va = mem().va(this.stage);
    this.tsVa = mem().va(this.stage + WRITE_ZONE);
  }

  txBurst(mbufs: Uint32Array, n: number, from: number): number {
    if (n === 0) return 0;
    // one timestamp per burst, the current time in ns (the file's magic is NSEC_TCPDUMP_MAGIC): clock_gettime into
    // the zone's timespec, whose bytes go into each record (performance.now() would box a double per call)
    clockGettimeAt(CLOCK_REALTIME, this.tsVa);
    const ts = this.stage + WRITE_ZONE;
    const u32 = this.u32;
    let used = this.i32[this.zone >> 2];
    let pkts = 0;
    let bytes = 0;
    let tooLong = 0;
    for (let i = 0; i < n; i++) {
      const m = mbufs[from + i];
      const len = u32[m + M.PKT_LEN];
      if (len > PCAP_SNAPSHOT_LEN) {
        tooLong++;
        continue;
      }
      if (used + PCAP_REC_HDR_LEN + len > WRITE_ZONE) used = this.flush(used);
      putRecordHeader(this.u8, this.stage + used, ts, len, len);
      this.copyOut(m, this.stage + used + PCAP_REC_HDR_LEN);
      used += PCAP_REC_HDR_LEN + len;
      pkts++;
      bytes += len;
    }
    if (used >= FLUSH_AT || n < FULL_BURST) used = this.flush(used);
    this.i32[this.zone >> 2] = used;
    pktmbufFreeBulk(mbufs, n, from);
    this.count(pkts, bytes, tooLong);
    return n;
  }

  /**
   * Writes `used` staged bytes with one syscall; returns 0 (nothing staged any more). A write the file does not
   * take whole (disk full...) is logged once; its records are lost (DPDK's pcap_dump reports nothing either).
   */
  private flush(used: number): number {
    if (used === 0) return 0;
    const rc = writeAt(this.fd, this.va, used);
    if (rc !== used && !this.writeFailed) {
      this.writeFailed = true;
      log('pcap').error(`${this.path}: write of ${used} bytes returned ${rc}${rc < 0 ? ` (${strerror(errno())})` : ''}: records lost`);
    }
    return 0;
  }
}

/** Writes what a TX zone still stages (port stop, queue release: no lcore polls the queue then). Control path. */
function flushStaged(fd: number, zone: number): void {
  const r = mem();
  const used = r.i32[zone >> 2];
  if (used <= 0) return;
  r.i32[zone >> 2] = 0;
  fs.writeSync(fd, r.u8, zone + TX_HDR, used);
}

/** DPDK's eth_tx_drop: the TX queue of a port given only rx_pcap; counts packets and bytes, frees them. */
class DropTx extends SoftTxQueue implements TxQueue {
  txBurst(mbufs: Uint32Array, n: number, from: number): number {
    const bytes = pktmbufFreeBulk(mbufs, n, from);
    this.count(n, bytes, 0);
    return n;
  }
}

let instances = 0;

/** Where an RX queue's frames come from: a capture file, a live interface, or nothing (no rx_pcap/rx_iface). */
type RxSource = { kind: 'file'; fd: number; info: CaptureInfo } | { kind: 'iface'; live: LiveIface } | null;
/** Where a TX queue's packets go: a capture file, a live interface, or nowhere (counted and dropped). */
type TxSink = { kind: 'file'; fd: number; path: string } | { kind: 'iface'; live: LiveIface } | null;

export class PcapPort extends SoftPort {
  readonly driverName = DRIVER;
  private readonly rx: RxSource[];
  private readonly tx: TxSink[];
  private readonly infinite: boolean;
  /** region offsets of the RX queues' reader zones (their shared state is cleared at start) */
  private rxZones: number[] = [];
  /** region offsets of the TX queues' staging zones (what they stage is written at stop) */
  private txZones: number[] = [];

  constructor(name: string, rx: RxSource[], tx: TxSink[], infinite: boolean, mac: Uint8Array | null) {
    // DPDK's MAC: 02:70:63:61:70:<n>, 'p' 'c' 'a' 'p' after the locally administered bit (phy_mac=1: the interface's)
    super(name, mac ?? Uint8Array.from([0x02, 0x70, 0x63, 0x61, 0x70, instances & 0xff]));
    instances++;
    this.rx = rx;
    this.tx = tx;
    this.infinite = infinite;
  }

  protected limits(): SoftLimits {
    return {
      maxRxQueues: this.rx.length, maxTxQueues: this.tx.length, maxRxPktLen: PCAP_SNAPSHOT_LEN,
      descMax: 4096, defaultRing: 512, speed: 10000,
    };
  }

  rxQueueSetup(q: number, _nb: number, _conf: unknown, pool: Mempool, portId: number): PcapRxSpec | LiveRxSpec {
    const f = this.rx[q];
    const base = { port: portId, queue: q, pool: pool.name };
    if (f?.kind === 'iface') return { ...base, kind: 'iface', driver: 'net_pcap', vlanStrip: false, ring: f.live.sock.spec };
    if (!f) return { ...base, kind: 'null', fd: -1, info: null, zone: 0, infinite: false };
    const zone = this.zone(`rx${q}`, READ_ZONE).off;
    captureRestart(mem().i32, zone);
    this.rxZones[q] = zone;
    return { ...base, kind: 'file', fd: f.fd, info: f.info, zone, infinite: this.infinite };
  }

  txQueueSetup(q: number, _nb: number, _conf: unknown, portId: number): PcapTxSpec | LiveTxSpec {
    const f = this.tx[q];
    if (f?.kind === 'iface') return { port: portId, queue: q, kind: 'iface', driver: 'net_pcap', ring: f.live.sock.spec, mtuLen: liveMaxLen(f.live.ifname) };
    if (!f) return { port: portId, queue: q, kind: 'drop', fd: -1, path: '', zone: 0 };
    const zone = this.zone(`tx${q}`, TX_HDR + WRITE_ZONE + TIMESPEC_LEN).off;
    mem().i32[zone >> 2] = 0;
    this.txZones[q] = zone;
    return { port: portId, queue: q, kind: 'file', fd: f.fd, path: f.path, zone };
  }

  /** DPDK reopens its files at every start: the RX queues read from the first record again. */
  override start(): void {
    for (const z of this.rxZones) if (z !== undefined) captureRestart(mem().i32, z);
    super.start();
  }

  /** The records TX queues still stage go to their files (DPDK's eth_dev_stop closes the dumpers, flushing them). */
  override stop(): void {
    super.stop();
    this.flushTx();
  }

  override queueRelease(): void {
    this.flushTx();
    super.queueRelease();
    this.rxZones = [];
    this.txZones = [];
  }

  private flushTx(): void {
    this.txZones.forEach((z, q) => {
      const f = this.tx[q];
      if (z !== undefined && f?.kind === 'file') flushStaged(f.fd, z);
    });
  }

  /** Frames the kernel dropped because a live RX ring was full (PACKET_STATISTICS tp_drops): imissed. */
  hwStats(): HwStats {
    let imissed = 0;
    for (const f of this.rx) if (f?.kind === 'iface') imissed += f.live.sock.stats().drops;
    return { imissed };
  }

  override close(): void {
    super.close();
    release(this.rx, this.tx);
    this.rx.fill(null);
    this.tx.fill(null);
  }
}

/** Closes the files and sockets of a port (a socket shared by iface='s RX and TX queue once: close is idempotent). */
function release(rx: RxSource[], tx: TxSink[]): void {
  for (const f of [...rx, ...tx]) {
    if (f?.kind === 'file') fs.closeSync(f.fd);
    else if (f?.kind === 'iface') f.live.sock.close();
  }
}

/**
 * The queues DPDK's pmd_pcap_probe makes: iface= is one queue pair on one interface; otherwise RX queues from the
 * rx_pcap files, else the rx_iface/rx_iface_in interfaces, else one empty RX queue per TX queue; TX queues to the
 * tx_pcap files, else the tx_iface interfaces, else one dropping TX queue per RX queue. Inputs are opened (and
 * checked) before outputs are created; on any error everything opened so far is closed again.
 */
function probePcap(devName: string, args: Map<string, string>): PcapPort {
  const all = (k: string) => argAll(DRIVER, args, k);
  const rx: RxSource[] = [];
  const tx: TxSink[] = [];
  try {
    const iface = all('iface');
    if (iface.length > 0) {
      if (iface.length > 1) throw new DevArgError(`${DRIVER}: iface= given ${iface.length} times: give one interface (rx_iface=/tx_iface= for more queues)`);
      const live = openLive(`${devName}_iface`, 'iface', iface[0], true, true, true);
      rx.push({ kind: 'iface', live });
      tx.push({ kind: 'iface', live });
      return new PcapPort(devName, rx, tx, false, argBool(DRIVER, args, 'phy_mac') ? ifMac(iface[0]) : null);
    }
    const rxPaths = all('rx_pcap');
    const txPaths = all('tx_pcap');
    const rxIfs = [...all('rx_iface').map((n) => [n, false] as const), ...all('rx_iface_in').map((n) => [n, true] as const)];
    const txIfs = all('tx_iface');
    if (rxPaths.length + txPaths.length + rxIfs.length + txIfs.length === 0) {
      throw new DevArgError(`${DRIVER}: no rx_pcap=, tx_pcap=, rx_iface=, tx_iface= or iface= given: name at least one capture file or interface`);
    }
    const nRx = rxPaths.length || rxIfs.length;
    const nTx = txPaths.length || txIfs.length;
    if (Math.max(nRx, nTx) > MAX_QUEUES) throw new DevArgError(`${DRIVER}: at most ${MAX_QUEUES} RX and ${MAX_QUEUES} TX files or interfaces (one queue each)`);
    const infinite = infiniteRx(args, rxPaths.length);
    for (const p of rxPaths) rx.push({ kind: 'file', ...openCapture(p) });
    if (rxPaths.length === 0) rxIfs.forEach(([n, inOnly], q) => rx.push({ kind: 'iface', live: openLive(`${devName}_rx${q}`, inOnly ? 'rx_iface_in' : 'rx_iface', n, true, false, inOnly) }));
    for (const p of txPaths) tx.push({ kind: 'file', fd: createPcap(p, PCAP_SNAPSHOT_LEN), path: p });
    if (txPaths.length === 0) txIfs.forEach((n, q) => tx.push({ kind: 'iface', live: openLive(`${devName}_tx${q}`, 'tx_iface', n, false, true, false) }));
    // DPDK: an empty RX queue per TX queue without any RX key, a dropping TX queue per RX queue without any TX key
    while (nRx === 0 && rx.length < tx.length) rx.push(null);
    while (nTx === 0 && tx.length < rx.length) tx.push(null);
    return new PcapPort(devName, rx, tx, infinite, null);
  } catch (e) {
    release(rx, tx);
    throw e;
  }
}

/**
 * infinite_rx: device-wide, every rx_pcap queue replays its file (DPDK's pcap guide: "all queues on a device will
 * either have this enabled or disabled", given once per device). DPDK ignores it without rx_pcap and warns when it
 * is repeated; here both are one line to fix.
 */
function infiniteRx(args: Map<string, string>, rxFiles: number): boolean {
  if (argAll(DRIVER, args, 'infinite_rx').length > 1) throw new DevArgError(`${DRIVER}: infinite_rx= given more than once: give it once (it applies to every rx_pcap queue)`);
  const on = argBool(DRIVER, args, 'infinite_rx');
  if (on && rxFiles === 0) throw new DevArgError(`${DRIVER}: infinite_rx=1 replays rx_pcap= files: give at least one rx_pcap=`);
  return on;
}

function attachRx(spec: unknown, stats: QueueStats): RxQueue {
  const kind = (spec as { kind?: string } | null)?.kind;
  if (kind === 'file') return new PcapRx(spec as PcapRxSpec, stats);
  if (kind === 'iface') return new LiveRx(spec as LiveRxSpec, stats);
  return new NullRx();
}

function attachTx(spec: unknown, stats: QueueStats): TxQueue {
  const kind = (spec as { kind?: string } | null)?.kind;
  if (kind === 'file') return new PcapTx(spec as PcapTxSpec, stats);
  if (kind === 'iface') return new LiveTx(spec as LiveTxSpec, stats);
  return new DropTx(stats);
}

export const pcapPmd: PmdInfo = {
  name: DRIVER,
  dataPlaneUrl: import.meta.url,
  vdevArgs: ['rx_pcap', 'tx_pcap', 'rx_iface', 'rx_iface_in', 'tx_iface', 'iface', 'phy_mac', 'infinite_rx'],
  dataPlane: { attachRx, attachTx },
  probeVdev: probePcap,
};

export const pmd = pcapPmd;
registerDataPlane(pcapPmd.name, pcapPmd.dataPlane);
