#!/usr/bin/env node
// l2fwd: DPDK's layer-2 forwarding sample, on pktio.
//
//   node dist/examples/l2fwd/main.js [EAL options] -- -p PORTMASK [-P] [-q NQ] [-T PERIOD]
//        [--[no-]mac-updating] [--portmap="(0,1),(2,3)"] [--duration SECONDS]
//   npx pktio-l2fwd ...   (the same, where pktio is installed as a package)
//
// Each RX port is paired with a TX port (0<->1, 2<->3, ... or --portmap). Worker lcores forward; the main lcore
// prints statistics every PERIOD seconds and stops everything cleanly on SIGINT/SIGTERM. Unlike DPDK, the main
// lcore does not forward: its event loop must stay free for timers and signals.
import * as pktio from '../../src/index.js';
import { ST_TX, ST_RX, ST_DROP, MAX_PORTS, MAX_PKT_BURST, STARTED_WORD, type FwdArgs } from './fwd.js';

interface L2fwdOpts {
  portmask: number | null;
  promisc: boolean;
  rxPerLcore: number;
  period: number;
  macUpdating: boolean;
  portmap: Array<[number, number]> | null;
  duration: number;
  /** --max-pkt-len: largest frame to receive (jumbo frames span several mbufs), 0 = the port's default */
  maxPktLen: number;
}

/**
 * What a variant of l2fwd changes (l2fwd-power: its own loop and options, RX interrupts, sleep statistics); main()
 * does the rest as l2fwd does.
 */
export interface L2fwdVariant {
  name: string;
  /** extra usage lines and option summary */
  usage?: string;
  options?: string;
  /** takes the variant's own options out of the application arguments (UsageError on bad ones) */
  parse?(args: readonly string[]): string[];
  /** added to every port's devConfigure */
  ethConf?: pktio.EthConf;
  /** the worker module (default export called with FwdArgs and fwdArgs) */
  fwdModule?: URL;
  fwdArgs?: Record<string, unknown>;
  /** called once before the workers start (memzones of its own) */
  setup?(): void;
  /** extra lines for each statistics print */
  stats?(elapsed: number): string;
}

/** Descriptors per RX and TX queue (DPDK l2fwd's RX_DESC_DEFAULT, TX_DESC_DEFAULT), fewer where a port allows fewer. */
const NB_RXD = 1024;
const NB_TXD = 1024;

function usage(v?: L2fwdVariant): string {
  return `${pktio.commandName(v?.name ?? 'l2fwd')} [EAL options] -- [-p PORTMASK] [-P] [-q NQ] [-T PERIOD] [--[no-]mac-updating] [--portmap="(0,1)"] [--max-pkt-len N] [--duration SECONDS]${v?.options ?? ''}
  -p PORTMASK: hexadecimal bitmask of ports to use (default: every port)
  -P: enable promiscuous mode
  -q NQ: number of RX ports per lcore (default 1)
  -T PERIOD: statistics every PERIOD seconds (0 to disable, default 10)
  --[no-]mac-updating: rewrite MAC addresses (default) or forward frames unchanged
  --portmap: pairs of ports (RX,TX), e.g. --portmap="(0,1),(1,0)"
  --max-pkt-len N: largest frame to receive, FCS included (e.g. 9018 for jumbo frames; as in DPDK's l3fwd)
  --duration SECONDS: stop by itself after this long (pktio addition, 0 = until SIGINT)${v?.usage ?? ''}`;
}

export class UsageError extends Error {
  constructor(msg: string) {
    super(pktio.oneLine(msg)); // user input quoted in the message stays on one line
  }
}

