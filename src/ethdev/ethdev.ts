// ethdev: the port API applications use (DPDK's rte_ethdev, in camelCase).
//
// Control calls (configure, queue setup, start/stop, stats, link) run on the main lcore. rxBurst/txBurst run on
// any lcore: each thread turns a started port's queue specs (JSON in shared memory, written at devStart) into
// its own queue objects on first use, and drops them when the port's generation changes (stop, reconfigure).
import { isMainThread } from 'node:worker_threads';
import { mem, memzoneReserve, memzoneLookup } from '../eal/memory.js';
import { log } from '../eal/log.js';
import { pmds, findPmd } from '../pmd/index.js';
import { pktmbufFreeBulk } from '../mempool/mbuf.js';
import { Mempool, MEMPOOL_F_PKTMBUF } from '../mempool/mempool.js';
import {
  QS_PACKETS, QS_BYTES, QS_ERRORS, QS_NOMBUF, QS_MISSED, QS_WORDS,
  type EthDevOps, type PmdInfo, type RxQueue, type TxQueue, type DevInfo, type EthConf, type RxConf, type TxConf,
  type Link, type XStat,
} from '../pmd/driver.js';

export const MAX_ETHPORTS = 32;
export const MAX_QUEUES_PER_PORT = 16;

export class EthdevError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'EthdevError';
  }
}

// ---- shared port table -------------------------------------------------------------------------------------------
// Per port: header (64 B: gen, state, nbRxq, nbTxq, spec length), queue stats (2 x 16 x QS_WORDS f64), spec JSON.
const P_GEN = 0;
const P_STATE = 1;
const P_SPEC_LEN = 4;
const STATS_OFF = 64;
const SPEC_OFF = STATS_OFF + 2 * MAX_QUEUES_PER_PORT * QS_WORDS * 8;
const SPEC_MAX = 16384 - 64;
const PORT_BYTES = SPEC_OFF + SPEC_MAX;
const ZONE = 'ethdev_data';
const ST_UNUSED = 0;
const ST_STOPPED = 1;
const ST_STARTED = 2;

let tableOff = -1;
let tableRegion: unknown = null;

function table(): number {
  if (tableOff >= 0 && tableRegion === mem()) return tableOff;
  tableRegion = mem();
  gen0 = -1;
  const z = memzoneLookup(ZONE) ?? (isMainThread ? memzoneReserve(ZONE, MAX_ETHPORTS * PORT_BYTES) : null);
  if (!z) throw new EthdevError('no ports: the main lcore has not created any');
  tableOff = z.off;
  return tableOff;
}

function portBase(port: number): number {
  return table() + port * PORT_BYTES;
}

function qstats(port: number, rx: boolean, q: number): Float64Array {
  const off = portBase(port) + STATS_OFF + ((rx ? 0 : MAX_QUEUES_PER_PORT) + q) * QS_WORDS * 8;
  return new Float64Array(mem().buf, off, QS_WORDS);
}

// ---- main-lcore port records ------------------------------------------------------------------------------------
interface Port {
  id: number;
  name: string;
  ops: EthDevOps;
  pmd: PmdInfo;
  nbRxq: number;
  nbTxq: number;
  conf: EthConf;
  rxSpecs: unknown[];
  txSpecs: unknown[];
  started: boolean;
  promisc: boolean;
  allmulti: boolean;
  /** counters at the last statsReset */
  base: EthStats | null;
  xbase: Map<string, number>;
}

const ports: Array<Port | undefined> = [];

function needMain(what: string): void {
  if (!isMainThread) throw new EthdevError(`${what} runs on the main lcore only`);
}

function getPort(port: number): Port {
  const p = Number.isInteger(port) ? ports[port] : undefined;
  if (!p) throw new EthdevError(`invalid port ${port}: ${ethDevCount()} port(s) exist (${portIds().join(', ') || 'none'})`);
  return p;
}

/** Registers a port driven by `ops` (used by probing and by ethFromRings). Returns its id. */
export function ethDevAllocate(name: string, ops: EthDevOps, pmd: PmdInfo): number {
  needMain('ethDevAllocate');
  if (ports.some((p) => p?.name === name)) throw new EthdevError(`a port named ${name} already exists`);
  let id = 0;
  while (id < MAX_ETHPORTS && ports[id]) id++;
  if (id === MAX_ETHPORTS) throw new EthdevError(`no free port: at most ${MAX_ETHPORTS}`);
  const b = portBase(id) >> 2;
  const r = mem();
  r.u8.fill(0, portBase(id), portBase(id) + SPEC_OFF);
  Atomics.store(r.i32, b + P_STATE, ST_STOPPED);
  ports[id] = {
    id, name, ops, pmd, nbRxq: 0, nbTxq: 0, conf: {}, rxSpecs: [], txSpecs: [], started: false, promisc: false,
    allmulti: false, base: null, xbase: new Map(),
  };
  log('ethdev').info({ port: id, name, driver: pmd.name }, 'port allocated');
  return id;
}

