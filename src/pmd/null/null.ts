// net_null: a port that makes packets out of nothing and swallows what it is given (DPDK's net_null).
// RX allocates `size`-byte packets from the queue's mempool; TX frees them. `copy=1` also copies the packet data
// from/to a per-queue scratch packet, like DPDK's copy mode. A fair model of a real driver's mempool traffic.
import { mem } from '../../eal/memory.js';
import { memzoneReserve, memzoneLookup, memzoneFree } from '../../eal/memory.js';
import { mempoolLookup, type Mempool } from '../../mempool/mempool.js';
import { M, PKTMBUF_HEADROOM, pktmbufFreeBulk, pktmbufAllocPackets, mbufBind } from '../../mempool/mbuf.js';
import {
  QS_PACKETS, QS_BYTES, QS_NOMBUF, type EthDevOps, type PmdInfo, type QueueStats, type RxQueue, type TxQueue,
  type DevInfo, type Link, type EthConf, type RxIntrSource, plainPortInfo,
} from '../driver.js';
import { registerDataPlane } from '../registry.js';
import { IRQ_BYTES, IRQ_FD, irqArm, irqDisarm, irqSignal, ProducerIrqs } from '../soft/intr.js';

/** irq: i32 index of the queue's interrupt words (soft/intr.ts) */
interface NullRxSpec { pool: string; size: number; port: number; copy: boolean; scratch: number; noRx: boolean; irq: number }
interface NullTxSpec { copy: boolean; scratch: number }

class NullRx implements RxQueue {
  private readonly pool: Mempool;
  private readonly u32: Uint32Array;
  private readonly u8: Uint8Array;
  private readonly size: number;
  private readonly port: number;
  private readonly dataOff: number;
  private readonly copy: boolean;
  private readonly scratch: number;
  private readonly noRx: boolean;
  private readonly stats: QueueStats;
  private readonly i32: Int32Array;
  private readonly irq: number;

  constructor(spec: NullRxSpec, stats: QueueStats) {
    const pool = mempoolLookup(spec.pool);
    if (!pool) throw new Error(`net_null: no mempool '${spec.pool}'`);
    const r = mem();
    mbufBind(r);
    this.pool = pool;
    this.u32 = r.u32;
    this.u8 = r.u8;
    this.size = spec.size;
    this.port = spec.port;
    this.dataOff = Math.min(PKTMBUF_HEADROOM, pool.dataRoom);
    this.copy = spec.copy;
    this.scratch = spec.scratch;
    this.noRx = spec.noRx;
    this.stats = stats;
    this.i32 = r.i32;
    this.irq = spec.irq;
  }

  // RX interrupt: net_null is its own producer and always has packets (unless no-rx=1), so arming fires at once
  intrEnable(): void {
    irqArm(this.i32, this.irq);
    if (!this.noRx) irqSignal(this.i32, this.irq);
  }

  intrDisable(): void { irqDisarm(this.i32, this.irq); }

  rxBurst(mbufs: Uint32Array, n: number): number {
    if (this.noRx) return 0;
    const size = this.size;
    const got = pktmbufAllocPackets(this.pool, mbufs, n, size, this.port);
    if (got < n) this.stats[QS_NOMBUF] += n - got;
    if (this.copy) {
      const u32 = this.u32;
      for (let i = 0; i < got; i++) {
        const m = mbufs[i];
        const d = u32[m + M.BUF_OFF] + this.dataOff;
        this.u8.copyWithin(d, this.scratch, this.scratch + size);
      }
    }
    const st = this.stats;
    st[QS_PACKETS] += got;
    st[QS_BYTES] += got * size;
    return got;
  }
}

class NullTx implements TxQueue {
  private readonly u32: Uint32Array;
  private readonly u16: Uint16Array;
  private readonly u8: Uint8Array;
  private readonly copy: boolean;
  private readonly scratch: number;
  private readonly stats: QueueStats;

  constructor(spec: NullTxSpec, stats: QueueStats) {
    const r = mem();
    this.u32 = r.u32;
    this.u16 = r.u16;
    this.u8 = r.u8;
    this.copy = spec.copy;
    this.scratch = spec.scratch;
    this.stats = stats;
  }

  txBurst(mbufs: Uint32Array, n: number, from: number): number {
    if (this.copy) {
      const u32 = this.u32;
      for (let i = 0; i < n; i++) {
        const m = mbufs[from + i];
        const d = u32[m + M.BUF_OFF] + this.u16[(m << 1) + M.H_DATA_OFF];
        const l = this.u16[(m << 1) + M.H_DATA_LEN];
        this.u8.copyWithin(this.scratch, d, d + (l < SCRATCH ? l : SCRATCH));
      }
    }
    const bytes = pktmbufFreeBulk(mbufs, n, from);
    const st = this.stats;
    st[QS_PACKETS] += n;
    st[QS_BYTES] += bytes;
    return n;
  }
}

const SCRATCH = 9728;