export function parseL2fwdArgs(args: readonly string[]): L2fwdOpts {
  const o: L2fwdOpts = { portmask: null, promisc: false, rxPerLcore: 1, period: 10, macUpdating: true, portmap: null, duration: 0, maxPktLen: 0 };
  const s = new pktio.OptionScanner(args, (name) => new UsageError(`option ${name} needs a value`));
  const val = (): string => s.value();
  while (s.next()) {
    switch (s.name) {
      case '-p': {
        const x = val();
        if (!/^(0x)?[0-9a-fA-F]+$/.test(x) || parseInt(x, 16) === 0) {
          throw new UsageError(`invalid portmask '${x}': expected a non-zero hexadecimal bitmask of ports, e.g. 0x3 for ports 0 and 1`);
        }
        o.portmask = parseInt(x, 16);
        break;
      }
      case '-P': o.promisc = true; break;
      case '-q': {
        const x = val();
        if (!/^\d+$/.test(x) || Number(x) < 1 || Number(x) > 16) throw new UsageError(`invalid -q '${x}': the number of RX ports per lcore, 1 to 16`);
        o.rxPerLcore = Number(x);
        break;
      }
      case '-T': {
        const x = val();
        if (!/^\d+$/.test(x) || Number(x) > 86400) throw new UsageError(`invalid timer period '${x}': seconds from 0 (no statistics) to 86400`);
        o.period = Number(x);
        break;
      }
      case '--mac-updating': o.macUpdating = true; break;
      case '--no-mac-updating': o.macUpdating = false; break;
      case '--portmap': {
        const x = val();
        const pairs: Array<[number, number]> = [];
        const re = /\(\s*(\d+)\s*,\s*(\d+)\s*\)/g;
        let m: RegExpExecArray | null;
        let rest = x;
        while ((m = re.exec(x)) !== null) {
          pairs.push([Number(m[1]), Number(m[2])]);
          rest = rest.replace(m[0], '');
        }
        if (pairs.length === 0 || rest.replace(/[,\s]/g, '') !== '') throw new UsageError(`invalid portmap '${x}': expected (rx,tx),(rx,tx)`);
        o.portmap = pairs;
        break;
      }
      case '--max-pkt-len': {
        const x = val();
        if (!/^\d+$/.test(x) || Number(x) < 64 || Number(x) > 65535) throw new UsageError(`invalid max packet length '${x}': bytes from 64 to 65535, e.g. 9018`);
        o.maxPktLen = Number(x);
        break;
      }
      case '--duration': {
        const x = val();
        if (!/^\d+(\.\d+)?$/.test(x)) throw new UsageError(`invalid duration '${x}': seconds, e.g. 10 or 0.5 (0: until SIGINT)`);
        o.duration = Number(x);
        break;
      }
      default: throw new UsageError(`unknown option '${s.raw}'`);
    }
  }
  return o;
}

/** "port 0" or "3 ports (0,1,2)" */
function portList(ports: number[]): string {
  return ports.length === 1 ? `only port ${ports[0]}` : `${ports.length} ports (${ports.join(',')})`;
}

/** Pairs ports: explicit portmap, else consecutive enabled ports. Returns dst by port id. */
export function pairPorts(enabled: number[], portmap: Array<[number, number]> | null): number[] {
  const dst: number[] = new Array(MAX_PORTS).fill(-1);
  if (portmap) {
    for (const [a, b] of portmap) {
      if (!enabled.includes(a) || !enabled.includes(b)) {
        throw new UsageError(`portmap (${a},${b}) names a port that is not enabled (enabled: ${portList(enabled)})`);
      }
      if (dst[a] >= 0) throw new UsageError(`port ${a} is the RX port of two --portmap pairs: give each port once as RX`);
      dst[a] = b;
      if (dst[b] < 0 && !portmap.some(([x]) => x === b)) dst[b] = a;
    }
    for (const p of enabled) {
      if (dst[p] < 0) throw new UsageError(`port ${p} is enabled but not in the portmap: add a pair for it, or leave it out of -p`);
    }
    return dst;
  }
  if (enabled.length % 2 !== 0) {
    throw new UsageError(`l2fwd forwards between pairs of ports and ${portList(enabled)} ${enabled.length === 1 ? 'is' : 'are'} enabled: ` +
      `enable an even number of ports (--vdev, -a, -p) or pair them with --portmap, e.g. --portmap="(${enabled[0]},${enabled[0]})"`);
  }
  for (let i = 0; i < enabled.length; i += 2) {
    dst[enabled[i]] = enabled[i + 1];
    dst[enabled[i + 1]] = enabled[i];
  }
  return dst;
}

