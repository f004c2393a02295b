// Child processes that run TypeScript: the examples from their sources, a test's helper app.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Node arguments for a child that runs a .ts file: tsx's loader, by absolute URL (the child may run in another
 * working directory). Not this process's loader (tap's ts-node): under it a child transpiles src with TypeScript at
 * start and again in each worker lcore (an EAL with one worker lcore took 13 s to start and stop here, 2 s under tsx).
 * The tests that count allocations and GCs run in tap's own process, on the compiler's output.
 */
export const tsNodeArgs: readonly string[] = ['--import', import.meta.resolve('tsx')];

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export type ExampleChild = ChildProcessWithoutNullStreams & { out: () => string; exited: Promise<number | null> };

/**
 * Runs an example from its TypeScript source (the example unchanged) with its output collected. taskset gives it
 * every CPU of `cpus`: a child inherits the affinity of the main lcore's thread, one CPU.
 */
export function runExample(rel: string, args: string[], cpus: number[]): ExampleChild {
  const c = spawn('taskset', ['-c', cpus.join(','), process.execPath, ...tsNodeArgs, rel, ...args],
    { cwd: repoRoot, env: { ...process.env, PKTIO_LOG_LEVEL: 'warn' } });
  let out = '';
  c.stdout.on('data', (d: Buffer) => { out += d; });
  c.stderr.on('data', (d: Buffer) => { out += d; });
  const exited = new Promise<number | null>((r) => c.on('exit', (code) => r(code)));
  return Object.assign(c, { out: () => out, exited });
}
