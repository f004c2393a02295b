// Lcores: pinned worker threads, remoteLaunch/waitLcore, errors, shared memory between lcores, the quit flag.
import t from 'tap';
import {
  ealInit, ealCleanup, ealInitialized, memAttached, cpusAllowed, threadCpusAllowedList, lcoreInfo, lcoreList, workerLcores,
  lcoreId, mainLcore, lcoreState, setLcoreErrorPolicy, remoteLaunch, waitLcore, mpWaitLcore, requestQuit, clearQuit, quitRequested,
  memzoneReserve, memzoneFree, mem, clockUs, LcoreError, MAX_LCORES,
} from '../src/eal/index.js';

const fns = new URL('./helpers/lcore-fns.ts', import.meta.url);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const allowed0 = cpusAllowed();
const [c0, c1] = allowed0;
const twoCpus = allowed0.length >= 2 ? false : `needs 2 CPUs, this process may use ${allowed0.join(',')}`;

t.test('worker lcores', { skip: twoCpus }, async (t) => {
  // lcore 0 on c0 (main), 1 on c1, 2 on both, 3 on c1
  await ealInit(['--no-huge', '-m', '16', '--log-level', 'error', '--lcores', `0@${c0},1@${c1},2@(${c0},${c1}),3@${c1}`]);
  t.teardown(async () => {
    if (!ealInitialized()) return;
    clearQuit();
    await ealCleanup();
  });

  t.test('pinning', async (t) => {
    t.same(lcoreList(), [0, 1, 2, 3]);
    t.same(workerLcores(), [1, 2, 3]);
    t.equal(lcoreId(), 0, 'the main thread is lcore 0');
    t.equal(mainLcore(), 0);
    t.same(cpusAllowed(), [c0], 'the main thread is pinned to its CPU');
    t.equal(threadCpusAllowedList(lcoreInfo(0).tid), `${c0}`);
    t.equal(threadCpusAllowedList(lcoreInfo(1).tid), `${c1}`, 'lcore 1 pinned to its CPU (kernel view)');
    t.equal(threadCpusAllowedList(lcoreInfo(3).tid), `${c1}`);
    const both = c1 === c0 + 1 ? `${c0}-${c1}` : `${c0},${c1}`;
    t.equal(threadCpusAllowedList(lcoreInfo(2).tid), both, 'lcore 2 may run on both CPUs');
    t.not(lcoreInfo(1).tid, lcoreInfo(2).tid, 'distinct threads');
    t.match(lcoreInfo(1), { id: 1, cpus: [c1], state: 'WAIT' });
    for (const l of [1, 2, 3]) {
      remoteLaunch(l, fns, undefined, 'whoami');
      t.same(await waitLcore(l), { lcore: l, main: 0, cpus: lcoreInfo(l).cpus }, `lcore ${l} sees its id and CPU set`);
    }
    t.throws(() => lcoreInfo(9), { name: 'LcoreError', message: 'lcore 9 is not enabled (see -l)' });
    t.throws(() => lcoreState(9), LcoreError);
  });

  t.test('remoteLaunch / waitLcore', async (t) => {
    remoteLaunch(1, fns, { x: 21 });
    t.equal(lcoreState(1), 'RUNNING');
    t.equal(await waitLcore(1), 42, 'default export, value returned');
    t.equal(lcoreState(1), 'WAIT');
    remoteLaunch(2, fns, { a: [1, 2], s: 'x' }, 'asyncEcho');
    t.same(await waitLcore(2), { echo: { a: [1, 2], s: 'x' }, lcore: 2 }, 'async function, structured-cloned args and result');
    remoteLaunch(3, 'test/helpers/lcore-fns.ts', { x: 5 });
    t.equal(await waitLcore(3), 10, 'module as a path relative to the working directory');
    t.equal(await waitLcore(3), undefined, 'waiting on an idle lcore gives undefined');
    for (const l of [1, 2, 3]) remoteLaunch(l, fns, { x: l });
    const all = await mpWaitLcore();
    t.same([...all.entries()], [[1, 2], [2, 4], [3, 6]], 'mpWaitLcore collects every worker');
  });

  t.test('errors thrown on a worker are propagated', async (t) => {
    setLcoreErrorPolicy('report'); // the default ('exit') ends the process: test/robust-lcore.test.ts
    t.teardown(() => setLcoreErrorPolicy('exit'));
    remoteLaunch(1, fns, 'boom on 1', 'thrower');
    const e = await waitLcore(1).then(() => null, (x: unknown) => x as Error);
    t.ok(e instanceof LcoreError);
    t.equal(e?.message, 'lcore 1: boom on 1');
    t.match(e?.stack, /lcore-fns\.ts/, 'the worker stack is kept');
    t.equal(lcoreState(1), 'WAIT', 'the lcore is usable again');
    remoteLaunch(1, fns, { x: 1 });
    t.equal(await waitLcore(1), 2);
    remoteLaunch(1, fns, undefined, 'nope');
    await t.rejects(waitLcore(1), { name: 'LcoreError', message: /has no exported function 'nope'/ });
    remoteLaunch(1, new URL('./helpers/does-not-exist.ts', import.meta.url));
    await t.rejects(waitLcore(1), { name: 'LcoreError', message: /^lcore 1: / }, 'a module that does not load');
    remoteLaunch(2, fns, undefined, 'reserveOnWorker');
    await t.rejects(waitLcore(2), { message: 'lcore 2: memzoneReserve runs on the main lcore only' });
  });

  t.test('launch errors', async (t) => {
    t.throws(() => remoteLaunch(0, fns, { x: 1 }), {
      name: 'LcoreError', message: 'lcore 0 is the main lcore: run the function directly, remoteLaunch targets worker lcores',
    });
    t.throws(() => remoteLaunch(7, fns), { name: 'LcoreError', message: 'lcore 7 is not enabled (see -l)' });
    await t.rejects(waitLcore(7), { message: 'lcore 7 is not enabled (see -l)' });
    remoteLaunch(1, fns, undefined, 'spinUntilQuit');
    t.throws(() => remoteLaunch(1, fns, { x: 1 }), { name: 'LcoreError', message: 'lcore 1 is busy: waitLcore(1) first' });
    t.equal(lcoreState(1), 'RUNNING');
    requestQuit();
    const r = (await waitLcore(1)) as { lcore: number; iterations: number };
    t.equal(r.lcore, 1);
    // whether the worker spun at all before the quit is the scheduler's business (20 ms were not enough at load 8);
    // the next test shows workers spinning until quitRequested()
    t.equal(typeof r.iterations, 'number', 'the function\'s result comes back');
    clearQuit();
  });

  t.test('quitRequested() stops spinning workers', async (t) => {
    t.equal(quitRequested(), false);
    const z = memzoneReserve('spin_counts', 64);
    t.teardown(() => memzoneFree('spin_counts'));
    for (const l of [1, 2, 3]) remoteLaunch(l, fns, 'spin_counts', 'spinUntilQuit');
    // each worker has spun a while before the quit: on a loaded machine a launched worker can wait for a CPU for
    // longer than any fixed sleep (a unit run beside the VM suite saw lcore 1 spin fewer than 1,000 times in 100 ms)
    const counts = new Uint32Array(mem().buf, z.off, 16);
    for (const l of [1, 2, 3]) {
      for (let i = 0; i < 3000 && Atomics.load(counts, l) <= 1000; i++) await sleep(10);
    }
    await sleep(100);
    for (const l of [1, 2, 3]) t.equal(lcoreState(l), 'RUNNING', `lcore ${l} spinning (${Atomics.load(counts, l)} iterations so far)`);
    requestQuit();
    t.equal(quitRequested(), true);
    const res = await mpWaitLcore();
    for (const l of [1, 2, 3]) t.ok((res.get(l) as { iterations: number }).iterations > 1000, `lcore ${l} spun and stopped`);
    clearQuit();
    t.equal(quitRequested(), false);
  });

  t.test('shared memory between lcores', async (t) => {
    const z = memzoneReserve('shared_words', 64);
    t.teardown(() => memzoneFree('shared_words'));
    const u32 = mem().u32;
    remoteLaunch(1, fns, { zone: 'shared_words', index: 3, value: 0xdeadbeef }, 'writeZone');
    t.equal(await waitLcore(1), z.off, 'the worker finds the zone at the same offset');
    t.equal(u32[(z.off >> 2) + 3], 0xdeadbeef, 'a write on lcore 1 is seen on the main lcore');
    remoteLaunch(2, fns, { zone: 'shared_words', index: 3 }, 'readZone');
    t.equal(await waitLcore(2), 0xdeadbeef, '... and on lcore 2');
    u32[(z.off >> 2) + 5] = 777;
    remoteLaunch(3, fns, { zone: 'shared_words', index: 5 }, 'readZone');
    t.equal(await waitLcore(3), 777, 'a write on the main lcore is seen by a worker');
    // live: the main lcore watches a counter a running worker increments
    remoteLaunch(1, fns, 'shared_words', 'countUntilQuit');
    // no fixed window: a pinned worker on a loaded 2-CPU host can go unscheduled for 50 ms (this check once read
    // 590100 -> 590100 at load 12); what matters is that the main lcore sees it move at all
    const moved = async (from: number) => {
      for (let i = 0; i < 500 && Atomics.load(u32, z.off >> 2) <= from; i++) await sleep(10);
      return Atomics.load(u32, z.off >> 2);
    };
    const a = await moved(0);
    const b = await moved(a);
    t.ok(a > 0 && b > a, `counter moves while the worker runs (${a} -> ${b})`);
    requestQuit();
    const n = (await waitLcore(1)) as number;
    clearQuit();
    t.equal(Atomics.load(u32, z.off >> 2), n, 'every increment is visible');
  });

  t.test('coarse clock runs on workers', async (t) => {
    // the clock's rate depends on the main lcore being scheduled (it ticks once a millisecond; at load 8 it once
    // moved 5.7 ms in 30), so the worker waits for 20 ms of advance rather than timing a fixed window
    remoteLaunch(1, fns, 20000, 'clockAdvance');
    const d = (await waitLcore(1)) as number;
    t.ok(d >= 20000, `clockUs advanced ${d} us on a worker`);
    const a = clockUs();
    await sleep(20);
    t.ok(((clockUs() - a) | 0) >= 10000, 'and on the main lcore');
  });

  t.test('cleanup stops a busy lcore', async (t) => {
    remoteLaunch(3, fns, undefined, 'spinUntilQuit');
    const p = t.rejects(waitLcore(3), { name: 'LcoreError', message: 'lcore 3 was stopped by EAL cleanup' });
    await ealCleanup();
    await p;
    t.equal(ealInitialized(), false);
    t.same(lcoreList(), []);
    t.equal(lcoreId(), -1);
    t.same(cpusAllowed(), allowed0, 'the main thread may use every CPU again');
  });
});

