// pktio as a dependency, the way Node users install it: `npm pack`, the tarball installed into a fresh project from
// the npm cache, the README's "Write your own packet app" compiled there with tsc (NodeNext, and Bundler resolution)
// and run on a net_null port, every bin run with --help; and the bins through npx in this checkout and from a path.
// Set PKTIO_TEST_GIT_INSTALL=1 to also install from a git URL of this checkout's HEAD (about a minute more).
import t from 'tap';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpusAllowed } from '../src/eal/lcore.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string; bin: Record<string, string>; dependencies: Record<string, string>;
};
const tsc = join(root, 'node_modules/.bin/tsc');
const typesNode = (JSON.parse(readFileSync(join(root, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string }).version;

// npm's own variables from the `npm test` that runs this would leak into the nested npm commands
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

function sh(cmd: string, args: string[], cwd: string, timeout = 120000): SpawnSyncReturns<string> {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout });
  t.comment(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${cmd.split('/').pop()} ${args.join(' ').slice(0, 80)}`);
  return r;
}
const out = (r: SpawnSyncReturns<string>) => `exit ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`.slice(-3000);

/** Installs into `dir` offline from the npm cache; where npm lacks some metadata there, it may ask the registry. */
function npmInstall(dir: string, specs: string[]): { r: SpawnSyncReturns<string>; mode: string } {
  const args = ['install', '--no-audit', '--no-fund', ...specs];
  let r = sh('npm', [...args, '--offline'], dir);
  if (r.status === 0) return { r, mode: '--offline' };
  r = sh('npm', [...args, '--prefer-offline'], dir);
  return { r, mode: '--prefer-offline' };
}

/** The README's example: the code blocks of "Write your own packet app" that start with "// FILE.ts". */
export function readmeExample(readme: string): Record<string, string> {
  const sec = /^## Write your own packet app\n([\s\S]*?)^## /m.exec(readme);
  if (!sec) throw new Error('README has no "Write your own packet app" section');
  const files: Record<string, string> = {};
  for (const m of sec[1].matchAll(/```ts\n(\/\/ (\w+\.ts)\b[\s\S]*?)```/g)) files[m[2]] = m[1];
  return files;
}

// About a minute on a quiet machine (npm and tsc dominate); allow for a loaded one rather than .taprc's 120 s
t.setTimeout(240000);

const tmp = mkdtempSync(join(tmpdir(), 'pktio-package-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

t.test('packed, installed from the tarball, used from TypeScript', async (t) => {
  // `npm test` has just built dist/ (pretest), so `prepare` (the same build) is not run again here; the git URL
  // install below (PKTIO_TEST_GIT_INSTALL=1) is the one that needs it
  t.equal((pkg as { scripts?: Record<string, string> }).scripts?.prepare, 'tsc -p tsconfig.json && node scripts/bin-modes.mjs', 'prepare builds and marks the bins executable');
  const p = sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], root, 180000);
  t.equal(p.status, 0, `npm pack: ${out(p)}`);
  if (p.status !== 0) return;
  const info = (JSON.parse(p.stdout.slice(p.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string; mode: number }> }>)[0];
  const shipped = info.files.map((f) => f.path);
  for (const f of ['package.json', 'README.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/eal/lcore-worker.js', ...Object.values(pkg.bin)]) {
    t.ok(shipped.includes(f), `ships ${f}`);
  }
  t.same(shipped.filter((f) => !/^(dist\/(src|bin|examples)\/.*\.(js|d\.ts)|package\.json|README\.md)$/.test(f)), [],
    'nothing else: no sources, tests, bench, source maps');
  for (const b of Object.values(pkg.bin)) t.equal(readFileSync(join(root, b), 'utf8').split('\n')[0], '#!/usr/bin/env node', `${b}: a node shebang`);

  const app = join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-packet-app', private: true, type: 'module' }, null, 2));
  const { r: inst, mode } = npmInstall(app, [join(tmp, info.filename), `@types/node@${typesNode}`]);
  t.equal(inst.status, 0, `npm install ${mode} of the tarball: ${out(inst)}`);
  if (inst.status !== 0) return;
  t.comment(`installed with npm install ${mode}`);
  t.ok(existsSync(join(app, 'node_modules/pktio/dist/src/index.js')), 'dist/ came with the package');
  for (const dep of Object.keys(pkg.dependencies)) t.ok(existsSync(join(app, 'node_modules', dep, 'package.json')), `dependency ${dep} installed`);

  const files = readmeExample(readFileSync(join(root, 'README.md'), 'utf8'));
  t.same(Object.keys(files).sort(), ['main.ts', 'worker.ts'], 'the README example: main.ts and worker.ts');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(app, name), text);
  const base = { target: 'ES2022', strict: true, noUnusedLocals: true, skipLibCheck: false, types: ['node'] };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { ...base, module: 'NodeNext', moduleResolution: 'NodeNext', outDir: 'out', rootDir: '.' }, files: ['main.ts', 'worker.ts'],
  }));
  writeFileSync(join(app, 'tsconfig.bundler.json'), JSON.stringify({
    compilerOptions: { ...base, skipLibCheck: true, module: 'ESNext', moduleResolution: 'Bundler', noEmit: true }, files: ['main.ts', 'worker.ts'],
  }));
  const c = sh(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
  t.equal(c.status, 0, `tsc (NodeNext) compiles the README example against the package's types: ${out(c)}`);
  const cb = sh(process.execPath, [tsc, '-p', 'tsconfig.bundler.json'], app);
  t.equal(cb.status, 0, `tsc (Bundler resolution): ${out(cb)}`);

  const cpus = cpusAllowed();
  t.test('the example runs on a net_null port until SIGINT', { skip: (cpus.length < 2 || c.status !== 0) && 'needs 2 CPUs and the compiled example' }, async (t) => {
    const child = spawn(process.execPath, ['out/main.js', '--lcores', `0@${cpus[0]},1@${cpus[1]}`, '--vdev', 'net_null0', '--no-huge', '-m', '64',
      '--file-prefix', `pktio-pkgtest-${process.pid}`], { cwd: app, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    // Ctrl-C two seconds after the example says it forwards
    let sigint: NodeJS.Timeout | undefined;
    child.stdout.on('data', () => {
      if (!sigint && stdout.includes('Ctrl-C stops')) sigint = setTimeout(() => child.kill('SIGINT'), 2000);
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), 60000);
    const code = await new Promise<number | null>((resolve) => child.on('close', (cd) => resolve(cd)));
    clearTimeout(sigint);
    clearTimeout(kill);
    t.equal(code, 0, `exit 0: ${stderr.slice(-1500)}`);
    const ipackets = Number(/ipackets: (\d+)/.exec(stdout)?.[1] ?? NaN);
    const opackets = Number(/opackets: (\d+)/.exec(stdout)?.[1] ?? NaN);
    t.ok(ipackets > 1000, `the port's counters: ${ipackets} packets received`);
    t.ok(opackets > 1000, `${opackets} echoed`);
    t.match(stderr, /^EAL: EAL initialised /m, 'readable log lines on stderr');
  });

  t.test('every bin runs with --help', async (t) => {
    for (const name of Object.keys(pkg.bin)) {
      // what npx runs: the link npm made in node_modules/.bin (shebang, executable)
      const r = sh(join(app, 'node_modules/.bin', name), ['--help'], app, 60000);
      t.equal(r.status, 0, `${name} --help: ${out(r)}`);
      t.match(r.stdout, new RegExp(`^usage: npx ${name} `, 'im'), `${name}: usage names the command as typed`);
    }
    const show = sh('npx', ['pktio-hugepages', '--show'], app, 60000);
    t.equal(show.status, 0, out(show));
    t.match(show.stdout, /^Node Pages Size Total Free/);
    const status = sh('npx', ['pktio-devbind', '--status'], app, 60000);
    t.equal(status.status, 0, out(status));
    t.match(status.stdout, /Network devices using a kernel driver/);
  });
});

t.test('in this checkout: npx pktio-hugepages --show, npx pktio-devbind --status', async (t) => {
  const show = sh('npx', ['pktio-hugepages', '--show'], root, 180000);
  t.equal(show.status, 0, out(show));
  t.match(show.stdout, /^Node Pages Size Total Free/m);
  const status = sh('npx', ['pktio-devbind', '--status'], root, 60000);
  t.equal(status.status, 0, out(status));
  t.match(status.stdout, /Network devices using a userspace driver \(vfio-pci\)/);
});

t.test('installed from a path', async (t) => {
  const app = join(tmp, 'from-path');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'from-path', private: true, type: 'module' }));
  const { r, mode } = npmInstall(app, [root]);
  t.equal(r.status, 0, `npm install ${mode} ${root}: ${out(r)}`);
  const h = sh(join(app, 'node_modules/.bin/pktio-devbind'), ['--help'], app, 60000);
  t.equal(h.status, 0, out(h));
  t.match(h.stdout, /^Usage: npx pktio-devbind /);
  const m = sh(process.execPath, ['--input-type=module', '-e', "import * as p from 'pktio'; console.log(typeof p.init, typeof p.rxBurst)"], app);
  t.equal(m.stdout.trim(), 'function function', out(m));
});

t.test('installed from a git URL', { skip: process.env.PKTIO_TEST_GIT_INSTALL !== '1' && 'set PKTIO_TEST_GIT_INSTALL=1 (installs HEAD, builds it: a minute)' },
  async (t) => {
    const app = join(tmp, 'from-git');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'from-git', private: true, type: 'module' }));
    const { r, mode } = npmInstall(app, [`git+file://${root}`]);
    t.equal(r.status, 0, `npm install ${mode} git+file://${root}: ${out(r)}`);
    t.ok(existsSync(join(app, 'node_modules/pktio/dist/src/index.js')), '`prepare` built dist/');
    const h = sh('npx', ['pktio-hugepages', '--help'], app, 60000);
    t.equal(h.status, 0, out(h));
  });
