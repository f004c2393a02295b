#!/usr/bin/env node
// testpmd: DPDK's test-pmd on pktio, with the same options, commands and output, so that scripts written for
// dpdk-testpmd read its output unchanged.
//
//   node dist/examples/testpmd/main.js [EAL options] -- [--forward-mode=io|mac|macswap|rxonly|txonly|csum] [--rxq=N]
//        [--txq=N] [--nb-cores=N] [--rss-ip|--rss-udp] [--stats-period=N] [--tx-first] [-i] ...   (-- --help lists all)
//
// The main lcore configures the ports, prints, and runs the `testpmd> ` prompt; it never forwards (its event loop
// stays free for the prompt, timers and signals). Each forwarding lcore runs ./fwd.ts on its share of the streams,
// (RX port, RX queue) -> (TX port, TX queue) with ports paired 0<->1, 2<->3, and counts per stream in shared memory.
import * as readline from 'node:readline';
import * as path from 'node:path';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as pktio from '../../src/index.js';
import type { Mempool } from '../../src/mempool/mempool.js';
import type { EthStats } from '../../src/ethdev/ethdev.js';
import {
  parseTestpmdArgs, parseTxPkts, usage, UsageError, FWD_MODES, MIN_TOTAL_NUM_MBUFS, TXONLY_HDR_LEN, type FwdMode, type TestpmdParams,
} from './params.js';
import {
  ZONE, ZONE_BYTES, STATS_OFF, MAX_FWD_LCORES, CTL_STOP, CTL_RUNNING, MAX_STREAMS, SW, FS_RX, FS_TX, FS_DROP, FS_BAD_IP, FS_BAD_L4, FS_BAD_OUTER_L4,
  FS_BAD_OUTER_IP, MAX_PORTS, type FwdLaunch, type StreamSpec,
} from './fwd.js';
import {
  etherAddr, fwdConfigDisplay, rxtxConfigDisplay, nicStatsDisplay, periodicStatsHeader, fwdStatsDisplay, portInfosDisplay,
  offloadCapaDisplay, portSummaryHeader, portSummaryLine, rssTypes, type StreamCounters, type PortFwdCounters, type Rates,
} from './format.js';

export { parseTestpmdArgs, usage, UsageError };

/** Where testpmd reads and writes; the process's stdio by default, a test's buffers in-process. */
export interface TestpmdIo {
  out(s: string): void;
  err(s: string): void;
  /** commands (-i), or the Enter that ends a non-interactive run */
  input: NodeJS.ReadableStream;
  /** input is a terminal: readline edits the line and echoes it (otherwise testpmd echoes each command it reads) */
  tty: boolean;
  /** stop on SIGINT/SIGTERM (default true) */
  signals?: boolean;
  /** after EAL init, before the ports are counted and configured (a test adds its own ports here) */
  onInit?(): void | Promise<void>;
  /** after the ports are started, before forwarding starts (a test fills RX rings here) */
  onReady?(): void | Promise<void>;
  /** after forwarding stopped for good and RX queues were drained, before the ports close */
  onExit?(): void | Promise<void>;
}

/**
 * How this program was run, as a command that works when typed again: `node dist/examples/testpmd/main.js` (or the
 * package bin); a .ts entry is shown with the loader options node was given, since worker lcores need them too.
 */
export function progName(argv1: string | undefined = process.argv[1], execArgv: readonly string[] = process.execArgv): string {
  if (argv1 && argv1.endsWith('.ts') && execArgv.length > 0) {
    const rel = path.relative(process.cwd(), argv1);
    const q = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
    return `node ${execArgv.map(q).join(' ')} ${rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : argv1}`;
  }
  return pktio.commandName('testpmd', argv1);
}

/** The interactive commands (help and usage list these; every one works as written, with N a port id or all). */
export const COMMANDS: ReadonlyArray<[string, string]> = [
  ['start', 'Start packet forwarding with current configuration.'],
  ['start tx_first [N]', 'Start packet forwarding after sending N bursts of packets (default 1).'],
  ['stop', 'Stop packet forwarding, and display accumulated statistics.'],
  ['show port (info|stats|xstats|summary) (port_id|all)', 'Display information for port_id, or all.'],
  ['show port (port_id) rss-hash [key]', 'Display the RSS hash functions and RSS hash key of port.'],
  ['show port (port_id) (rx_offload|tx_offload) capabilities', 'List the Rx/Tx offloading capabilities of a port.'],
  ['clear port (stats|xstats) (port_id|all)', 'Clear information for port_id, or all.'],
  ['show config (fwd|rxtx|txpkts)', 'Display the given configuration.'],
  ['show fwd stats all', 'Display statistics for all fwd engines.'],
  ['clear fwd stats all', 'Clear statistics for all fwd engines.'],
  [`set fwd (${FWD_MODES.join('|')})`, 'Set packet forwarding mode.'],
  ['set txpkts (x[,y]*)', 'Set the length of each segment of TXONLY packets.'],
  ['help [control|display|config|all]', 'This help.'],
  ['quit', 'Quit to prompt.'],
];

