// examples/testpmd: its options, its output against dpdk-testpmd 22.11's (blocks captured from the real one), every
// forwarding engine on net_null / net_ring ports (in-process, with frames the test puts in the rings and takes out of
// them), the interactive prompt, and the command line as a script sees it (child processes).
//
// The forwarding lcores load compiled JavaScript (worker threads under the test's TypeScript loader take seconds to
// start), so the in-process runs and the child processes use dist/, rebuilt here with `npx tsc -p .` when stale.
import t from 'tap';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { parseTestpmdArgs, usage, UsageError, defaultParams } from '../examples/testpmd/params.js';
import { fwdStatsDisplay, nicStatsDisplay, streamStatsDisplay, fwdConfigDisplay, rssOffloadTypes, rssTypes } from '../examples/testpmd/format.js';
import { RSS_IP, RSS_UDP, RSS_TCP } from '../src/pmd/driver.js';
import type * as MainModule from '../examples/testpmd/main.js';
import type * as FwdModule from '../examples/testpmd/fwd.js';
import type * as Pktio from '../src/index.js';
import type * as RingPmdModule from '../src/pmd/ring/ring.js';
import type { DevInfo, EthConf } from '../src/pmd/driver.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const distMain = join(root, 'dist/examples/testpmd/main.js');
const cpus = ((): number[] => {
  const m = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  const out: number[] = [];
  for (const part of (m ? m[1] : '0').split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out;
})();
const c0 = cpus[0];
const c1 = cpus[cpus.length - 1];

// ---- what a testpmd script reads: the regexes of DPDK's test suites over the stop blocks ---------------------------

interface PortBlock { rx: number; rxDropped: number; rxTotal: number; tx: number; txDropped: number; txTotal: number; badIp?: number; badL4?: number; badOuterL4?: number }
interface StreamBlock { rxPort: number; rxQueue: number; txPort: number; txQueue: number; rx: number; tx: number; dropped: number; badIp?: number; badL4?: number }

function parseStop(s: string): { streams: StreamBlock[]; ports: Map<number, PortBlock>; acc: PortBlock } {
  const streams: StreamBlock[] = [];
  const sre = /------- Forward Stats for RX Port=\s*(\d+)\/Queue=\s*(\d+) -> TX Port=\s*(\d+)\/Queue=\s*(\d+) -------\n {2}RX-packets: (\d+)\s+TX-packets: (\d+)\s+TX-dropped: (\d+)(?:\s+RX- bad IP checksum: (\d+)\s+Rx- bad L4 checksum: (\d+))?/g;
  for (const m of s.matchAll(sre)) {
    const [rxPort, rxQueue, txPort, txQueue, rx, tx, dropped] = m.slice(1, 8).map(Number);
    streams.push({ rxPort, rxQueue, txPort, txQueue, rx, tx, dropped, ...(m[8] !== undefined ? { badIp: Number(m[8]), badL4: Number(m[9]) } : {}) });
  }
  const ports = new Map<number, PortBlock>();
  const pre = /-+ Forward statistics for port (\d+)\s+-+\n {2}RX-packets: (\d+)\s+RX-dropped: (\d+)\s+RX-total: (\d+)\n(?: {2}Bad-ipcsum: (\d+)\s+Bad-l4csum: (\d+)\s+Bad-outer-l4csum: (\d+)\s*\n {2}Bad-outer-ipcsum: \d+\s*\n)?(?: {2}RX-error: \d+\n {2}RX-nombufs: \d+\s*\n)? {2}TX-packets: (\d+)\s+TX-dropped: (\d+)\s+TX-total: (\d+)/g;
  for (const m of s.matchAll(pre)) {
    ports.set(Number(m[1]), {
      rx: Number(m[2]), rxDropped: Number(m[3]), rxTotal: Number(m[4]), tx: Number(m[8]), txDropped: Number(m[9]), txTotal: Number(m[10]),
      ...(m[5] !== undefined ? { badIp: Number(m[5]), badL4: Number(m[6]), badOuterL4: Number(m[7]) } : {}),
    });
  }
  const a = /\+ Accumulated forward statistics for all ports\++\n {2}RX-packets: (\d+)\s+RX-dropped: (\d+)\s+RX-total: (\d+)\n {2}TX-packets: (\d+)\s+TX-dropped: (\d+)\s+TX-total: (\d+)/.exec(s);
  const acc = a ? { rx: +a[1], rxDropped: +a[2], rxTotal: +a[3], tx: +a[4], txDropped: +a[5], txTotal: +a[6] } :
    { rx: NaN, rxDropped: NaN, rxTotal: NaN, tx: NaN, txDropped: NaN, txTotal: NaN };
  return { streams, ports, acc };
}

/** The text after the last "Telling cores to stop..." up to its "Done." */
function lastStop(out: string): string {
  const a = out.lastIndexOf('Telling cores to stop...');
  const b = out.indexOf('\nDone.\n', a);
  return a < 0 || b < 0 ? '' : out.slice(a, b + 7);
}

// ---- blocks printed by dpdk-testpmd 22.11 on this machine (net_null ports), for the format checks ------------------
const DPDK_STOP_IO = "\n  ---------------------- Forward statistics for port 0  ----------------------\n  RX-packets: 54711168       RX-dropped: 0             RX-total: 54711168\n  TX-packets: 54711168       TX-dropped: 0             TX-total: 54711168\n  ----------------------------------------------------------------------------\n\n  ---------------------- Forward statistics for port 1  ----------------------\n  RX-packets: 54711168       RX-dropped: 0             RX-total: 54711168\n  TX-packets: 54711168       TX-dropped: 0             TX-total: 54711168\n  ----------------------------------------------------------------------------\n\n  +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++\n  RX-packets: 109422336      RX-dropped: 0             RX-total: 109422336\n  TX-packets: 109422336      TX-dropped: 0             TX-total: 109422336\n  ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++\n";
const DPDK_NIC0 = "\n  ######################## NIC statistics for port 0  ########################\n  RX-packets: 35376192   RX-missed: 0          RX-bytes:  0\n  RX-errors: 0\n  RX-nombuf:  0         \n  TX-packets: 35054624   TX-errors: 0          TX-bytes:  0\n\n  Throughput (since last show)\n  Rx-pps:     17507971          Rx-bps:            0\n  Tx-pps:     17507955          Tx-bps:            0\n  ############################################################################\n";
const DPDK_STOP_CSUM = "\n  ------- Forward Stats for RX Port= 0/Queue= 0 -> TX Port= 1/Queue= 0 -------\n  RX-packets: 1125888        TX-packets: 1125888        TX-dropped: 0               RX- bad IP checksum: 0               Rx- bad L4 checksum: 0              Rx- bad outer L4 checksum: 0             \n RX- bad outer IP checksum: 0             \n\n  ------- Forward Stats for RX Port= 1/Queue= 0 -> TX Port= 0/Queue= 0 -------\n  RX-packets: 1125888        TX-packets: 1125888        TX-dropped: 0               RX- bad IP checksum: 0               Rx- bad L4 checksum: 0              Rx- bad outer L4 checksum: 0             \n RX- bad outer IP checksum: 0             \n\n  ------- Forward Stats for RX Port= 0/Queue= 1 -> TX Port= 1/Queue= 1 -------\n  RX-packets: 1125888        TX-packets: 1125888        TX-dropped: 0               RX- bad IP checksum: 0               Rx- bad L4 checksum: 0              Rx- bad outer L4 checksum: 0             \n RX- bad outer IP checksum: 0             \n\n  ------- Forward Stats for RX Port= 1/Queue= 1 -> TX Port= 0/Queue= 1 -------\n  RX-packets: 1125888        TX-packets: 1125888        TX-dropped: 0               RX- bad IP checksum: 0               Rx- bad L4 checksum: 0              Rx- bad outer L4 checksum: 0             \n RX- bad outer IP checksum: 0             \n\n  ---------------------- Forward statistics for port 0  ----------------------\n  RX-packets: 2251776        RX-dropped: 0             RX-total: 2251776\n  Bad-ipcsum: 0              Bad-l4csum: 0             Bad-outer-l4csum: 0             \n  Bad-outer-ipcsum: 0             \n  TX-packets: 2251776        TX-dropped: 0             TX-total: 2251776\n  ----------------------------------------------------------------------------\n\n  ---------------------- Forward statistics for port 1  ----------------------\n  RX-packets: 2251776        RX-dropped: 0             RX-total: 2251776\n  Bad-ipcsum: 0              Bad-l4csum: 0             Bad-outer-l4csum: 0             \n  Bad-outer-ipcsum: 0             \n  TX-packets: 2251776        TX-dropped: 0             TX-total: 2251776\n  ----------------------------------------------------------------------------\n\n  +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++\n  RX-packets: 4503552        RX-dropped: 0             RX-total: 4503552\n  TX-packets: 4503552        TX-dropped: 0             TX-total: 4503552\n  ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++\n";
const DPDK_MACSWAP_STREAM = '\n  ------- Forward Stats for RX Port= 0/Queue= 0 -> TX Port= 1/Queue= 0 -------\n  RX-packets: 7520           TX-packets: 7520           TX-dropped: 0             \n';
// `--lcores '0@0,(1-4)@1' ... -- -i --rxq=3 --txq=3 --nb-cores=4`, then "show config fwd"
const DPDK_LAYOUT = 'io packet forwarding - ports=2 - cores=4 - streams=6 - NUMA support enabled, MP allocation mode: native\nLogical Core 1 (socket 0) forwards packets on 1 streams:\n  RX P=0/Q=0 (socket 0) -> TX P=1/Q=0 (socket 0) peer=02:00:00:00:00:01\nLogical Core 2 (socket 0) forwards packets on 1 streams:\n  RX P=1/Q=0 (socket 0) -> TX P=0/Q=0 (socket 0) peer=02:00:00:00:00:00\nLogical Core 3 (socket 0) forwards packets on 2 streams:\n  RX P=0/Q=1 (socket 0) -> TX P=1/Q=1 (socket 0) peer=02:00:00:00:00:01\n  RX P=1/Q=1 (socket 0) -> TX P=0/Q=1 (socket 0) peer=02:00:00:00:00:00\nLogical Core 4 (socket 0) forwards packets on 2 streams:\n  RX P=0/Q=2 (socket 0) -> TX P=1/Q=2 (socket 0) peer=02:00:00:00:00:01\n  RX P=1/Q=2 (socket 0) -> TX P=0/Q=2 (socket 0) peer=02:00:00:00:00:00\n\n';

t.test('options: both --opt=v and --opt v, defaults, one clear line for a bad one', async (t) => {
  const d = parseTestpmdArgs([]);
  t.match(d, { interactive: false, fwdMode: 'io', nbRxq: 1, nbTxq: 1, nbCores: null, rssHf: RSS_IP, txPkts: [64], burst: 32, statsPeriod: 0, txFirst: false, duration: 0 });
  const a = parseTestpmdArgs(['-i', '--forward-mode=csum', '--rxq', '4', '--txq=2', '--nb-cores', '2', '--rss-udp', '--max-pkt-len=9000',
    '--txpkts', '60,40', '--burst=64', '--stats-period', '2', '--tx-first', '--rxd=512', '--txd', '256', '--portmask=0x3',
    '--total-num-mbufs', '20000', '--enable-rx-cksum', '--no-flush-rx', '--eth-peer=1,02:aa:bb:cc:dd:ee', '--duration', '1.5', '-a']);
  t.match(a, {
    interactive: true, autoStart: true, fwdMode: 'csum', nbRxq: 4, nbTxq: 2, nbCores: 2, rssHf: RSS_UDP, maxPktLen: 9000, txPkts: [60, 40],
    burst: 64, statsPeriod: 2, txFirst: true, nbRxd: 512, nbTxd: 256, portmask: 3, totalNumMbufs: 20000, enableRxCksum: true,
    noFlushRx: true, duration: 1.5,
  });
  t.same(a.peers.get(1), [2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]);
  t.same(a.notes, ['Interactive-mode selected', 'Set csum packet forwarding mode', 'Ports to start sending a burst of packets first', 'Auto-start selected'],
    'what testpmd says about its options, in their order');
  t.equal(parseTestpmdArgs(['--rss-udp', '--rss-ip']).rssHf, RSS_IP);
  t.equal(parseTestpmdArgs(['--disable-rss']).rssHf, 0);
  t.equal(parseTestpmdArgs(['--help']).help, true);
  t.equal(parseTestpmdArgs(['-h']).help, true);
  for (const [args, msg] of [
    [['--bogus'], "unrecognized option '--bogus'"],
    [['-x'], "unrecognized option '-x'"],
    [['stray'], "invalid parameter 'stray'"],
    [['--forward-mode=foo'], "invalid --forward-mode 'foo': available modes are io, mac, macswap, rxonly, txonly, csum"],
    [['--rxq', 'x'], "invalid --rxq value 'x'"],
    [['--rxq=17'], "invalid --rxq value '17'"],
    [['--nb-cores=0'], "invalid --nb-cores value '0'"],
    [['--burst=0'], "invalid --burst value '0'"],
    [['--burst=513'], "invalid --burst value '513'"],
    [['--burst'], "option '--burst' requires an argument"],
    [['--tx-first=1'], "option '--tx-first' doesn't allow an argument"],
    [['--txpkts=20'], "invalid --txpkts '20': total packet length=20 < 42"],
    [['--txpkts=64,'], "invalid --txpkts '64,'"],
    [['--portmask=0'], "invalid --portmask '0'"],
    [['--total-num-mbufs=1024'], "invalid --total-num-mbufs value '1024'"],
    [['--max-pkt-len=10'], "invalid --max-pkt-len value '10'"],
    [['--eth-peer=0,zz'], "invalid --eth-peer '0,zz'"],
    [['--duration=soon'], "invalid --duration 'soon'"],
    [['--rxq=0', '--txq=0'], 'Either rx or tx queues should be non-zero'],
  ] as Array<[string[], string]>) {
    t.throws(() => parseTestpmdArgs(args), { constructor: UsageError, message: msg }, args.join(' '));
  }
  const u = usage('prog');
  for (const opt of ['--interactive', '--forward-mode=N', '--rxq=N', '--txq=N', '--nb-cores=N', '--rss-ip', '--rss-udp', '--max-pkt-len=N',
    '--txpkts=X[,Y]*', '--burst=N', '--stats-period=PERIOD', '--tx-first', '--rxd=N', '--txd=N', '--portmask=PORTMASK', '--total-num-mbufs=N',
    '--duration=SECONDS', '--help']) {
    t.match(u, new RegExp(`^ {2}${opt.replace(/[[\]*.]/g, '\\$&')}: \\S`, 'm'), `usage names ${opt}, one line`);
  }
  t.ok(defaultParams().peers instanceof Map);
});

t.test('output formats are dpdk-testpmd 22.11\'s, character for character', async (t) => {
  const z = { ipackets: 0, opackets: 0, ibytes: 0, obytes: 0, imissed: 0, ierrors: 0, oerrors: 0, rxNombuf: 0 };
  const port = (p: number, n: number) => ({ port: p, stats: { ...z, ipackets: n, opackets: n }, txDropped: 0, badIp: 0, badL4: 0, badOuterL4: 0, badOuterIp: 0 });
  t.equal(fwdStatsDisplay([], [port(0, 54711168), port(1, 54711168)], false), DPDK_STOP_IO, 'stop: per-port and accumulated blocks (io)');
  const stream = (rp: number, rq: number, tp: number, tq: number, n: number) => ({
    rxPort: rp, rxQueue: rq, txPort: tp, txQueue: tq, rx: n, tx: n, dropped: 0, badIp: 0, badL4: 0, badOuterL4: 0, badOuterIp: 0,
  });
  const csumStreams = [stream(0, 0, 1, 0, 1125888), stream(1, 0, 0, 0, 1125888), stream(0, 1, 1, 1, 1125888), stream(1, 1, 0, 1, 1125888)];
  t.equal(fwdStatsDisplay(csumStreams, [port(0, 2251776), port(1, 2251776)], true), DPDK_STOP_CSUM, 'stop: per-stream blocks and csum counters');
  t.equal(streamStatsDisplay(stream(0, 0, 1, 0, 7520), false), DPDK_MACSWAP_STREAM, 'a stream block outside csum mode');
  t.equal(nicStatsDisplay(0, { ...z, ipackets: 35376192, opackets: 35054624 }, { rxPps: 17507971, txPps: 17507955, rxBps: 0, txBps: 0 }), DPDK_NIC0,
    'show port stats / --stats-period block');
  const lay = [[1, [[0, 0, 1, 0]]], [2, [[1, 0, 0, 0]]], [3, [[0, 1, 1, 1], [1, 1, 0, 1]]], [4, [[0, 2, 1, 2], [1, 2, 0, 2]]]] as const;
  t.equal(fwdConfigDisplay({
    mode: 'io', nbPorts: 2, nbStreams: 6,
    lcores: lay.map(([lcore, ss]) => ({ lcore, streams: ss.map(([rp, rq, tp, tq]) => ({ rxPort: rp, rxQueue: rq, txPort: tp, txQueue: tq, peer: [2, 0, 0, 0, 0, tp] })) })),
  }), DPDK_LAYOUT, 'forwarding configuration');
  t.equal(streamStatsDisplay({ ...stream(0, 0, 1, 0, 0) }, false), '', 'a stream that saw nothing is not shown');
  // the regexes of a testpmd script read the real testpmd's blocks
  const io = parseStop(DPDK_STOP_IO);
  t.same(io.ports.get(1), { rx: 54711168, rxDropped: 0, rxTotal: 54711168, tx: 54711168, txDropped: 0, txTotal: 54711168 });
  t.equal(io.acc.rx, 109422336);
  const cs = parseStop(DPDK_STOP_CSUM);
  t.equal(cs.streams.length, 4);
  t.match(cs.ports.get(0), { rx: 2251776, badIp: 0, badL4: 0 });
  t.equal(rssOffloadTypes(RSS_IP | RSS_UDP | RSS_TCP), '  ipv4  ipv4-frag  ipv4-tcp  ipv4-udp  ipv6  ipv6-frag\n  ipv6-tcp  ipv6-udp  ipv6-ex  ipv6-tcp-ex  ipv6-udp-ex\n',
    '"Supported RSS offload flow types": bit order, wrapped before 64 columns');
  t.equal(rssTypes(RSS_IP), '  ip  ipv4  ipv4-frag  ipv6  ipv6-frag  ipv6-ex\n', 'rss-hash: the group name, then each type');
});

// ---- the compiled example ------------------------------------------------------------------------------------------

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function staleFiles(): string[] {
  return [...tsFiles('src'), ...tsFiles('examples/testpmd')].filter((f) => {
    const js = join(root, 'dist', f.replace(/\.ts$/, '.js'));
    return !existsSync(js) || statSync(js).mtimeMs < statSync(join(root, f)).mtimeMs;
  });
}

let buildLog = '';
if (staleFiles().length > 0) {
  // errors in files other engineers are editing do not stop the emit
  const b = spawnSync('npx', ['tsc', '-p', '.'], { cwd: root, encoding: 'utf8' });
  buildLog = `${b.stdout}${b.stderr}`;
}
const built = existsSync(distMain) && staleFiles().filter((f) => f.startsWith('examples/testpmd')).length === 0;

const distUrl = (p: string) => pathToFileURL(join(root, 'dist', p)).href;
const M = (built ? await import(distUrl('examples/testpmd/main.js')) : null) as typeof MainModule;
const F = (built ? await import(distUrl('examples/testpmd/fwd.js')) : null) as typeof FwdModule;
const P = (built ? await import(distUrl('src/index.js')) : null) as typeof Pktio;
const RP = (built ? await import(distUrl('src/pmd/ring/ring.js')) : null) as typeof RingPmdModule;

/** A testpmd run in this process: its output, its stdin, and ways to wait for what it prints. */
class Run {
  out = '';
  err = '';
  readonly input = new PassThrough();
  readonly code: Promise<number>;
  constructor(argv: string[], hooks: Partial<MainModule.TestpmdIo> = {}) {
    this.code = M.testpmd(argv, {
      out: (s) => { this.out += s; }, err: (s) => { this.err += s; }, input: this.input, tty: false, signals: false, ...hooks,
    });
  }

  send(cmd: string): void {
    this.input.write(`${cmd}\n`);
  }

  /** Waits until the output after `from` matches; returns the match. */
  async until(re: RegExp, from = 0, ms = 20000): Promise<RegExpExecArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.out.slice(from));
      if (m) return m;
      if (Date.now() > end) throw new Error(`timed out waiting for ${re}; output ends with:\n${this.out.slice(-1500)}\nstderr: ${this.err.slice(-500)}`);
      await sleep(20);
    }
  }

  /** Sends a command and returns the output it printed, up to the next prompt. */
  async cmd(c: string): Promise<string> {
    const from = this.out.length;
    this.send(c);
    await this.until(/^[^\n]*\n[\s\S]*testpmd> $/, from);
    const s = this.out.slice(from);
    return s.slice(s.indexOf('\n') + 1, s.lastIndexOf('testpmd> '));
  }
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

