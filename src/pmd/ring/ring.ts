// net_ring: a port whose queues are rte_rings of mbuf handles (DPDK's net_ring).
// `--vdev net_ring0` makes one ring per queue pair that the port both sends to and receives from (each port loops
// to itself, as in DPDK). `rxring=A,txring=B` names the rings instead, created on first use and shared by name:
// `--vdev net_ring0,rxring=ab,txring=ba --vdev net_ring1,rxring=ba,txring=ab` is a pair where one port's TX is
// the other's RX. ethFromRings() builds a port from rings the application made (rte_eth_from_rings).
import { mem, memzoneLookup, memzoneReserve, memzoneFree } from '../../eal/memory.js';
import { Ring, ringCreate, ringLookup, ringFree, RING_F_SP_ENQ, RING_F_SC_DEQ } from '../../ring/ring.js';
import { M, pktmbufFreeBulk } from '../../mempool/mbuf.js';
import {
  QS_PACKETS, QS_BYTES, QS_ERRORS, type EthDevOps, type PmdInfo, type QueueStats, type RxQueue, type TxQueue,
  type DevInfo, type Link, type EthConf, type RxIntrSource, plainPortInfo,
} from '../driver.js';
import { registerDataPlane } from '../registry.js';
import { IRQ_BYTES, IRQ_FD, irqArm, irqDisarm, irqSignal, ProducerIrqs } from '../soft/intr.js';

/** a ring and the i32 index of its RX interrupt words (soft/intr.ts): the consumer arms, net_ring TX signals */
interface RingSpec { ring: string; irq: number }

/** What both queue kinds hold: this thread's view of the ring, the region's words, the queue's counters. */
class RingQueue {
  protected readonly ring: Ring;
  protected readonly u32: Uint32Array;
  protected readonly stats: QueueStats;
  protected readonly i32: Int32Array;
  protected readonly irq: number;
  constructor(spec: RingSpec, stats: QueueStats) {
    const r = ringLookup(spec.ring);
    if (!r) throw new Error(`net_ring: no ring '${spec.ring}'`);
    this.ring = r;
    this.u32 = mem().u32;
    this.i32 = mem().i32;
    this.irq = spec.irq;
    this.stats = stats;
  }
}

class RingRx extends RingQueue implements RxQueue {
  rxBurst(mbufs: Uint32Array, n: number): number {
    const got = this.ring.dequeueBurst(mbufs, n, 0);
    // an empty poll (most of them) touches no counter: nothing to count, and no double to box should V8 ever run
    // this uncompiled (after a deoptimization), once per poll
    if (got === 0) return 0;
    const u32 = this.u32;
    let bytes = 0;
    for (let i = 0; i < got; i++) bytes += u32[mbufs[i] + M.PKT_LEN];
    const st = this.stats;
    st[QS_PACKETS] += got;
    st[QS_BYTES] += bytes;
    return got;
  }

  intrEnable(): void { irqArm(this.i32, this.irq); }
  intrDisable(): void { irqDisarm(this.i32, this.irq); }
}

class RingTx extends RingQueue implements TxQueue {
  txBurst(mbufs: Uint32Array, n: number, from: number): number {
    if (n === 0) return 0;
    const sent = this.ring.enqueueBurst(mbufs, n, from);
    // a consumer asleep on this ring's interrupt: one Atomics.load per burst, a write() only when it is armed
    if (sent > 0) irqSignal(this.i32, this.irq);
    const u32 = this.u32;
    let bytes = 0;
    for (let i = 0; i < sent; i++) bytes += u32[mbufs[from + i] + M.PKT_LEN];
    const st = this.stats;
    st[QS_PACKETS] += sent;
    st[QS_BYTES] += bytes;
    st[QS_ERRORS] += n - sent;
    return sent;
  }
}

const RING_SIZE = 1024;

export class RingPort implements EthDevOps {
  readonly driverName = 'net_ring';
  private readonly name: string;
  private readonly mac: Uint8Array;
  /** ring names per queue; null = make "ETH_RXTX<q>_<name>" */
  private readonly rxNames: string[] | null;
  private readonly txNames: string[] | null;
  private readonly owned = new Set<string>();
  private started = false;
  private conf: EthConf = {};
  /** the RX queues' interrupt words and eventfds */
  private readonly irqs: ProducerIrqs;

