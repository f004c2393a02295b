// testpmd's command line (the options after "--"), parsed without side effects, and its usage text.
// The option names, their `--opt=v` / `--opt v` forms and their defaults are DPDK testpmd's (app/test-pmd/parameters.c).
import { RSS_IP, RSS_UDP } from '../../src/pmd/driver.js';
import { oneLine, OptionScanner } from '../../src/eal/args.js';

/** Forwarding engines, in testpmd's order (fwd_engines[]). */
export const FWD_MODES = ['io', 'mac', 'macswap', 'rxonly', 'txonly', 'csum'] as const;
export type FwdMode = (typeof FWD_MODES)[number];

/** testpmd's MAX_PKT_BURST */
export const MAX_PKT_BURST = 512;
export const DEFAULT_BURST = 32;
/** testpmd's TXONLY_DEF_PACKET_LEN */
export const TXONLY_DEF_PACKET_LEN = 64;
/** testpmd's RTE_MAX_SEGS_PER_PKT */
export const MAX_SEGS_PER_PKT = 255;
/** testpmd's MIN_TOTAL_NUM_MBUFS: --total-num-mbufs must be above it */
export const MIN_TOTAL_NUM_MBUFS = 1024;
/** Ethernet + IPv4 + UDP headers of the txonly packet */
export const TXONLY_HDR_LEN = 14 + 20 + 8;

export interface TestpmdParams {
  interactive: boolean;
  autoStart: boolean;
  help: boolean;
  fwdMode: FwdMode;
  /** whether --forward-mode was given (testpmd prints "Set <mode> packet forwarding mode") */
  fwdModeSet: boolean;
  nbRxq: number;
  nbTxq: number;
  /** --nb-cores; null: testpmd's default of one forwarding core */
  nbCores: number | null;
  /** RSS hash types asked for when a port has more than one RX queue (testpmd's rss_hf, RSS_IP by default) */
  rssHf: number;
  maxPktLen: number | null;
  txPkts: number[];
  burst: number;
  statsPeriod: number;
  txFirst: boolean;
  /** 0: the driver's default ring size */
  nbRxd: number;
  nbTxd: number;
  portmask: number | null;
  totalNumMbufs: number | null;
  enableRxCksum: boolean;
  noFlushRx: boolean;
  /** --eth-peer: peer MAC by port id */
  peers: Map<number, number[]>;
  /** pktio addition: stop by itself after this many seconds (0: until SIGINT, Enter or quit) */
  duration: number;
  /** what testpmd says about the options as it parses them ("Interactive-mode selected"...), in order */
  notes: string[];
}

export class UsageError extends Error {
  constructor(msg: string) {
    super(oneLine(msg)); // user input quoted in the message stays on one line
  }
}

interface OptSpec {
  /** takes a value (required argument, getopt_long has_arg = 1) */
  arg: boolean;
  help: string;
}

// Every option testpmd takes here, with its one-line help (in testpmd's words where testpmd has them).
const OPTS: Record<string, OptSpec> = {
  '--interactive': { arg: false, help: 'run in interactive mode (also -i).' },
  '--auto-start': { arg: false, help: 'start forwarding on init [always when non-interactive] (also -a).' },
  '--help': { arg: false, help: 'display this message and quit (also -h).' },
  '--forward-mode': { arg: true, help: `=N: set forwarding mode (N: ${FWD_MODES.join('|')}).` },
  '--rxq': { arg: true, help: '=N: set the number of RX queues per port to N.' },
  '--txq': { arg: true, help: '=N: set the number of TX queues per port to N.' },
  '--nb-cores': { arg: true, help: '=N: set the number of forwarding cores (1 <= N <= number of worker lcores given with -l).' },
  '--rss-ip': { arg: false, help: 'set RSS functions to IPv4/IPv6 only (the default).' },
  '--rss-udp': { arg: false, help: 'set RSS functions to IPv4/IPv6 + UDP.' },
  '--disable-rss': { arg: false, help: 'disable rss.' },
  '--max-pkt-len': { arg: true, help: '=N: set the maximum size of packet to N bytes.' },
  '--txpkts': { arg: true, help: '=X[,Y]*: set TX segment sizes or total packet length (txonly, default 64).' },
  '--burst': { arg: true, help: `=N: set the number of packets per burst to N (1 <= N <= ${MAX_PKT_BURST}, default ${DEFAULT_BURST}).` },
  '--stats-period': { arg: true, help: '=PERIOD: statistics will be shown every PERIOD seconds (only if interactive is disabled).' },
  '--tx-first': { arg: false, help: 'start forwarding sending a burst first (only if interactive is disabled).' },
  '--rxd': { arg: true, help: '=N: set the number of descriptors in RX rings to N.' },
  '--txd': { arg: true, help: '=N: set the number of descriptors in TX rings to N.' },
  '--portmask': { arg: true, help: '=PORTMASK: hexadecimal bitmask of ports used by the packet forwarding test.' },
  '--total-num-mbufs': { arg: true, help: `=N: set the number of mbufs to be allocated in mbuf pools (N > ${MIN_TOTAL_NUM_MBUFS}).` },
  '--enable-rx-cksum': { arg: false, help: 'enable rx hardware checksum offload.' },
  '--no-flush-rx': { arg: false, help: "Don't flush RX streams before forwarding." },
  '--eth-peer': { arg: true, help: '=X,M:M:M:M:M:M: set the MAC address of the X peer port.' },
  '--duration': { arg: true, help: '=SECONDS: stop forwarding and exit after SECONDS (pktio addition; non-interactive).' },
};

