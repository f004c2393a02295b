// ethdev: the port API applications use (DPDK's rte_ethdev, in camelCase).
//
// Control calls (configure, queue setup, start/stop, stats, link) run on the main lcore. rxBurst/txBurst run on
// any lcore: each thread turns a started port's queue specs (JSON in shared memory, written at devStart) into
// its own queue objects on first use, and drops them when the port's generation changes (stop, reconfigure).
import { isMainThread } from 'node:worker_threads';
import { mem, memzoneReserve, memzoneLookup } from '../eal/memory.js';
import { log } from '../eal/log.js';
import { onLcoreFatal } from '../eal/lcore.js';
import { oneLine } from '../eal/args.js';
import { findPmd, findDataPlane, loadPmd, vdevDriverFor, vdevDriverNames, CATALOG } from '../pmd/registry.js';
import { pktmbufFreeBulk } from '../mempool/mbuf.js';
import { Mempool, MEMPOOL_F_PKTMBUF } from '../mempool/mempool.js';
import {
  QS_PACKETS, QS_BYTES, QS_ERRORS, QS_NOMBUF, QS_MISSED, QS_WORDS,
  RX_OFFLOAD_NAMES, TX_OFFLOAD_NAMES, RSS_HF_NAMES, flagNames, VdevArgs,
  type EthDevOps, type PmdInfo, type RxQueue, type TxQueue, type DevInfo, type EthConf, type RxConf, type TxConf,
  type Link, type XStat, type RssConf, type Reta, type RxIntrSource,
} from '../pmd/driver.js';
import { wakeSleepers, wakeTableInit } from './intr-wake.js';

export const MAX_ETHPORTS = 32;
export const MAX_QUEUES_PER_PORT = 16;

