// Devices under test for the RFC 2544 runner: something that forwards between two ports wired to the generator's
// two ports. pktio's l2fwd and dpdk-testpmd (io forwarding) are started here as their own processes; 'bridge' is a
// Linux bridge made here over the DUT ends of --medium af_packet's veth pairs; 'external' is a device the user
// wired and started (a switch, a box on the bench).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Testpmd } from './dpdk/testpmd.js';
import { BenchError, hugeArgs, keepOutput, repoRoot, sleep } from './common.js';

export type DutKind = 'pktio' | 'testpmd' | 'bridge' | 'external';

export const DUT_LABEL: Record<DutKind, string> = { pktio: 'pktio l2fwd', testpmd: 'DPDK testpmd', bridge: 'Linux bridge', external: 'external DUT' };

/** The bridge that --dut bridge makes (one at a time: the runner's veth names are fixed too). */
export const BRIDGE = 'pk2544br';

export interface Dut {
  kind: DutKind;
  label: string;
  /** stops the DUT; returns its ports' counters as it counted them, one line a port (none for 'external') */
  stop(): Promise<string[]>;
}

/**
 * The application options that make a DUT receive frames up to `maxPktLen` bytes with FCS (0: its default, 1518).
 * Both keep their 2 KB mbufs and receive a jumbo frame as a chain: l2fwd's ports chain RX buffers; testpmd asks for
 * scattered RX (--enable-scatter) and sets the MTU from --max-pkt-len.
 */
export function dutJumboArgs(kind: DutKind, maxPktLen: number): string[] {
  if (maxPktLen === 0 || kind === 'external' || kind === 'bridge') return [];
  // --enable-scatter: DPDK's virtio refuses an RX queue whose frames exceed its mbufs without the SCATTER offload
  // ("Fail to configure port 0 rx queues", mergeable buffers or not); em and igb turn it on by themselves
  return kind === 'testpmd' ? [`--max-pkt-len=${maxPktLen}`, '--enable-scatter'] : ['--max-pkt-len', String(maxPktLen)];
}

/**
 * Starts a DUT on two ports, given as EAL options (['--vdev', 'net_memif0,...', '--vdev', ...] or ['-a', BDF, ...]).
 * Its forwarding lcore runs on CPU `fwdCpu`, its main lcore on `mainCpu` (keep the generator's worker elsewhere).
 * maxPktLen > 0: the DUT takes frames up to that length (jumbo frames, dutJumboArgs).
 */