/** testpmd's usage, plus the interactive commands and an example */
export function fullUsage(prog = progName()): string {
  return `\n${usage(prog)}\n\nInteractive commands (-i):\n${COMMANDS.map(([c]) => `  ${c}`).join('\n')}\n\n` +
    `Example: ${prog} -l 0,1 --no-pci --no-huge -m 128 --vdev net_null0 --vdev net_null1 -- -i --rxq=2 --txq=2\n`;
}

/**
 * A port's configuration as testpmd's init_port_config makes it: with more than one RX queue, RSS over the asked hash
 * types the port supports (mqMode 'rss'; none left: no RSS); --max-pkt-len; RX checksum offload on request; the
 * checksum TX offloads the port offers (csum forwarding flags packets for them, as after testpmd's "csum set ... hw").
 */
export function portEthConf(p: Pick<TestpmdParams, 'nbRxq' | 'rssHf' | 'maxPktLen' | 'enableRxCksum'>, info: pktio.DevInfo):
  { conf: pktio.EthConf; rxOffloads: number; txOffloads: number } {
  const rssHf = p.nbRxq > 1 ? p.rssHf & info.flowTypeRssOffloads : 0;
  const rxOffloads = p.enableRxCksum ? pktio.RX_OFFLOAD_CHECKSUM : 0;
  const txOffloads = info.txOffloadCapa & (pktio.TX_OFFLOAD_IPV4_CKSUM | pktio.TX_OFFLOAD_UDP_CKSUM | pktio.TX_OFFLOAD_TCP_CKSUM);
  const conf: pktio.EthConf = {
    rxmode: { mqMode: rssHf !== 0 ? 'rss' : 'none', offloads: rxOffloads, ...(p.maxPktLen !== null ? { maxRxPktLen: p.maxPktLen } : {}) },
    txmode: { offloads: txOffloads },
    ...(rssHf !== 0 ? { rxAdvConf: { rssConf: { hf: rssHf } } } : {}),
  };
  return { conf, rxOffloads, txOffloads };
}

export interface FwdLayout {
  streams: StreamSpec[];
  /** forwarding lcores in use: lcore id, stop-word slot, and its streams streams[first .. first+count) */
  lcores: Array<{ lcore: number; slot: number; first: number; count: number }>;
}

/**
 * testpmd's fwd_config_setup: with more than one RX and TX queue, a stream per queue pair and port (queue-major),
 * else one per port on queue 0; ports paired 0<->1, 2<->3 (an odd last port with itself); streams spread over at
 * most `nbCores` of `workers` in equal shares, the last lcores taking one more each when they do not divide.
 */
export function fwdLayout(ports: readonly number[], nbRxq: number, nbTxq: number, nbCores: number, workers: readonly number[]): FwdLayout {
  const np = ports.length;
  const txOf = (i: number): number => ((i & 1) === 0 ? (i + 1 < np ? i + 1 : i) : i - 1);
  const streams: StreamSpec[] = [];
  if (nbRxq > 1 && nbTxq > 1) {
    const nbq = Math.min(nbRxq, nbTxq);
    for (let q = 0; q < nbq; q++) {
      for (let i = 0; i < np; i++) streams.push({ id: streams.length, rxPort: ports[i], rxQueue: q, txPort: ports[txOf(i)], txQueue: q });
    }
  } else {
    for (let i = 0; i < np; i++) streams.push({ id: i, rxPort: ports[i], rxQueue: 0, txPort: ports[txOf(i)], txQueue: 0 });
  }
  const nbLcores = Math.min(nbCores, streams.length, workers.length);
  const per = streams.length <= nbLcores ? 1 : Math.floor(streams.length / nbLcores);
  const extra = streams.length <= nbLcores ? 0 : streams.length % nbLcores;
  const lcores: FwdLayout['lcores'] = [];
  let first = 0;
  for (let i = 0; i < nbLcores; i++) {
    const count = i < nbLcores - extra ? per : per + 1;
    lcores.push({ lcore: workers[i], slot: i, first, count });
    first += count;
  }
  return { streams, lcores };
}

interface PortSetup {
  nbRxq: number;
  nbTxq: number;
  nbRxd: number;
  nbTxd: number;
  rxOffloads: number;
  txOffloads: number;
}

interface FwdConfig extends FwdLayout {
  mode: FwdMode;
  ports: number[];
  peers: number[][];
}

interface Prev { pktsRx: number; pktsTx: number; bytesRx: number; bytesTx: number; ns: number }

const ZERO: PortFwdCounters['stats'] = { ipackets: 0, opackets: 0, ibytes: 0, obytes: 0, imissed: 0, ierrors: 0, oerrors: 0, rxNombuf: 0 };