export class EthdevError extends Error {
  constructor(msg: string) {
    super(oneLine(msg)); // a --vdev string quoted in the message stays one line (test/fuzz-vdev.test.ts)
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
  /** RX interrupt sources of a started port configured with intrConf.rxq (published in its spec document) */
  rxIntr: RxIntrSource[];
  /** queues that run while the port is started (false: deferred start, or stopped by rx/txQueueStop) */
  rxOn: boolean[];
  txOn: boolean[];
  /** unicast filters added with macAddrAdd, by filter index (0 is the port's own address) */
  macs: Array<Uint8Array | undefined>;
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
  // the generation survives a port id's reuse and moves on: a worker that cached queues of the closed port
  // must not find its old generation again after the new port's configure/setup/start
  const gen = Atomics.load(r.i32, b + P_GEN);
  r.u8.fill(0, portBase(id), portBase(id) + SPEC_OFF);
  Atomics.store(r.i32, b + P_GEN, gen + 1);
  Atomics.store(r.i32, b + P_STATE, ST_STOPPED);
  ports[id] = {
    id, name, ops, pmd, nbRxq: 0, nbTxq: 0, conf: {}, rxSpecs: [], txSpecs: [], rxIntr: [], rxOn: [], txOn: [], macs: [], started: false, promisc: false,
    allmulti: false, base: null, xbase: new Map(),
  };
  log('ethdev').info({ port: id, dev: name, driver: pmd.name }, 'port allocated');
  return id;
}

/** Splits "net_null0,size=64,copy=1" into the device name and its arguments, checked against the driver's keys. */
function parseDevargs(vdev: string, pmd: PmdInfo): { devName: string; args: Map<string, string> } {
  const [devName, ...kv] = vdev.split(',');
  const args = new VdevArgs();
  for (const a of kv) {
    const eq = a.indexOf('=');
    const k = eq < 0 ? a : a.slice(0, eq);
    if (pmd.vdevArgs && !pmd.vdevArgs.includes(k)) {
      throw new EthdevError(`--vdev ${vdev}: ${pmd.name} has no argument '${k}' (valid: ${pmd.vdevArgs.join(', ') || 'none'})`);
    }
    args.add(k, eq < 0 ? '' : a.slice(eq + 1));
  }
  return { devName, args };
}

function vdevDriver(vdev: string): string {
  const devName = vdev.split(',')[0];
  const name = vdevDriverFor(devName);
  if (!name) {
    const names = vdevDriverNames();
    throw new EthdevError(`--vdev ${vdev}: no driver for '${devName}' (virtual drivers: ${names.join(', ')}; e.g. --vdev ${names[0]}0)`);
  }
  return name;
}

/**
 * Probes a virtual device, "net_null0,size=64,copy=1", with a driver that is already loaded (registerPmd, or an
 * earlier devProbe). Returns the port id. devProbe also loads a built-in driver first.
 */
export function probeVdev(vdev: string): number {
  needMain('probeVdev');
  const name = vdevDriver(vdev);
  const pmd = findPmd(name);
  if (!pmd) throw new EthdevError(`--vdev ${vdev}: driver ${name} is not loaded: use devProbe('${vdev}') (async), which loads it`);
  const { devName, args } = parseDevargs(vdev, pmd);
  let ops: EthDevOps;
  try {
    ops = pmd.probeVdev!(devName, args);
  } catch (e) {
    throw new EthdevError(`--vdev ${vdev}: ${(e as Error).message}`);
  }
  return ethDevAllocate(devName, ops, pmd);
}

/** Loads the virtual device's driver when it is a built-in one, then probes it (rte_dev_probe). Returns the port id. */
export async function devProbe(vdev: string): Promise<number> {
  needMain('devProbe');
  const name = vdevDriver(vdev);
  if (!findPmd(name) && CATALOG.some((c) => c.name === name)) await loadPmd(name);
  return probeVdev(vdev);
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
  conf = checkEthConf(port, info, nbRxq, conf);
  if (conf.intrConf?.rxq && typeof p.ops.rxIntrSource !== 'function') {
    throw new EthdevError(`port ${port}: RX interrupts (intrConf.rxq) are not supported by ${p.pmd.name}`);
  }
  p.ops.queueRelease?.();
  p.ops.configure(nbRxq, nbTxq, conf);
  p.nbRxq = nbRxq;
  p.nbTxq = nbTxq;
  p.conf = conf;
  p.rxSpecs = new Array(nbRxq).fill(undefined);
  p.txSpecs = new Array(nbTxq).fill(undefined);
  p.rxOn = new Array(nbRxq).fill(true);
  p.txOn = new Array(nbTxq).fill(true);
  bumpGen(port);
}

const ETHER_OVERHEAD = 18; // Ethernet header 14 + FCS 4 (DPDK's RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN)

function unsupported(bits: number, capa: number, names: ReadonlyArray<[number, string]>): string {
  return flagNames(bits & ~capa, names).join(', ') || `0x${(bits & ~capa).toString(16)}`;
}

/** Checks a port configuration against what the driver can do; returns it with maxRxPktLen turned into an MTU. */
function checkEthConf(port: number, info: DevInfo, nbRxq: number, conf: EthConf): EthConf {
  const rxmode = { ...(conf.rxmode ?? {}) };
  const who = `port ${port} (${info.driverName})`;
  if (rxmode.maxRxPktLen !== undefined) {
    const len = rxmode.maxRxPktLen;
    if (!Number.isInteger(len) || len < info.minMtu + ETHER_OVERHEAD || len > info.maxRxPktLen) {
      throw new EthdevError(`${who}: max RX packet length ${len} out of range ${info.minMtu + ETHER_OVERHEAD}..${info.maxRxPktLen}`);
    }
    if (rxmode.mtu === undefined) rxmode.mtu = len - ETHER_OVERHEAD;
  }
  const mtu = rxmode.mtu;
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < info.minMtu || mtu > info.maxMtu)) {
    throw new EthdevError(`${who}: MTU ${mtu} out of range ${info.minMtu}..${info.maxMtu}`);
  }
  const rxOff = rxmode.offloads ?? 0;
  if ((rxOff & ~info.rxOffloadCapa) !== 0) {
    throw new EthdevError(`${who}: RX offloads not supported: ${unsupported(rxOff, info.rxOffloadCapa, RX_OFFLOAD_NAMES)}`);
  }
  const txOff = conf.txmode?.offloads ?? 0;
  if ((txOff & ~info.txOffloadCapa) !== 0) {
    throw new EthdevError(`${who}: TX offloads not supported: ${unsupported(txOff, info.txOffloadCapa, TX_OFFLOAD_NAMES)}`);
  }
  const mq = rxmode.mqMode ?? 'none';
  if (mq !== 'none' && mq !== 'rss') throw new EthdevError(`${who}: mqMode '${String(mq)}': use 'none' or 'rss'`);
  const rss = conf.rxAdvConf?.rssConf;
  if (mq === 'rss') {
    if (info.retaSize === 0) throw new EthdevError(`${who}: RSS is not supported; use mqMode 'none'`);
    if (nbRxq < 1) throw new EthdevError(`${who}: RSS needs at least one RX queue`);
    if (rss) checkRssConf(who, info, rss);
  }
  return { ...conf, rxmode };
}