class NullPort implements EthDevOps {
  readonly driverName = 'net_null';
  private readonly name: string;
  private readonly size: number;
  private readonly copy: boolean;
  private readonly noRx: boolean;
  private readonly mac: Uint8Array;
  private zones: string[] = [];
  private nbRxq = 0;
  private nbTxq = 0;
  private started = false;
  private conf: EthConf = {};
  /** the RX queues' interrupt words and eventfds */
  private readonly irqs: ProducerIrqs;

  constructor(name: string, size: number, copy: boolean, noRx: boolean, index: number) {
    this.name = name;
    this.irqs = new ProducerIrqs(`net_null ${name}`);
    this.size = size;
    this.copy = copy;
    this.noRx = noRx;
    // locally administered, unique per instance
    this.mac = Uint8Array.from([0x02, 0x00, 0x00, 0x4e, 0x55, index & 0xff]);
  }

  infoGet(): DevInfo {
    return {
      driverName: this.driverName, deviceName: this.name, maxRxQueues: 16, maxTxQueues: 16, minRxBufSize: 0,
      ...plainPortInfo(0xffff), maxMacAddrs: 1, rxDescLim: { nbMax: 65535, nbMin: 0, nbAlign: 1 },
      txDescLim: { nbMax: 65535, nbMin: 0, nbAlign: 1 }, speedCapa: [10000], defaultRxRingSize: 1024,
      defaultTxRingSize: 1024, rxOffloadCapa: 0, txOffloadCapa: 0,
    };
  }

  configure(nbRxq: number, nbTxq: number, conf: EthConf): void {
    this.nbRxq = nbRxq;
    this.nbTxq = nbTxq;
    this.conf = conf;
  }

  private irqZone(q: number): number {
    const zn = `null_${this.name}_irq${q}`;
    const z = memzoneLookup(zn) ?? (this.zones.push(zn), memzoneReserve(zn, IRQ_BYTES));
    mem().i32[(z.off >> 2) + IRQ_FD] = -1;
    return z.off >> 2;
  }

  private scratchZone(kind: string, q: number): number {
    if (!this.copy) return 0;
    const zn = `null_${this.name}_${kind}${q}`;
    const old = memzoneLookup(zn);
    if (old) return old.off;
    this.zones.push(zn);
    return memzoneReserve(zn, SCRATCH).off;
  }

  rxQueueSetup(q: number, _nb: number, _conf: unknown, pool: Mempool, portId: number): NullRxSpec {
    if (this.size > pool.dataRoom - Math.min(PKTMBUF_HEADROOM, pool.dataRoom)) {
      throw new Error(`net_null ${this.name}: packet size ${this.size} does not fit the mbufs of pool '${pool.name}'`);
    }
    this.irqs.words[q] = this.irqZone(q);
    return {
      pool: pool.name, size: this.size, port: portId, copy: this.copy, scratch: this.scratchZone('rx', q), noRx: this.noRx, irq: this.irqs.words[q],
    };
  }

  txQueueSetup(q: number): NullTxSpec {
    return { copy: this.copy, scratch: this.scratchZone('tx', q) };
  }

  start(): void {
    this.irqs.start(this.conf);
    this.started = true;
  }

  stop(): void {
    this.irqs.stop();
    this.started = false;
  }

  rxIntrSource(q: number): RxIntrSource {
    return this.irqs.source(q);
  }

  close(): void { this.queueRelease(); }
  queueRelease(): void {
    for (const z of this.zones) if (memzoneLookup(z)) memzoneFree(z);
    this.zones = [];
    this.irqs.words = [];
  }
  linkGet(): Link { return { up: this.started, speed: 10000, fullDuplex: true, autoneg: false }; }
  macAddr(): Uint8Array { return this.mac; }
  setPromiscuous(): void {}
  setAllmulticast(): void {}
  get queues(): [number, number] { return [this.nbRxq, this.nbTxq]; }
}

let instances = 0;

function boolArg(args: Map<string, string>, k: string): boolean {
  const v = args.get(k);
  if (v === undefined) return false;
  if (v === '0' || v === '1') return v === '1';
  throw new Error(`net_null: ${k}=${v}: expected 0 or 1`);
}

export const nullPmd: PmdInfo = {
  name: 'net_null',
  dataPlaneUrl: import.meta.url,
  vdevArgs: ['size', 'copy', 'no-rx'],
  dataPlane: {
    attachRx: (spec, stats) => new NullRx(spec as NullRxSpec, stats),
    attachTx: (spec, stats) => new NullTx(spec as NullTxSpec, stats),
  },
  probeVdev(devName, args) {
    const s = args.get('size') ?? '64';
    if (!/^\d+$/.test(s) || Number(s) < 1 || Number(s) > SCRATCH) {
      throw new Error(`net_null: size=${s}: expected a packet size from 1 to ${SCRATCH}`);
    }
    return new NullPort(devName, Number(s), boolArg(args, 'copy'), boolArg(args, 'no-rx'), instances++);
  },
};

export const pmd = nullPmd;
registerDataPlane(nullPmd.name, nullPmd.dataPlane);