const SHORT: Record<string, string> = { '-i': '--interactive', '-a': '--auto-start', '-h': '--help' };

/** testpmd's usage, one line per option. `prog` is how the program was run. */
export function usage(prog: string): string {
  const lines = [`Usage: ${prog} [EAL options] -- [testpmd options]`, ''];
  for (const [name, o] of Object.entries(OPTS)) lines.push(`  ${name}${o.help.startsWith('=') ? '' : ': '}${o.help}`);
  return lines.join('\n');
}

function uint(opt: string, v: string, min: number, max: number, what: string): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`invalid ${opt} value '${v}': ${what}`);
  }
  return Number(v);
}

export function defaultParams(): TestpmdParams {
  return {
    interactive: false, autoStart: false, help: false, fwdMode: 'io', fwdModeSet: false, nbRxq: 1, nbTxq: 1, nbCores: null,
    rssHf: RSS_IP, maxPktLen: null, txPkts: [TXONLY_DEF_PACKET_LEN], burst: DEFAULT_BURST, statsPeriod: 0, txFirst: false,
    nbRxd: 0, nbTxd: 0, portmask: null, totalNumMbufs: null, enableRxCksum: false, noFlushRx: false, peers: new Map(), duration: 0, notes: [],
  };
}

/** Parses "02:00:00:00:00:01" (or with dashes) into six bytes; null when it is not a MAC address. */
export function parseMac(s: string): number[] | null {
  const m = /^([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})$/.exec(s);
  return m ? m.slice(1).map((x) => parseInt(x, 16)) : null;
}

/** "60,40": txonly segment lengths (--txpkts, set txpkts). Throws UsageError. */
export function parseTxPkts(val: string): number[] {
  if (!/^\d+(,\d+)*$/.test(val)) throw new UsageError(`invalid --txpkts '${val}': segment lengths X[,Y]*, e.g. 64 or 60,40`);
  const segs = val.split(',').map(Number);
  if (segs.length > MAX_SEGS_PER_PKT) throw new UsageError(`invalid --txpkts '${val}': at most ${MAX_SEGS_PER_PKT} segments`);
  if (segs.some((s) => s === 0)) throw new UsageError(`invalid --txpkts '${val}': a segment length of 0`);
  const total = segs.reduce((a, b) => a + b, 0);
  if (total < TXONLY_HDR_LEN) {
    throw new UsageError(`invalid --txpkts '${val}': total packet length=${total} < ${TXONLY_HDR_LEN} (Ethernet, IPv4 and UDP headers)`);
  }
  if (total > 65535) throw new UsageError(`invalid --txpkts '${val}': total packet length=${total} > 65535`);
  return segs;
}

/**
 * Parses testpmd's options (what follows "--"). Both `--opt=value` and `--opt value`, as getopt_long takes them.
 * Throws UsageError with one line naming the bad option or value.
 */
