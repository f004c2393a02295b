// net_pcap: a port whose RX queues read capture files and whose TX queues write them (DPDK's net_pcap,
// drivers/net/pcap/pcap_ethdev.c), without libpcap.
//
//   --vdev 'net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap'          one RX and one TX queue
//   --vdev 'net_pcap0,rx_pcap=a.pcap,rx_pcap=b.pcap,tx_pcap=o.pcap'  a queue per key, in order (as DPDK)
//   --vdev 'net_pcap0,rx_pcap=in.pcap,infinite_rx=1'             replays the file forever
//
// As in DPDK: RX of a file stops at its end (rxBurst returns 0 from then on; a restart of the port reads it again);
// without tx_pcap each RX queue gets a TX queue that counts and drops, without rx_pcap each TX queue gets an RX queue
// that receives nothing; infinite_rx needs exactly one rx_pcap. Files are opened (and outputs created, truncated)
// at probe time, so a missing or malformed input is one line at --vdev. Reading: pcap (µs and ns, both byte
// orders) and pcapng (format.ts). Writing: pcap, nanosecond timestamps of the current time, snaplen 65535,
// LINKTYPE_ETHERNET. Live interfaces (rx_iface, tx_iface, iface) are not supported yet: net_af_packet serves them.
//
// Data path: RX reads a file in 1 MiB chunks (one pread each) into a staging memzone and copies each frame into an
// mbuf with SoftRxQueue.fill; TX builds the burst's records in a staging memzone (SoftTxQueue.copyOut) and writes
// them with one write() per burst. Nothing is allocated per packet or per burst.
import * as fs from 'node:fs';
import { mem } from '../../eal/memory.js';
import { writeAt, errno, strerror } from '../../eal/ffi.js';
import { log } from '../../eal/log.js';
import { M, pktmbufAlloc, pktmbufFree, pktmbufFreeBulk } from '../../mempool/mbuf.js';
import type { Mempool } from '../../mempool/mempool.js';
import { type PmdInfo, type QueueStats, type RxQueue, type TxQueue, specNumber, specString } from '../driver.js';
import { registerDataPlane } from '../registry.js';
import { SoftPort, SoftRxQueue, SoftTxQueue, QS_NOMBUF, type SoftLimits } from '../soft/base.js';
import { argAll, argBool, DevArgError } from '../soft/args.js';
import {
  CaptureReader, openCapture, createPcap, putRecordHeader, PCAP_REC_HDR_LEN, PCAP_SNAPSHOT_LEN, READ_ZONE, type CaptureInfo,
} from './format.js';

const DRIVER = 'net_pcap';
/** TX staging buffer: a burst's records, written with one write() (flushed early only if a burst outgrows it) */
const WRITE_ZONE = 1 << 20;

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
    this.reader = new CaptureReader(this.u8, specNumber(DRIVER, spec, 'fd'), spec.info, zone, mem().va(zone), stats, spec.infinite);
  }

  rxBurst(mbufs: Uint32Array, n: number): number {
    const rd = this.reader;
    const pool = this.pool;
    let i = 0;
    let bytes = 0;
    for (; i < n; i++) {
      const src = rd.next();
      if (src < 0) break;
      const m = pktmbufAlloc(pool);
      if (m === 0) {
        // the record stays for the next burst: nothing is lost when the pool runs dry
        rd.unread();
        this.stats[QS_NOMBUF]++;
        break;
      }
      if (!this.fill(m, src, rd.frameLen)) {
        // a chained frame found the pool empty (fill counted it): free the head, read the record again later
        pktmbufFree(m);
        rd.unread();
        break;
      }
      mbufs[i] = m;
      bytes += rd.frameLen;
    }
    this.count(i, bytes);
    return i;
  }
}

/** DPDK's eth_null_rx: the RX queue of a port given only tx_pcap. */
class NullRx implements RxQueue {
  rxBurst(): number { return 0; }
}

