// EAL command line: DPDK's option names and meanings, parsed without side effects.
import { parsePciAddressLoose } from './pciaddr.js';
import { commandName, OptionScanner } from './command.js';

export { commandName, OptionScanner };

export type IovaMode = 'pa' | 'va';
export type VfioFlow = 'auto' | 'legacy' | 'cdev';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LogFormatName = 'pretty' | 'json';

export interface LcoreMap {
  /** lcore id -> CPUs it may run on (DPDK: -l 0-3 maps lcore N to CPU N; --lcores allows lcore@cpu). */
  [lcore: number]: number[];
}

export interface EalConfig {
  lcores: LcoreMap;
  mainLcore: number;
  allow: string[];
  /** driver arguments given with -a BDF,key=value,... (DPDK's PCI devargs), by address; absent when none */
  allowArgs?: Record<string, string>;
  block: string[];
  vdevs: string[];
  noHuge: boolean;
  noPci: boolean;
  hugeDir: string | null;
  memoryMb: number | null;
  iovaMode: IovaMode | null;
  filePrefix: string;
  logLevel: LogLevel;
  /** --log-format; null: not given (pktio's logger keeps its format: pretty, or PKTIO_LOG_FORMAT) */
  logFormat: LogFormatName | null;
  vfioNoIommu: boolean;
  vfioFlow: VfioFlow;
  /** hand /dev/iommu to VFIO groups as their container (the iommufd compat path) */
  vfioIommufdCompat: boolean;
  /** where to map EAL memory (--base-virtaddr), null: let the kernel choose */
  baseVirtaddr: bigint | null;
  help: boolean;
}

/**
 * A message that quotes user input as one line: control characters (a newline inside an argument, NUL, ESC) become
 * escapes such as \n and \u001b, so an error stays one readable line on the terminal whatever was typed.
 */
export function oneLine(msg: string): string {
  return msg.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1));
}

export class EalArgError extends Error {
  constructor(msg: string) {
    super(`${oneLine(msg)}\n\n${usage()}`);
    this.name = 'EalArgError';
  }
}

/** The EAL usage; `prog` defaults to how this program was run (e.g. `node main.js`, `npx pktio-l2fwd`). */
export function usage(prog = commandName()): string {
  return `Usage: ${prog} [EAL options] -- [application options]

EAL options:
  -l, --lcores LIST       lcores to use: 0-3, 0,2,4, or DPDK's lcore@cpu form (1@2,2@(3-4))
  --main-lcore ID         lcore of the main thread (default: the first in the list)
  -a, --allow BDF[,k=v]   probe only these PCI devices (repeatable), e.g. -a 0000:00:03.0; driver arguments after
                          the address, e.g. -a 0000:00:03.0,packed_vq=0
  -b, --block BDF         never probe this PCI device (repeatable)
  --vdev NAME[,k=v...]    add a virtual device, e.g. --vdev net_null0,size=64 --vdev net_ring0
  --no-pci                do not scan the PCI bus
  --no-huge               anonymous memory instead of hugepages (IOVA = VA only)
  --huge-dir DIR          hugetlbfs mount to allocate from (default: the first 2 MiB mount)
  -m MB                   memory to reserve, in MiB (default 256)
  --iova-mode pa|va       IOVA = physical address or virtual address
  --file-prefix NAME      prefix of this process's hugepage files (default: pktio)
  --log-level LEVEL       trace, debug, info, warn, error, fatal or silent (default: info)
  --log-format FORMAT     pretty (one readable line per event, the default) or json (pino's JSON lines)
  --vfio-noiommu          allow VFIO no-IOMMU mode (unsafe: the device can DMA anywhere)
  --vfio-flow MODE        auto, legacy (container/group) or cdev (iommufd) (default: auto)
  --vfio-iommufd-compat   legacy flow with /dev/iommu as the groups' container (kernels 6.2+)
  --base-virtaddr ADDR    map EAL memory at this address, e.g. 0x4000000000 (for IOMMUs with few address bits)
  -h, --help              this help`;
}

const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

function parseInt10(s: string, what: string): number {
  if (!/^\d+$/.test(s)) throw new EalArgError(`invalid ${what} '${s}': expected a non-negative integer`);
  return Number(s);
}