function checkRssConf(who: string, info: DevInfo, rss: RssConf): void {
  if (!Number.isInteger(rss.hf) || (rss.hf & ~info.flowTypeRssOffloads) !== 0) {
    throw new EthdevError(`${who}: RSS hash types not supported: ${unsupported(rss.hf, info.flowTypeRssOffloads, RSS_HF_NAMES)} ` +
      `(supported: ${flagNames(info.flowTypeRssOffloads, RSS_HF_NAMES).join(', ')})`);
  }
  if (rss.key !== undefined && rss.key.length !== info.hashKeySize) {
    throw new EthdevError(`${who}: RSS key of ${rss.key.length} bytes: the device takes ${info.hashKeySize}`);
  }
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
  const off = conf?.offloads ?? 0;
  if ((off & ~info.rxOffloadCapa) !== 0) {
    throw new EthdevError(`port ${port} RX queue ${q}: offloads not supported: ${unsupported(off, info.rxOffloadCapa, RX_OFFLOAD_NAMES)}`);
  }
  p.rxSpecs[q] = p.ops.rxQueueSetup(q, nb, conf ?? {}, pool, port);
  p.rxOn[q] = conf?.deferredStart !== true;
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
  const off = conf?.offloads ?? 0;
  if ((off & ~info.txOffloadCapa) !== 0) {
    throw new EthdevError(`port ${port} TX queue ${q}: offloads not supported: ${unsupported(off, info.txOffloadCapa, TX_OFFLOAD_NAMES)}`);
  }
  p.txSpecs[q] = p.ops.txQueueSetup(q, nb, conf ?? {}, port);
  p.txOn[q] = conf?.deferredStart !== true;
}

/** Publishes the port's queue specs and per-queue started flags for the lcores (JSON in the port's shared block). */
function writeSpecs(p: Port): void {
  const doc: SpecDoc = {
    driver: p.pmd.name, rx: p.rxSpecs, tx: p.txSpecs, rxOn: p.rxOn, txOn: p.txOn, intrRxq: p.conf.intrConf?.rxq === true, rxIntr: p.rxIntr,
  };
  const json = new TextEncoder().encode(JSON.stringify(doc));
  if (json.length > SPEC_MAX) throw new EthdevError(`port ${p.id}: queue specs too large (${json.length} bytes)`);
  const r = mem();
  const b = portBase(p.id);
  r.u8.set(json, b + SPEC_OFF);
  r.u32[(b >> 2) + P_SPEC_LEN] = json.length;
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
  p.ops.start();
  // interrupt sources are valid from start to stop: published with the specs for every lcore (rxIntrCtlQ)
  p.rxIntr = [];
  if (p.conf.intrConf?.rxq) {
    wakeTableInit();
    for (let q = 0; q < p.nbRxq; q++) p.rxIntr.push(op(p, 'rxIntrSource')(q));
  }
  writeSpecs(p);
  p.started = true;
  bumpGen(port);
  Atomics.store(mem().i32, (portBase(port) >> 2) + P_STATE, ST_STARTED);
  if (p.promisc) p.ops.setPromiscuous(true);
  if (p.allmulti) p.ops.setAllmulticast(true);
}

export function devStop(port: number): void {
  needMain('devStop');
  const p = getPort(port);
  if (!p.started) return;
  Atomics.store(mem().i32, (portBase(port) >> 2) + P_STATE, ST_STOPPED);
  bumpGen(port);
  // a lcore asleep on this port's RX interrupts wakes, finds the port stopped and ends its loop
  wakeSleepers(port);
  p.ops.stop();
  p.started = false;
  p.rxIntr = [];
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
  log('ethdev').info({ port, dev: p.name }, 'port closed');
}

export function devIsStarted(port: number): boolean {
  return getPort(port).started;
}

// ---- per-queue start/stop, RSS, MTU, MAC filters ------------------------------------------------------------------
/** The optional op `name` of a port's driver, or an error naming the driver. */
function op<K extends keyof EthDevOps>(p: Port, name: K): NonNullable<EthDevOps[K]> {
  const f = p.ops[name];
  if (typeof f !== 'function') throw new EthdevError(`port ${p.id}: ${String(name)} is not supported by ${p.pmd.name}`);
  return (f as (...a: unknown[]) => unknown).bind(p.ops) as NonNullable<EthDevOps[K]>;
}

/** The optional op `name` of a port's driver, or an EthdevError naming the driver (feature modules: timesync.ts). */
export function portOp<K extends keyof EthDevOps>(port: number, name: K): NonNullable<EthDevOps[K]> {
  return op(getPort(port), name);
}