/** Parses "net_null0,size=64,copy=1" and probes it with the driver whose name starts the device name. */
export function probeVdev(vdev: string): number {
  needMain('probeVdev');
  const [devName, ...kv] = vdev.split(',');
  const pmd = pmds.filter((p) => p.probeVdev && devName.startsWith(p.name)).sort((a, b) => b.name.length - a.name.length)[0];
  if (!pmd) {
    const names = pmds.filter((p) => p.probeVdev).map((p) => p.name);
    throw new EthdevError(`--vdev ${vdev}: no driver for '${devName}' (virtual drivers: ${names.join(', ')}; e.g. --vdev ${names[0]}0)`);
  }
  const args = new Map<string, string>();
  for (const a of kv) {
    const eq = a.indexOf('=');
    const k = eq < 0 ? a : a.slice(0, eq);
    if (pmd.vdevArgs && !pmd.vdevArgs.includes(k)) {
      throw new EthdevError(`--vdev ${vdev}: ${pmd.name} has no argument '${k}' (valid: ${pmd.vdevArgs.join(', ') || 'none'})`);
    }
    args.set(k, eq < 0 ? '' : a.slice(eq + 1));
  }
  let ops: EthDevOps;
  try {
    ops = pmd.probeVdev!(devName, args);
  } catch (e) {
    throw new EthdevError(`--vdev ${vdev}: ${(e as Error).message}`);
  }
  return ethDevAllocate(devName, ops, pmd);
}

/** Number of ports (rte_eth_dev_count_avail). */
export function ethDevCount(): number {
  return ports.filter((p) => p !== undefined).length;
}

/** Ids of every port (RTE_ETH_FOREACH_DEV). */
export function portIds(): number[] {
  const out: number[] = [];
  for (let i = 0; i < ports.length; i++) if (ports[i]) out.push(i);
  return out;
}

export function ethDevIsValid(port: number): boolean {
  return Number.isInteger(port) && ports[port] !== undefined;
}

export function portByName(name: string): number {
  const p = ports.find((x) => x?.name === name);
  if (!p) throw new EthdevError(`no port named ${name}`);
  return p.id;
}

export function devInfoGet(port: number): DevInfo {
  return getPort(port).ops.infoGet();
}

export function devConfigure(port: number, nbRxq: number, nbTxq: number, conf: EthConf = {}): void {
  needMain('devConfigure');
  const p = getPort(port);
  if (p.started) throw new EthdevError(`port ${port} is started: devStop(${port}) before devConfigure`);
  const info = p.ops.infoGet();
  if (!Number.isInteger(nbRxq) || nbRxq < 0 || nbRxq > Math.min(info.maxRxQueues, MAX_QUEUES_PER_PORT)) {
    throw new EthdevError(`port ${port}: ${nbRxq} RX queues asked, ${info.driverName} has at most ${info.maxRxQueues}`);
  }
  if (!Number.isInteger(nbTxq) || nbTxq < 0 || nbTxq > Math.min(info.maxTxQueues, MAX_QUEUES_PER_PORT)) {
    throw new EthdevError(`port ${port}: ${nbTxq} TX queues asked, ${info.driverName} has at most ${info.maxTxQueues}`);
  }
  if (nbRxq === 0 && nbTxq === 0) throw new EthdevError(`port ${port}: configure at least one RX or TX queue`);
  const mtu = conf.rxmode?.mtu;
  if (mtu !== undefined && (mtu < 68 || mtu + 18 > info.maxRxPktLen)) {
    throw new EthdevError(`port ${port}: MTU ${mtu} out of range 68..${info.maxRxPktLen - 18}`);
  }
  p.ops.queueRelease?.();
  p.ops.configure(nbRxq, nbTxq, conf);
  p.nbRxq = nbRxq;
  p.nbTxq = nbTxq;
  p.conf = conf;
  p.rxSpecs = new Array(nbRxq).fill(undefined);
  p.txSpecs = new Array(nbTxq).fill(undefined);
  bumpGen(port);
}