class Testpmd {
  readonly p: TestpmdParams;
  readonly io: TestpmdIo;
  mode: FwdMode;
  ports: number[] = [];
  fwdPorts: number[] = [];
  workers: number[] = [];
  nbFwdLcores = 1;
  pool!: Mempool;
  ctl!: Int32Array;
  st!: Float64Array;
  readonly setup = new Map<number, PortSetup>();
  readonly macs: number[][] = [];
  /** port counters at the start of forwarding or the last clear (testpmd's ports[].stats) */
  readonly base = new Map<number, EthStats>();
  readonly prev = new Map<number, Prev>();
  running: FwdConfig | null = null;
  devargs = new Map<string, string>();
  readonly fwdUrl = pktio.siblingModule(import.meta.url, 'fwd');

  constructor(p: TestpmdParams, io: TestpmdIo) {
    this.p = p;
    this.io = io;
    this.mode = p.fwdMode;
  }

  out(s: string): void { this.io.out(s); }
  err(s: string): void { this.io.err(s); }

  // ---- set-up ---------------------------------------------------------------------------------------------------

  /** Ports, lcores, pool, port configuration. Throws UsageError (shown with the usage) or Error (one line). */
  configure(vdevs: string[]): void {
    const p = this.p;
    for (const v of vdevs) {
      const comma = v.indexOf(',');
      this.devargs.set(comma < 0 ? v : v.slice(0, comma), comma < 0 ? '' : v.slice(comma + 1));
    }
    this.ports = pktio.portIds();
    if (this.ports.length === 0) {
      throw new Error('no Ethernet ports: add some with --vdev (e.g. --vdev net_null0 --vdev net_null1) or -a BDF');
    }
    if (p.portmask !== null) {
      const bad = [...Array(32).keys()].filter((i) => (p.portmask! & (1 << i)) !== 0 && !this.ports.includes(i));
      if (bad.length) throw new UsageError(`--portmask names port(s) ${bad.join(',')} that do not exist (ports: ${this.ports.join(',')})`);
    }
    this.fwdPorts = this.ports.filter((i) => p.portmask === null || (p.portmask & (1 << i)) !== 0);
    this.workers = pktio.workerLcores();
    if (this.workers.length === 0) {
      throw new Error(`no forwarding lcore: testpmd forwards on worker lcores and -l gives only the main one; add one, e.g. -l ${pktio.mainLcore()},${pktio.mainLcore() + 1}`);
    }
    this.nbFwdLcores = p.nbCores ?? 1;
    if (this.nbFwdLcores > this.workers.length) {
      throw new Error(`nb-cores should be > 0 and <= ${this.workers.length}: --nb-cores=${this.nbFwdLcores} needs ${this.nbFwdLcores} worker lcores ` +
        `and -l gives ${this.workers.length} (${this.workers.join(',')}); add lcores, e.g. -l ${pktio.mainLcore()}-${pktio.mainLcore() + this.nbFwdLcores} ` +
        `or --lcores '${pktio.mainLcore()}@0,(1-${this.nbFwdLcores})@1'`);
    }
    for (const pid of this.ports) {
      const info = pktio.devInfoGet(pid);
      if (p.nbRxq > info.maxRxQueues) throw new UsageError(`rxq ${p.nbRxq} invalid - must be >= 0 && <= ${info.maxRxQueues} (port ${pid}, ${info.driverName})`);
      if (p.nbTxq > info.maxTxQueues) throw new UsageError(`txq ${p.nbTxq} invalid - must be >= 0 && <= ${info.maxTxQueues} (port ${pid}, ${info.driverName})`);
    }
    // one segment per frame: jumbo frames get a larger data room
    const room = Math.max(pktio.MBUF_DEFAULT_BUF_SIZE, (p.maxPktLen ?? 0) + pktio.PKTMBUF_HEADROOM);
    const bufSize = Math.min((room + 7) & ~7, 0xfff8);
    const dataRoom = bufSize - pktio.PKTMBUF_HEADROOM;
    p.txPkts.forEach((len, i) => {
      if (len > dataRoom) throw new UsageError(`--txpkts: length[${i}]=${len} > mbuf_data_size=${dataRoom} - give up`);
    });
    let ringDescs = 0;
    for (const pid of this.ports) {
      const info = pktio.devInfoGet(pid);
      ringDescs += p.nbRxq * (p.nbRxd || info.defaultRxRingSize) + p.nbTxq * (p.nbTxd || info.defaultTxRingSize);
    }
    const cache = 250;
    // the rings, the lcore caches, and a burst in flight on every stream
    const n = p.totalNumMbufs ?? Math.max(8192, ringDescs + (this.workers.length + 1) * cache * 2 +
      this.ports.length * Math.max(p.nbRxq, p.nbTxq, 1) * p.burst * p.txPkts.length);
    this.err(`testpmd: create a new mbuf pool <mb_pool_0>: n=${n}, size=${bufSize}, socket=0\n`);
    try {
      this.pool = pktio.pktmbufPoolCreate('mb_pool_0', n, cache, 0, bufSize);
    } catch (e) {
      throw new Error(`Creation of mbuf pool for socket 0 failed: ${(e as Error).message}` +
        (p.totalNumMbufs === null ? '' : ` (or give a smaller --total-num-mbufs, at least ${MIN_TOTAL_NUM_MBUFS + 1})`));
    }
    for (const pid of this.ports) this.configurePort(pid);
    this.out('Checking link statuses...\n');
    for (const pid of this.ports) pktio.linkGet(pid, true);
    this.out('Done\n');
    const z = pktio.memzoneReserve(ZONE, ZONE_BYTES);
    const r = pktio.mem();
    this.ctl = new Int32Array(r.buf, z.off, 2 * MAX_FWD_LCORES);
    this.st = new Float64Array(r.buf, z.off + STATS_OFF, MAX_STREAMS * SW);
  }

