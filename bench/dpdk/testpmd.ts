// dpdk-testpmd as a peer and a yardstick: started interactive (-i) with the vdevs a test or bench names, driven
// command by command at its prompt, its port counters parsed from "show port stats". One driver for the
// benches and the interop tests, so both read testpmd the same way.
//
//   const tp = await Testpmd.start({ vdevs: ['net_memif0,role=server,socket=/run/x.sock'], fwd: 'io' });
//   await tp.cmd('start');
//   const [p0] = await tp.portStats();
//   await tp.quit();
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';

export const NO_TESTPMD = 'dpdk-testpmd is not installed: apt-get install -y dpdk-dev (Debian\'s DPDK), then run again';

export function testpmdPath(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v dpdk-testpmd'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export interface TestpmdOptions {
  /** EAL -l (default '0,1': main lcore 0, one forwarding lcore) */
  lcores?: string;
  vdevs: string[];
  /** --forward-mode (default io) */
  fwd?: string;
  /** more testpmd application options (after --), e.g. ['--rxq=2', '--txq=2', '--burst=32'] */
  appArgs?: string[];
  /** more EAL options */
  ealArgs?: string[];
  /** EAL --file-prefix (default unique per process and instance) */
  filePrefix?: string;
  /** mbufs in testpmd's pool (default 16384) */
  mbufs?: number;
  /** how long to wait for the first prompt, ms (default 20000) */
  startTimeoutMs?: number;
  /** probe PCI devices (ports given with -a in ealArgs: a NIC in the VM rig); default --no-pci, vdevs only */
  pci?: boolean;
}

export interface TestpmdPortStats {
  port: number;
  rxPackets: number;
  rxMissed: number;
  rxBytes: number;
  rxErrors: number;
  rxNombuf: number;
  txPackets: number;
  txErrors: number;
  txBytes: number;
  rxPps: number;
  txPps: number;
}

export class TestpmdError extends Error {}

/** The machine's online CPUs as a taskset list ("0-1"). */
function onlineCpus(): string {
  try {
    return fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  } catch {
    return `0-${os.cpus().length - 1}`;
  }
}

let instances = 0;

/** EAL memory options for a peer on this machine: 2 MiB hugepages when enough are free, else --no-huge. */
export function testpmdMemArgs(): string[] {
  try {
    const free = Number(fs.readFileSync('/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages', 'utf8'));
    const mounted = fs.readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[2] === 'hugetlbfs');
    if (mounted && free >= 64) return ['-m', '128'];
  } catch { /* fall through */ }
  return ['--no-huge', '-m', '512'];
}

export class Testpmd {
  readonly child: ChildProcessWithoutNullStreams;
  /** everything testpmd printed so far, stdout and stderr in the order their chunks arrived (for messages) */
  out = '';
  /**
   * stdout alone: the prompt and what commands print. Searched for the prompt apart from stderr because the two
   * pipes' chunks interleave: testpmd's prompt after a refused 'start' arrived as "testpm", then stderr's "Not all
   * ports were started", then "d> ", and a prompt searched in the merged text was never found
   */
  private stdout = '';
  /** stderr alone: testpmd's errors, whole lines however stdout's chunks fell between them */
  private stderr = '';
  private exitCode: number | null | undefined = undefined;
  private readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  private readonly filePrefix: string;

  private constructor(child: ChildProcessWithoutNullStreams, filePrefix: string) {
    this.child = child;
    this.filePrefix = filePrefix;
    const onData = (d: Buffer, isOut: boolean) => {
      const s = d.toString();
      this.out += s;
      if (isOut) this.stdout += s;
      else this.stderr += s;
      for (const w of this.waiters.splice(0)) w();
    };
    child.stdout.on('data', (d: Buffer) => onData(d, true));
    child.stderr.on('data', (d: Buffer) => onData(d, false));
    // a testpmd that died closes its stdin: the next write fails with EPIPE, which running/exit already report
    child.stdin.on('error', () => {});
    this.exited = new Promise((r) => child.on('exit', (c) => {
      this.exitCode = c;
      removeRuntimeFiles(this.filePrefix);
      for (const w of this.waiters.splice(0)) w();
      r(c);
    }));
  }