function checkDesc(port: number, what: string, nb: number, lim: { nbMax: number; nbMin: number; nbAlign: number }): void {
  if (!Number.isInteger(nb) || nb < lim.nbMin || nb > lim.nbMax || nb % lim.nbAlign !== 0) {
    throw new EthdevError(`port ${port}: ${nb} ${what} descriptors: must be ${lim.nbMin}..${lim.nbMax}, a multiple of ${lim.nbAlign}`);
  }
}

export function rxQueueSetup(port: number, q: number, nbDesc: number, _socketId: number, conf: RxConf | null, pool: Mempool): void {
  needMain('rxQueueSetup');
  const p = getPort(port);
  if (p.started) throw new EthdevError(`port ${port} is started: stop it before setting up queues`);
  if (!Number.isInteger(q) || q < 0 || q >= p.nbRxq) {
    throw new EthdevError(`port ${port}: RX queue ${q} out of range (configured ${p.nbRxq}; call devConfigure first)`);
  }
  if (!(pool instanceof Mempool) || (pool.flags & MEMPOOL_F_PKTMBUF) === 0) {
    throw new EthdevError(`port ${port} RX queue ${q}: the pool must be a packet pool from pktmbufPoolCreate`);
  }
  const info = p.ops.infoGet();
  const nb = nbDesc === 0 ? info.defaultRxRingSize : nbDesc;
  checkDesc(port, 'RX', nb, info.rxDescLim);
  if (pool.dataRoom - 128 < info.minRxBufSize) {
    throw new EthdevError(`port ${port}: mbufs of pool '${pool.name}' hold ${pool.dataRoom - 128} bytes, ${info.driverName} needs ${info.minRxBufSize}`);
  }
  p.rxSpecs[q] = p.ops.rxQueueSetup(q, nb, conf ?? {}, pool, port);
}

export function txQueueSetup(port: number, q: number, nbDesc: number, _socketId: number, conf: TxConf | null = null): void {
  needMain('txQueueSetup');
  const p = getPort(port);
  if (p.started) throw new EthdevError(`port ${port} is started: stop it before setting up queues`);
  if (!Number.isInteger(q) || q < 0 || q >= p.nbTxq) {
    throw new EthdevError(`port ${port}: TX queue ${q} out of range (configured ${p.nbTxq}; call devConfigure first)`);
  }
  const info = p.ops.infoGet();
  const nb = nbDesc === 0 ? info.defaultTxRingSize : nbDesc;
  checkDesc(port, 'TX', nb, info.txDescLim);
  p.txSpecs[q] = p.ops.txQueueSetup(q, nb, conf ?? {}, port);
}

function bumpGen(port: number): void {
  Atomics.add(mem().i32, (portBase(port) >> 2) + P_GEN, 1);
}

export function devStart(port: number): void {
  needMain('devStart');
  const p = getPort(port);
  if (p.started) return;
  if (p.nbRxq + p.nbTxq === 0) throw new EthdevError(`port ${port} is not configured: call devConfigure first`);
  const rxMissing = p.rxSpecs.findIndex((s) => s === undefined);
  if (rxMissing >= 0) throw new EthdevError(`port ${port}: RX queue ${rxMissing} is not set up (rxQueueSetup)`);
  const txMissing = p.txSpecs.findIndex((s) => s === undefined);
  if (txMissing >= 0) throw new EthdevError(`port ${port}: TX queue ${txMissing} is not set up (txQueueSetup)`);
  const json = new TextEncoder().encode(JSON.stringify({ driver: p.pmd.name, rx: p.rxSpecs, tx: p.txSpecs }));
  if (json.length > SPEC_MAX) throw new EthdevError(`port ${port}: queue specs too large (${json.length} bytes)`);
  const r = mem();
  const b = portBase(port);
  r.u8.set(json, b + SPEC_OFF);
  r.u32[(b >> 2) + P_SPEC_LEN] = json.length;
  p.ops.start();
  p.started = true;
  bumpGen(port);
  Atomics.store(r.i32, (b >> 2) + P_STATE, ST_STARTED);
  if (p.promisc) p.ops.setPromiscuous(true);
  if (p.allmulti) p.ops.setAllmulticast(true);
}

export function devStop(port: number): void {
  needMain('devStop');
  const p = getPort(port);
  if (!p.started) return;
  Atomics.store(mem().i32, (portBase(port) >> 2) + P_STATE, ST_STOPPED);
  bumpGen(port);
  p.ops.stop();
  p.started = false;
}