  /** init_port_config + start_port for one port */
  configurePort(pid: number): void {
    const p = this.p;
    const info = pktio.devInfoGet(pid);
    const { conf, rxOffloads, txOffloads } = portEthConf(p, info);
    this.out(`Configuring Port ${pid} (socket 0)\n`);
    try {
      pktio.devConfigure(pid, p.nbRxq, p.nbTxq, conf);
      const nbRxd = p.nbRxd || info.defaultRxRingSize;
      const nbTxd = p.nbTxd || info.defaultTxRingSize;
      for (let q = 0; q < p.nbRxq; q++) pktio.rxQueueSetup(pid, q, nbRxd, 0, null, this.pool);
      for (let q = 0; q < p.nbTxq; q++) pktio.txQueueSetup(pid, q, nbTxd, 0, null);
      pktio.devStart(pid);
      pktio.promiscuousEnable(pid);
      this.setup.set(pid, { nbRxq: p.nbRxq, nbTxq: p.nbTxq, nbRxd, nbTxd, rxOffloads, txOffloads });
    } catch (e) {
      throw new Error(`Fail to configure port ${pid}: ${(e as Error).message}`);
    }
    const mac = Array.from(pktio.macAddrGet(pid));
    this.macs[pid] = mac;
    this.out(`Port ${pid}: ${etherAddr(mac)}\n`);
  }

  // ---- forwarding configuration and start/stop --------------------------------------------------------------------

  peerOf(port: number): number[] {
    return this.p.peers.get(port) ?? [2, 0, 0, 0, 0, port];
  }

  /** fwd_config_setup for the current mode */
  fwdConfigSetup(): FwdConfig {
    const { streams, lcores } = fwdLayout(this.fwdPorts, this.p.nbRxq, this.p.nbTxq, this.nbFwdLcores, this.workers);
    const peers: number[][] = [];
    for (let i = 0; i < MAX_PORTS; i++) peers.push(this.peerOf(i));
    return { mode: this.mode, ports: this.fwdPorts, streams, peers, lcores };
  }

  showFwdConfig(c: FwdConfig): string {
    return fwdConfigDisplay({
      mode: c.mode, nbPorts: c.ports.length, nbStreams: c.streams.length,
      lcores: c.lcores.map((lc) => ({
        lcore: lc.lcore,
        streams: c.streams.slice(lc.first, lc.first + lc.count).map((s) => ({ ...s, peer: c.peers[s.txPort] })),
      })),
    });
  }

  showRxtxConfig(): string {
    const len = this.p.txPkts.reduce((a, b) => a + b, 0);
    return rxtxConfigDisplay(this.mode, this.p.burst, len, this.p.txPkts.length, this.nbFwdLcores, this.fwdPorts.length,
      this.ports.map((pid) => ({ port: pid, ...this.setup.get(pid)! })));
  }

  /** flush_fwd_rx_queues: empties the RX queues (bounded: a queue holds at most its ring size) */
  async flushRxQueues(): Promise<void> {
    const pkts = new Uint32Array(this.p.burst);
    for (let pass = 0; pass < 2; pass++) {
      for (const pid of this.fwdPorts) this.drainPort(pid, pkts);
      await new Promise((res) => setTimeout(res, 10));
    }
  }

  drainPort(pid: number, pkts: Uint32Array): void {
    const s = this.setup.get(pid);
    if (!s) return;
    for (let q = 0; q < s.nbRxq; q++) {
      const max = Math.ceil(s.nbRxd / pkts.length) + 2;
      for (let k = 0; k < max; k++) {
        const n = pktio.rxBurst(pid, q, pkts, pkts.length);
        if (n === 0) break;
        pktio.pktmbufFreeBulk(pkts, n, 0);
      }
    }
  }

  /** fwd_stats_reset */
  statsReset(c: FwdConfig): void {
    for (const pid of c.ports) this.base.set(pid, pktio.statsGet(pid));
    this.st.fill(0);
  }

