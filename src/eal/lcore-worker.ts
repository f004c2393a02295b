// Bootstrap of a worker lcore: pin this thread, view the shared EAL region, then run what remoteLaunch sends.
import { parentPort, workerData } from 'node:worker_threads';
import * as ffi from './ffi.js';
import { pinThread, setThisLcore, requestQuit } from './lcore.js';
import { attachMemory } from './memory.js';
import { setLogLevel } from './log.js';

interface Boot { lcore: number; main: number; cpus: number[]; base: bigint; len: number; logLevel: string }
interface Launch { type: 'launch'; module: string; fn: string; args: unknown; preload: string[]; fatal: boolean }

const boot = workerData as Boot;
const port = parentPort!;
try {
  setThisLcore(boot.lcore, boot.main);
  setLogLevel(boot.logLevel);
  pinThread(boot.cpus);
  attachMemory(boot.base, boot.len);
  port.postMessage({ type: 'ready', tid: ffi.gettid() });
} catch (e) {
  port.postMessage({ type: 'fail', error: (e as Error).message });
}

// With the 'exit' error policy a failure here stops every lcore through the shared quit word at once: a main lcore
// that busy-polls too sees quitRequested() before its event loop can deliver the error message.
let running: Launch | null = null;
process.on('exit', () => {
  if (running?.fatal) requestQuit(); // process.exit() inside a launched function
});

port.on('message', (m: Launch) => {
  if (m.type !== 'launch') return;
  running = m;
  void (async () => {
    try {
      for (const p of m.preload) await import(p);
      const mod = (await import(m.module)) as Record<string, unknown>;
      const fn = mod[m.fn];
      if (typeof fn !== 'function') throw new Error(`${m.module} has no exported function '${m.fn}'`);
      const result = await (fn as (a: unknown) => unknown)(m.args);
      running = null;
      port.postMessage({ type: 'done', result });
    } catch (e) {
      running = null;
      if (m.fatal) requestQuit();
      const err = e as Error;
      port.postMessage({ type: 'error', error: err?.message ?? String(e), stack: err?.stack });
    }
  })();
});