/**
 * Writes each burst as pcap records with one write(): record headers and frames are staged in a memzone (the
 * kernel copies from its native address, a BigInt made once), then the mbufs go back to their pool.
 */
class PcapTx extends SoftTxQueue implements TxQueue {
  private readonly fd: number;
  private readonly path: string;
  private readonly zone: number;
  private readonly va: bigint;
  private writeFailed = false;

  constructor(spec: PcapTxSpec, stats: QueueStats) {
    super(stats);
    this.fd = specNumber(DRIVER, spec, 'fd');
    this.path = specString(DRIVER, spec, 'path');
    this.zone = specNumber(DRIVER, spec, 'zone');
    this.va = mem().va(this.zone);
  }

  txBurst(mbufs: Uint32Array, n: number, from: number): number {
    // one timestamp per burst: the current time in ns (the file's magic is NSEC_TCPDUMP_MAGIC)
    const ms = performance.timeOrigin + performance.now();
    const sec = Math.floor(ms / 1000);
    const nsec = Math.min(999999999, Math.floor((ms - sec * 1000) * 1e6));
    const u32 = this.u32;
    let used = 0;
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
      if (used + PCAP_REC_HDR_LEN + len > WRITE_ZONE) {
        this.flush(used, pkts, bytes, 0);
        used = pkts = bytes = 0;
      }
      putRecordHeader(this.u8, this.zone + used, sec, nsec, len, len);
      this.copyOut(m, this.zone + used + PCAP_REC_HDR_LEN);
      used += PCAP_REC_HDR_LEN + len;
      pkts++;
      bytes += len;
    }
    this.flush(used, pkts, bytes, tooLong);
    pktmbufFreeBulk(mbufs, n, from);
    return n;
  }

  /**
   * Writes `used` staged bytes holding `pkts` records with one syscall and counts them: sent when the file took
   * them all, else oerrors (logged once). `dropped` packets (longer than the snaplen) count as oerrors too.
   */
  private flush(used: number, pkts: number, bytes: number, dropped: number): void {
    const rc = used === 0 ? 0 : writeAt(this.fd, this.va, used);
    if (rc === used) {
      this.count(pkts, bytes, dropped);
      return;
    }
    this.count(0, 0, pkts + dropped);
    if (!this.writeFailed) {
      this.writeFailed = true;
      log('pcap').error(`${this.path}: write of ${used} bytes returned ${rc}${rc < 0 ? ` (${strerror(errno())})` : ''}: packets counted in oerrors`);
    }
  }
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

export class PcapPort extends SoftPort {
  readonly driverName = DRIVER;
  private readonly rxFiles: Array<{ fd: number; info: CaptureInfo } | null>;
  private readonly txFiles: Array<{ fd: number; path: string } | null>;
  private readonly infinite: boolean;

  constructor(name: string, rx: Array<{ fd: number; info: CaptureInfo } | null>, tx: Array<{ fd: number; path: string } | null>, infinite: boolean) {
    // DPDK's MAC: 02:70:63:61:70:<n>, 'p' 'c' 'a' 'p' after the locally administered bit
    super(name, Uint8Array.from([0x02, 0x70, 0x63, 0x61, 0x70, instances++ & 0xff]));
    this.rxFiles = rx;
    this.txFiles = tx;
    this.infinite = infinite;
  }

  protected limits(): SoftLimits {
    return {
      maxRxQueues: this.rxFiles.length, maxTxQueues: this.txFiles.length, maxRxPktLen: PCAP_SNAPSHOT_LEN,
      descMax: 4096, defaultRing: 512, speed: 10000,
    };
  }

  rxQueueSetup(q: number, _nb: number, _conf: unknown, pool: Mempool, portId: number): PcapRxSpec {
    const f = this.rxFiles[q];
    const base = { port: portId, queue: q, pool: pool.name, infinite: this.infinite };
    if (!f) return { ...base, kind: 'null', fd: -1, info: null, zone: 0 };
    return { ...base, kind: 'file', fd: f.fd, info: f.info, zone: this.zone(`rx${q}`, READ_ZONE).off };
  }

