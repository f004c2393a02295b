// Worker threads that run one of pktio's own modules: the worker lcores (eal/lcore-worker) and rxBursts' waker
// (ethdev/rxstream-waker).
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The module `name` beside the module whose import.meta.url is `from`: .ts from the sources, .js when built. */
export function siblingModule(from: string, name: string): URL {
  return new URL(`./${name}${from.endsWith('.ts') ? '.ts' : '.js'}`, from);
}

/**
 * A worker thread that runs the module at `url`. Run from the TypeScript sources under tsx (pktio's tests, `npx tsx`
 * on a checkout), the worker registers tsx before it imports the module: tsx registers its loader in worker threads
 * only where Node runs module hooks per thread (22.22.3 and later, not 20), and without it a worker cannot load a .ts
 * module. Where tsx did register itself, a second registration only sees JavaScript. Otherwise (built, or another
 * loader such as ts-node's --loader, which Node applies to a worker's entry module) the module is the entry.
 */
export function startWorker(url: URL, options: WorkerOptions): Worker {
  if (!url.pathname.endsWith('.ts') || !process.execArgv.some((a) => a.includes('tsx'))) return new Worker(url, options);
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${api}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`, { ...options, eval: true });
}