/** Stops and releases a port; its id becomes free (rte_eth_dev_close). */
export function devClose(port: number): void {
  needMain('devClose');
  const p = getPort(port);
  devStop(port);
  p.ops.queueRelease?.();
  p.ops.close();
  Atomics.store(mem().i32, (portBase(port) >> 2) + P_STATE, ST_UNUSED);
  bumpGen(port);
  ports[port] = undefined;
  for (let q = 0; q < MAX_QUEUES_PER_PORT; q++) {
    rxqs[port * MAX_QUEUES_PER_PORT + q] = undefined;
    txqs[port * MAX_QUEUES_PER_PORT + q] = undefined;
  }
  log('ethdev').info({ port, name: p.name }, 'port closed');
}

export function devIsStarted(port: number): boolean {
  return getPort(port).started;
}

// ---- data path ---------------------------------------------------------------------------------------------------
// Queue objects of this thread, by port * 16 + queue, with the port generation they were made at.
const rxqs: Array<RxQueue | undefined> = new Array(MAX_ETHPORTS * MAX_QUEUES_PER_PORT).fill(undefined);
const txqs: Array<TxQueue | undefined> = new Array(MAX_ETHPORTS * MAX_QUEUES_PER_PORT).fill(undefined);
const rxGen = new Int32Array(MAX_ETHPORTS * MAX_QUEUES_PER_PORT).fill(-1);
const txGen = new Int32Array(MAX_ETHPORTS * MAX_QUEUES_PER_PORT).fill(-1);
let genI32: Int32Array = new Int32Array(1);
/** i32 index of port 0's generation word; a port's is this + port * PORT_BYTES / 4 */
let gen0 = -1;

function bindData(): void {
  genI32 = mem().i32;
  gen0 = (portBase(0) >> 2) + P_GEN;
}

interface SpecDoc { driver: string; rx: unknown[]; tx: unknown[] }

function readSpecs(port: number): SpecDoc | null {
  const r = mem();
  const b = portBase(port);
  if (Atomics.load(r.i32, (b >> 2) + P_STATE) !== ST_STARTED) return null;
  const len = r.u32[(b >> 2) + P_SPEC_LEN];
  return JSON.parse(new TextDecoder().decode(r.u8.slice(b + SPEC_OFF, b + SPEC_OFF + len))) as SpecDoc;
}

function attach(port: number, queue: number, rx: boolean): RxQueue | TxQueue | undefined {
  table();
  if (gen0 < 0) bindData();
  if (!Number.isInteger(port) || port < 0 || port >= MAX_ETHPORTS || !Number.isInteger(queue) || queue < 0 || queue >= MAX_QUEUES_PER_PORT) {
    throw new EthdevError(`invalid port ${port} / queue ${queue}`);
  }
  const i = port * MAX_QUEUES_PER_PORT + queue;
  const g = Atomics.load(genI32, gen0 + port * (PORT_BYTES >> 2));
  const doc = readSpecs(port);
  if (!doc) {
    (rx ? rxqs : txqs)[i] = undefined;
    return undefined;
  }
  const specs = rx ? doc.rx : doc.tx;
  if (queue >= specs.length) throw new EthdevError(`port ${port}: no ${rx ? 'RX' : 'TX'} queue ${queue} (${specs.length} configured)`);
  const pmd = findPmd(doc.driver);
  if (!pmd) throw new EthdevError(`port ${port}: driver ${doc.driver} is not registered on this lcore`);
  const stats = qstats(port, rx, queue);
  if (rx) {
    const q = pmd.dataPlane.attachRx(specs[queue], stats);
    rxqs[i] = q;
    rxGen[i] = g;
    return q;
  }
  const q = pmd.dataPlane.attachTx(specs[queue], stats);
  txqs[i] = q;
  txGen[i] = g;
  return q;
}

/**
 * Receives up to n packets from a queue into mbufs[0..n); returns how many (rte_eth_rx_burst).
 * Returns 0 while the port is stopped.
 */
export function rxBurst(port: number, queue: number, mbufs: Uint32Array, n: number): number {
  const i = port * MAX_QUEUES_PER_PORT + queue;
  const q = rxqs[i];
  if (q === undefined || genI32[gen0 + port * (PORT_BYTES >> 2)] !== rxGen[i]) return rxSlow(port, queue, mbufs, n);
  return q.rxBurst(mbufs, n);
}