function printStats(ports: number[], st: Float64Array, clear: boolean, elapsed: number, last: Float64Array, v?: L2fwdVariant): void {
  const out: string[] = [];
  if (clear) out.push('\x1b[2J\x1b[1;1H');
  out.push('\nPort statistics ====================================');
  let tx = 0;
  let rx = 0;
  let drop = 0;
  for (const p of ports) {
    const t = st[p * 4 + ST_TX];
    const r = st[p * 4 + ST_RX];
    const d = st[p * 4 + ST_DROP];
    const pps = elapsed > 0 ? (r - last[p]) / elapsed : 0;
    last[p] = r;
    out.push(`\nStatistics for port ${p} ------------------------------` +
      `\nPackets sent: ${t.toFixed(0).padStart(24)}` +
      `\nPackets received: ${r.toFixed(0).padStart(20)}` +
      `\nPackets dropped: ${d.toFixed(0).padStart(21)}` +
      `\nRX rate (Mpps): ${(pps / 1e6).toFixed(3).padStart(22)}`);
    tx += t;
    rx += r;
    drop += d;
  }
  out.push('\nAggregate statistics ===============================' +
    `\nTotal packets sent: ${tx.toFixed(0).padStart(18)}` +
    `\nTotal packets received: ${rx.toFixed(0).padStart(14)}` +
    `\nTotal packets dropped: ${drop.toFixed(0).padStart(15)}` +
    '\n====================================================\n');
  if (v?.stats) out.push(v.stats(elapsed));
  process.stdout.write(out.join(''));
}

/**
 * --duration: asks the lcores to quit `seconds` after all `lcores` forwarding lcores have started (ctl[STARTED_WORD]
 * counts them), not after their launch: a worker thread can take seconds to start on a loaded machine, and the
 * duration is the forwarding's.
 */
function stopAfter(seconds: number, ctl: Int32Array, lcores: number): { cancel(): void } {
  let timer: NodeJS.Timeout | null = null;
  const poll = setInterval(() => {
    if (Atomics.load(ctl, STARTED_WORD) < lcores) return;
    clearInterval(poll);
    timer = setTimeout(() => pktio.requestQuit(), seconds * 1000);
  }, 10);
  return { cancel: () => { clearInterval(poll); if (timer) clearTimeout(timer); } };
}

/** What the options choose: the enabled ports, each one's TX port by port id (-1: none), the RX ports and lcores. */
interface Plan {
  o: L2fwdOpts;
  enabled: number[];
  dst: number[];
  rxPorts: number[];
  workers: number[];
}

/** Parses the application's arguments and chooses ports and lcores: a UsageError for bad arguments, an Error for too few lcores. */
function planFromArgs(args: readonly string[], v?: L2fwdVariant): Plan {
  const o = parseL2fwdArgs(v?.parse ? v.parse(args) : args);
  const all = pktio.portIds();
  if (all.length === 0) throw new UsageError('no Ethernet ports: add some with --vdev (e.g. --vdev net_null0 --vdev net_null1) or -a BDF');
  const enabled = all.filter((p) => o.portmask === null || (o.portmask & (1 << p)) !== 0);
  if (o.portmask !== null) {
    const bad = [...Array(32).keys()].filter((p) => (o.portmask! & (1 << p)) !== 0 && !all.includes(p));
    if (bad.length) throw new UsageError(`portmask names port(s) ${bad.join(',')} that do not exist (ports: ${all.join(',')})`);
  }
  const dst = pairPorts(enabled, o.portmap);
  const workers = pktio.workerLcores();
  const rxPorts = enabled.filter((p) => dst[p] >= 0);
  const need = Math.ceil(rxPorts.length / o.rxPerLcore);
  if (workers.length < need) {
    throw new Error(`${rxPorts.length} RX ports at ${o.rxPerLcore} per lcore need ${need} worker lcore(s), ` +
      `${workers.length} given: add lcores with -l (e.g. -l 0-${need}) or raise -q`);
  }
  return { o, enabled, dst, rxPorts, workers };
}