  constructor(name: string, index: number, rxNames: string[] | null, txNames: string[] | null) {
    this.name = name;
    this.irqs = new ProducerIrqs(`net_ring ${name}`);
    this.mac = Uint8Array.from([0x02, 0x70, 0x63, 0x61, 0x70, index & 0xff]);
    this.rxNames = rxNames;
    this.txNames = txNames;
  }

  infoGet(): DevInfo {
    const fixed = this.rxNames !== null;
    return {
      driverName: this.driverName, deviceName: this.name,
      maxRxQueues: fixed ? this.rxNames!.length : 16, maxTxQueues: fixed ? this.txNames!.length : 16,
      minRxBufSize: 0, ...plainPortInfo(0xffff), maxMacAddrs: 1, rxDescLim: { nbMax: 65535, nbMin: 0, nbAlign: 1 },
      txDescLim: { nbMax: 65535, nbMin: 0, nbAlign: 1 }, speedCapa: [10000], defaultRxRingSize: RING_SIZE,
      defaultTxRingSize: RING_SIZE, rxOffloadCapa: 0, txOffloadCapa: 0,
    };
  }

  configure(_nbRxq: number, _nbTxq: number, conf: EthConf): void {
    this.conf = conf;
    this.irqs.words = [];
  }

  /** The interrupt words of ring `name` (a small memzone next to the ring, made with it). */
  private irqOf(name: string): number {
    const zn = `RI_${name}`;
    let z = memzoneLookup(zn);
    if (!z) {
      z = memzoneReserve(zn, IRQ_BYTES);
      mem().i32[(z.off >> 2) + IRQ_FD] = -1;
      if (this.owned.has(name)) this.owned.add(zn);
    }
    return z.off >> 2;
  }

  private ringFor(names: string[] | null, q: number): string {
    const name = names ? names[q] : `ETH_RXTX${q}_${this.name}`;
    if (name === undefined) throw new Error(`net_ring ${this.name}: no ring for queue ${q}`);
    if (!ringLookup(name)) {
      ringCreate(name, RING_SIZE, RING_F_SP_ENQ | RING_F_SC_DEQ);
      this.owned.add(name);
    }
    return name;
  }

  rxQueueSetup(q: number): RingSpec {
    const ring = this.ringFor(this.rxNames, q);
    this.irqs.words[q] = this.irqOf(ring);
    return { ring, irq: this.irqs.words[q] };
  }

  txQueueSetup(q: number): RingSpec {
    const ring = this.ringFor(this.txNames, q);
    return { ring, irq: this.irqOf(ring) };
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

  close(): void {
    for (const n of this.owned) {
      if (n.startsWith('RI_')) {
        if (memzoneLookup(n)) memzoneFree(n);
        continue;
      }
      const r = ringLookup(n);
      if (r) {
        drainToPools(r);
        ringFree(r);
      }
    }
    this.owned.clear();
  }
  linkGet(): Link { return { up: this.started, speed: 10000, fullDuplex: true, autoneg: false }; }
  macAddr(): Uint8Array { return this.mac; }
  setPromiscuous(): void {}
  setAllmulticast(): void {}
}

let instances = 0;

export function ringPortFromRings(name: string, rx: string[], tx: string[]): RingPort {
  return new RingPort(name, instances++, rx, tx);
}

export const ringPmd: PmdInfo = {
  name: 'net_ring',
  dataPlaneUrl: import.meta.url,
  vdevArgs: ['rxring', 'txring'],
  dataPlane: {
    attachRx: (spec, stats) => new RingRx(spec as RingSpec, stats),
    attachTx: (spec, stats) => new RingTx(spec as RingSpec, stats),
  },
  probeVdev(devName, args) {
    const rx = args.get('rxring');
    const tx = args.get('txring');
    if ((rx === undefined) !== (tx === undefined)) throw new Error(`${devName}: give both rxring= and txring=, or neither`);
    return new RingPort(devName, instances++, rx ? rx.split(':') : null, tx ? tx.split(':') : null);
  },
};

export const pmd = ringPmd;
registerDataPlane(ringPmd.name, ringPmd.dataPlane);

/** Frees the mbufs still queued in a ring this port made and is about to free, back to their pools (a ring freed
 * with packets in it would lose them: nothing else holds their handles). */
function drainToPools(r: Ring): void {
  const burst = new Uint32Array(64);
  for (let n = r.dequeueBurst(burst, 64); n > 0; n = r.dequeueBurst(burst, 64)) pktmbufFreeBulk(burst, n);
}
