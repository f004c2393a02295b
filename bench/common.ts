// What every bench scenario shares: options, the result record, user-facing errors, output keeping and memory args.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pktio from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
export const repoRoot = path.resolve(here, ext === '.ts' ? '..' : '../..');

export interface BenchOpts {
  scenario: string;
  seconds: number;
  burst: number;
  json: boolean;
  vsDpdk: boolean;
  rounds: number;
  mmio: boolean;
  /** frame size in bytes for scenarios that choose it (--size) */
  size: number | null;
}

export interface BenchResult {
  scenario: string;
  mpps: number | null;
  dpdkMpps: number | null;
  ratio: number | null;
  packets: number;
  seconds: number;
  gcCount: number;
  heapBytesPerPacket: number;
  [k: string]: unknown;
}

/** A user-facing error: one line that says what to do. */
export class BenchError extends Error {}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keeps a tool's output next to the results and names the file, for errors that quote it. */
export function keepOutput(what: string, out: string): string {
  const dir = path.join(repoRoot, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const f = path.join(dir, `${what}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  fs.writeFileSync(f, out);
  return path.relative(process.cwd(), f) || f;
}

/** EAL memory options: 2 MiB hugepages when enough are free, else --no-huge. */
export function hugeArgs(prefixDpdk: boolean): string[] {
  const mounts = pktio.hugetlbfsMounts().filter((m) => m.pageSize === 2 * 1048576);
  const free = pktio.freeHugepages(2 * 1048576).free;
  if (mounts.length && free >= 96) return ['--huge-dir', mounts[0].dir, ...(prefixDpdk ? [] : ['-m', '128'])];
  return prefixDpdk ? ['--no-huge', '-m', '256'] : ['--no-huge', '-m', '128'];
}
