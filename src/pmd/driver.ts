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
  /**
   * RX interrupts, data half (DPDK's rx_queue_intr_enable/disable), called by the lcore that polls the queue:
   * arm the queue so that its interrupt source (EthDevOps.rxIntrSource) becomes readable when a packet arrives
   * after this call (unmask the vector, clear the ring's no-interrupt flag, set the "consumer sleeps" word a
   * producer checks). Absent: the queue has no interrupt and ethdev says so.
   */
  intrEnable?(): void;
  /** Disarm: the source stays quiet while the lcore polls (mask the vector, suppress notifications). */
  intrDisable?(): void;
}

export interface TxQueue {
  /** Sends up to n packets of mbufs[from..from+n); returns how many were taken (their ownership passes to the driver). */
  txBurst(mbufs: Uint32Array, n: number, from: number): number;
}

/**
 * The data half of a driver, loaded on every lcore that polls its queues. Specs arrive as parsed JSON: a data plane
 * checks the fields it reads (specField/specString below) and fails with the driver's name rather than reading
 * undefined into a typed array index.
 */
export interface PmdDataPlane {
  attachRx(spec: unknown, stats: QueueStats): RxQueue;
  attachTx(spec: unknown, stats: QueueStats): TxQueue;
}

/** What every queue spec carries (a driver's own spec type extends it). */
export interface QueueSpecBase {
  port: number;
  queue: number;
}

