// A worker lcore that fails while forwarding (throws, exits, runs out of heap): the main lcore learns at once,
// logs the worker's stack, closes every port and the process exits with LCORE_FATAL_EXIT; waitLcore rejects first.
// The app runs as a child process over the compiled dist/ (test/helpers/robust-app.mjs), built here when stale.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LCORE_FATAL_EXIT } from '../src/eal/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const app = fileURLToPath(new URL('./helpers/robust-app.mjs', import.meta.url));
const mtime = (p: string) => { try { return statSync(`${root}/${p}`).mtimeMs; } catch { return 0; } };

function run(...args: string[]): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const t0 = Date.now();
  const c = spawn(process.execPath, [app, ...args], { cwd: root });
  let out = '';
  let err = '';
  c.stdout.on('data', (d) => (out += d));
  c.stderr.on('data', (d) => (err += d));
  const kill = setTimeout(() => c.kill('SIGKILL'), 60000);
  return new Promise((resolve) => c.on('close', (code) => {
    clearTimeout(kill);
    resolve({ code, out, err, ms: Date.now() - t0 });
  }));
}

const cases: Array<{ how: string; busy?: boolean; wait: RegExp; stack: RegExp }> = [
  { how: 'throw', wait: /WAIT-REJECTED lcore 1: app bug in the forwarding loop/, stack: /lcore 1 stack:\nError: app bug[^\n]*\n\s+at fail .*robust-fns/ },
  { how: 'throw', busy: true, wait: /WAIT-REJECTED lcore 1: app bug in the forwarding loop/, stack: /lcore 1 stack:\nError: app bug/ },
  { how: 'exit', busy: true, wait: /WAIT-REJECTED lcore 1 exited with code 3 while running a launched function/, stack: /lcore 1 stack:/ },
  { how: 'oom', wait: /WAIT-REJECTED lcore 1 died: .*memory limit/, stack: /lcore 1 stack:\nError \[ERR_WORKER_OUT_OF_MEMORY\]/ },
];

t.before(() => {
  if (mtime('dist/src/eal/lcore.js') < mtime('src/eal/lcore.ts') || mtime('dist/src/ethdev/ethdev.js') < mtime('src/ethdev/ethdev.ts')) {
    spawnSync('npx', ['tsc', '-p', '.'], { cwd: root, stdio: 'inherit' });
  }
});

t.test('a failed worker lcore stops the ports and ends the process', async (t) => {
  // the children run side by side: each is mostly start-up
  const results = await Promise.all(cases.map((c) => run(c.how, ...(c.busy ? ['busy'] : []))));
  cases.forEach((c, i) => {
    const r = results[i];
    const saw = `exit ${r.code} after ${r.ms} ms\n--- stdout\n${r.out}\n--- stderr\n${r.err}`;
    t.test(`worker ${c.how}${c.busy ? ' while the main lcore busy-polls' : ''}`, async (t) => {
      t.equal(r.code, LCORE_FATAL_EXIT, `exit code ${LCORE_FATAL_EXIT}`, { saw });
      t.match(r.out, c.wait, 'waitLcore rejected with the error', { saw });
      t.match(r.err, c.stack, "the worker's stack is logged", { saw });
      t.match(r.err, /ETHDEV: port closed port=0 dev=net_null0/, 'the port was stopped and closed', { saw });
      t.match(r.out, /FATAL-HOOK ports=0/, 'no port left open when the app hook after the ethdev ran', { saw });
      t.notMatch(r.out, /STILL-ALIVE|WAIT-RESOLVED/, 'the process did not carry on', { saw });
      if (c.busy) t.match(r.out, /MAIN-SAW-QUIT after \d+ ms/, 'a busy-polling main lcore saw quitRequested()', { saw });
    });
  });
});