function rxSlow(port: number, queue: number, mbufs: Uint32Array, n: number): number {
  const q = attach(port, queue, true) as RxQueue | undefined;
  return q === undefined ? 0 : q.rxBurst(mbufs, n);
}

/**
 * Sends up to n packets of mbufs[from..from+n); returns how many the driver took (rte_eth_tx_burst). The caller
 * still owns the rest. Returns 0 while the port is stopped.
 */
export function txBurst(port: number, queue: number, mbufs: Uint32Array, n: number, from = 0): number {
  const i = port * MAX_QUEUES_PER_PORT + queue;
  const q = txqs[i];
  if (q === undefined || genI32[gen0 + port * (PORT_BYTES >> 2)] !== txGen[i]) return txSlow(port, queue, mbufs, n, from);
  return q.txBurst(mbufs, n, from);
}

function txSlow(port: number, queue: number, mbufs: Uint32Array, n: number, from: number): number {
  const q = attach(port, queue, false) as TxQueue | undefined;
  return q === undefined ? 0 : q.txBurst(mbufs, n, from);
}

// ---- TX buffering (rte_eth_tx_buffer) ----------------------------------------------------------------------------
export type TxErrCallback = (pkts: Uint32Array, from: number, n: number, buffer: TxBuffer) => void;

export class TxBuffer {
  readonly size: number;
  readonly pkts: Uint32Array;
  length = 0;
  /** packets the default error callback dropped */
  dropped = 0;
  errCallback: TxErrCallback;
  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1 || size > 4096) throw new EthdevError(`bad TX buffer size ${size}: 1..4096`);
    this.size = size;
    this.pkts = new Uint32Array(size);
    this.errCallback = dropCallback;
  }
}

/** Frees unsent packets and counts them in buffer.dropped (rte_eth_tx_buffer_drop_callback). */
export function dropCallback(pkts: Uint32Array, from: number, n: number, buffer: TxBuffer): void {
  pktmbufFreeBulk(pkts, n, from);
  buffer.dropped += n;
}

export function txBufferInit(size: number): TxBuffer {
  return new TxBuffer(size);
}

export function txBufferSetErrCallback(buffer: TxBuffer, cb: TxErrCallback): void {
  buffer.errCallback = cb;
}

/** Sends what the buffer holds; unsent packets go to the error callback. Returns how many were sent. */
export function txBufferFlush(port: number, queue: number, buffer: TxBuffer): number {
  const n = buffer.length;
  if (n === 0) return 0;
  const sent = txBurst(port, queue, buffer.pkts, n, 0);
  buffer.length = 0;
  if (sent < n) buffer.errCallback(buffer.pkts, sent, n - sent, buffer);
  return sent;
}

/** Buffers one packet; sends the whole buffer when it is full. Returns how many were sent (rte_eth_tx_buffer). */
export function txBuffer(port: number, queue: number, buffer: TxBuffer, m: number): number {
  buffer.pkts[buffer.length++] = m;
  if (buffer.length < buffer.size) return 0;
  return txBufferFlush(port, queue, buffer);
}

// ---- stats, link, MAC, modes -------------------------------------------------------------------------------------
export interface EthStats {
  ipackets: number;
  opackets: number;
  ibytes: number;
  obytes: number;
  imissed: number;
  ierrors: number;
  oerrors: number;
  rxNombuf: number;
  qIpackets: number[];
  qOpackets: number[];
  qIbytes: number[];
  qObytes: number[];
  qErrors: number[];
}

function rawStats(p: Port): EthStats {
  const s: EthStats = {
    ipackets: 0, opackets: 0, ibytes: 0, obytes: 0, imissed: 0, ierrors: 0, oerrors: 0, rxNombuf: 0,
    qIpackets: [], qOpackets: [], qIbytes: [], qObytes: [], qErrors: [],
  };
  for (let q = 0; q < p.nbRxq; q++) {
    const st = qstats(p.id, true, q);
    s.ipackets += st[QS_PACKETS];
    s.ibytes += st[QS_BYTES];
    s.ierrors += st[QS_ERRORS];
    s.rxNombuf += st[QS_NOMBUF];
    s.imissed += st[QS_MISSED];
    s.qIpackets.push(st[QS_PACKETS]);
    s.qIbytes.push(st[QS_BYTES]);
    s.qErrors.push(st[QS_ERRORS]);
  }
  for (let q = 0; q < p.nbTxq; q++) {
    const st = qstats(p.id, false, q);
    s.opackets += st[QS_PACKETS];
    s.obytes += st[QS_BYTES];
    s.oerrors += st[QS_ERRORS];
    s.qOpackets.push(st[QS_PACKETS]);
    s.qObytes.push(st[QS_BYTES]);
  }
  const hw = p.ops.hwStats?.();
  if (hw) {
    for (const k of ['ipackets', 'opackets', 'ibytes', 'obytes', 'imissed', 'ierrors', 'oerrors'] as const) {
      const v = hw[k];
      if (v !== undefined) s[k] = p.ops.hwCountsPackets ? v : s[k] + v;
    }
  }
  return s;
}