function queueCall(port: number, q: number, rx: boolean, on: boolean): void {
  needMain(`${rx ? 'rx' : 'tx'}Queue${on ? 'Start' : 'Stop'}`);
  const p = getPort(port);
  const nb = rx ? p.nbRxq : p.nbTxq;
  if (!Number.isInteger(q) || q < 0 || q >= nb) throw new EthdevError(`port ${port}: ${rx ? 'RX' : 'TX'} queue ${q} out of range (${nb} configured)`);
  if (!p.started) throw new EthdevError(`port ${port} is not started: devStart(${port}) first (a stopped port's queues are all stopped)`);
  const flags = rx ? p.rxOn : p.txOn;
  if (flags[q] === on) return;
  if (rx) op(p, on ? 'rxQueueStart' : 'rxQueueStop')(q);
  else op(p, on ? 'txQueueStart' : 'txQueueStop')(q);
  flags[q] = on;
  writeSpecs(p);
  bumpGen(port);
}

/**
 * Starts or stops one queue of a started port (rte_eth_dev_rx_queue_start/stop ...). As in DPDK, no lcore may poll
 * the queue while it is being stopped; afterwards its bursts return 0.
 */
export function rxQueueStart(port: number, q: number): void { queueCall(port, q, true, true); }
export function rxQueueStop(port: number, q: number): void { queueCall(port, q, true, false); }
export function txQueueStart(port: number, q: number): void { queueCall(port, q, false, true); }
export function txQueueStop(port: number, q: number): void { queueCall(port, q, false, false); }

/** Changes the RSS key and hash types of a configured port (rte_eth_dev_rss_hash_update). */
export function rssHashUpdate(port: number, conf: RssConf): void {
  needMain('rssHashUpdate');
  const p = getPort(port);
  const info = p.ops.infoGet();
  checkRssConf(`port ${port} (${info.driverName})`, info, conf);
  op(p, 'rssHashUpdate')(conf);
}

/** The RSS key and hash types in use (rte_eth_dev_rss_hash_conf_get). */
export function rssHashConfGet(port: number): { key: Uint8Array; hf: number } {
  return op(getPort(port), 'rssHashConfGet')();
}

/**
 * Writes RSS redirection table entries (rte_eth_dev_rss_reta_update): reta[i] is the RX queue for hash values whose
 * low bits are i; with `mask`, only the entries it accepts are written.
 */
export function retaUpdate(port: number, reta: Reta, mask?: (i: number) => boolean): void {
  needMain('retaUpdate');
  const p = getPort(port);
  const info = p.ops.infoGet();
  if (info.retaSize === 0) throw new EthdevError(`port ${port}: ${info.driverName} has no RSS redirection table`);
  if (reta.length !== info.retaSize) throw new EthdevError(`port ${port}: a RETA of ${reta.length} entries: ${info.driverName} has ${info.retaSize}`);
  reta.forEach((q, i) => {
    if ((mask === undefined || mask(i)) && (!Number.isInteger(q) || q < 0 || q >= p.nbRxq)) {
      throw new EthdevError(`port ${port}: RETA entry ${i} names RX queue ${q}; ${p.nbRxq} RX queue(s) are configured`);
    }
  });
  op(p, 'retaUpdate')(reta, mask);
}

/** The RSS redirection table (rte_eth_dev_rss_reta_query). */
export function retaQuery(port: number): Reta {
  return op(getPort(port), 'retaQuery')();
}

/** Sets the MTU (rte_eth_dev_set_mtu); the largest accepted frame is then MTU + 18 (+4 per VLAN tag). */
export function mtuSet(port: number, mtu: number): void {
  needMain('mtuSet');
  const p = getPort(port);
  const info = p.ops.infoGet();
  if (!Number.isInteger(mtu) || mtu < info.minMtu || mtu > info.maxMtu) {
    throw new EthdevError(`port ${port}: MTU ${mtu} out of range ${info.minMtu}..${info.maxMtu}`);
  }
  op(p, 'mtuSet')(mtu);
  p.conf = { ...p.conf, rxmode: { ...(p.conf.rxmode ?? {}), mtu } };
}

/** The MTU (rte_eth_dev_get_mtu): the configured one, else 1500. */
export function mtuGet(port: number): number {
  return getPort(port).conf.rxmode?.mtu ?? 1500;
}