/**
 * One RX and one TX queue on every enabled port, started, promiscuous with -P; returns each port's MAC by port id.
 * A port the options do not suit (no RX interrupts for l2fwd-power, a frame length it refuses) throws one line
 * naming the port.
 */
function startPorts(pl: Plan, pool: pktio.Mempool, v?: L2fwdVariant): number[][] {
  const macs: number[][] = [];
  for (const p of pl.enabled) {
    const info = pktio.devInfoGet(p);
    try {
      pktio.devConfigure(p, 1, 1, { ...(pl.o.maxPktLen ? { rxmode: { maxRxPktLen: pl.o.maxPktLen } } : {}), ...v?.ethConf });
      pktio.rxQueueSetup(p, 0, Math.min(NB_RXD, info.rxDescLim.nbMax), -1, null, pool);
      pktio.txQueueSetup(p, 0, Math.min(NB_TXD, info.txDescLim.nbMax), -1, null);
      pktio.devStart(p);
    } catch (e) {
      throw new Error(`port ${p} (${pktio.portName(p)}): ${(e as Error).message}`);
    }
    if (pl.o.promisc) pktio.promiscuousEnable(p);
    macs[p] = Array.from(pktio.macAddrGet(p));
    process.stdout.write(`Port ${p} (${pktio.portName(p)}), MAC address: ${pktio.formatMac(macs[p]).toUpperCase()}\n`);
  }
  return macs;
}

/** Launches the forwarding loop on one worker lcore per -q RX ports; returns how many lcores it launched. */
function launchForwarding(pl: Plan, macs: number[][], v?: L2fwdVariant): number {
  const fwdModule = v?.fwdModule ?? pktio.siblingModule(import.meta.url, 'fwd');
  let w = 0;
  for (let i = 0; i < pl.rxPorts.length; i += pl.o.rxPerLcore) {
    const mine = pl.rxPorts.slice(i, i + pl.o.rxPerLcore);
    const args: FwdArgs = { rxPorts: mine, dst: pl.dst, macUpdating: pl.o.macUpdating, macs, ...v?.fwdArgs };
    process.stdout.write(`Lcore ${pl.workers[w]}: RX port ${mine.join(',')} TX port ${mine.map((p) => pl.dst[p]).join(',')}\n`);
    pktio.remoteLaunch(pl.workers[w++], fwdModule, args);
  }
  process.stdout.write(`L2FWD: MAC updating ${pl.o.macUpdating ? 'enabled' : 'disabled'}\n`);
  return w;
}

/**
 * The main lcore's part while the workers forward: statistics every -T seconds, --duration asks the lcores to quit;
 * waits for every launched lcore and prints the last statistics. Resolves 1 when a worker failed
 * (logged, and the others asked to quit), else 0.
 */
async function superviseForwarding(pl: Plan, launched: number, zoneOff: number, v?: L2fwdVariant): Promise<number> {
  const st = new Float64Array(pktio.mem().buf, zoneOff, MAX_PORTS * 4 + 16);
  const last = new Float64Array(MAX_PORTS);
  let lastT = performance.now();
  const timer = pl.o.period > 0 ? setInterval(() => {
    const now = performance.now();
    printStats(pl.enabled, st, process.stdout.isTTY === true, (now - lastT) / 1000, last, v);
    lastT = now;
  }, pl.o.period * 1000) : null;
  const stopper = pl.o.duration > 0 ? stopAfter(pl.o.duration, new Int32Array(pktio.mem().buf, zoneOff, STARTED_WORD + 1), launched) : null;
  let rc = 0;
  for (const l of pl.workers.slice(0, launched)) {
    try {
      await pktio.waitLcore(l);
    } catch (e) {
      pktio.log('l2fwd').error({ lcore: l }, `forwarding stopped: ${(e as Error).message}`);
      pktio.requestQuit();
      rc = 1;
    }
  }
  if (timer) clearInterval(timer);
  stopper?.cancel();
  printStats(pl.enabled, st, false, (performance.now() - lastT) / 1000, last, v);
  return rc;
}