  /** start_packet_forwarding; false when the mode cannot run with these queues (testpmd exits then) */
  async start(txFirst: number): Promise<boolean> {
    const p = this.p;
    if (this.mode === 'rxonly' && p.nbRxq === 0) {
      this.err('rxq are 0, cannot use rxonly fwd mode\n');
      return false;
    }
    if (this.mode === 'txonly' && p.nbTxq === 0) {
      this.err('txq are 0, cannot use txonly fwd mode\n');
      return false;
    }
    if (this.mode !== 'rxonly' && this.mode !== 'txonly' && (p.nbRxq === 0 || p.nbTxq === 0)) {
      this.err(`Either rxq or txq are 0, cannot use ${this.mode} fwd mode\n`);
      return false;
    }
    if (txFirst > 0 && p.nbTxq === 0) {
      this.err('txq are 0, cannot send a first burst (tx_first)\n');
      return false;
    }
    if (this.running) {
      this.err('Packet forwarding already started\n');
      return true;
    }
    const c = this.fwdConfigSetup();
    this.out(this.showFwdConfig(c));
    if (!p.noFlushRx) await this.flushRxQueues();
    this.out(this.showRxtxConfig());
    this.statsReset(c);
    const txOffloads: number[] = [];
    for (let i = 0; i < MAX_PORTS; i++) txOffloads.push(this.setup.get(i)?.txOffloads ?? 0);
    for (const lc of c.lcores) {
      Atomics.store(this.ctl, CTL_STOP + lc.slot, 0);
      Atomics.store(this.ctl, CTL_RUNNING + lc.slot, 0);
    }
    for (const lc of c.lcores) {
      const a: FwdLaunch = {
        engine: c.mode, slot: lc.slot, streams: c.streams.slice(lc.first, lc.first + lc.count), burst: p.burst, txFirst,
        txPkts: p.txPkts, pool: this.pool.name, macs: Array.from({ length: MAX_PORTS }, (_, i) => this.macs[i] ?? []),
        peers: c.peers, txOffloads,
      };
      pktio.remoteLaunch(lc.lcore, this.fwdUrl, a);
    }
    this.running = c;
    // as in DPDK, forwarding runs when start returns: wait for each lcore to enter its loop (it imports its code
    // first), or to have stopped on an error (stop reports it)
    for (const lc of c.lcores) {
      while (Atomics.load(this.ctl, CTL_RUNNING + lc.slot) === 0 && pktio.lcoreState(lc.lcore) === 'RUNNING') {
        await new Promise((res) => setTimeout(res, 1));
      }
    }
    return true;
  }

  /** stop_packet_forwarding */
  async stop(): Promise<void> {
    const c = this.running;
    if (!c) {
      this.err('Packet forwarding not started\n');
      return;
    }
    this.out('Telling cores to stop...');
    for (const lc of c.lcores) Atomics.store(this.ctl, CTL_STOP + lc.slot, 1);
    this.out('\nWaiting for lcores to finish...\n');
    for (const lc of c.lcores) {
      try {
        await pktio.waitLcore(lc.lcore);
      } catch (e) {
        this.err(`lcore ${lc.lcore} stopped forwarding: ${(e as Error).message}\n`);
      }
    }
    this.out(this.fwdStats(c));
    this.out('\nDone.\n');
    this.running = null;
  }

  /** fwd_stats_display from the stream counters and the ports' counters since the start (or the last clear) */
  fwdStats(c: FwdConfig): string {
    const st = this.st;
    const streams: StreamCounters[] = c.streams.map((s) => {
      const b = s.id * SW;
      return {
        rxPort: s.rxPort, rxQueue: s.rxQueue, txPort: s.txPort, txQueue: s.txQueue, rx: st[b + FS_RX], tx: st[b + FS_TX],
        dropped: st[b + FS_DROP], badIp: st[b + FS_BAD_IP], badL4: st[b + FS_BAD_L4], badOuterL4: st[b + FS_BAD_OUTER_L4],
        badOuterIp: st[b + FS_BAD_OUTER_IP],
      };
    });
    const ports: PortFwdCounters[] = c.ports.map((pid) => {
      const now = pktio.statsGet(pid);
      const b = this.base.get(pid);
      const d = (k: keyof PortFwdCounters['stats']) => now[k] - (b ? b[k] : 0);
      const pf: PortFwdCounters = {
        port: pid, txDropped: 0, badIp: 0, badL4: 0, badOuterL4: 0, badOuterIp: 0,
        stats: b ? {
          ipackets: d('ipackets'), opackets: d('opackets'), ibytes: d('ibytes'), obytes: d('obytes'), imissed: d('imissed'),
          ierrors: d('ierrors'), oerrors: d('oerrors'), rxNombuf: d('rxNombuf'),
        } : { ...ZERO },
      };
      for (const s of streams) {
        if (s.txPort === pid) pf.txDropped += s.dropped;
        if (s.rxPort === pid) {
          pf.badIp += s.badIp;
          pf.badL4 += s.badL4;
          pf.badOuterL4 += s.badOuterL4;
          pf.badOuterIp += s.badOuterIp;
        }
      }
      return pf;
    });
    return fwdStatsDisplay(streams, ports, c.mode === 'csum');
  }

  // ---- port displays --------------------------------------------------------------------------------------------