/** Expands "0-3,5" into [0,1,2,3,5]. */
export function parseCpuList(s: string, what = 'lcore list'): number[] {
  const out: number[] = [];
  if (s.length === 0) throw new EalArgError(`empty ${what}`);
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new EalArgError(`invalid ${what} '${s}': expected e.g. 0-3 or 0,2,4`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new EalArgError(`invalid ${what} '${s}': range ${part} runs backwards`);
    if (b >= 1024) throw new EalArgError(`invalid ${what} '${s}': ids must be below 1024`);
    for (let i = a; i <= b; i++) if (!out.includes(i)) out.push(i);
  }
  return out;
}

/** DPDK's --lcores: "0-3" or "1@2,(3-4)@(5-6),7@(0,1)". */
export function parseLcores(s: string): LcoreMap {
  const map: LcoreMap = {};
  if (!s.includes('@') && !s.includes('(')) {
    for (const l of parseCpuList(s)) map[l] = [l];
    return map;
  }
  // split on commas that are not inside parentheses
  const items: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) throw new EalArgError(`invalid --lcores '${s}': unbalanced parentheses`);
    if (ch === ',' && depth === 0) { items.push(cur); cur = ''; } else cur += ch;
  }
  if (depth !== 0) throw new EalArgError(`invalid --lcores '${s}': unbalanced parentheses`);
  items.push(cur);
  const unparen = (x: string) => (x.startsWith('(') && x.endsWith(')') ? x.slice(1, -1) : x);
  for (const item of items) {
    const [ls, cs] = item.split('@');
    const lcores = parseCpuList(unparen(ls), '--lcores');
    const cpus = cs === undefined ? null : parseCpuList(unparen(cs), '--lcores cpu set');
    for (const l of lcores) {
      if (map[l]) throw new EalArgError(`invalid --lcores '${s}': lcore ${l} given twice`);
      map[l] = cpus ?? [l];
    }
  }
  return map;
}

/**
 * Splits argv at "--" and parses the EAL part. Throws EalArgError (message + usage) on bad input.
 * Returns the config and the application's arguments.
 */
export function parseEalArgs(argv: readonly string[]): { config: EalConfig; appArgs: string[] } {
  const sep = argv.indexOf('--');
  const eal = sep < 0 ? argv : argv.slice(0, sep);
  const appArgs = sep < 0 ? [] : argv.slice(sep + 1);
  const c: EalConfig = {
    lcores: { 0: [0] }, mainLcore: -1, allow: [], block: [], vdevs: [], noHuge: false, noPci: false,
    hugeDir: null, memoryMb: null, iovaMode: null, filePrefix: 'pktio', logLevel: 'info', logFormat: null,
    vfioNoIommu: false, vfioFlow: 'auto', vfioIommufdCompat: false, baseVirtaddr: null, help: false,
  };
  for (let i = 0; i < eal.length; i++) {
    let opt = eal[i];
    let val: string | undefined;
    const eq = opt.startsWith('--') ? opt.indexOf('=') : -1;
    if (eq > 0) { val = opt.slice(eq + 1); opt = opt.slice(0, eq); }
    // short options may be glued to their value: -l0-3, -m512
    if (/^-[lambm]./.test(opt) && !opt.startsWith('--')) { val = opt.slice(2); opt = opt.slice(0, 2); }
    const need = (): string => {
      if (val !== undefined) return val;
      const v = eal[++i];
      if (v === undefined || (v.startsWith('-') && v.length > 1 && !/^-\d/.test(v)))
        throw new EalArgError(`option ${opt} needs a value`);
      return v;
    };
    switch (opt) {
      case '-l': case '--lcores': c.lcores = parseLcores(need()); break;
      case '--main-lcore': c.mainLcore = parseInt10(need(), '--main-lcore'); break;
      case '-a': case '--allow': case '-w': {
        const [addr, ...kv] = need().split(',');
        const bdf = parsePciAddressLoose(addr, EalArgError);
        c.allow.push(bdf);
        if (kv.length > 0) (c.allowArgs ??= {})[bdf] = kv.join(',');
        break;
      }
      case '-b': case '--block': c.block.push(parsePciAddressLoose(need(), EalArgError)); break;
      case '--vdev': {
        const v = need();
        if (!/^[a-z_]+\d*(,.*)?$/i.test(v)) throw new EalArgError(`invalid --vdev '${v}': expected NAME[,key=value...]`);
        c.vdevs.push(v);
        break;
      }
      case '--no-huge': c.noHuge = true; break;
      case '--no-pci': c.noPci = true; break;
      case '--huge-dir': c.hugeDir = need(); break;
      case '-m': case '--socket-mem': c.memoryMb = parseMemoryMb(opt, need()); break;
      case '--iova-mode': c.iovaMode = oneOf(opt, need(), ['pa', 'va']); break;
      case '--file-prefix': {
        const v = need();
        if (!/^[\w.-]+$/.test(v)) throw new EalArgError(`invalid --file-prefix '${v}': letters, digits, '.', '_' and '-' only`);
        c.filePrefix = v;
        break;
      }
      case '--log-level': c.logLevel = parseLogLevel(need()); break;
      case '--log-format': c.logFormat = oneOf(opt, need(), ['pretty', 'json']); break;
      case '--vfio-noiommu': c.vfioNoIommu = true; break;
      case '--vfio-iommufd-compat': c.vfioIommufdCompat = true; break;
      case '--vfio-flow': c.vfioFlow = oneOf(opt, need(), ['auto', 'legacy', 'cdev']); break;
      case '--base-virtaddr': c.baseVirtaddr = parseBaseVirtaddr(need()); break;
      case '-n': need(); break; // memory channels: accepted for DPDK compatibility, no meaning here
      case '-h': case '--help': c.help = true; break;
      default:
        throw new EalArgError(`unknown EAL option '${eal[i]}'${opt.startsWith('-') ? '' : ' (application options go after --)'}`);
    }
  }
  checkCombination(c);
  return { config: c, appArgs };
}