/** Reads a finite number field of a queue spec, or throws naming the driver and the field. */
export function specNumber(driver: string, spec: unknown, field: string): number {
  const v = (spec as Record<string, unknown> | null)?.[field];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${driver}: queue spec field '${field}' is ${JSON.stringify(v)}, not a number`);
  return v;
}

/** Reads a string field of a queue spec, or throws naming the driver and the field. */
export function specString(driver: string, spec: unknown, field: string): string {
  const v = (spec as Record<string, unknown> | null)?.[field];
  if (typeof v !== 'string') throw new Error(`${driver}: queue spec field '${field}' is ${JSON.stringify(v)}, not a string`);
  return v;
}

export interface DescLimits {
  nbMax: number;
  nbMin: number;
  nbAlign: number;
}

// Offload capabilities and requests (DPDK's RTE_ETH_RX_OFFLOAD_* / RTE_ETH_TX_OFFLOAD_* bit values).
export const RX_OFFLOAD_VLAN_STRIP = 1 << 0;
export const RX_OFFLOAD_IPV4_CKSUM = 1 << 1;
export const RX_OFFLOAD_UDP_CKSUM = 1 << 2;
export const RX_OFFLOAD_TCP_CKSUM = 1 << 3;
export const RX_OFFLOAD_VLAN_FILTER = 1 << 9;
export const RX_OFFLOAD_SCATTER = 1 << 13;
export const RX_OFFLOAD_KEEP_CRC = 1 << 16;
export const RX_OFFLOAD_RSS_HASH = 1 << 19;
export const RX_OFFLOAD_CHECKSUM = RX_OFFLOAD_IPV4_CKSUM | RX_OFFLOAD_UDP_CKSUM | RX_OFFLOAD_TCP_CKSUM;
export const TX_OFFLOAD_VLAN_INSERT = 1 << 0;
export const TX_OFFLOAD_IPV4_CKSUM = 1 << 1;
export const TX_OFFLOAD_UDP_CKSUM = 1 << 2;
export const TX_OFFLOAD_TCP_CKSUM = 1 << 3;
export const TX_OFFLOAD_MULTI_SEGS = 1 << 15;

/** Names of offload bits, for messages and testpmd's "show port info". */
export const RX_OFFLOAD_NAMES: ReadonlyArray<[number, string]> = [
  [RX_OFFLOAD_VLAN_STRIP, 'VLAN_STRIP'], [RX_OFFLOAD_IPV4_CKSUM, 'IPV4_CKSUM'], [RX_OFFLOAD_UDP_CKSUM, 'UDP_CKSUM'],
  [RX_OFFLOAD_TCP_CKSUM, 'TCP_CKSUM'], [RX_OFFLOAD_VLAN_FILTER, 'VLAN_FILTER'], [RX_OFFLOAD_SCATTER, 'SCATTER'],
  [RX_OFFLOAD_KEEP_CRC, 'KEEP_CRC'], [RX_OFFLOAD_RSS_HASH, 'RSS_HASH'],
];
export const TX_OFFLOAD_NAMES: ReadonlyArray<[number, string]> = [
  [TX_OFFLOAD_VLAN_INSERT, 'VLAN_INSERT'], [TX_OFFLOAD_IPV4_CKSUM, 'IPV4_CKSUM'], [TX_OFFLOAD_UDP_CKSUM, 'UDP_CKSUM'],
  [TX_OFFLOAD_TCP_CKSUM, 'TCP_CKSUM'], [TX_OFFLOAD_MULTI_SEGS, 'MULTI_SEGS'],
];

// RSS hash types (DPDK's RTE_ETH_RSS_* bit values).
export const RSS_IPV4 = 1 << 2;
export const RSS_FRAG_IPV4 = 1 << 3;
export const RSS_NONFRAG_IPV4_TCP = 1 << 4;
export const RSS_NONFRAG_IPV4_UDP = 1 << 5;
export const RSS_IPV6 = 1 << 8;
export const RSS_FRAG_IPV6 = 1 << 9;
export const RSS_NONFRAG_IPV6_TCP = 1 << 10;
export const RSS_NONFRAG_IPV6_UDP = 1 << 11;
export const RSS_IPV6_EX = 1 << 15;
export const RSS_IPV6_TCP_EX = 1 << 16;
export const RSS_IPV6_UDP_EX = 1 << 17;
/** testpmd's --rss-ip */
export const RSS_IP = RSS_IPV4 | RSS_FRAG_IPV4 | RSS_IPV6 | RSS_FRAG_IPV6 | RSS_IPV6_EX;
/** testpmd's --rss-udp */
export const RSS_UDP = RSS_NONFRAG_IPV4_UDP | RSS_NONFRAG_IPV6_UDP | RSS_IPV6_UDP_EX;
export const RSS_TCP = RSS_NONFRAG_IPV4_TCP | RSS_NONFRAG_IPV6_TCP | RSS_IPV6_TCP_EX;

export const RSS_HF_NAMES: ReadonlyArray<[number, string]> = [
  [RSS_IPV4, 'ipv4'], [RSS_FRAG_IPV4, 'ipv4-frag'], [RSS_NONFRAG_IPV4_TCP, 'ipv4-tcp'], [RSS_NONFRAG_IPV4_UDP, 'ipv4-udp'],
  [RSS_IPV6, 'ipv6'], [RSS_FRAG_IPV6, 'ipv6-frag'], [RSS_NONFRAG_IPV6_TCP, 'ipv6-tcp'], [RSS_NONFRAG_IPV6_UDP, 'ipv6-udp'],
  [RSS_IPV6_EX, 'ipv6-ex'], [RSS_IPV6_TCP_EX, 'ipv6-tcp-ex'], [RSS_IPV6_UDP_EX, 'ipv6-udp-ex'],
];

/** Names of the bits set in v, from a table like RSS_HF_NAMES. */
export function flagNames(v: number, table: ReadonlyArray<[number, string]>): string[] {
  return table.filter(([b]) => (v & b) !== 0).map(([, n]) => n);
}

export interface DevInfo {
  driverName: string;
  deviceName: string;
  maxRxQueues: number;
  maxTxQueues: number;
  minRxBufSize: number;
  /** largest frame the port receives, L2 header to FCS */
  maxRxPktLen: number;
  minMtu: number;
  maxMtu: number;
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
  /** RSS redirection table entries (0: no RSS) */
  retaSize: number;
  /** RSS hash key bytes (0: no RSS) */
  hashKeySize: number;
  /** RSS_* hash types the port can hash on */
  flowTypeRssOffloads: number;
}

/** DevInfo fields of a port without RSS whose MTU is bounded only by maxRxPktLen (software ports). */
export function plainPortInfo(maxRxPktLen: number): Pick<DevInfo, 'maxRxPktLen' | 'minMtu' | 'maxMtu' | 'retaSize' | 'hashKeySize' | 'flowTypeRssOffloads'> {
  return { maxRxPktLen, minMtu: 68, maxMtu: maxRxPktLen - 18, retaSize: 0, hashKeySize: 0, flowTypeRssOffloads: 0 };
}

export type MqMode = 'none' | 'rss';

export interface RssConf {
  /** Toeplitz key of DevInfo.hashKeySize bytes; the driver's default key when absent */
  key?: ArrayLike<number>;
  /** RSS_* hash types; 0 turns hashing off */
  hf: number;
}

export interface RxMode {
  /** 'rss' spreads received packets over the RX queues (DPDK's RTE_ETH_MQ_RX_RSS) */
  mqMode?: MqMode;
  mtu?: number;
  /** largest frame to accept, L2 header to FCS (DPDK's max_rx_pkt_len; testpmd's --max-pkt-len). Sets the MTU. */
  maxRxPktLen?: number;
  offloads?: number;
}

/** What ethdev watches (epoll) while a lcore sleeps on an RX queue. */
export interface RxIntrSource {
  /** a file descriptor of this process (fds are process-wide: any lcore may epoll it) */
  fd: number;
  /**
   * 'eventfd': a counter that stays readable until read; ethdev reads its 8 bytes after a wake-up (VFIO MSI-X
   * and INTx eventfds, memif's interrupt fds, the eventfd a ring's producer signals).
   * 'level': readable while the queue holds data, nothing to drain (a tun fd, a packet socket).
   */
  kind: 'eventfd' | 'level';
}

/** DPDK's rte_eth_intr_conf */
export interface IntrConf {
  /** RX queue interrupts: the driver gives each RX queue an RxIntrSource (per-queue vectors where it has them) */
  rxq?: boolean;
  /** link-status-change interrupt */
  lsc?: boolean;
}

export interface EthConf {
  /** interrupts asked for at configure time (DPDK's dev_conf.intr_conf) */
  intrConf?: IntrConf;
  rxmode?: RxMode;
  txmode?: { offloads?: number };
  rxAdvConf?: { rssConf?: RssConf };
  /** loopback mode of hardware ports (0 = off) */
  lpbkMode?: number;
}

export interface RxConf {
  freeThresh?: number;
  dropEn?: boolean;
  /** RX_OFFLOAD_* for this queue, on top of the port's rxmode.offloads */
  offloads?: number;
  /** leave the queue stopped at devStart (rxQueueStart starts it) */
  deferredStart?: boolean;
}

export interface TxConf {
  freeThresh?: number;
  rsThresh?: number;
  /** TX_OFFLOAD_* for this queue, on top of the port's txmode.offloads */
  offloads?: number;
  deferredStart?: boolean;
}

/** One RSS redirection table: entry i holds the RX queue of hash values whose low bits are i. */
export type Reta = number[];

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
  // Optional features: ethdev answers "not supported by <driver>" for a driver without them.
  rssHashUpdate?(conf: RssConf): void;
  rssHashConfGet?(): { key: Uint8Array; hf: number };
  /** Writes the entries of `reta` whose index is in `mask` (all when absent). */
  retaUpdate?(reta: Reta, mask?: (i: number) => boolean): void;
  retaQuery?(): Reta;
  /** MTU of a stopped or started port; the driver checks it against its buffers and limits. */
  mtuSet?(mtu: number): void;
  rxQueueStart?(q: number): void;
  rxQueueStop?(q: number): void;
  txQueueStart?(q: number): void;
  txQueueStop?(q: number): void;
  /** Adds a unicast address to the receive filter at `index` (1..maxMacAddrs-1); index 0 is macAddr(). */
  macAddrAdd?(mac: Uint8Array, index: number): void;
  macAddrRemove?(index: number): void;
  /**
   * RX interrupt source of queue q of a port configured with intrConf.rxq, valid from start() to stop(); ethdev
   * publishes it in shared memory for the lcores. The source starts disarmed (RxQueue.intrEnable arms it).
   */
  rxIntrSource?(q: number): RxIntrSource;
  // IEEE 1588 time synchronisation (DPDK's timesync_* ops), on the main lcore like every op here: the timestamp
  // registers latch one frame each and free on being read, so one thread owns them. Times are nanoseconds of the
  // port's clock as bigint: a PTP time (about 1.7e18 ns since 1970) does not fit a double's 53 bits.
  timesyncEnable?(): void;
  timesyncDisable?(): void;
  /** The receive time the NIC latched (a frame with RX_IEEE1588_TMST), freeing the latch; null when none is latched. */
  timesyncReadRxTimestamp?(flags: number): bigint | null;
  /** The transmit time latched for a frame sent with TX_IEEE1588_TMST, freeing the latch; null when none is latched. */
  timesyncReadTxTimestamp?(): bigint | null;
  timesyncReadTime?(): bigint;
  timesyncWriteTime?(ns: bigint): void;
  timesyncAdjustTime?(deltaNs: bigint): void;
}

/**
 * The key=value pairs of a --vdev. A Map of the last value of each key (what most drivers read), which also keeps
 * every value of a repeated key in order: DPDK's rte_kvargs allow `rx_pcap=a.pcap,rx_pcap=b.pcap` (one queue each).
 */
export class VdevArgs extends Map<string, string> {
  private readonly lists = new Map<string, string[]>();
  /** Records one more value of key (parse order). */
  add(key: string, value: string): this {
    const l = this.lists.get(key);
    if (l) l.push(value);
    else this.lists.set(key, [value]);
    return this.set(key, value);
  }
  /** Every value given for key, in order ([] when absent). */
  all(key: string): string[] {
    return [...(this.lists.get(key) ?? (this.has(key) ? [this.get(key)!] : []))];
  }
}

/** A PMD as the ethdev registry sees it. */
export interface PmdInfo {
  /** driver name, e.g. net_null; vdev names are this name plus an instance suffix (net_null0) */
  name: string;
  dataPlane: PmdDataPlane;
  /**
   * URL of a module whose import registers this driver's data plane (registerDataPlane) on the lcore that imports
   * it. Worker lcores import it before running launched code, so an application's own PMD polls on every lcore.
   */
  dataPlaneUrl: string;
  /** virtual device probe: devName is the full name (net_null0), args the parsed key=value pairs */
  probeVdev?(devName: string, args: Map<string, string>): EthDevOps;
  /** PCI IDs this driver takes */
  pciIds?: Array<{ vendor: number; device: number }>;
  /** hardware probe: the device is bound to vfio-pci; `vfio` has EAL memory mapped for DMA already; `args` are the
   * driver arguments of -a BDF,key=value (keys checked against vdevArgs) */
  probePci?(bdf: string, vfio: Vfio, args?: Map<string, string>): EthDevOps;
  /** valid vdev (and PCI devarg) argument keys (for clear errors) */
  vdevArgs?: string[];
}