  /** nic_stats_display with its per-port rate memory (shared by "show port stats" and --stats-period) */
  nicStats(pid: number): string {
    const s = pktio.statsGet(pid);
    const now = process.hrtime.bigint();
    const ns = Number(now);
    const pv = this.prev.get(pid);
    const dns = pv && pv.ns !== 0 ? ns - pv.ns : 0;
    const rate = (cur: number, old: number | undefined) => (dns > 0 ? Math.floor((Math.max(cur - (old ?? 0), 0) / dns) * 1e9) : 0);
    const rt: Rates = {
      rxPps: rate(s.ipackets, pv?.pktsRx), txPps: rate(s.opackets, pv?.pktsTx),
      rxBps: rate(s.ibytes, pv?.bytesRx) * 8, txBps: rate(s.obytes, pv?.bytesTx) * 8,
    };
    this.prev.set(pid, { pktsRx: s.ipackets, pktsTx: s.opackets, bytesRx: s.ibytes, bytesTx: s.obytes, ns });
    return nicStatsDisplay(pid, s, rt);
  }

  printPeriodicStats(): void {
    this.out(periodicStatsHeader() + this.fwdPorts.map((pid) => this.nicStats(pid)).join(''));
  }

  portInfo(pid: number): string {
    const info = pktio.devInfoGet(pid);
    const s = this.setup.get(pid);
    const name = pktio.portName(pid);
    return portInfosDisplay({
      port: pid, mac: pktio.macAddrGet(pid), name, devargs: this.devargs.get(name) ?? null, info, link: pktio.linkGet(pid, false),
      mtu: pktio.mtuGet(pid), promisc: pktio.promiscuousGet(pid), allmulti: false,
      vlanStrip: ((s?.rxOffloads ?? 0) & pktio.RX_OFFLOAD_VLAN_STRIP) !== 0, vlanFilter: ((s?.rxOffloads ?? 0) & pktio.RX_OFFLOAD_VLAN_FILTER) !== 0,
      nbRxq: s?.nbRxq ?? 0, nbTxq: s?.nbTxq ?? 0,
    });
  }

  xstats(pid: number): string {
    return `###### NIC extended statistics for port ${String(pid).padEnd(2)}\n` +
      pktio.xstatsGet(pid).map((x) => `${x.name}: ${x.value}\n`).join('');
  }

  clearStats(pid: number): string {
    pktio.statsReset(pid);
    this.base.set(pid, pktio.statsGet(pid));
    return `\n  NIC statistics for port ${pid} cleared\n`;
  }

  rssHash(pid: number, key: boolean): void {
    const info = pktio.devInfoGet(pid);
    if (info.hashKeySize <= 0) {
      this.err('dev_info did not provide a valid hash key size\n');
      return;
    }
    let conf: { key: Uint8Array; hf: number };
    try {
      conf = pktio.rssHashConfGet(pid);
    } catch {
      this.err('operation not supported by device\n');
      return;
    }
    if (conf.hf === 0) {
      this.out('RSS disabled\n');
      return;
    }
    this.out('RSS functions:\n' + rssTypes(conf.hf));
    if (key) this.out(`RSS key:\n${Array.from(conf.key, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join('')}\n`);
  }

  // ---- the prompt -----------------------------------------------------------------------------------------------

  /** set_tx_pkt_segments: new txonly segment lengths, used from the next start (testpmd's messages when refused) */
  setTxPkts(v: string): void {
    const segs = v.split(',').map(Number);
    const room = this.pool.dataRoom - pktio.PKTMBUF_HEADROOM;
    const big = segs.findIndex((x) => x > room);
    if (big >= 0) {
      this.err(`length[${big}]=${segs[big]} > mbuf_data_size=${room} - give up\n`);
      return;
    }
    try {
      this.p.txPkts = parseTxPkts(v);
    } catch {
      const total = segs.reduce((a, b) => a + b, 0);
      this.err(total < TXONLY_HDR_LEN ? `total packet length=${total} < ${TXONLY_HDR_LEN} - give up\n` : `txpkts ${v} refused\n`);
    }
  }

  /** port_id_is_invalid + print_valid_ports; the port, or -1 after saying why */
  portArg(tok: string): number {
    const n = /^\d+$/.test(tok) ? Number(tok) : NaN;
    if (Number.isInteger(n) && this.ports.includes(n)) return n;
    this.err(`Invalid port ${tok}\n`);
    this.out(`The valid ports array is [${this.ports.map((x) => ` ${x}`).join('')} ]\n`);
    return -1;
  }

