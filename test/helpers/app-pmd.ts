// An application's own PMD, as a user would write one: "net_count" hands out packets made from a counter and
// swallows what it is sent, with per-queue start/stop. Importing this module registers its data plane on the
// importing thread, which is how worker lcores get it (registerPmd makes the EAL preload this module).
import {
  registerDataPlane, mempoolLookup, pktmbufAllocPackets, pktmbufFreeBulk, mem, QS_PACKETS, plainPortInfo,
  type PmdInfo, type PmdDataPlane, type EthDevOps, type DevInfo, type QueueStats, type Mempool,
} from '../../src/index.js';

interface CountSpec { port: number; queue: number; pool: string; counter: number }

class CountRx {
  private readonly pool: Mempool;
  constructor(private readonly spec: CountSpec, private readonly stats: QueueStats) {
    this.pool = mempoolLookup(spec.pool)!;
  }

  rxBurst(mbufs: Uint32Array, n: number): number {
    const got = pktmbufAllocPackets(this.pool, mbufs, n, 60, this.spec.port);
    Atomics.add(mem().i32, this.spec.counter >> 2, got);
    this.stats[QS_PACKETS] += got;
    return got;
  }
}

class CountTx {
  constructor(private readonly stats: QueueStats) {}
  txBurst(mbufs: Uint32Array, n: number, from: number): number {
    pktmbufFreeBulk(mbufs, n, from);
    this.stats[QS_PACKETS] += n;
    return n;
  }
}

export const dataPlane: PmdDataPlane = {
  attachRx: (spec, stats) => new CountRx(spec as CountSpec, stats),
  attachTx: (_spec, stats) => new CountTx(stats),
};

export class CountPort implements EthDevOps {
  readonly driverName = 'net_count';
  readonly stopped = new Set<number>();
  constructor(private readonly name: string, readonly counter: number) {}
  infoGet(): DevInfo {
    return {
      driverName: 'net_count', deviceName: this.name, maxRxQueues: 4, maxTxQueues: 4, minRxBufSize: 0, ...plainPortInfo(1518),
      maxMacAddrs: 1, rxDescLim: { nbMax: 4096, nbMin: 1, nbAlign: 1 }, txDescLim: { nbMax: 4096, nbMin: 1, nbAlign: 1 },
      speedCapa: [1000], defaultRxRingSize: 64, defaultTxRingSize: 64, rxOffloadCapa: 0, txOffloadCapa: 0,
    };
  }
  configure(): void {}
  rxQueueSetup(q: number, _nb: number, _c: unknown, pool: Mempool, port: number): CountSpec {
    return { port, queue: q, pool: pool.name, counter: this.counter };
  }
  txQueueSetup(q: number): { queue: number } { return { queue: q }; }
  start(): void {}
  stop(): void {}
  close(): void {}
  linkGet() { return { up: true, speed: 1000, fullDuplex: true, autoneg: false }; }
  macAddr(): Uint8Array { return Uint8Array.from([2, 0, 0, 0, 0, 9]); }
  setPromiscuous(): void {}
  setAllmulticast(): void {}
  rxQueueStart(q: number): void { this.stopped.delete(q); }
  rxQueueStop(q: number): void { this.stopped.add(q); }
}

export const pmd: PmdInfo = { name: 'net_count', dataPlaneUrl: import.meta.url, dataPlane };
registerDataPlane('net_count', dataPlane);