t.test('bad CPUs and lcore ids', async (t) => {
  await t.rejects(ealInit(['--no-huge', '-m', '8', '-l', '0,99', '--log-level', 'error']), {
    name: 'LcoreError',
    message: `lcore 99 -> CPU 99: this process may only run on CPUs ${allowed0.join(',')}; ` +
      `choose lcores among them with -l (e.g. -l ${allowed0.slice(0, 2).join(',')})`,
  });
  t.equal(ealInitialized(), false);
  t.equal(memAttached(), false, 'memory released after the failed init');
  await t.rejects(ealInit(['--no-huge', '-m', '8', '--lcores', `0,1@99`, '--log-level', 'error']), { message: /^lcore 1 -> CPU 99: / });
  await t.rejects(ealInit(['--no-huge', '-m', '8', '--lcores', `0,${MAX_LCORES}@${c0}`, '--log-level', 'error']), {
    name: 'LcoreError', message: `lcore ${MAX_LCORES}: lcore ids must be below ${MAX_LCORES}`,
  });
  t.same(cpusAllowed(), allowed0);
});

t.test('sequential inits: main lcore other than the lowest, one-lcore EAL', async (t) => {
  const last = allowed0[allowed0.length - 1];
  await ealInit(['--no-huge', '-m', '8', '--log-level', 'error', '-l', `${last}`]);
  t.same(lcoreList(), [last]);
  t.same(workerLcores(), []);
  t.same(cpusAllowed(), [last]);
  await ealCleanup();
  t.same(cpusAllowed(), allowed0, 'affinity restored by cleanup');
  if (allowed0.length >= 2) {
    await ealInit(['--no-huge', '-m', '8', '--log-level', 'error', '--lcores', `0@${c0},1@${c1}`, '--main-lcore', '1']);
    t.equal(lcoreId(), 1);
    t.same(workerLcores(), [0]);
    t.same(cpusAllowed(), [c1], 'main lcore 1 pinned to its CPU');
    remoteLaunch(0, fns, { x: 4 });
    t.equal(await waitLcore(0), 8, 'lcore 0 is a worker');
    await ealCleanup();
  }
});