/** Adds a unicast address to the port's receive filter (rte_eth_dev_mac_addr_add); returns its filter index. */
export function macAddrAdd(port: number, mac: ArrayLike<number>): number {
  needMain('macAddrAdd');
  const p = getPort(port);
  const addr = Uint8Array.from(mac);
  if (addr.length !== 6 || (addr[0] & 1) !== 0) throw new EthdevError(`port ${port}: ${formatMac(addr)} is not a unicast MAC address`);
  const have = p.macs.findIndex((m) => m !== undefined && formatMac(m) === formatMac(addr));
  if (have >= 0) return have;
  const max = p.ops.infoGet().maxMacAddrs;
  let idx = 1;
  while (idx < max && p.macs[idx] !== undefined) idx++;
  if (idx >= max) throw new EthdevError(`port ${port}: all ${max - 1} extra MAC filters are in use (macAddrRemove one first)`);
  op(p, 'macAddrAdd')(addr, idx);
  p.macs[idx] = addr;
  return idx;
}

/** Removes a unicast address added with macAddrAdd (rte_eth_dev_mac_addr_remove). */
export function macAddrRemove(port: number, mac: ArrayLike<number>): void {
  needMain('macAddrRemove');
  const p = getPort(port);
  const s = formatMac(mac);
  const idx = p.macs.findIndex((m, i) => i > 0 && m !== undefined && formatMac(m) === s);
  if (idx < 0) throw new EthdevError(`port ${port}: ${s} is not in the port's MAC filters`);
  op(p, 'macAddrRemove')(idx);
  p.macs[idx] = undefined;
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

interface SpecDoc {
  driver: string; rx: unknown[]; tx: unknown[]; rxOn: boolean[]; txOn: boolean[];
  /** configured with intrConf.rxq; its RX queues' interrupt sources */
  intrRxq: boolean; rxIntr: RxIntrSource[];
}

function readSpecs(port: number): SpecDoc | null {
  const r = mem();
  const b = portBase(port);
  if (Atomics.load(r.i32, (b >> 2) + P_STATE) !== ST_STARTED) return null;
  const len = r.u32[(b >> 2) + P_SPEC_LEN];
  return JSON.parse(new TextDecoder().decode(r.u8.slice(b + SPEC_OFF, b + SPEC_OFF + len))) as SpecDoc;
}

/** What a stopped queue of a started port gives its pollers (rx/txQueueStop, deferred start). */
const STOPPED_RXQ: RxQueue = { rxBurst: () => 0 };
const STOPPED_TXQ: TxQueue = { txBurst: () => 0 };

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
  const dp = findDataPlane(doc.driver);
  if (!dp) {
    throw new EthdevError(`port ${port}: the data plane of ${doc.driver} is not loaded on this lcore ` +
      '(register the driver with registerPmd before launching the lcore)');
  }
  const stats = qstats(port, rx, queue);
  const on = (rx ? doc.rxOn : doc.txOn)[queue];
  if (rx) {
    const q = on ? dp.attachRx(specs[queue], stats) : STOPPED_RXQ;
    rxqs[i] = q;
    rxGen[i] = g;
    return q;
  }
  const q = on ? dp.attachTx(specs[queue], stats) : STOPPED_TXQ;
  txqs[i] = q;
  txGen[i] = g;
  return q;
}

/** True while the port is started; any lcore (one load of the shared port state, for loops that end on stop). */
export function portIsStarted(port: number): boolean {
  if (!Number.isInteger(port) || port < 0 || port >= MAX_ETHPORTS) return false;
  return Atomics.load(mem().i32, (portBase(port) >> 2) + P_STATE) === ST_STARTED;
}

/** @internal RX interrupts (intr.ts): the driver name and interrupt sources a started port published, or null. */
export function portIntrDoc(port: number): { driver: string; intrRxq: boolean; rxIntr: RxIntrSource[]; nbRxq: number } | null {
  if (!Number.isInteger(port) || port < 0 || port >= MAX_ETHPORTS) throw new EthdevError(`invalid port ${port}`);
  const doc = readSpecs(port);
  return doc && { driver: doc.driver, intrRxq: doc.intrRxq, rxIntr: doc.rxIntr, nbRxq: doc.rx.length };
}

/** @internal this lcore's queue object of a started port's RX queue (attached on first use), or undefined. */
export function rxQueueObject(port: number, queue: number): RxQueue | undefined {
  const i = port * MAX_QUEUES_PER_PORT + queue;
  const q = rxqs[i];
  if (q !== undefined && genI32[gen0 + port * (PORT_BYTES >> 2)] === rxGen[i]) return q;
  return attach(port, queue, true) as RxQueue | undefined;
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

// a failed worker lcore ends the process: the EAL runs this first so every port's DMA is off (src/eal/lcore.ts)
onLcoreFatal(closeAllPorts);

export { QS_PACKETS, QS_BYTES, QS_ERRORS, QS_NOMBUF, QS_MISSED };