/**
 * Each port's ethdev counters (rte_eth_stats_get) once forwarding stopped (a pktio addition: what the NIC itself
 * counted, received, missed for want of a descriptor, errors, no mbuf, beside l2fwd's own counts), then each port
 * stopped and closed, and a check that every mbuf came back to the pool.
 */
function closePorts(ports: number[], pool: pktio.Mempool): void {
  for (const p of ports) {
    const s = pktio.statsGet(p);
    process.stdout.write(`Port ${p} counters: ipackets=${s.ipackets} opackets=${s.opackets} ibytes=${s.ibytes} obytes=${s.obytes} ` +
      `imissed=${s.imissed} ierrors=${s.ierrors} oerrors=${s.oerrors} rx_nombuf=${s.rxNombuf}\n`);
  }
  for (const p of ports) {
    process.stdout.write(`Closing port ${p}...`);
    pktio.devStop(p);
    pktio.devClose(p);
    process.stdout.write(' Done\n');
  }
  const lost = pool.size - pool.availCount();
  if (lost !== 0) pktio.log('l2fwd').error({ pool: pool.name, lost }, `${lost} mbufs were not returned to the pool`);
}

export async function main(argv: readonly string[], v?: L2fwdVariant): Promise<number> {
  const name = v?.name ?? 'l2fwd';
  const init = await pktio.initApp(argv);
  if (!init) return 1;
  if (init.config.help) {
    process.stdout.write(`\n${usage(v)}\n`);
    return 0;
  }
  let pl: Plan;
  let pool: pktio.Mempool;
  let macs: number[][];
  try {
    pl = planFromArgs(init.appArgs, v);
    const nbLcores = pl.workers.length + 1;
    const nbMbufs = Math.max(pl.enabled.length * (NB_RXD + NB_TXD + MAX_PKT_BURST + nbLcores * 256), 8192);
    pool = pktio.pktmbufPoolCreate('mbuf_pool', nbMbufs, 256, 0, pktio.MBUF_DEFAULT_BUF_SIZE);
    macs = startPorts(pl, pool, v);
  } catch (e) {
    // bad arguments get the usage after their line; too few lcores or a port that refuses its set-up, the line alone
    process.stderr.write(`${name}: ${(e as Error).message}\n${e instanceof UsageError ? `\n${usage(v)}\n` : ''}`);
    await pktio.cleanup();
    return 1;
  }
  await checkLinks(pl.enabled);
  const z = pktio.memzoneReserve('l2fwd', (MAX_PORTS * 4 + 16) * 8);
  v?.setup?.();
  // SIGINT/SIGTERM ask the lcores to quit, until the ports are closed (a second signal while closing does no more)
  const onSig = (sig: string) => {
    process.stdout.write(`\n\nSignal ${sig} received, preparing to exit...\n`);
    pktio.requestQuit();
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  const rc = await superviseForwarding(pl, launchForwarding(pl, macs, v), z.off, v);
  closePorts(pl.enabled, pool);
  process.off('SIGINT', onSig);
  process.off('SIGTERM', onSig);
  await pktio.cleanup();
  process.stdout.write('Bye...\n');
  return rc;
}

/**
 * DPDK l2fwd's check_all_ports_link_status: every 100 ms, up to 9 s, until every port's link is up (a dot per
 * round), then one line per port. A NIC's autonegotiation can take seconds (more under emulation); forwarding
 * before the links are up would lose the first frames.
 */
async function checkLinks(ports: number[]): Promise<void> {
  process.stdout.write('\nChecking link status');
  for (let waited = 0; waited < 9000 && !ports.every((p) => pktio.linkGetNowait(p).up); waited += 100) {
    process.stdout.write('.');
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const p of ports) {
    const l = pktio.linkGetNowait(p);
    process.stdout.write(`\nPort ${p} Link ${l.up ? `up at ${l.speed} Mbps ${l.fullDuplex ? 'FDX' : 'HDX'}` : 'down'}`);
  }
  process.stdout.write('\ndone\n');
}

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
