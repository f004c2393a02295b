#!/usr/bin/env node
// pktio-hugepages: reserve hugepages and mount hugetlbfs (what dpdk-hugepages.py does).
//
//   pktio-hugepages --show
//   pktio-hugepages --setup 256M [--mount DIR] [--pagesize 2M]   reserve enough pages and mount hugetlbfs
//   pktio-hugepages --reserve 512M [--pagesize 2M]                 only set the number of pages
//   pktio-hugepages --mount DIR | --unmount DIR | --clear
//
// Run: npx pktio-hugepages ... (in this checkout, or in a project that installed pktio), or node dist/bin/hugepages.js
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { commandName } from '../src/eal/command.js';

const isMain = (() => {
  try {
    return !!process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
})();
/** How to run this tool again, as the user ran it (npx pktio-hugepages, node dist/bin/hugepages.js, ...). */
const PROG = isMain ? commandName('pktio-hugepages') : 'pktio-hugepages';

export function usage(): string {
  return `usage: ${PROG} [--show] [--setup SIZE] [--reserve SIZE] [--mount DIR] [--unmount DIR] [--clear] [--pagesize 2M|1G]
  --show            hugepages reserved and free per page size, and the hugetlbfs mounts
  --setup SIZE      reserve SIZE of hugepages and mount hugetlbfs on /dev/hugepages if none is mounted
  --reserve SIZE    only set the number of hugepages
  --mount DIR       mount hugetlbfs on DIR          --unmount DIR   unmount it
  --clear           give every hugepage of the page size back to the kernel
  --pagesize SIZE   2M (default) or 1G
  SIZE: bytes with a K, M or G suffix, e.g. 256M. Reserving and mounting need root.`;
}

export interface HugeOpts {
  sysRoot?: string;
  procRoot?: string;
  /** runs mount/umount; tests replace it */
  run?: (cmd: string, args: string[]) => { status: number | null; stderr: string };
  out?: (s: string) => void;
  err?: (s: string) => void;
}

export function parseSize(s: string): number {
  const m = /^(\d+)([kKmMgG]?)[bB]?$/.exec(s);
  if (!m) throw new Error(`bad size '${s}': expected e.g. 256M or 1G`);
  return Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()] ?? 1);
}

function dir(o: HugeOpts, pageSize: number): string {
  return `${o.sysRoot ?? '/sys'}/kernel/mm/hugepages/hugepages-${pageSize / 1024}kB`;
}

function readNum(p: string): number {
  return Number(fs.readFileSync(p, 'utf8').trim());
}

function mounts(o: HugeOpts): Array<{ dir: string; opts: string }> {
  return fs.readFileSync(`${o.procRoot ?? '/proc'}/mounts`, 'utf8').split('\n')
    .map((l) => l.split(' ')).filter((f) => f[2] === 'hugetlbfs').map((f) => ({ dir: f[1], opts: f[3] }));
}

export function show(o: HugeOpts = {}): string {
  const base = `${o.sysRoot ?? '/sys'}/kernel/mm/hugepages`;
  const lines = ['Node Pages Size Total Free'];
  let sizes: string[] = [];
  try {
    sizes = fs.readdirSync(base);
  } catch {
    return 'this kernel has no hugepages (no /sys/kernel/mm/hugepages)';
  }
  for (const d of sizes) {
    const kb = Number(/hugepages-(\d+)kB/.exec(d)?.[1] ?? 0);
    const n = readNum(`${base}/${d}/nr_hugepages`);
    const free = readNum(`${base}/${d}/free_hugepages`);
    const sz = kb >= 1048576 ? `${kb / 1048576}Gb` : `${kb / 1024}Mb`;
    lines.push(`0    ${n} ${sz} ${((n * kb) / 1048576).toFixed(1)}Gb ${((free * kb) / 1048576).toFixed(1)}Gb`);
  }
  const ms = mounts(o);
  lines.push('', ms.length ? `Hugepages mounted on ${ms.map((m) => m.dir).join(' ')}` : 'Hugepages are not mounted');
  return lines.join('\n');
}