  txQueueSetup(q: number, _nb: number, _conf: unknown, portId: number): PcapTxSpec {
    const f = this.txFiles[q];
    if (!f) return { port: portId, queue: q, kind: 'drop', fd: -1, path: '', zone: 0 };
    return { port: portId, queue: q, kind: 'file', fd: f.fd, path: f.path, zone: this.zone(`tx${q}`, WRITE_ZONE).off };
  }

  override close(): void {
    super.close();
    closeFiles(this.rxFiles, this.txFiles);
    this.rxFiles.fill(null);
    this.txFiles.fill(null);
  }
}

function closeFiles(rx: Array<{ fd: number } | null>, tx: Array<{ fd: number } | null>): void {
  for (const f of [...rx, ...tx]) if (f) fs.closeSync(f.fd);
}

/** Opens the inputs (checked), then creates the outputs; on any error closes what it opened. */
function probePcap(devName: string, args: Map<string, string>): PcapPort {
  for (const k of ['rx_iface', 'rx_iface_in', 'tx_iface', 'iface']) {
    if (args.has(k)) {
      throw new DevArgError(`${DRIVER}: ${k}=${args.get(k)}: live interfaces are not supported by net_pcap yet: use --vdev net_af_packet0,iface=${args.get(k)}`);
    }
  }
  const rxPaths = argAll(DRIVER, args, 'rx_pcap');
  const txPaths = argAll(DRIVER, args, 'tx_pcap');
  if (rxPaths.length + txPaths.length === 0) throw new DevArgError(`${DRIVER}: no rx_pcap= or tx_pcap= given: name at least one capture file`);
  if (Math.max(rxPaths.length, txPaths.length) > 16) throw new DevArgError(`${DRIVER}: at most 16 rx_pcap= and 16 tx_pcap= files (one queue each)`);
  const infinite = argBool(DRIVER, args, 'infinite_rx');
  if (infinite && rxPaths.length !== 1) throw new DevArgError(`${DRIVER}: infinite_rx=1 needs exactly one rx_pcap= file (${rxPaths.length} given)`);
  const rx: Array<{ fd: number; info: CaptureInfo } | null> = [];
  const tx: Array<{ fd: number; path: string } | null> = [];
  try {
    for (const p of rxPaths) rx.push(openCapture(p));
    for (const p of txPaths) tx.push({ fd: createPcap(p, PCAP_SNAPSHOT_LEN), path: p });
  } catch (e) {
    closeFiles(rx, tx);
    throw e;
  }
  // DPDK: a dummy RX queue per TX file when no rx_pcap, a dropping TX queue per RX file when no tx_pcap
  while (rx.length < tx.length && rxPaths.length === 0) rx.push(null);
  while (tx.length < rx.length && txPaths.length === 0) tx.push(null);
  return new PcapPort(devName, rx, tx, infinite);
}

export const pcapPmd: PmdInfo = {
  name: DRIVER,
  dataPlaneUrl: import.meta.url,
  vdevArgs: ['rx_pcap', 'tx_pcap', 'rx_iface', 'rx_iface_in', 'tx_iface', 'iface', 'phy_mac', 'infinite_rx'],
  dataPlane: {
    attachRx: (spec, stats) => ((spec as PcapRxSpec).kind === 'file' ? new PcapRx(spec as PcapRxSpec, stats) : new NullRx()),
    attachTx: (spec, stats) => ((spec as PcapTxSpec).kind === 'file' ? new PcapTx(spec as PcapTxSpec, stats) : new DropTx(stats)),
  },
  probeVdev: probePcap,
};

export const pmd = pcapPmd;
registerDataPlane(pcapPmd.name, pcapPmd.dataPlane);