async function waitFor(cond: () => boolean, ms = 10000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(10);
  }
  return true;
}

const EAL = ['--no-pci', '--no-huge', '-m', '128', '--log-level', 'error', '--lcores', `0@${c0},1@${c1}`];
const PAIR = ['--vdev', 'net_ring0,rxring=in0,txring=out0', '--vdev', 'net_ring1,rxring=in1,txring=out1'];

// ---- frames -------------------------------------------------------------------------------------------------------

function sum16(b: ArrayLike<number>, from: number, len: number, init = 0): number {
  let s = init;
  for (let i = 0; i < len; i += 2) s += (b[from + i] << 8) | (i + 1 < len ? b[from + i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** true when the frame's IPv4 header checksum verifies */
function ipv4Ok(f: Uint8Array, ip: number): boolean {
  return sum16(f, ip, (f[ip] & 0xf) * 4) === 0xffff;
}

/** true when the UDP/TCP checksum verifies (pseudo header included) */
function l4Ok(f: Uint8Array, ip: number, v6: boolean): boolean {
  const proto = v6 ? f[ip + 6] : f[ip + 9];
  const l3 = v6 ? 40 : (f[ip] & 0xf) * 4;
  const len = v6 ? (f[ip + 4] << 8) | f[ip + 5] : ((f[ip + 2] << 8) | f[ip + 3]) - l3;
  let s = proto + len;
  s = sum16(f, v6 ? ip + 8 : ip + 12, v6 ? 32 : 8, s);
  return sum16(f, ip + l3, len, s) === 0xffff;
}

const MAC_A = [0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0x01];
const MAC_B = [0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0x02];

function eth(type: number, vlan = false): number[] {
  return [...MAC_A, ...MAC_B, ...(vlan ? [0x81, 0x00, 0x00, 0x64] : []), type >> 8, type & 0xff];
}

/** IPv4 + UDP/TCP, checksums computed unless `bad` names the one to spoil */
function ipv4Frame(proto: 6 | 17, payload: number, o: { vlan?: boolean; bad?: 'ip' | 'l4'; zeroUdp?: boolean } = {}): Uint8Array {
  const l4len = (proto === 17 ? 8 : 20) + payload;
  const h = eth(0x0800, o.vlan);
  const ip = h.length;
  const f = new Uint8Array(ip + 20 + l4len);
  f.set(h);
  f.set([0x45, 0, (20 + l4len) >> 8, (20 + l4len) & 0xff, 0, 1, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], ip);
  const l4 = ip + 20;
  if (proto === 17) f.set([0x30, 0x39, 0x00, 0x35, l4len >> 8, l4len & 0xff, 0, 0], l4);
  else f.set([0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0x10, 0, 0, 0, 0, 0], l4);
  for (let i = 0; i < payload; i++) f[l4 + (proto === 17 ? 8 : 20) + i] = (i * 7 + 3) & 0xff;
  const ck = ~sum16(f, ip, 20) & 0xffff;
  f[ip + 10] = ck >> 8;
  f[ip + 11] = ck & 0xff;
  const co = l4 + (proto === 17 ? 6 : 16);
  if (!o.zeroUdp) {
    const lk = ~sum16(f, l4, l4len, sum16(f, ip + 12, 8, proto + l4len)) & 0xffff;
    f[co] = lk >> 8;
    f[co + 1] = lk & 0xff;
  }
  if (o.bad === 'ip') f[ip + 10] ^= 0x5a;
  if (o.bad === 'l4') f[co] ^= 0x5a;
  return f;
}

function ipv6UdpFrame(payload: number, bad: boolean): Uint8Array {
  const l4len = 8 + payload;
  const h = eth(0x86dd);
  const ip = h.length;
  const f = new Uint8Array(ip + 40 + l4len);
  f.set(h);
  f.set([0x60, 0, 0, 0, l4len >> 8, l4len & 0xff, 17, 64], ip);
  for (let i = 0; i < 16; i++) {
    f[ip + 8 + i] = i === 0 ? 0xfd : i === 15 ? 1 : 0;
    f[ip + 24 + i] = i === 0 ? 0xfd : i === 15 ? 2 : 0;
  }
  const l4 = ip + 40;
  f.set([0x30, 0x39, 0x00, 0x35, l4len >> 8, l4len & 0xff, 0, 0], l4);
  for (let i = 0; i < payload; i++) f[l4 + 8 + i] = i;
  const lk = ~sum16(f, l4, l4len, sum16(f, ip + 8, 32, 17 + l4len)) & 0xffff;
  f[l4 + 6] = (lk >> 8) ^ (bad ? 0x33 : 0);
  f[l4 + 7] = lk & 0xff;
  return f;
}

function arpFrame(): Uint8Array {
  const f = new Uint8Array(60);
  f.set(eth(0x0806));
  return f;
}

/** Puts frames into a ring as mbufs of testpmd's pool (with RX ol_flags, and the data moved off alignment on request). */
function inject(ring: string, frames: Uint8Array[], flags: number[] = [], shift: number[] = []): void {
  const pool = P.mempoolLookup('mb_pool_0')!;
  const r = P.ringLookup(ring)!;
  const h = new Uint32Array(frames.length);
  for (let i = 0; i < frames.length; i++) {
    const m = P.pktmbufAlloc(pool);
    if (shift[i]) P.mbuf.setDataOff(m, P.mbuf.dataOff(m) + shift[i]);
    const at = P.mbuf.append(m, frames[i].length);
    P.mem().u8.set(frames[i], at);
    P.mbuf.setOlFlags(m, flags[i] ?? 0);
    h[i] = m;
  }
  if (r.enqueueBurst(h, frames.length) !== frames.length) throw new Error(`ring ${ring} is full`);
}

interface Taken { bytes: Uint8Array; olFlags: number; txOffload: number; segs: number; dataLens: number[] }

/** Takes every mbuf out of a ring: its bytes and metadata, then frees it. */
function take(ring: string): Taken[] {
  const r = P.ringLookup(ring)!;
  const h = new Uint32Array(64);
  const out: Taken[] = [];
  for (let n; (n = r.dequeueBurst(h, 64)) > 0;) {
    for (let i = 0; i < n; i++) {
      const m = h[i];
      const dataLens: number[] = [];
      for (let s = m; s !== 0; s = P.mbuf.next(s)) dataLens.push(P.mbuf.dataLen(s));
      out.push({ bytes: P.mbuf.packetBytes(m), olFlags: P.mbuf.olFlags(m), txOffload: P.mbuf.txOffload(m), segs: P.mbuf.nbSegs(m), dataLens });
      P.pktmbufFree(m);
    }
  }
  return out;
}

const hex = (b: ArrayLike<number>) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');

/** After the run: every mbuf back in the pool (RX rings were drained by testpmd, the test empties the TX-only rings). */
function poolFull(t: { equal(a: unknown, b: unknown, msg: string): unknown }, rings: string[] = []): () => void {
  return () => {
    for (const r of rings) take(r);
    const pool = P.mempoolLookup('mb_pool_0')!;
    t.equal(pool.availCount(), pool.size, 'every mbuf is back in the pool');
  };
}

const skipUnbuilt = built ? false : `dist/ not built: ${buildLog.slice(0, 400)}`;

t.test('stream layout, port configuration, txonly header (the compiled example\'s pure parts)', { skip: skipUnbuilt }, async (t) => {
  const lay = M.fwdLayout([0, 1], 3, 3, 4, [1, 2, 3, 4]);
  t.equal(fwdConfigDisplay({
    mode: 'io', nbPorts: 2, nbStreams: lay.streams.length,
    lcores: lay.lcores.map((lc) => ({ lcore: lc.lcore, streams: lay.streams.slice(lc.first, lc.first + lc.count).map((s) => ({ ...s, peer: [2, 0, 0, 0, 0, s.txPort] })) })),
  }), DPDK_LAYOUT, '6 streams over 4 cores: 1, 1, 2, 2 as dpdk-testpmd lays them out');
  const pairs = (l: MainModule.FwdLayout) => l.streams.map((s) => `${s.rxPort}/${s.rxQueue}->${s.txPort}/${s.txQueue}`);
  t.same(pairs(M.fwdLayout([0, 1, 2], 1, 1, 1, [1])), ['0/0->1/0', '1/0->0/0', '2/0->2/0'], 'an odd last port pairs with itself');
  t.same(pairs(M.fwdLayout([0, 1], 2, 1, 1, [1])), ['0/0->1/0', '1/0->0/0'], 'one TX queue: queue 0 only, as testpmd');
  t.same(M.fwdLayout([0, 1], 2, 2, 4, [1, 2, 3, 4]).lcores.map((l) => l.count), [1, 1, 1, 1], 'no more lcores than streams');
  t.same(M.fwdLayout([0, 1], 1, 1, 2, [5, 7]).lcores.map((l) => l.lcore), [5, 7], 'the first worker lcores, in order');
  const rssInfo = { flowTypeRssOffloads: RSS_IP | RSS_UDP, txOffloadCapa: 0, retaSize: 128 } as DevInfo;
  const base = { nbRxq: 4, rssHf: RSS_IP, maxPktLen: null, enableRxCksum: false };
  t.match(M.portEthConf(base, rssInfo).conf, { rxmode: { mqMode: 'rss' }, rxAdvConf: { rssConf: { hf: RSS_IP } } }, '--rss-ip');
  t.match(M.portEthConf({ ...base, rssHf: RSS_UDP }, rssInfo).conf, { rxmode: { mqMode: 'rss' }, rxAdvConf: { rssConf: { hf: RSS_UDP } } }, '--rss-udp');
  t.match(M.portEthConf({ ...base, rssHf: RSS_TCP }, rssInfo).conf, { rxmode: { mqMode: 'none' } }, 'types the port lacks: no RSS');
  t.equal(M.portEthConf({ ...base, rssHf: RSS_TCP }, rssInfo).conf.rxAdvConf, undefined);
  t.match(M.portEthConf({ ...base, nbRxq: 1 }, rssInfo).conf, { rxmode: { mqMode: 'none' } }, 'one RX queue: no RSS');
  t.match(M.portEthConf({ ...base, maxPktLen: 9000 }, rssInfo).conf, { rxmode: { maxRxPktLen: 9000 } });
  const h = F.txonlyHeader([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], 64);
  t.equal(h.length, 44);
  t.ok(ipv4Ok(h, 14));
  t.equal(F.ipv4Cksum(Uint8Array.from([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]), 0, 20), 0xb861,
    'the textbook IPv4 header checksum');
});

t.test('bad options: one line naming the problem, the usage, exit code 1 (in-process)', { skip: skipUnbuilt }, async (t) => {
  for (const [args, line] of [
    [['--', '--forward-mode=foo'], "testpmd: invalid --forward-mode 'foo': available modes are io, mac, macswap, rxonly, txonly, csum"],
    [['--', '--rxq', 'many'], "testpmd: invalid --rxq value 'many': the number of RX queues per port, 0 to 16"],
    [['--', '--burst'], "testpmd: option '--burst' requires an argument"],
    [['--', '--tx-first=2'], "testpmd: option '--tx-first' doesn't allow an argument"],
  ] as Array<[string[], string]>) {
    const run = new Run(args);
    t.equal(await run.code, 1, args.join(' '));
    t.equal(run.err.split('\n')[0], line);
    t.match(run.err, /\nUsage: .* \[EAL options\] -- \[testpmd options\]\n/, 'then the usage');
    t.equal(run.out, '', 'nothing on stdout');
  }
});

t.test('every engine over a pair of net_ring ports, frames in and out through the rings', { skip: skipUnbuilt }, async (t) => {
  const run = new Run([...EAL, ...PAIR, '--', '-i', '--no-flush-rx', '--forward-mode=rxonly', '--eth-peer=1,02:12:34:56:78:9a'], {
    onReady: () => {
      inject('in0', Array.from({ length: 100 }, () => arpFrame()));
      inject('in1', Array.from({ length: 50 }, () => arpFrame()));
    },
    onExit: poolFull(t, ['out0', 'out1']),
  });
  const count = (r: string) => P.ringLookup(r)!.count();
  await run.until(/testpmd> $/);
  t.match(run.out, /^Interactive-mode selected\nSet rxonly packet forwarding mode\nConfiguring Port 0 \(socket 0\)\nPort 0: 02:70:63:61:70:[0-9A-F]{2}\n/);

  t.test('rxonly counts what arrives', async (t) => {
    await run.cmd('start');
    t.ok(await waitFor(() => count('in0') === 0 && count('in1') === 0), 'the RX rings were emptied');
    const s = parseStop(await run.cmd('stop'));
    t.match(s.ports.get(0), { rx: 100, rxTotal: 100, tx: 0 });
    t.match(s.ports.get(1), { rx: 50, tx: 0 });
    t.match(s.acc, { rx: 150, rxTotal: 150, tx: 0, txDropped: 0 });
    t.equal(count('out0') + count('out1'), 0, 'rxonly sends nothing');
  });

  t.test('txonly sends testpmd\'s UDP packet of --txpkts size until the ring is full', async (t) => {
    t.equal(await run.cmd('set fwd txonly'), 'Set txonly packet forwarding mode\n');
    const st = await run.cmd('start');
    t.match(st, /txonly packet forwarding - ports=2 - cores=1 - streams=2/);
    t.match(st, /\n {2}packet len=64 - nb packet segments=1\n/);
    t.ok(await waitFor(() => count('out1') >= 512), 'port 1\'s TX ring fills');
    const s = parseStop(await run.cmd('stop'));
    t.equal(s.ports.get(1)!.tx, count('out1'), 'TX-packets is what the ring holds');
    t.equal(s.ports.get(0)!.tx, count('out0'));
    const frames = take('out1');
    take('out0');
    const f = frames[0].bytes;
    t.ok(frames.every((x) => x.bytes.length === 64 && x.segs === 1), '64-byte one-segment packets');
    t.equal(hex(f.subarray(0, 6)), '02:12:34:56:78:9a', 'to the peer of port 1 (--eth-peer)');
    t.equal(hex(f.subarray(6, 12)), hex(P.macAddrGet(1)), 'from port 1');
    t.equal(hex(f.subarray(12, 14)), '08:00');
    t.same([...f.subarray(14, 24)], [0x45, 0, 0, 50, 0, 0, 0, 0, 64, 17], 'IPv4, total length 50, TTL 64, UDP');
    t.same([...f.subarray(26, 34)], [198, 18, 0, 1, 198, 18, 0, 2], '198.18.0.1 -> 198.18.0.2');
    t.ok(ipv4Ok(f, 14), 'IP checksum verifies');
    t.same([...f.subarray(34, 42)], [0, 9, 0, 9, 0, 30, 0, 0], 'UDP 9 -> 9, length 30, no checksum');
    t.equal(frames[0].txOffload, 14 | (20 << 7), 'l2_len 14, l3_len 20');

    t.equal(await run.cmd('set txpkts 60,40'), '');
    t.equal(await run.cmd('show config txpkts'), 'Number of segments: 2\nSegment sizes: 60,40\nSplit packet: off\n');
    t.match(await run.cmd('start'), /packet len=100 - nb packet segments=2/);
    t.ok(await waitFor(() => count('out1') >= 256));
    const s2 = parseStop(await run.cmd('stop'));
    const two = take('out1');
    take('out0');
    t.equal(s2.ports.get(1)!.tx, two.length);
    t.same(two[0].dataLens, [60, 40], 'two segments');
    t.ok(two.every((x) => x.segs === 2 && x.bytes.length === 100));
    t.same([...two[0].bytes.subarray(16, 18)], [0, 86], 'IP total length 86');
    t.same([...two[0].bytes.subarray(38, 40)], [0, 66], 'UDP length 66');
    t.ok(ipv4Ok(two[0].bytes, 14));
    t.equal(await run.cmd('set txpkts 20'), '', 'refused (stderr), as testpmd');
    t.match(run.err, /total packet length=20 < 42 - give up\n/);
    await run.cmd('set txpkts 64');
  });

  t.test('start tx_first N: N bursts of txonly packets on every stream, then the engine', async (t) => {
    await run.cmd('set fwd io');
    await run.cmd('start tx_first 3');
    t.ok(await waitFor(() => count('out0') === 96 && count('out1') === 96), '3 bursts of 32 on each TX ring');
    const s = parseStop(await run.cmd('stop'));
    t.match(s.acc, { rx: 0, tx: 192, txDropped: 0 });
    t.ok(take('out1').every((x) => x.bytes.length === 64));
    take('out0');
  });

  t.test('mac, macswap and io rewrite (or keep) the addresses, aligned or not', async (t) => {
    const frames = [ipv4Frame(17, 30), ipv4Frame(17, 30), arpFrame()];
    const port1 = hex(P.macAddrGet(1));
    for (const [mode, dst, src] of [['mac', '02:12:34:56:78:9a', port1], ['macswap', hex(MAC_B), hex(MAC_A)], ['io', hex(MAC_A), hex(MAC_B)]]) {
      await run.cmd(`set fwd ${mode}`);
      inject('in0', frames, [], [0, 2, 1]);
      const st = await run.cmd('start');
      t.match(st, /RX P=0\/Q=0 \(socket 0\) -> TX P=1\/Q=0 \(socket 0\) peer=02:12:34:56:78:9A\n/, `${mode}: the peer of port 1`);
      t.ok(await waitFor(() => count('out1') === 3), `${mode}: forwarded`);
      await run.cmd('stop');
      const out = take('out1');
      for (const o of out) {
        t.equal(hex(o.bytes.subarray(0, 6)), dst, `${mode}: dst`);
        t.equal(hex(o.bytes.subarray(6, 12)), src, `${mode}: src`);
      }
      t.same(out.map((o) => o.bytes.length), frames.map((f) => f.length));
      t.same([...out[1].bytes.subarray(12)], [...frames[1].subarray(12)], `${mode}: the rest untouched`);
    }
  });

  t.test('csum counts the bad checksums the RX port flagged, fixes them in software, sets the lengths', async (t) => {
    const frames = [
      ipv4Frame(17, 30),
      ipv4Frame(17, 31, { bad: 'ip' }),
      ipv4Frame(6, 40, { bad: 'l4' }),
      ipv4Frame(17, 18, { vlan: true, bad: 'l4' }),
      ipv6UdpFrame(25, true),
      ipv4Frame(17, 20, { zeroUdp: true }),
      arpFrame(),
    ];
    const flags = [0, P.mbuf.RX_IP_CKSUM_BAD | P.mbuf.RX_L4_CKSUM_GOOD, P.mbuf.RX_IP_CKSUM_GOOD | P.mbuf.RX_L4_CKSUM_BAD,
      P.mbuf.RX_IP_CKSUM_GOOD | P.mbuf.RX_L4_CKSUM_BAD, 0, 0, 0];
    await run.cmd('set fwd csum');
    inject('in0', frames, flags, [0, 2, 0, 0, 0, 0, 0]);
    await run.cmd('start');
    t.ok(await waitFor(() => count('out1') === frames.length), 'all forwarded to port 1');
    const stop = await run.cmd('stop');
    const s = parseStop(stop);
    t.match(s.ports.get(0), { rx: 7, badIp: 1, badL4: 2, badOuterL4: 0 }, 'Bad-ipcsum: 1 Bad-l4csum: 2 on the RX port');
    t.match(s.ports.get(1), { tx: 7, badIp: 0, badL4: 0 });
    t.match(stop, /Bad-ipcsum: 1 +Bad-l4csum: 2 +Bad-outer-l4csum: 0 +\n {2}Bad-outer-ipcsum: 0 +\n/);
    const out = take('out1');
    t.equal(out.length, 7);
    for (const o of out) {
      t.equal(hex(o.bytes.subarray(0, 6)), '02:12:34:56:78:9a', 'dst: the peer of port 1');
      t.equal(hex(o.bytes.subarray(6, 12)), hex(P.macAddrGet(1)), 'src: port 1');
    }
    const [good, badIp, badTcp, vlan, v6, zero, arp] = out;
    for (const [o, name] of [[good, 'good'], [badIp, 'bad IP'], [badTcp, 'bad TCP']] as Array<[Taken, string]>) {
      t.ok(ipv4Ok(o.bytes, 14) && l4Ok(o.bytes, 14, false), `${name}: checksums verify after forwarding`);
      t.equal(o.olFlags, P.mbuf.TX_IPV4, `${name}: TX_IPV4 only (the ring port offers no checksum offload)`);
    }
    t.equal(good.txOffload, 14 | (20 << 7) | (8 << 16), 'l2 14, l3 20, l4 8');
    t.equal(badTcp.txOffload, 14 | (20 << 7) | (20 << 16), 'TCP l4_len from its data offset');
    t.ok(ipv4Ok(vlan.bytes, 18) && l4Ok(vlan.bytes, 18, false), 'VLAN-tagged: fixed');
    t.equal(vlan.txOffload & 0x7f, 18, 'l2_len 18 behind a VLAN tag');
    t.ok(l4Ok(v6.bytes, 14, true), 'IPv6/UDP: fixed');
    t.equal(v6.olFlags, P.mbuf.TX_IPV6);
    t.equal(v6.txOffload, 14 | (40 << 7) | (8 << 16));
    t.same([...zero.bytes.subarray(40, 42)], [0, 0], 'a UDP checksum of 0 stays 0');
    t.ok(ipv4Ok(zero.bytes, 14));
    t.same([...arp.bytes.subarray(12)], [...arpFrame().subarray(12)], 'not IP: forwarded as it is');
    t.equal(arp.olFlags, 0);
  });

  t.test('quit', async (t) => {
    run.send('quit');
    t.equal(await run.code, 0, run.err);
    t.match(run.out, /testpmd> quit\n\nStopping port 0\.\.\.\nStopping ports\.\.\.\nDone\n[\s\S]*Port 1 is closed\nDone\n\nBye\.\.\.\n$/);
  });
});

t.test('ports with RSS, TX checksum offload and jumbo frames', { skip: skipUnbuilt }, async (t) => {
  const { RingPort } = RP;
  const confs: EthConf[] = [];
  class FeaturePort extends RingPort {
    hf = 0;
    override infoGet(): DevInfo {
      return {
        ...super.infoGet(), maxRxPktLen: 16128, maxMtu: 16110, retaSize: 128, hashKeySize: 40, flowTypeRssOffloads: RSS_IP | RSS_UDP | RSS_TCP,
        txOffloadCapa: P.TX_OFFLOAD_IPV4_CKSUM | P.TX_OFFLOAD_UDP_CKSUM | P.TX_OFFLOAD_TCP_CKSUM,
      };
    }
    override configure(_rx?: number, _tx?: number, conf?: EthConf): void {
      confs.push(conf!);
      this.hf = conf?.rxmode?.mqMode === 'rss' ? conf.rxAdvConf?.rssConf?.hf ?? 0 : 0;
    }
    rssHashConfGet(): { key: Uint8Array; hf: number } {
      return { key: Uint8Array.from({ length: 40 }, (_, i) => i), hf: this.hf };
    }
  }
  const run = new Run([...EAL, '--', '-i', '--no-flush-rx', '--rxq=2', '--txq=2', '--forward-mode=csum', '--max-pkt-len=9000'], {
    onInit: async () => {
      const pmd = await P.loadPmd('net_ring');
      for (const p of [0, 1]) P.ethDevAllocate(`net_feat${p}`, new FeaturePort(`net_feat${p}`, 40 + p, [`f${p}q0`, `f${p}q1`], [`g${p}q0`, `g${p}q1`]), pmd);
    },
    onReady: () => inject('f0q0', [ipv4Frame(17, 30, { bad: 'ip' })], [P.mbuf.RX_IP_CKSUM_BAD]),
    onExit: poolFull(t, ['g0q0', 'g0q1', 'g1q0', 'g1q1']),
  });
  await run.until(/testpmd> $/);
  t.match(confs[0], { rxmode: { mqMode: 'rss', maxRxPktLen: 9000 }, rxAdvConf: { rssConf: { hf: RSS_IP } }, txmode: { offloads: 0xe } },
    'mqMode rss over --rss-ip\'s types (the default), maxRxPktLen, the checksum TX offloads the port has');
  t.match(run.err, /create a new mbuf pool <mb_pool_0>: n=\d+, size=9128, socket=0/, 'jumbo frames get a larger data room');
  t.equal(await run.cmd('show port 0 rss-hash'), 'RSS functions:\n  ip  ipv4  ipv4-frag  ipv6  ipv6-frag  ipv6-ex\n');
  t.equal(await run.cmd('show port 1 rss-hash key'),
    'RSS functions:\n  ip  ipv4  ipv4-frag  ipv6  ipv6-frag  ipv6-ex\nRSS key:\n000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F2021222324252627\n');
  const info = await run.cmd('show port info 0');
  t.match(info, /\nMTU: 8982\nMinimum MTU: 68\nMaximum MTU: 16110\n/);
  t.match(info, /\nHash key size in bytes: 40\nRedirection table size: 128\nSupported RSS offload flow types:\n {2}ipv4 {2}ipv4-frag {2}ipv4-tcp {2}ipv4-udp {2}ipv6 {2}ipv6-frag\n {2}ipv6-tcp {2}ipv6-udp {2}ipv6-ex {2}ipv6-tcp-ex {2}ipv6-udp-ex\n/);
  t.match(info, /\nCurrent number of RX queues: 2\n/);
  t.equal(await run.cmd('show port 0 tx_offload capabilities'), 'Tx Offloading Capabilities of port 0 :\n  Per Queue : IPV4_CKSUM UDP_CKSUM TCP_CKSUM\n  Per Port  :\n\n');
  await run.cmd('start');
  t.ok(await waitFor(() => P.ringLookup('g1q0')!.count() === 1));
  await run.cmd('stop');
  const [o] = take('g1q0');
  t.equal(o.olFlags, P.mbuf.TX_IPV4 | P.mbuf.TX_IP_CKSUM | P.mbuf.TX_UDP_CKSUM, 'the TX port offers the offloads: flags, not software');
  t.notOk(ipv4Ok(o.bytes, 14), 'the IP checksum is left for the port to write');
  t.equal(o.txOffload, 14 | (20 << 7) | (8 << 16));
  run.input.end();
  t.equal(await run.code, 0, 'end of input quits');
  t.match(run.out, /Bye\.\.\.\n$/);
});

// ---- the command line, as a script runs it -------------------------------------------------------------------------

interface Child { code: number | null; signal: string | null; stdout: string; stderr: string }

/** Runs the compiled testpmd; `steps` feed stdin: a command, a wait for output, a pause, or an action. */
function child(args: string[], steps: Array<string | RegExp | number | ((c: ChildProcessWithoutNullStreams) => void)> = [],
  o: { cmd?: string[]; endInput?: boolean } = {}): Promise<Child> {
  return new Promise((resolve, reject) => {
    const cmd = o.cmd ?? [process.execPath, distMain];
    const c = spawn(cmd[0], [...cmd.slice(1), ...args], { cwd: root, env: { ...process.env, PKTIO_LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    const kill = setTimeout(() => c.kill('SIGKILL'), 40000);
    c.stdout.on('data', (d: Buffer) => { stdout += d; });
    c.stderr.on('data', (d: Buffer) => { stderr += d; });
    c.on('error', reject);
    c.on('close', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr });
    });
    void (async () => {
      let from = 0;
      for (const s of steps) {
        if (typeof s === 'string') c.stdin.write(`${s}\n`);
        else if (typeof s === 'number') await sleep(s);
        else if (typeof s === 'function') s(c);
        else {
          const end = Date.now() + 30000;
          let m: RegExpExecArray | null = null;
          while (!(m = s.exec(stdout.slice(from))) && Date.now() < end && c.exitCode === null) await sleep(20);
          if (m) from += m.index + m[0].length;
        }
      }
      if (o.endInput !== false) c.stdin.end();
    })();
  });
}

/**
 * Runs the children side by side (start returns once the lcores forward, so sharing the CPUs only slows the runs
 * down). Not while an in-process EAL has this thread pinned to one CPU: a child would inherit that affinity.
 */
async function startCli() {
  const help = await child(['--', '--help']);
  const ex = /^Example: (.*)$/m.exec(help.stdout)![1].split(' ');
  const section = help.stdout.slice(help.stdout.indexOf('Interactive commands (-i):\n')).split('\n\n')[0].split('\n').slice(1);
  // "(a|b)": each alternative; "[x]": without and with; port_id -> 0, N -> 2, x[,y]* -> 60,40
  const expand = (s: string): string[] => {
    const m = /\(([^()]*)\)|\[([^[\]]*)\]/.exec(s);
    if (!m) return [s.replace(/port_id/g, '0').replace(/\bN\b/g, '2')];
    const alts = m[1] !== undefined ? m[1].split('|') : ['', ...m[2].split('|')];
    return alts.flatMap((a) => expand(s.slice(0, m.index) + a + s.slice(m.index + m[0].length)).map((x) => x.replace(/\s+/g, ' ').trim()));
  };
  const cmds = section.map((l) => l.trim().replace('(x[,y]*)', '60,40')).flatMap(expand).filter((c) => c !== 'quit');
  const one = ['--no-pci', '--no-huge', '-m', '64', '-l', `${c0},${c1}`, '--vdev', 'net_null0', '--vdev', 'net_null1'];
  return {
    help, ex, cmds,
    eal: child(['-h']),
    bogus: child(['--no-pci', '--', '--bogus']),
    nbCores: child([...one, '--', '--nb-cores=2']),
    noLcore: child(['--no-pci', '--no-huge', '-m', '64', '-l', `${c0}`, '--vdev', 'net_null0', '--', '-i']),
    portmask: child([...one, '--', '--portmask=0x4']),
    multi: child(['--no-pci', '--no-huge', '-m', '128', '--lcores', `0@${c0},1@${c1},2@${c0}`, '--vdev', 'net_null0', '--vdev', 'net_null1',
      '--', '--rxq=2', '--txq=2', '--nb-cores=2', '--duration=0.5']),
    sigint: child(['--no-pci', '--no-huge', '-m', '128', '-l', `${c0},${c1}`, '--vdev', 'net_ring0', '--vdev', 'net_ring1', '--',
      '--tx-first', '--stats-period=1'], [/Port statistics =+(\n.*){21}/, (c) => c.kill('SIGINT')], { endInput: false }),
    enter: child(['--no-pci', '--no-huge', '-m', '128', '-l', `${c0},${c1}`, '--vdev', 'net_null0', '--vdev', 'net_null1', '--',
      '--forward-mode=rxonly', '--burst=64'], [/Press enter to exit\n/, 300, '']),
    example: !cpus.includes(0) || !cpus.includes(1) ? null : child(ex.slice(2), [/testpmd> /, 'start', /testpmd> /, 300,
      'show port stats all', /testpmd> /, 'stop', /Done\.\n/, ...cmds.flatMap((c) => [c, /testpmd> /]), 'quit'], { cmd: [process.execPath, ex[1]] }),
  };
}

t.test('the command line', { skip: skipUnbuilt }, async (t) => {
  const cli = await startCli();
  const { help, ex, cmds } = cli;
  const [eal, bogus, nbCores, noLcore, portmask, multi, sigint, enter, example] = await Promise.all([
    cli.eal, cli.bogus, cli.nbCores, cli.noLcore, cli.portmask, cli.multi, cli.sigint, cli.enter, cli.example]);

  t.test('--help: every option on one line, the interactive commands, an example', async (t) => {
    t.equal(help.code, 0);
    t.match(help.stdout, /^\nUsage: node dist\/examples\/testpmd\/main\.js \[EAL options\] -- \[testpmd options\]\n/);
    t.match(help.stdout, /^ {2}--stats-period=PERIOD: statistics will be shown every PERIOD seconds/m);
    t.match(help.stdout, /\nInteractive commands \(-i\):\n {2}start\n/);
    t.equal(eal.code, 0);
    t.match(eal.stdout, /EAL options:[\s\S]*--forward-mode=N/, '-h (an EAL option) prints both usages');
  });

  t.test('an unknown option: one line naming it, the usage, exit code 1', async (t) => {
    t.equal(bogus.code, 1);
    t.equal(bogus.stderr.split('\n')[0], "testpmd: unrecognized option '--bogus'");
    t.match(bogus.stderr, /\nUsage: node dist\/examples\/testpmd\/main\.js \[EAL options\] -- \[testpmd options\]\n/);
    t.equal(bogus.stdout, '');
  });

  t.test('set-ups that cannot forward: one line saying what to change, exit code 1', async (t) => {
    t.equal(nbCores.code, 1);
    t.match(nbCores.stderr, /^testpmd: nb-cores should be > 0 and <= 1: --nb-cores=2 needs 2 worker lcores and -l gives 1 \(\d+\); add lcores/m);
    t.equal(noLcore.code, 1);
    t.match(noLcore.stderr, /^testpmd: no forwarding lcore: testpmd forwards on worker lcores and -l gives only the main one; add one/m);
    t.equal(portmask.code, 1);
    t.match(portmask.stderr, /^testpmd: --portmask names port\(s\) 2 that do not exist \(ports: 0,1\)$/m);
  });

  t.test('4 streams over 2 forwarding cores: the layout, and stream counters that add up to the ports\'', async (t) => {
    const r = multi;
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /\nio packet forwarding - ports=2 - cores=2 - streams=4 - NUMA support enabled, MP allocation mode: native\nLogical Core 1 \(socket 0\) forwards packets on 2 streams:\n {2}RX P=0\/Q=0 \(socket 0\) -> TX P=1\/Q=0 \(socket 0\) peer=02:00:00:00:00:01\n {2}RX P=1\/Q=0 \(socket 0\) -> TX P=0\/Q=0 \(socket 0\) peer=02:00:00:00:00:00\nLogical Core 2 \(socket 0\) forwards packets on 2 streams:\n {2}RX P=0\/Q=1 \(socket 0\) -> TX P=1\/Q=1 \(socket 0\) peer=02:00:00:00:00:01\n {2}RX P=1\/Q=1 \(socket 0\) -> TX P=0\/Q=1 \(socket 0\) peer=02:00:00:00:00:00\n\n/);
    t.match(r.stdout, /\n {2}nb forwarding cores=2 - nb forwarding ports=2\n {2}port 0: RX queue number: 2 Tx queue number: 2\n/);
    const s = parseStop(lastStop(r.stdout));
    t.same(s.streams.map((x) => `${x.rxPort}/${x.rxQueue}->${x.txPort}/${x.txQueue}`), ['0/0->1/0', '1/0->0/0', '0/1->1/1', '1/1->0/1'], 'a block per stream');
    for (const p of [0, 1]) {
      const pb = s.ports.get(p)!;
      const rx = s.streams.filter((x) => x.rxPort === p).reduce((a, x) => a + x.rx, 0);
      const tx = s.streams.filter((x) => x.txPort === p).reduce((a, x) => a + x.tx, 0);
      t.ok(rx > 0, `port ${p}: ${rx} received`);
      t.equal(pb.rx, rx, `port ${p}: RX-packets is the sum of its streams'`);
      t.equal(pb.tx, tx, `port ${p}: TX-packets is the sum of the streams sending on it`);
    }
    t.ok(s.streams.every((x) => x.rx === x.tx && x.dropped === 0), 'io: each stream sent all it received');
  });

  t.test('io over two looped net_ring ports with --tx-first and --stats-period, until SIGINT', async (t) => {
    const r = sigint;
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^Ports to start sending a burst of packets first\n/m);
    t.match(r.stdout, /\x1b\[2J\x1b\[1;1H\nPort statistics ====================================\n {2}#{24} NIC statistics for port 0 {2}#{24}\n {2}RX-packets: \d+ +RX-missed: 0 +RX-bytes: {2}\d+\n {2}RX-errors: 0\n {2}RX-nombuf: {2}0 +\n {2}TX-packets: \d+ +TX-errors: 0 +TX-bytes: {2}\d+\n\n {2}Throughput \(since last show\)\n {2}Rx-pps: +\d+ +Rx-bps: +\d+\n {2}Tx-pps: +\d+ +Tx-bps: +\d+\n {2}#{76}\n/,
      'the periodic block');
    const s = parseStop(lastStop(r.stdout));
    const p0 = s.ports.get(0)!;
    const p1 = s.ports.get(1)!;
    t.ok(p0.rx > 1000, `${p0.rx} packets went round`);
    t.equal(p1.tx, p0.rx + 32, 'port 1 sent what port 0 received, plus its first burst');
    t.equal(p0.tx, p1.rx + 32);
    t.equal(s.acc.tx - s.acc.rx, 64, 'in the rings at stop: the two first bursts');
    t.equal(s.acc.txDropped + s.acc.rxDropped, 0);
    t.equal(s.streams.length, 0, 'no per-stream blocks when there are as many streams as ports');
    t.notMatch(r.stdout, /Press enter/);
    t.match(r.stdout, /\nDone\.\n\nStopping port 0\.\.\.\nStopping ports\.\.\.\nDone\n[\s\S]*Port 1 is closed\nDone\n\nBye\.\.\.\n$/);
    t.notMatch(r.stderr, /not returned to the pool/);
  });

  t.test('non-interactive without --stats-period: Enter stops it, as testpmd', async (t) => {
    const r = enter;
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^Set rxonly packet forwarding mode\n/m);
    t.match(r.stdout, /rxonly packet forwarding packets\/burst=64/);
    const s = parseStop(lastStop(r.stdout));
    t.ok(s.acc.rx > 0);
    t.equal(s.acc.tx, 0);
  });

  t.test('the usage\'s example works as printed, and so does every interactive command the usage lists',
    { skip: example ? false : 'the example uses CPUs 0 and 1' }, async (t) => {
    t.equal(ex.slice(0, 2).join(' '), 'node dist/examples/testpmd/main.js');
    t.ok(cmds.length >= 35, `${cmds.length} commands`);
    const r = example!;
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /Logical Core 1 \(socket 0\) forwards packets on 4 streams:\n {2}RX P=0\/Q=0 \(socket 0\) -> TX P=1\/Q=0 \(socket 0\) peer=02:00:00:00:00:01\n/);
    const s = parseStop(r.stdout.slice(r.stdout.indexOf('Telling cores to stop'), r.stdout.indexOf('\nDone.\n') + 7));
    t.equal(s.streams.length, 4, 'a block per stream (4 streams, 2 ports)');
    t.ok(s.acc.rx > 0 && s.acc.rx === s.acc.tx);
    t.notMatch(r.stdout, /Bad arguments|Command not found/, 'no command was refused');
    for (const c of cmds) t.ok(r.stdout.includes(`testpmd> ${c}\n`), `ran: ${c}`);
    t.match(r.stdout, /\*{21} Infos for port 0 {2}\*{21}\nMAC address: 02:00:00:4E:55:[0-9A-F]{2}\nDevice name: net_null0\nDriver name: net_null\n/);
    t.match(r.stdout, /###### NIC extended statistics for port 1 \nrx_good_packets: \d+\n/);
    t.match(r.stdout, /Number of available ports: 2\nPort MAC Address {7}Name {9}Driver {9}Status {3}Link\n0 {4}02:00:00:4E:55/);
    t.match(r.stdout, /\n {2}NIC statistics for port 0 cleared\n/);
    t.match(r.stdout, /Set csum packet forwarding mode\n/);
    t.match(r.stdout, /\nHelp is available for the following sections:\n/);
    t.match(r.stderr, /Packet forwarding already started\n/);
    t.match(r.stderr, /dev_info did not provide a valid hash key size\n/, 'net_null has no RSS: testpmd\'s message');
    t.match(r.stdout, /Shutting down port 1\.\.\.\nClosing ports\.\.\.\nPort 1 is closed\nDone\n\nBye\.\.\.\n$/);
  });
});