  /** Starts testpmd and waits for its first prompt; throws with its output when it exits first. */
  static async start(o: TestpmdOptions): Promise<Testpmd> {
    const bin = testpmdPath();
    if (!bin) throw new TestpmdError(NO_TESTPMD);
    const prefix = o.filePrefix ?? `pktio-peer-${process.pid}-${instances++}`;
    const args = ['-oL', bin, '-l', o.lcores ?? '0,1', '-n', '1', ...(o.pci ? [] : ['--no-pci']), ...testpmdMemArgs(),
      '--file-prefix', prefix, '--log-level', 'warning',
      ...(o.ealArgs ?? []), ...o.vdevs.flatMap((v) => ['--vdev', v]), '--', '-i', `--forward-mode=${o.fwd ?? 'io'}`,
      `--total-num-mbufs=${o.mbufs ?? 16384}`, ...(o.appArgs ?? [])];
    // stdbuf: testpmd prints its statistics with stdio, which a pipe would otherwise buffer. taskset: a child
    // inherits the CPU mask of the thread that spawns it, and a pktio main lcore is pinned to one CPU; testpmd's
    // control threads would then share that CPU in one round of a bench and not in the other
    const child = spawn('taskset', ['-c', onlineCpus(), 'stdbuf', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const tp = new Testpmd(child, prefix);
    // no prompt: kill it, or its pipes keep the caller's process alive after the error
    await tp.untilPrompt(0, o.startTimeoutMs ?? 20000, 'start').catch(async (e) => { await tp.kill(); throw e; });
    return tp;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  private async untilPrompt(from: number, timeoutMs: number, what: string): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const at = this.stdout.indexOf('testpmd> ', from);
      if (at >= 0) return this.stdout.slice(from, at);
      if (!this.running) throw new TestpmdError(`dpdk-testpmd exited (${this.exitCode}) during '${what}': ${this.tail()}`);
      const left = end - Date.now();
      if (left <= 0) throw new TestpmdError(`dpdk-testpmd gave no prompt after '${what}' in ${timeoutMs} ms: ${this.tail()}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  /**
   * The lines that match `re`, stderr's first and then stdout's without the prompts before them. Each stream is read
   * on its own: in the merged text a prompt half ("testpm") that arrived between stderr's chunks starts an error line.
   */
  linesMatching(re: RegExp): string[] {
    const out = this.stdout.split('\n').map((l) => l.replace(/^(testpmd> )+/, ''));
    return [...this.stderr.split('\n'), ...out].map((l) => l.trim()).filter((l) => re.test(l));
  }

  /** The last lines of output, for error messages. */
  tail(lines = 12): string {
    return this.out.trim().split('\n').slice(-lines).join(' | ');
  }

  /** Runs one command at the prompt and returns what it printed on stdout (its errors are in `out`). */
  async cmd(line: string, timeoutMs = 20000): Promise<string> {
    if (!this.running) throw new TestpmdError(`dpdk-testpmd exited (${this.exitCode}) before '${line}': ${this.tail()}`);
    const from = this.stdout.length;
    this.child.stdin.write(`${line}\n`);
    // the echo of the command ends with a newline; its output runs to the next prompt
    const text = await this.untilPrompt(from, timeoutMs, line);
    return text;
  }

  /** "show port stats all", parsed; one entry per port. */
  async portStats(): Promise<TestpmdPortStats[]> {
    return parsePortStats(await this.cmd('show port stats all'));
  }

  /** Writes the output to bench/results (or the OS temp dir) and returns the path, for error messages. */
  keepOutput(dir: string, what: string): string {
    const d = fs.existsSync(dir) ? dir : os.tmpdir();
    const f = path.join(d, `${what}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
    fs.writeFileSync(f, this.out);
    return f;
  }

  /** quit at the prompt, then SIGKILL after timeoutMs. Returns the exit code. */
  async quit(timeoutMs = 15000): Promise<number | null> {
    if (this.running) this.child.stdin.write('quit\n');
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const c = await this.exited;
    clearTimeout(t);
    return c;
  }

  /** Kills testpmd at once (a peer that vanishes). */
  async kill(sig: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.child.kill(sig);
    await this.exited;
  }
}

/**
 * Removes what a testpmd left behind: its hugepage files (DPDK keeps them for secondary processes, so a killed
 * testpmd would hold its pages until the files go) and its runtime directory.
 */
function removeRuntimeFiles(prefix: string): void {
  let mounts: string[] = [];
  try {
    mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[2] === 'hugetlbfs').map((l) => l.split(' ')[1]);
  } catch { /* no /proc: nothing to clean */ }
  for (const dir of mounts) {
    let names: string[] = [];
    try { names = fs.readdirSync(dir); } catch { continue; }
    for (const n of names) if (n.startsWith(`${prefix}map_`)) fs.rmSync(path.join(dir, n), { force: true });
  }
  fs.rmSync(path.join('/var/run/dpdk', prefix), { recursive: true, force: true });
}

/** Parses testpmd's "NIC statistics for port N" blocks. */
export function parsePortStats(text: string): TestpmdPortStats[] {
  const out: TestpmdPortStats[] = [];
  const blocks = text.split(/#+ NIC statistics for port\s+/).slice(1);
  for (const b of blocks) {
    const num = (re: RegExp): number => {
      const m = re.exec(b);
      if (!m) throw new TestpmdError(`testpmd port statistics without ${re.source}: ${b.slice(0, 200)}`);
      return Number(m[1]);
    };
    out.push({
      port: num(/^(\d+)/),
      rxPackets: num(/RX-packets:\s*(\d+)/), rxMissed: num(/RX-missed:\s*(\d+)/), rxBytes: num(/RX-bytes:\s*(\d+)/),
      rxErrors: num(/RX-errors:\s*(\d+)/), rxNombuf: num(/RX-nombuf:\s*(\d+)/),
      txPackets: num(/TX-packets:\s*(\d+)/), txErrors: num(/TX-errors:\s*(\d+)/), txBytes: num(/TX-bytes:\s*(\d+)/),
      rxPps: num(/Rx-pps:\s*(\d+)/), txPps: num(/Tx-pps:\s*(\d+)/),
    });
  }
  return out;
}
