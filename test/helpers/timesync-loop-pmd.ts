// "net_tsloop": a test PMD whose one port sends back to itself through a ring and behaves like a NIC with IEEE 1588
// latches, so pktgen's --timestamps hardware path runs on the host (test/pktgen-timesync.test.ts). The data half
// (any lcore) latches a frame's TX time when it carries TX_IEEE1588_TMST and the TX latch is free, and on RX stamps
// a PTPv2 Sync frame (EtherType 0x88F7, first byte 0) when the RX latch is free: RX time = TX time + WIRE_NS, flags
// RX_IEEE1588_PTP | _TMST. The control half reads and frees the latches as a NIC's registers would be read. Times
// are CLOCK_MONOTONIC ns (process.hrtime, the same clock on every thread), exact in a double below 104 days of uptime.
import {
  registerDataPlane, ringCreate, ringLookup, ringFree, mem, memzoneReserve, memzoneLookup, memzoneFree, plainPortInfo,
  QS_PACKETS, pktmbufFreeBulk, type PmdInfo, type PmdDataPlane, type EthDevOps, type DevInfo, type QueueStats,
} from '../../src/index.js';
import { M, mbufBind, RX_IEEE1588_PTP, RX_IEEE1588_TMST, TX_IEEE1588_TMST } from '../../src/mempool/mbuf.js';

/** simulated wire time from TX to RX */
export const WIRE_NS = 5000;
const ZONE = 'tsloop_latch';
// f64 words of the latch zone
const L_ON = 0;
const L_TX_VALID = 1;
const L_TX_NS = 2;
const L_RX_VALID = 3;
const L_RX_NS = 4;

const nowNs = (): number => Number(process.hrtime.bigint());

function latches(): Float64Array {
  const z = memzoneLookup(ZONE) ?? memzoneReserve(ZONE, 64);
  return new Float64Array(mem().buf, z.off, 8);
}

interface Spec { port: number; queue: number; ring: string }

class LoopRx {
  private readonly ring;
  private readonly l = latches();
  constructor(spec: Spec, private readonly stats: QueueStats) {
    this.ring = ringLookup(spec.ring)!;
    mbufBind();
  }

  rxBurst(mbufs: Uint32Array, n: number): number {
    const got = this.ring.dequeueBurst(mbufs, n, 0);
    if (got === 0) return 0;
    const r = mem();
    for (let i = 0; i < got; i++) {
      const m = mbufs[i];
      const e = r.u32[m + M.BUF_OFF] + r.u16[(m << 1) + M.H_DATA_OFF];
      r.u32[m + M.OL_FLAGS] = 0;
      const sync = r.u8[e + 12] === 0x88 && r.u8[e + 13] === 0xf7 && r.u8[e + 14] === 0;
      if (sync && this.l[L_ON] === 1 && this.l[L_RX_VALID] === 0 && this.l[L_TX_VALID] === 1) {
        this.l[L_RX_NS] = this.l[L_TX_NS] + WIRE_NS;
        this.l[L_RX_VALID] = 1;
        r.u32[m + M.OL_FLAGS] = RX_IEEE1588_PTP | RX_IEEE1588_TMST;
      }
    }
    this.stats[QS_PACKETS] += got;
    return got;
  }
}

class LoopTx {
  private readonly ring;
  private readonly l = latches();
  constructor(spec: Spec, private readonly stats: QueueStats) {
    this.ring = ringLookup(spec.ring)!;
    mbufBind();
  }

  txBurst(mbufs: Uint32Array, n: number, from: number): number {
    const r = mem();
    for (let i = 0; i < n; i++) {
      const m = mbufs[from + i];
      if ((r.u32[m + M.OL_FLAGS] & TX_IEEE1588_TMST) !== 0 && this.l[L_ON] === 1 && this.l[L_TX_VALID] === 0) {
        this.l[L_TX_NS] = nowNs();
        this.l[L_TX_VALID] = 1;
      }
    }
    const sent = this.ring.enqueueBurst(mbufs, n, from);
    this.stats[QS_PACKETS] += sent;
    return sent;
  }
}

export const dataPlane: PmdDataPlane = {
  attachRx: (spec, stats) => new LoopRx(spec as Spec, stats),
  attachTx: (spec, stats) => new LoopTx(spec as Spec, stats),
};

export class LoopPort implements EthDevOps {
  readonly driverName = 'net_tsloop';
  private readonly ringName: string;
  private readonly l = latches();
  constructor(private readonly name: string) {
    this.ringName = `${name}_loop`;
    ringCreate(this.ringName, 1024);
  }
  infoGet(): DevInfo {
    return {
      driverName: 'net_tsloop', deviceName: this.name, maxRxQueues: 1, maxTxQueues: 1, minRxBufSize: 0, ...plainPortInfo(1518),
      maxMacAddrs: 1, rxDescLim: { nbMax: 4096, nbMin: 1, nbAlign: 1 }, txDescLim: { nbMax: 4096, nbMin: 1, nbAlign: 1 },
      speedCapa: [10000], defaultRxRingSize: 512, defaultTxRingSize: 512, rxOffloadCapa: 0, txOffloadCapa: 0,
    };
  }
  configure(): void {}
  rxQueueSetup(q: number, _nb: number, _c: unknown, _pool: unknown, port: number): Spec {
    return { port, queue: q, ring: this.ringName };
  }
  txQueueSetup(q: number, _nb: number, _c: unknown, port: number): Spec {
    return { port, queue: q, ring: this.ringName };
  }
  start(): void {}
  stop(): void {
    const ring = ringLookup(this.ringName)!;
    const b = new Uint32Array(64);
    for (let k = ring.dequeueBurst(b, 64); k > 0; k = ring.dequeueBurst(b, 64)) pktmbufFreeBulk(b, k, 0);
  }
  close(): void {
    this.stop();
    ringFree(ringLookup(this.ringName)!);
    memzoneFree(ZONE);
  }
  linkGet() { return { up: true, speed: 10000, fullDuplex: true, autoneg: false }; }
  macAddr(): Uint8Array { return Uint8Array.from([2, 0, 0, 0, 0, 0x15]); }
  setPromiscuous(): void {}
  setAllmulticast(): void {}
  timesyncEnable(): void { this.l.fill(0); this.l[L_ON] = 1; }
  timesyncDisable(): void { this.l[L_ON] = 0; }
  timesyncReadRxTimestamp(): bigint | null { return this.take(L_RX_VALID, L_RX_NS); }
  timesyncReadTxTimestamp(): bigint | null { return this.take(L_TX_VALID, L_TX_NS); }
  timesyncReadTime(): bigint { return BigInt(nowNs()); }
  timesyncWriteTime(): void {}
  timesyncAdjustTime(): void {}
  private take(valid: number, at: number): bigint | null {
    if (this.l[valid] === 0) return null;
    this.l[valid] = 0;
    return BigInt(this.l[at]);
  }
}

export const pmd: PmdInfo = { name: 'net_tsloop', dataPlaneUrl: import.meta.url, dataPlane };
registerDataPlane('net_tsloop', dataPlane);