export function parseTestpmdArgs(args: readonly string[]): TestpmdParams {
  const p = defaultParams();
  const s = new OptionScanner(args, (name) => new UsageError(`option '${SHORT[name] ?? name}' requires an argument`));
  while (s.next()) {
    const raw = s.raw;
    const name = SHORT[s.name] ?? s.name;
    const spec = OPTS[name];
    if (!spec) {
      if (raw.startsWith('-')) throw new UsageError(`unrecognized option '${raw}'`);
      throw new UsageError(`invalid parameter '${raw}': testpmd takes no arguments besides options`);
    }
    if (!spec.arg && s.hasInline()) throw new UsageError(`option '${name}' doesn't allow an argument`);
    const val = spec.arg ? s.value() : '';
    switch (name) {
      case '--interactive':
        p.interactive = true;
        p.notes.push('Interactive-mode selected');
        break;
      case '--auto-start':
        p.autoStart = true;
        p.notes.push('Auto-start selected');
        break;
      case '--help': p.help = true; break;
      case '--forward-mode': {
        if (!(FWD_MODES as readonly string[]).includes(val)) {
          throw new UsageError(`invalid --forward-mode '${val}': available modes are ${FWD_MODES.join(', ')}`);
        }
        p.fwdMode = val as FwdMode;
        p.fwdModeSet = true;
        p.notes.push(`Set ${val} packet forwarding mode`);
        break;
      }
      case '--rxq': p.nbRxq = uint(name, val, 0, 16, 'the number of RX queues per port, 0 to 16'); break;
      case '--txq': p.nbTxq = uint(name, val, 0, 16, 'the number of TX queues per port, 0 to 16'); break;
      case '--nb-cores': p.nbCores = uint(name, val, 1, 127, 'the number of forwarding cores, 1 or more'); break;
      case '--rss-ip': p.rssHf = RSS_IP; break;
      case '--rss-udp': p.rssHf = RSS_UDP; break;
      case '--disable-rss': p.rssHf = 0; break;
      case '--max-pkt-len': p.maxPktLen = uint(name, val, 64, 65535, 'the largest frame in bytes, 64 to 65535'); break;
      case '--txpkts': p.txPkts = parseTxPkts(val); break;
      case '--burst': p.burst = uint(name, val, 1, MAX_PKT_BURST, `packets per burst, 1 to ${MAX_PKT_BURST}`); break;
      case '--stats-period': p.statsPeriod = uint(name, val, 0, 86400, 'seconds between statistics, 0 (none) to 86400'); break;
      case '--tx-first':
        p.txFirst = true;
        p.notes.push('Ports to start sending a burst of packets first');
        break;
      case '--rxd': p.nbRxd = uint(name, val, 1, 65535, 'RX descriptors per queue, 1 to 65535'); break;
      case '--txd': p.nbTxd = uint(name, val, 1, 65535, 'TX descriptors per queue, 1 to 65535'); break;
      case '--portmask': {
        if (!/^(0[xX])?[0-9a-fA-F]{1,8}$/.test(val) || parseInt(val, 16) === 0) {
          throw new UsageError(`invalid --portmask '${val}': a non-zero hexadecimal bitmask of ports, e.g. 0x3 for ports 0 and 1`);
        }
        p.portmask = parseInt(val, 16);
        break;
      }
      case '--total-num-mbufs':
        p.totalNumMbufs = uint(name, val, MIN_TOTAL_NUM_MBUFS + 1, 0x7fffffff, `the number of mbufs, more than ${MIN_TOTAL_NUM_MBUFS}`);
        break;
      case '--enable-rx-cksum': p.enableRxCksum = true; break;
      case '--no-flush-rx': p.noFlushRx = true; break;
      case '--eth-peer': {
        const comma = val.indexOf(',');
        const port = comma > 0 ? val.slice(0, comma) : '';
        const mac = parseMac(val.slice(comma + 1));
        if (!/^\d+$/.test(port) || Number(port) >= 32 || !mac) {
          throw new UsageError(`invalid --eth-peer '${val}': expected PORT,MAC, e.g. 0,02:00:00:00:00:10`);
        }
        p.peers.set(Number(port), mac);
        break;
      }
      case '--duration': {
        if (!/^\d+(\.\d+)?$/.test(val)) throw new UsageError(`invalid --duration '${val}': seconds, e.g. 10 or 0.5 (0: until stopped)`);
        p.duration = Number(val);
        break;
      }
    }
  }
  if (p.nbRxq === 0 && p.nbTxq === 0) throw new UsageError('Either rx or tx queues should be non-zero (--rxq, --txq)');
  return p;
}