export function reserve(bytes: number, pageSize: number, o: HugeOpts = {}): number {
  const pages = Math.ceil(bytes / pageSize);
  const f = `${dir(o, pageSize)}/nr_hugepages`;
  if (!fs.existsSync(f)) {
    throw new Error(`this kernel has no ${pageSize / 1048576} MiB hugepages (${f} is missing)` +
      (pageSize !== 2 * 1048576 ? ': use --pagesize 2M' : ''));
  }
  try {
    fs.writeFileSync(f, String(pages));
  } catch (e) {
    throw new Error(`cannot write ${f}: ${(e as Error).message} (run as root)`);
  }
  const got = readNum(f);
  if (got < pages) {
    throw new Error(`asked for ${pages} hugepages, the kernel gave ${got}: memory is too fragmented or too small; ` +
      'try a smaller size, or reserve at boot (hugepages=N on the kernel command line)');
  }
  return got;
}

export function mount(path: string, pageSize: number, o: HugeOpts = {}): boolean {
  if (mounts(o).some((m) => m.dir === path)) return false;
  fs.mkdirSync(path, { recursive: true });
  const run = o.run ?? ((c, a) => spawnSync(c, a, { encoding: 'utf8' }));
  const r = run('mount', ['-t', 'hugetlbfs', '-o', `pagesize=${pageSize / 1048576}M`, 'nodev', path]);
  if (r.status !== 0) throw new Error(`mount -t hugetlbfs nodev ${path} failed: ${r.stderr.trim()} (run as root)`);
  return true;
}

export function unmount(path: string, o: HugeOpts = {}): void {
  const run = o.run ?? ((c, a) => spawnSync(c, a, { encoding: 'utf8' }));
  const r = run('umount', [path]);
  if (r.status !== 0) throw new Error(`umount ${path} failed: ${r.stderr.trim()}`);
}

export function main(argv: readonly string[], o: HugeOpts = {}): number {
  const out = o.out ?? ((s: string) => process.stdout.write(s + '\n'));
  const err = o.err ?? ((s: string) => process.stderr.write(s + '\n'));
  let pageSize = 2 * 1048576;
  const acts: Array<() => void> = [];
  let parsing = true;
  try {
    if (argv.length === 0) throw new Error('nothing to do: give --show, --setup SIZE, --reserve SIZE, --mount DIR, --unmount DIR or --clear');
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      const val = () => {
        const v = argv[++i];
        if (v === undefined) throw new Error(`${a} needs a value`);
        return v;
      };
      switch (a) {
        case '--show': case '-s': acts.push(() => out(show(o))); break;
        case '--pagesize': case '-p': pageSize = parseSize(val()); break;
        case '--reserve': case '-r': {
          const b = parseSize(val());
          acts.push(() => out(`reserved ${reserve(b, pageSize, o)} pages of ${pageSize / 1048576} MiB`));
          break;
        }
        case '--setup': {
          const b = parseSize(val());
          acts.push(() => {
            const n = reserve(b, pageSize, o);
            out(`reserved ${n} pages of ${pageSize / 1048576} MiB`);
            if (!mounts(o).length && !argv.includes('--mount') && !argv.includes('-m')) {
              mount('/dev/hugepages', pageSize, o);
              out('mounted hugetlbfs on /dev/hugepages');
            }
          });
          break;
        }
        case '--mount': case '-m': {
          const d = val();
          acts.push(() => out(mount(d, pageSize, o) ? `mounted hugetlbfs on ${d}` : `${d} is already a hugetlbfs mount`));
          break;
        }
        case '--unmount': case '-u': {
          const d = val();
          acts.push(() => {
            unmount(d, o);
            out(`unmounted ${d}`);
          });
          break;
        }
        case '--clear': case '-c': acts.push(() => out(`reserved ${reserve(0, pageSize, o)} pages`)); break;
        case '-h': case '--help': out(usage()); return 0;
        default: throw new Error(`unknown option '${a}'`);
      }
    }
    parsing = false;
    for (const f of acts) f();
    return 0;
  } catch (e) {
    // a bad command line gets the usage; a failed action only its one line
    err(`${PROG}: ${(e as Error).message}${parsing ? `\n${usage()}` : ''}`);
    return 1;
  }
}

if (isMain) process.exitCode = main(process.argv.slice(2));