export async function startDut(kind: DutKind, portArgs: string[], cpus: { fwd: number; main: number }, maxPktLen = 0): Promise<Dut> {
  if (kind === 'external') return { kind, label: DUT_LABEL.external, stop: async () => [] };
  if (kind === 'bridge') return startBridge(portArgs.flatMap((a) => /iface=([^,]+)/.exec(a)?.[1] ?? []), maxPktLen);
  const lcores = `0@${cpus.fwd},1@${cpus.main}`;
  if (kind === 'testpmd') {
    const vdevs = portArgs.filter((_, i) => portArgs[i - 1] === '--vdev');
    const other = portArgs.filter((a, i) => a !== '--vdev' && portArgs[i - 1] !== '--vdev');
    // DPDK maps lcore N to CPU N: lcore fwd forwards, the other is testpmd's main lcore
    const tp = await Testpmd.start({
      lcores: `${cpus.fwd},${cpus.main}`, ealArgs: ['--main-lcore', String(cpus.main), ...other], vdevs, fwd: 'io', pci: other.includes('-a'),
      appArgs: dutJumboArgs(kind, maxPktLen),
      // NICs under emulation (the VM rig's TCG) take testpmd well over the default 20 s to reach its prompt
      startTimeoutMs: other.includes('-a') ? 90000 : undefined,
    });
    // a testpmd that does not answer is stopped before the error goes up: left running, its pipes would keep the
    // runner's process alive
    await tp.cmd('start').catch(async (e) => { await tp.quit(); throw e; });
    // testpmd configures its ports before its first prompt and stays up when that fails (e.g. "Frame size (9018) >
    // device max frame size (1518)": DPDK's memif has no jumbo frames); say so here, not as a link that stays down.
    // Its errors go to stderr, the prompt to stdout: read after the round trip of 'start' (which then refuses too)
    const failed = tp.linesMatching(/Fail to (configure|start) port|Start ports failed|> device max frame size|Not all ports were started/);
    if (failed.length) {
      await tp.quit();
      throw new BenchError(`dpdk-testpmd could not start its ports: ${failed.join('; ')}` +
        (maxPktLen ? ` (frames of ${maxPktLen} bytes: leave out --jumbo and sizes above 1518, or testpmd from --dut)` : ''));
    }
    return { kind, label: DUT_LABEL.testpmd, stop: async () => {
      const st = await tp.portStats().catch(() => []);
      await tp.quit();
      return st.map((p) => `port ${p.port}: rx ${p.rxPackets} missed ${p.rxMissed} errors ${p.rxErrors} nombuf ${p.rxNombuf}, tx ${p.txPackets} errors ${p.txErrors}`);
    } };
  }
  // the built l2fwd (npm run build), also when this runs from source: its lcores are worker threads, which a
  // TypeScript loader of the parent process would not reach
  const main = path.join(repoRoot, 'dist/examples/l2fwd/main.js');
  const args = [main, '--lcores', lcores, '--main-lcore', '1', ...hugeArgs(false),
    '--file-prefix', `pktio-dut-${process.pid}`, '--log-level', 'warn', ...portArgs, '--', '-P', '-q', '2', '-T', '0', '--no-mac-updating',
    ...dutJumboArgs(kind, maxPktLen)];
  // taskset: a child inherits the CPU mask of the thread that spawns it, and this process's main lcore is pinned
  const child = spawn('taskset', ['-c', `${cpus.fwd},${cpus.main}`, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const t0 = Date.now();
  while (!out.includes('L2FWD: MAC updating')) {
    if (child.exitCode !== null || Date.now() - t0 > 30000) {
      child.kill('SIGKILL');
      throw new BenchError(`pktio l2fwd did not start as the DUT (output: ${keepOutput('rfc2544-l2fwd', out)})`);
    }
    await sleep(100);
  }
  return { kind, label: DUT_LABEL.pktio, stop: async () => stopChild(child, exited, () => out) };
}

/** SIGINT, SIGKILL 10 s later; returns l2fwd's "Port N counters: ..." lines (its ethdev counters at exit). */
async function stopChild(child: ChildProcess, exited: Promise<number | null>, out: () => string): Promise<string[]> {
  child.kill('SIGINT');
  const t = setTimeout(() => child.kill('SIGKILL'), 10000);
  await exited;
  clearTimeout(t);
  return out().split('\n').filter((l) => /^Port \d+ counters:/.test(l)).map((l) => l.replace(/^Port (\d+) counters: /, 'port $1: '));
}

/** Runs `ip ARGS` (veth pairs, the bridge); a failure throws with ip's message unless mayFail. */
export function ip(args: string[], mayFail = false): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0 && !mayFail) {
    throw new BenchError(`ip ${args.join(' ')}: ${(r.stderr ?? '').trim() || `exit ${r.status}`} (--medium af_packet and --dut bridge need root and iproute2)`);
  }
}

/** An interface's kernel counters (/sys/class/net/IF/statistics). */
function netStats(ifname: string): Record<string, number> {
  const dir = `/sys/class/net/${ifname}/statistics`;
  return Object.fromEntries(['rx_packets', 'tx_packets', 'rx_dropped', 'tx_dropped'].map((k) => [k, Number(fs.readFileSync(`${dir}/${k}`, 'utf8'))]));
}

/**
 * A Linux bridge joining the given interfaces (the DUT ends of veth pairs): STP off, so its ports forward at once;
 * no IPv6 on it, so it sends nothing of its own. Stopping reads each port's kernel counters and deletes the bridge.
 */
function startBridge(ifaces: string[], maxPktLen: number): Dut {
  if (ifaces.length !== 2) throw new BenchError('--dut bridge joins two interfaces: run it with --medium af_packet');
  ip(['link', 'del', BRIDGE], true);
  ip(['link', 'add', BRIDGE, 'type', 'bridge', 'stp_state', '0']);
  try {
    spawnSync('sysctl', ['-q', '-w', `net.ipv6.conf.${BRIDGE}.disable_ipv6=1`]);
    for (const i of ifaces) {
      // the veth's MTU for frames above 1518 (with FCS; the MTU counts neither the header nor the FCS)
      if (maxPktLen > 0) ip(['link', 'set', i, 'mtu', String(maxPktLen - 18)]);
      ip(['link', 'set', i, 'master', BRIDGE]);
    }
    ip(['link', 'set', BRIDGE, 'up']);
  } catch (e) {
    ip(['link', 'del', BRIDGE], true);
    throw e;
  }
  const before = ifaces.map(netStats);
  return {
    kind: 'bridge', label: DUT_LABEL.bridge, stop: async () => {
      const lines = ifaces.map((i, n) => {
        const s = netStats(i);
        const d = (k: string) => s[k] - before[n][k];
        return `port ${n} (${i}): rx ${d('rx_packets')} dropped ${d('rx_dropped')}, tx ${d('tx_packets')} dropped ${d('tx_dropped')}`;
      });
      ip(['link', 'del', BRIDGE], true);
      return lines;
    },
  };
}
