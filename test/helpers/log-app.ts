// A tiny EAL program for test/log.test.ts: init with the given EAL options, one log line from the main lcore and one
// from worker lcore 1, then cleanup. Run as a child process; its stderr is what the test reads.
import { ealInit, ealCleanup, log, remoteLaunch, waitLcore } from '../../src/eal/index.js';

/** Runs on lcore 1. */
export function workerLogs(): number {
  log('app').warn({ port: 0, names: ['a', 'b c'] }, 'from the worker lcore');
  return 1;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const { config } = await ealInit(process.argv.slice(2));
  if (!config.help) {
    log('app').info({ answer: 42, text: 'two words', name: 'n0', caller: 'x' }, 'from the main lcore');
    remoteLaunch(1, new URL(import.meta.url), undefined, 'workerLogs');
    await waitLcore(1);
    await ealCleanup();
  }
}
