// Logging: readable DPDK-like lines by default, pino JSON with --log-format json, on stderr, in worker lcores too;
// an application's own pino instance is left alone.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { tsNodeArgs } from './helpers/ts-child.js';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { formatLine, log, logFormat, setLogFormat, setRootLogger, rootLogger } from '../src/eal/log.js';
import { parseEalArgs, usage, EalArgError } from '../src/eal/args.js';
import { cpusAllowed } from '../src/eal/lcore.js';

t.test('formatLine: component, level when not info, message, key=value', async (t) => {
  t.equal(formatLine({ level: 30, time: 1, pid: 5, c: 'eal', lcores: [0, 1], iova: 'va', mb: 256, hugepages: true, msg: 'EAL initialised' }),
    'EAL: EAL initialised lcores=[0,1] iova=va mb=256 hugepages=true');
  t.equal(formatLine({ level: 30, c: 'eal', devices: ['0000:00:03.0'], msg: 'PCI devices probed through VFIO' }),
    'EAL: PCI devices probed through VFIO devices=[0000:00:03.0]');
  t.equal(formatLine({ level: 40, c: 'ethdev', port: 0, note: 'two words', o: { a: 1 }, n: null, msg: 'odd' }),
    'ETHDEV: warn: odd port=0 note="two words" o={"a":1} n=null');
  t.equal(formatLine({ level: 50, c: 'ethdev', port: 1, err: { type: 'Error', message: 'boom', stack: 'Error: boom\n at x' }, msg: 'close failed' }),
    'ETHDEV: error: close failed port=1 err="boom"', 'errors by their message, never a stack');
  t.equal(formatLine({ level: 30, c: 'app', thread: 3, k: 1, msg: 'from a worker' }), 'APP: from a worker k=1 thread=3', 'the thread last');
  t.equal(formatLine({ level: 20, msg: 'no component' }), 'debug: no component');
});

t.test('--log-format', async (t) => {
  t.equal(parseEalArgs([]).config.logFormat, null, 'not given: the logger keeps its format');
  t.equal(parseEalArgs(['--log-format', 'json']).config.logFormat, 'json');
  t.equal(parseEalArgs(['--log-format=pretty']).config.logFormat, 'pretty');
  t.throws(() => parseEalArgs(['--log-format', 'xml']), { name: 'EalArgError', message: /^invalid --log-format 'xml': expected pretty or json\n/ });
  t.throws(() => parseEalArgs(['--log-format']), EalArgError);
  t.match(usage('x'), /--log-format FORMAT +pretty \(one readable line per event, the default\) or json/);
});

t.test('an application\'s own pino instance is kept as it is', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
  const mine = pino({ level: 'debug' }, sink);
  const before = rootLogger();
  t.teardown(() => { setRootLogger(null); setLogFormat('pretty'); });
  setRootLogger(mine);
  setLogFormat('pretty');
  t.equal(rootLogger(), mine, '--log-format does not replace it');
  log('eal').debug({ x: 1 }, 'through the application logger');
  t.equal(lines.length, 1);
  t.match(JSON.parse(lines[0]), { level: 20, c: 'eal', x: 1, msg: 'through the application logger' });
  setRootLogger(null);
  t.not(rootLogger(), mine, 'null goes back to pktio\'s own logger');
  t.not(rootLogger(), before);
  setLogFormat('json');
  t.equal(logFormat(), 'json');
});

const app = new URL('./helpers/log-app.ts', import.meta.url).pathname;
const twoCpus = cpusAllowed().length >= 2 ? false : 'needs 2 CPUs';
function run(args: string[], env: Record<string, string> = {}) {
  const lc = cpusAllowed();
  const r = spawnSync(process.execPath, [...tsNodeArgs, app, '--no-huge', '-m', '16', '--lcores', `0@${lc[0]},1@${lc[1]}`, ...args],
    { encoding: 'utf8', env: { ...process.env, PKTIO_LOG_LEVEL: 'info', PKTIO_LOG_FORMAT: '', ...env }, timeout: 60000 });
  return { status: r.status, stdout: r.stdout, lines: r.stderr.split('\n').filter((l) => l.length > 0), stderr: r.stderr };
}

t.test('readable lines by default, main and worker lcores', { skip: twoCpus }, async (t) => {
  const r = run([]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, '', 'logs go to stderr');
  t.ok(r.lines.length >= 3, r.stderr);
  for (const l of r.lines) t.match(l, /^[A-Z][A-Z.]*: \S/, `one readable line: ${l}`);
  t.ok(r.lines.includes('APP: from the main lcore answer=42 text="two words" name=n0 caller=x'), 'main lcore line');
  t.ok(r.lines.some((l) => /^APP: warn: from the worker lcore port=0 names=\[a,"b c"\] thread=\d+$/.test(l)), 'worker lcore line');
  t.ok(r.lines.some((l) => /^EAL: EAL initialised lcores=\[0,1\] main=0 iova=va mb=16 hugepages=false$/.test(l)));
});

t.test('--log-format json: only JSON lines, worker lcores too; PKTIO_LOG_FORMAT sets the default', { skip: twoCpus }, async (t) => {
  for (const [args, env] of [[['--log-format', 'json'], {}], [[], { PKTIO_LOG_FORMAT: 'json' }]] as const) {
    const r = run([...args], env);
    t.equal(r.status, 0, r.stderr);
    const recs = r.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    t.ok(recs.every((o) => typeof o.level === 'number' && typeof o.time === 'number' && typeof o.msg === 'string'), 'pino records');
    t.ok(recs.some((o) => o.c === 'app' && o.answer === 42), 'main lcore record');
    t.ok(recs.some((o) => o.c === 'app' && o.level === 40 && typeof o.thread === 'number'), 'worker lcore record');
  }
  const p = run(['--log-format', 'pretty'], { PKTIO_LOG_FORMAT: 'json' });
  t.equal(p.status, 0, p.stderr);
  t.ok(p.lines.some((l) => l.startsWith('APP: from the main lcore')), '--log-format wins over the environment');
  t.notOk(p.lines.some((l) => l.startsWith('{')), 'no JSON line: nothing is logged before the options are read');
});
