// The contract between ethdev and a poll-mode driver (DPDK's ethdev_driver.h, in TypeScript).
//
// A driver has two halves:
// - the control half (EthDevOps), one object on the main lcore per port: configure, queue setup, start/stop,
//   link, MAC, statistics registers. Queue setup returns a *queue spec*: plain JSON-able data that says where the
//   queue lives in shared memory (ring offsets, BAR address, pool name...).
// - the data half (PmdDataPlane), loaded on every lcore: it turns a queue spec into an RxQueue/TxQueue object of
//   that thread, whose rxBurst/txBurst only touch typed arrays over shared memory (no FFI, no allocation).
// Software counters of a queue live in shared memory (QueueStats) so the main lcore can read what workers count.
import type { Mempool } from '../mempool/mempool.js';
import type { Vfio } from '../vfio/index.js';

/** Per-queue counters, a Float64Array over shared memory: see QS_*. Written by the one lcore that polls the queue. */
export type QueueStats = Float64Array;
export const QS_PACKETS = 0;
export const QS_BYTES = 1;
export const QS_ERRORS = 2;
/** RX: mbuf allocation failures (rx_nombuf); TX: unused */
export const QS_NOMBUF = 3;
/** RX: packets the queue dropped for lack of descriptors (imissed) */
export const QS_MISSED = 4;
export const QS_WORDS = 8;

export interface RxQueue {
  /** Receives up to n packets into mbufs[0..n); returns how many. */
  rxBurst(mbufs: Uint32Array, n: number): number;
}

export interface TxQueue {
  /** Sends up to n packets of mbufs[from..from+n); returns how many were taken (their ownership passes to the driver). */
  txBurst(mbufs: Uint32Array, n: number, from: number): number;
}

export interface PmdDataPlane {
  attachRx(spec: unknown, stats: QueueStats): RxQueue;
  attachTx(spec: unknown, stats: QueueStats): TxQueue;
}

export interface DescLimits {
  nbMax: number;
  nbMin: number;
  nbAlign: number;
}

export interface DevInfo {
  driverName: string;
  deviceName: string;
  maxRxQueues: number;
  maxTxQueues: number;
  minRxBufSize: number;
  maxRxPktLen: number;
  maxMacAddrs: number;
  rxDescLim: DescLimits;
  txDescLim: DescLimits;
  /** link speeds in Mbit/s the device can do */
  speedCapa: number[];
  /** PCI address of a hardware port */
  pciAddr?: string;
  defaultRxRingSize: number;
  defaultTxRingSize: number;
  rxOffloadCapa: number;
  txOffloadCapa: number;
}

export interface RxMode {
  mtu?: number;
  offloads?: number;
}

export interface EthConf {
  rxmode?: RxMode;
  txmode?: { offloads?: number };
  /** loopback mode of hardware ports (0 = off) */
  lpbkMode?: number;
}

export interface RxConf {
  freeThresh?: number;
  dropEn?: boolean;
}

export interface TxConf {
  freeThresh?: number;
  rsThresh?: number;
}

export interface Link {
  up: boolean;
  /** Mbit/s, 0 when unknown */
  speed: number;
  fullDuplex: boolean;
  autoneg: boolean;
}

export interface HwStats {
  ipackets?: number;
  opackets?: number;
  ibytes?: number;
  obytes?: number;
  imissed?: number;
  ierrors?: number;
  oerrors?: number;
}

export interface XStat {
  name: string;
  value: number;
}

/** The control half of a driver, one per port, on the main lcore. */
export interface EthDevOps {
  readonly driverName: string;
  infoGet(): DevInfo;
  configure(nbRxq: number, nbTxq: number, conf: EthConf): void;
  /** Sets up queue q; returns its spec for PmdDataPlane.attachRx. */
  rxQueueSetup(q: number, nbDesc: number, conf: RxConf, pool: Mempool, portId: number): unknown;
  txQueueSetup(q: number, nbDesc: number, conf: TxConf, portId: number): unknown;
  start(): void;
  stop(): void;
  close(): void;
  linkGet(wait: boolean): Link;
  macAddr(): Uint8Array;
  setPromiscuous(on: boolean): void;
  setAllmulticast(on: boolean): void;
  /** Hardware counters, added to the software ones (NICs). */
  hwStats?(): HwStats;
  /** Hardware counters replace the software ones for these fields (a NIC counts packets itself). */
  readonly hwCountsPackets?: boolean;
  statsReset?(): void;
  xstats?(): XStat[];
  xstatsReset?(): void;
  /** Releases what queue setup took (rings, descriptors), when a port is reconfigured or closed. */
  queueRelease?(): void;
}

/** A PMD as the ethdev registry sees it. */
export interface PmdInfo {
  /** driver name, e.g. net_null; vdev names are this name plus an instance suffix (net_null0) */
  name: string;
  dataPlane: PmdDataPlane;
  /** virtual device probe: devName is the full name (net_null0), args the parsed key=value pairs */
  probeVdev?(devName: string, args: Map<string, string>): EthDevOps;
  /** PCI IDs this driver takes */
  pciIds?: Array<{ vendor: number; device: number }>;
  /** hardware probe: the device is bound to vfio-pci; `vfio` has EAL memory mapped for DMA already */
  probePci?(bdf: string, vfio: Vfio): EthDevOps;
  /** valid vdev argument keys (for clear errors) */
  vdevArgs?: string[];
}