/** Port counters since the last statsReset (rte_eth_stats_get). */
export function statsGet(port: number): EthStats {
  const p = getPort(port);
  const s = rawStats(p);
  const b = p.base;
  if (b) {
    for (const k of ['ipackets', 'opackets', 'ibytes', 'obytes', 'imissed', 'ierrors', 'oerrors', 'rxNombuf'] as const) s[k] -= b[k];
    for (const k of ['qIpackets', 'qOpackets', 'qIbytes', 'qObytes', 'qErrors'] as const) {
      s[k] = s[k].map((v, i) => v - (b[k][i] ?? 0));
    }
  }
  return s;
}

export function statsReset(port: number): void {
  const p = getPort(port);
  p.base = rawStats(p);
  p.ops.statsReset?.();
  if (p.ops.statsReset) p.base = rawStats(p);
}

/** Extended statistics: the generic counters by DPDK's names, per queue, then the driver's own. */
export function xstatsGet(port: number): XStat[] {
  const p = getPort(port);
  const s = statsGet(port);
  const out: XStat[] = [
    { name: 'rx_good_packets', value: s.ipackets }, { name: 'tx_good_packets', value: s.opackets },
    { name: 'rx_good_bytes', value: s.ibytes }, { name: 'tx_good_bytes', value: s.obytes },
    { name: 'rx_missed_errors', value: s.imissed }, { name: 'rx_errors', value: s.ierrors },
    { name: 'tx_errors', value: s.oerrors }, { name: 'rx_mbuf_allocation_errors', value: s.rxNombuf },
  ];
  s.qIpackets.forEach((v, q) => {
    out.push({ name: `rx_q${q}_packets`, value: v }, { name: `rx_q${q}_bytes`, value: s.qIbytes[q] },
      { name: `rx_q${q}_errors`, value: s.qErrors[q] });
  });
  s.qOpackets.forEach((v, q) => out.push({ name: `tx_q${q}_packets`, value: v }, { name: `tx_q${q}_bytes`, value: s.qObytes[q] }));
  for (const x of p.ops.xstats?.() ?? []) out.push({ name: x.name, value: x.value - (p.xbase.get(x.name) ?? 0) });
  return out;
}

export function xstatsReset(port: number): void {
  const p = getPort(port);
  statsReset(port);
  p.xbase = new Map((p.ops.xstats?.() ?? []).map((x) => [x.name, x.value]));
}

/** Link state; with wait, drivers may wait up to a few seconds for autonegotiation (rte_eth_link_get). */
export function linkGet(port: number, wait = true): Link {
  return getPort(port).ops.linkGet(wait);
}

export function linkGetNowait(port: number): Link {
  return linkGet(port, false);
}

export function macAddrGet(port: number): Uint8Array {
  return Uint8Array.from(getPort(port).ops.macAddr());
}

export function formatMac(mac: ArrayLike<number>): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function promiscuousEnable(port: number): void {
  const p = getPort(port);
  p.promisc = true;
  if (p.started) p.ops.setPromiscuous(true);
}

export function promiscuousDisable(port: number): void {
  const p = getPort(port);
  p.promisc = false;
  p.ops.setPromiscuous(false);
}

export function promiscuousGet(port: number): boolean {
  return getPort(port).promisc;
}

export function allmulticastEnable(port: number): void {
  const p = getPort(port);
  p.allmulti = true;
  if (p.started) p.ops.setAllmulticast(true);
}

export function allmulticastDisable(port: number): void {
  const p = getPort(port);
  p.allmulti = false;
  p.ops.setAllmulticast(false);
}

export function portName(port: number): string {
  return getPort(port).name;
}

/** Closes every port (at exit). */
export function closeAllPorts(): void {
  for (const id of portIds()) {
    try {
      devClose(id);
    } catch (e) {
      log('ethdev').error({ port: id, err: e }, 'close failed');
    }
  }
}

export { QS_PACKETS, QS_BYTES, QS_ERRORS, QS_NOMBUF, QS_MISSED };