/** The options that are each valid but not together; the main lcore defaults to the lowest lcore. */
function checkCombination(c: EalConfig): void {
  const ids = Object.keys(c.lcores).map(Number);
  if (c.mainLcore < 0) c.mainLcore = Math.min(...ids);
  else if (!ids.includes(c.mainLcore)) {
    throw new EalArgError(`--main-lcore ${c.mainLcore} is not in the lcore list (${ids.join(',')})`);
  }
  if (c.allow.length > 0 && c.block.length > 0) throw new EalArgError('options -a and -b cannot be used together');
  if (c.noHuge && c.iovaMode === 'pa') throw new EalArgError('--no-huge gives IOVA = VA only: drop --iova-mode pa or use hugepages');
  if (c.noHuge && c.hugeDir !== null) throw new EalArgError('--no-huge and --huge-dir cannot be used together');
}

/** A value out of a fixed set: "invalid --opt 'x': expected a, b or c". */
function oneOf<const T extends string>(opt: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) {
    const list = `${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}`;
    throw new EalArgError(`invalid ${opt} '${v}': expected ${list}`);
  }
  return v as T;
}

/** -m MB, or --socket-mem MB[,MB...] summed over the sockets (pktio's memory is one region). */
function parseMemoryMb(opt: string, v: string): number {
  const mb = opt === '-m' ? parseInt10(v, '-m') : v.split(',').reduce((a, x) => a + parseInt10(x, '--socket-mem'), 0);
  if (mb < 2) throw new EalArgError(`invalid ${opt} '${v}': at least 2 MiB`);
  if (mb > 4096) throw new EalArgError(`invalid ${opt} '${v}': pktio maps at most 4096 MiB`);
  return mb;
}

/** --log-level: a level name, DPDK's numbers 1-8, or DPDK's "component:level" form (the level part is taken). */
function parseLogLevel(given: string): LogLevel {
  const v = given.includes(':') ? given.slice(given.lastIndexOf(':') + 1) : given;
  const num: Record<string, LogLevel> = { 1: 'fatal', 2: 'fatal', 3: 'fatal', 4: 'error', 5: 'warn', 6: 'info', 7: 'info', 8: 'debug' };
  const lv = (num[v] ?? v.toLowerCase()) as LogLevel;
  if (!LEVELS.includes(lv)) throw new EalArgError(`invalid --log-level '${v}': expected one of ${LEVELS.join(', ')}`);
  return lv;
}

/** --base-virtaddr: where the memory region is mapped, hexadecimal, 2 MiB aligned, inside the 47-bit user space. */
function parseBaseVirtaddr(v: string): bigint {
  if (!/^(0x)?[0-9a-fA-F]+$/.test(v)) throw new EalArgError(`invalid --base-virtaddr '${v}': expected a hexadecimal address`);
  const a = BigInt(v.startsWith('0x') ? v : `0x${v}`);
  if (a === 0n || a % 0x200000n !== 0n || a >= 1n << 47n) {
    throw new EalArgError(`invalid --base-virtaddr '${v}': a non-zero multiple of 2 MiB below 0x800000000000`);
  }
  return a;
}