  /** Runs one command line; true when it was quit. */
  async command(line: string): Promise<boolean> {
    const t = line.trim().split(/\s+/).filter((x) => x !== '');
    if (t.length === 0) return false;
    const bad = () => this.out('Bad arguments\n');
    const each = (tok: string, f: (pid: number) => void) => {
      if (tok === 'all') for (const pid of this.ports) f(pid);
      else {
        const pid = this.portArg(tok);
        if (pid >= 0) f(pid);
      }
    };
    switch (t[0]) {
      case 'quit':
        if (t.length !== 1) bad();
        else return true;
        break;
      case 'start':
        if (t.length === 1) await this.start(0);
        else if (t[1] === 'tx_first' && t.length <= 3) {
          if (t.length === 3 && !/^[1-9]\d*$/.test(t[2])) bad();
          else await this.start(t.length === 3 ? Number(t[2]) : 1);
        } else bad();
        break;
      case 'stop':
        if (t.length !== 1) bad();
        else await this.stop();
        break;
      case 'help':
        this.out(helpText(t[1] ?? ''));
        break;
      case 'set':
        if (t[1] === 'fwd' && t.length === 3 && (FWD_MODES as readonly string[]).includes(t[2])) {
          this.mode = t[2] as FwdMode;
          this.out(`Set ${this.mode} packet forwarding mode\n`);
        } else if (t[1] === 'txpkts' && t.length === 3 && /^\d+(,\d+)*$/.test(t[2])) {
          this.setTxPkts(t[2]);
        } else bad();
        break;
      case 'show':
      case 'clear': {
        const show = t[0] === 'show';
        if (t[1] === 'port' && t.length === 4 && ['info', 'stats', 'xstats', 'summary'].includes(t[2])) {
          // as testpmd: clearing info or summary does nothing; a summary always has its header
          if (!show && (t[2] === 'info' || t[2] === 'summary')) break;
          if (t[2] === 'summary') {
            if (t[3] !== 'all' && this.portArg(t[3]) < 0) break;
            this.out(portSummaryHeader(this.ports.length));
            each(t[3], (pid) => this.out(portSummaryLine(pid, pktio.macAddrGet(pid), pktio.portName(pid), pktio.devInfoGet(pid).driverName,
              pktio.linkGet(pid, false))));
          } else if (t[2] === 'info') each(t[3], (pid) => this.out(this.portInfo(pid)));
          else if (t[2] === 'stats') each(t[3], (pid) => this.out(show ? this.nicStats(pid) : this.clearStats(pid)));
          else {
            each(t[3], (pid) => {
              if (show) this.out(this.xstats(pid));
              else {
                pktio.xstatsReset(pid);
                this.base.set(pid, pktio.statsGet(pid));
              }
            });
          }
        } else if (show && t[1] === 'port' && (t.length === 4 || t.length === 5) && t[3] === 'rss-hash' && (t.length === 4 || t[4] === 'key')) {
          const pid = this.portArg(t[2]);
          if (pid >= 0) this.rssHash(pid, t.length === 5);
        } else if (show && t[1] === 'port' && t.length === 5 && (t[3] === 'rx_offload' || t[3] === 'tx_offload') && t[4] === 'capabilities') {
          const pid = this.portArg(t[2]);
          if (pid >= 0) {
            const info = pktio.devInfoGet(pid);
            const rx = t[3] === 'rx_offload';
            this.out(offloadCapaDisplay(pid, rx, rx ? info.rxOffloadCapa : info.txOffloadCapa));
          }
        } else if (show && t[1] === 'config' && t.length === 3 && (t[2] === 'fwd' || t[2] === 'rxtx' || t[2] === 'txpkts')) {
          if (t[2] === 'fwd') this.out(this.showFwdConfig(this.running ?? this.fwdConfigSetup()));
          else if (t[2] === 'rxtx') this.out(this.showRxtxConfig());
          else this.out(`Number of segments: ${this.p.txPkts.length}\nSegment sizes: ${this.p.txPkts.join(',')}\nSplit packet: off\n`);
        } else if (t[1] === 'fwd' && t[2] === 'stats' && t[3] === 'all' && t.length === 4) {
          const c = this.running ?? this.fwdConfigSetup();
          if (show) this.out(this.fwdStats(c));
          else this.statsReset(c);
        } else bad();
        break;
      }
      default:
        this.out('Command not found\n');
    }
    return false;
  }

  /** The prompt: one command at a time until quit, end of input or a signal. */
  async interactive(): Promise<void> {
    const io = this.io;
    const rl = readline.createInterface(io.tty
      ? { input: io.input, output: process.stdout, terminal: true, prompt: 'testpmd> ' }
      : { input: io.input, terminal: false, crlfDelay: Infinity });
    const onSig = () => rl.close();
    rl.on('SIGINT', onSig);
    if (io.signals !== false) {
      process.on('SIGINT', onSig);
      process.on('SIGTERM', onSig);
    }
    const prompt = () => (io.tty ? rl.prompt() : this.out('testpmd> '));
    prompt();
    try {
      for await (const line of rl) {
        if (!io.tty) this.out(`${line}\n`);
        let quit = false;
        try {
          quit = await this.command(line);
        } catch (e) {
          this.err(`${(e as Error).message}\n`);
        }
        if (quit) break;
        prompt();
      }
    } finally {
      rl.close();
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
    }
  }

  /** Non-interactive: forward until SIGINT/SIGTERM, --duration, or Enter (without --stats-period, as testpmd). */
  async runUntilStopped(): Promise<void> {
    const p = this.p;
    const io = this.io;
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      let stopper: NodeJS.Timeout | null = null;
      const done = () => {
        if (timer) clearInterval(timer);
        if (stopper) clearTimeout(stopper);
        process.off('SIGINT', done);
        process.off('SIGTERM', done);
        io.input.off('data', done);
        io.input.off('end', done);
        io.input.pause();
        resolve();
      };
      if (io.signals !== false) {
        process.on('SIGINT', done);
        process.on('SIGTERM', done);
      }
      if (p.duration > 0) stopper = setTimeout(done, p.duration * 1000);
      if (p.statsPeriod > 0) {
        timer = setInterval(() => this.printPeriodicStats(), p.statsPeriod * 1000);
      } else if (p.duration === 0) {
        this.out('Press enter to exit\n');
        io.input.on('data', done);
        io.input.on('end', done);
        io.input.resume();
      }
    });
  }

  /** pmd_test_exit: stop forwarding, stop and close the ports (quietly after a failed set-up) */
  async exit(quiet: boolean): Promise<void> {
    if (this.running) await this.stop();
    const pkts = new Uint32Array(64);
    for (const pid of this.ports) this.drainPort(pid, pkts);
    if (!quiet) await this.io.onExit?.();
    const say = (s: string) => { if (!quiet) this.out(s); };
    for (const pid of this.ports) {
      say(`\nStopping port ${pid}...\nStopping ports...\n`);
      pktio.devStop(pid);
      say('Done\n');
    }
    for (const pid of this.ports) {
      say(`\nShutting down port ${pid}...\nClosing ports...\n`);
      pktio.devClose(pid);
      say(`Port ${pid} is closed\nDone\n`);
    }
    if (this.pool) {
      const lost = this.pool.size - this.pool.availCount();
      if (lost !== 0) pktio.log('testpmd').warn({ pool: this.pool.name, lost }, `${lost} mbufs were not returned to the pool (still queued in rings no port receives from?)`);
    }
  }
}

function helpText(section: string): string {
  const block = (title: string, cmds: Array<[string, string]>) =>
    `\n${title}:\n${'-'.repeat(title.length + 1)}\n\n${cmds.map(([c, h]) => `${c}\n    ${h}\n\n`).join('')}`;
  const control = COMMANDS.filter(([c]) => /^(start|stop|quit)/.test(c));
  const display = COMMANDS.filter(([c]) => /^(show|clear)/.test(c));
  const config = COMMANDS.filter(([c]) => /^set/.test(c));
  switch (section) {
    case 'control': return block('Control forwarding', [...control]);
    case 'display': return block('Display', [...display]);
    case 'config': return block('Configuration', [...config]);
    case 'all': return block('Control forwarding', [...control]) + block('Display', [...display]) + block('Configuration', [...config]);
    default:
      return '\nHelp is available for the following sections:\n\n' +
        '    help control                    : Start and stop forwarding.\n' +
        '    help display                    : Displaying port, stats and config information.\n' +
        '    help config                     : Configuration information.\n' +
        '    help all                        : All of the above sections.\n\n';
  }
}

export function defaultIo(): TestpmdIo {
  return {
    out: (s) => { process.stdout.write(s); },
    err: (s) => { process.stderr.write(s); },
    input: process.stdin,
    tty: process.stdin.isTTY === true && process.stdout.isTTY === true,
  };
}

/** Runs testpmd with these arguments (EAL options, "--", testpmd options); resolves with the exit code. */
export async function testpmd(argv: readonly string[], io: TestpmdIo = defaultIo()): Promise<number> {
  const prog = progName();
  const sep = argv.indexOf('--');
  let params: TestpmdParams;
  try {
    params = parseTestpmdArgs(sep < 0 ? [] : argv.slice(sep + 1));
  } catch (e) {
    io.err(`testpmd: ${(e as Error).message}\n${fullUsage(prog)}`);
    return 1;
  }
  if (params.help) {
    io.out(fullUsage(prog));
    return 0;
  }
  const init = await pktio.initApp(argv, (s) => io.err(s));
  if (!init) return 1;
  if (init.config.help) {
    io.out(fullUsage(prog));
    return 0;
  }
  for (const note of params.notes) io.out(`${note}\n`);
  const app = new Testpmd(params, io);
  let rc = 0;
  let setupFailed = false;
  try {
    try {
      await io.onInit?.();
      app.configure(init.config.vdevs);
    } catch (e) {
      io.err(`testpmd: ${(e as Error).message}\n${e instanceof UsageError ? fullUsage(prog) : ''}`);
      rc = 1;
      setupFailed = true;
    }
    if (rc === 0) {
      await io.onReady?.();
      if (params.interactive) {
        if (params.autoStart) {
          io.out('Start automatic packet forwarding\n');
          await app.start(0);
        }
        await app.interactive();
      } else {
        io.out('No commandline core given, start packet forwarding\n');
        if (await app.start(params.txFirst ? 1 : 0)) await app.runUntilStopped();
        else rc = 1;
      }
    }
  } finally {
    try {
      await app.exit(setupFailed);
    } catch (e) {
      io.err(`testpmd: ${(e as Error).message}\n`);
      rc = 1;
    }
    await pktio.cleanup();
    if (!setupFailed) io.out('\nBye...\n');
  }
  return rc;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  process.exit(await testpmd(process.argv.slice(2)));
}
