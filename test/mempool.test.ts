// Mempools: creation rules, per-lcore caches, counts, get/put single and bulk, exhaustion, and (with hugepages)
// the PA-mode rule that no object straddles a page.
import t from 'tap';
import {
  ealInit, ealCleanup, mem, remoteLaunch, waitLcore, setLcoreErrorPolicy, hugetlbfsMounts, freeHugepages, virt2phys, cpusAllowed,
} from '../src/eal/index.js';
import {
  mempoolCreate, mempoolLookup, mempoolFree, mempoolList, mempoolById, Mempool, MempoolError, MEMPOOL_CACHE_MAX_SIZE,
} from '../src/mempool/mempool.js';
import { pktmbufPoolCreate, bufOff, bufLen, M } from '../src/mempool/mbuf.js';

const helper = new URL('./helpers/lcore-mempool.ts', import.meta.url);
const cpus = cpusAllowed();

t.test('with --no-huge', async (t) => {
  await ealInit(['--no-huge', '-m', '64', '--log-level', 'error', '--lcores', `0@${cpus[0]},1@${cpus[cpus.length - 1]}`]);
  t.teardown(ealCleanup);

  t.test('create, lookup, free', async (t) => {
    const p = mempoolCreate('mp1', 1023, { eltSize: 100, cacheSize: 32 });
    t.ok(p instanceof Mempool);
    t.equal(p.name, 'mp1');
    t.equal(p.size, 1023);
    t.equal(p.eltSize, 128, 'element size rounded up to a cache line');
    t.equal(p.cacheSize, 32);
    t.ok(p.cacheCap >= 48, 'cache holds at least 1.5 x its size');
    t.equal(p.availCount(), 1023);
    t.equal(p.inUseCount(), 0);
    t.ok(p.full());
    t.equal(mempoolLookup('mp1'), p, 'lookup on the creating lcore returns the same object');
    t.equal(mempoolById(p.id), p);
    t.equal(mempoolLookup('nope'), null);
    t.ok(mempoolList().includes('mp1'));
    // objects: cache-line aligned, disjoint, every one in the ring once
    const offs: number[] = [];
    p.objIter((h, i) => {
      t.equal(h, p.objAt(i));
      offs.push(h * 4);
    });
    t.equal(offs.length, 1023);
    t.ok(offs.every((o) => o % 64 === 0), 'objects are 64-byte aligned');
    const sorted = [...offs].sort((a, b) => a - b);
    t.ok(sorted.every((o, i) => i === 0 || o - sorted[i - 1] >= 128), 'objects do not overlap');
    const inits: number[] = [];
    const q = mempoolCreate('mp_init', 5, { eltSize: 64, objInit: (off, i) => { inits.push(i); mem().u32[off >> 2] = 1000 + i; } });
    t.same(inits, [0, 1, 2, 3, 4], 'objInit called once per object, in order');
    q.objIter((h, i) => t.equal(mem().u32[h], 1000 + i));
    mempoolFree(q);
    t.equal(mempoolLookup('mp_init'), null, 'freed pool is gone');
    t.notOk(mempoolList().includes('mp_init'));
    mempoolFree(p);
  });

  t.test('bad arguments', async (t) => {
    mempoolCreate('dup', 10, { eltSize: 64 });
    t.throws(() => mempoolCreate('dup', 10, { eltSize: 64 }), { name: 'MempoolError', message: "mempool 'dup' already exists" });
    mempoolFree(mempoolLookup('dup')!);
    for (const bad of ['', 'x'.repeat(32), 'sp ace']) {
      t.throws(() => mempoolCreate(bad, 10, { eltSize: 64 }), { name: 'MempoolError', message: `bad mempool name '${bad}': 1 to 31 printable ASCII characters` });
    }
    for (const n of [0, -1, 1.5, 0x40000000]) {
      t.throws(() => mempoolCreate('n', n, { eltSize: 64 }), { name: 'MempoolError', message: `bad mempool size ${n}` });
    }
    for (const c of [-1, 2.5, MEMPOOL_CACHE_MAX_SIZE + 1]) {
      t.throws(() => mempoolCreate('c', 10000, { eltSize: 64, cacheSize: c }), {
        name: 'MempoolError', message: `bad cache size ${c}: 0 to ${MEMPOOL_CACHE_MAX_SIZE}, and at most n / 1.5 (n = 10000)`,
      });
    }
    t.throws(() => mempoolCreate('c', 100, { eltSize: 64, cacheSize: 67 }), { message: /^bad cache size 67: .*\(n = 100\)/ }, 'cache > n / 1.5');
    t.ok(mempoolCreate('c66', 100, { eltSize: 64, cacheSize: 66 }), 'cache = n / 1.5 is fine');
    mempoolFree(mempoolLookup('c66')!);
    t.throws(() => mempoolCreate('toobig', 100000, { eltSize: 4096 }), {
      name: 'MempoolError', message: /^cannot create mempool 'toobig' \(100000 x 4096 bytes\): cannot reserve .* give the EAL more memory with -m$/,
    });
    t.equal(mempoolLookup('toobig'), null);
    // a throwing launched function ends the process by default (test/robust-lcore.test.ts): here only the rejection
    setLcoreErrorPolicy('report');
    t.teardown(() => setLcoreErrorPolicy('exit'));
    remoteLaunch(1, helper, undefined, 'createOnWorker');
    await t.rejects(waitLcore(1), { message: 'lcore 1: mempoolCreate runs on the main lcore only' });
  });

  t.test('per-lcore cache', async (t) => {
    const p = mempoolCreate('cached', 1000, { eltSize: 64, cacheSize: 32 });
    t.teardown(() => mempoolFree(p));
    const cache = () => p.u32[p.cacheLen];
    t.ok(p.cacheLen >= 0, 'the main lcore has a cache');
    t.equal(cache(), 0);
    const h = p.get();
    t.ok(h > 0);
    t.equal(cache(), 32, 'the first get refills the cache with cacheSize objects beyond the request');
    t.equal(p.ring.count(), 1000 - 33);
    t.equal(p.availCount(), 999, 'availCount counts the ring and the caches');
    t.equal(p.inUseCount(), 1);
    p.put(h);
    t.equal(cache(), 33, 'put goes to the cache');
    t.equal(p.ring.count(), 1000 - 33);
    t.equal(p.availCount(), 1000);
    t.equal(p.get(), h, 'the cache is LIFO: the object just put comes back first');
    p.put(h);
    // overflowing the cache flushes the oldest objects to the ring, down to cacheSize
    const many = new Uint32Array(200);
    t.equal(p.getBurst(many, 40), 40);
    t.equal(p.availCount(), 960);
    for (let i = 0; i < 40; i++) p.put(many[i]);
    t.ok(cache() <= p.cacheCap, 'cache never exceeds its capacity');
    t.equal(p.availCount(), 1000);
    // requests larger than the cache go to the ring directly
    const before = cache();
    t.equal(p.getBurst(many, 150), 150);
    t.equal(cache(), before, 'a burst larger than the cache bypasses it');
    p.putBulk(many, 150);
    t.equal(cache(), before);
    t.equal(p.availCount(), 1000);
    p.cacheFlush();
    t.equal(cache(), 0);
    t.equal(p.ring.count(), 1000, 'cacheFlush returns everything to the ring');

    // a worker lcore has a cache of its own
    remoteLaunch(1, helper, { pool: 'cached', n: 10 }, 'take');
    const r = (await waitLcore(1)) as { lcore: number; handles: number[]; cacheLen: number };
    t.equal(r.handles.length, 10);
    t.equal(r.cacheLen, 32, "lcore 1's cache was refilled");
    t.equal(cache(), 0, "the main lcore's cache is untouched");
    t.equal(p.inUseCount(), 10, 'the main lcore sees what lcore 1 took');
    t.equal(p.ring.count(), 1000 - 42);
    const all = new Set<number>();
    p.objIter((x) => all.add(x));
    t.ok(r.handles.every((x) => all.has(x)), 'handles mean the same objects on every lcore');
    // objects taken on one lcore may be returned on another
    p.putBulk(Uint32Array.from(r.handles), 10);
    t.equal(p.inUseCount(), 0);
    t.equal(cache(), 10);
    remoteLaunch(1, helper, 'cached', 'flush');
    await waitLcore(1);
    p.cacheFlush();
    t.equal(p.ring.count(), 1000);
    const seen = new Set<number>();
    const out = new Uint32Array(1000);
    t.equal(p.getBurst(out, 1000), 1000);
    out.forEach((x) => seen.add(x));
    t.equal(seen.size, 1000, 'no object lost or duplicated by the caches');
    p.putBulk(out, 1000);
  });

  t.test('exhaustion: fewer from getBurst, false from getBulk, never a throw', async (t) => {
    for (const cacheSize of [0, 16]) {
      const p = mempoolCreate(`small${cacheSize}`, 64, { eltSize: 64, cacheSize });
      const objs = new Uint32Array(128);
      t.equal(p.getBurst(objs, 100), 64, `cache ${cacheSize}: burst of 100 from 64 gives 64`);
      t.equal(p.availCount(), 0);
      t.equal(p.getBurst(objs, 8, 100), 0, 'empty pool: 0');
      t.equal(p.getBulk(objs, 1, 100), false);
      t.equal(p.get(), -1);
      p.putBulk(objs, 10);
      t.equal(p.getBulk(objs, 11, 100), false, 'bulk of 11 from 10: false');
      t.equal(p.availCount(), 10, '... and the 10 are still in the pool');
      t.equal(p.getBulk(objs, 10, 100), true);
      t.equal(p.availCount(), 0);
      p.putBulk(objs, 64, 0);
      t.equal(p.availCount(), 64);
      t.equal(p.getBulk(objs, 64), true, 'the whole pool in one bulk');
      p.putBulk(objs, 64);
      p.cacheFlush();
      t.ok(p.full());
      mempoolFree(p);
    }
  });

  t.test('pktmbuf pools: every buffer IOVA is the region IOVA of its buffer', async (t) => {
    const p = pktmbufPoolCreate('va_mbufs', 500, 0, 64, 2176);
    t.teardown(() => mempoolFree(p));
    const r = mem();
    let bad = 0;
    p.objIter((m) => {
      const iova = r.u32[m + M.BUF_IOVA_HI] * 2 ** 32 + r.u32[m + M.BUF_IOVA_LO];
      if (iova !== r.iova(bufOff(m)) || bufOff(m) !== m * 4 + 64 + 64 || bufLen(m) !== 2176) bad++;
    });
    t.equal(bad, 0);
  });

  t.test('VA mode: an object that fits a page never straddles one; a bigger one may', async (t) => {
    const r = mem();
    t.equal(r.pageSize, 4096);
    // 2368-byte mbufs: one per 4 KiB page; back to back, every other one would cross a page boundary
    const p = pktmbufPoolCreate('va_pages', 700, 0, 64, 2176);
    t.teardown(() => mempoolFree(p));
    let straddle = 0;
    const pages = new Set<number>();
    p.objIter((m) => {
      const off = m * 4;
      if (Math.floor(off / 4096) !== Math.floor((off + p.eltSize - 1) / 4096)) straddle++;
      pages.add(Math.floor(off / 4096));
    });
    t.equal(straddle, 0, 'no mbuf crosses a 4 KiB page');
    t.equal(pages.size, 700, 'one per page');
    const big = mempoolCreate('va_big', 10, { eltSize: 6000 });
    t.teardown(() => mempoolFree(big));
    t.equal(big.objAt(1) - big.objAt(0), 6016 / 4, 'objects larger than a page are laid back to back (IOVA-contiguous in VA mode)');
  });
});

const paSkip = (() => {
  const m = hugetlbfsMounts().find((x) => x.pageSize === 2 * 1048576);
  if (!m) return 'no 2 MiB hugetlbfs mount';
  if (freeHugepages(2 * 1048576).free < 8) return 'fewer than 8 free 2 MiB hugepages';
  if (process.getuid?.() !== 0) return 'IOVA as PA needs root';
  return false;
})();

t.test('PA mode: objects never straddle a 2 MiB page', { skip: paSkip }, async (t) => {
  const dir = hugetlbfsMounts().find((x) => x.pageSize === 2 * 1048576)!.dir;
  await ealInit(['--huge-dir', dir, '-m', '16', '--iova-mode', 'pa', '--file-prefix', 'mptest', '--log-level', 'error', '-l', `${cpus[0]}`]);
  t.teardown(ealCleanup);
  const r = mem();
  const page = r.pageSize;
  t.equal(page, 2 * 1048576);
  // 2304-byte mbufs: 910 per page with a tail left over, so a naive layout would cross page boundaries
  const p = pktmbufPoolCreate('pa_mbufs', 3000, 32, 0, 2176 + 64);
  t.equal(p.eltSize % 64, 0);
  t.ok(page % p.eltSize !== 0, 'element size does not divide the page');
  let straddle = 0;
  let iovaBad = 0;
  let physBad = 0;
  let checked = 0;
  const pages = new Set<number>();
  p.objIter((m, i) => {
    const off = m * 4;
    if (Math.floor(off / page) !== Math.floor((off + p.eltSize - 1) / page)) straddle++;
    pages.add(Math.floor(off / page));
    const b = bufOff(m);
    const iova = r.u32[m + M.BUF_IOVA_HI] * 2 ** 32 + r.u32[m + M.BUF_IOVA_LO];
    if (iova !== r.iova(b) || r.iova(b + bufLen(m) - 1) !== iova + bufLen(m) - 1) iovaBad++;
    if (i % 97 === 0) {
      checked++;
      if (Number(virt2phys(r.va(b))) !== iova) physBad++;
    }
  });
  t.equal(straddle, 0, 'no object crosses a page boundary');
  t.ok(pages.size >= 3, `objects spread over ${pages.size} pages`);
  t.equal(iovaBad, 0, "each buffer's IOVA matches mem().iova(bufOff) and is contiguous");
  t.equal(physBad, 0, `IOVA is the physical address (${checked} checked via pagemap)`);
  t.not(r.iova(bufOff(p.objAt(0))), r.baseNum + bufOff(p.objAt(0)), 'IOVA differs from VA');
  t.throws(() => mempoolCreate('huge_elt', 2, { eltSize: page + 64 }), {
    name: 'MempoolError', message: `objects of ${page + 64} bytes do not fit a ${page}-byte page in PA mode`,
  });
  mempoolFree(p);
});

t.test('pools do not outlive the EAL: init, cleanup, init again', async (t) => {
  t.throws(() => mempoolLookup('x'), { name: 'MemoryError', message: /not initialised/ }, 'no EAL: lookup fails clearly');
  await ealInit(['--no-huge', '-m', '8', '--log-level', 'error', '-l', `${cpus[0]}`]);
  const a = mempoolCreate('survivor', 10, { eltSize: 64 });
  t.equal(mempoolLookup('survivor'), a);
  await ealCleanup();
  await ealInit(['--no-huge', '-m', '8', '--log-level', 'error', '-l', `${cpus[0]}`]);
  t.teardown(ealCleanup);
  t.equal(mempoolLookup('survivor'), null, 'a pool of the previous init is not found');
  const b = mempoolCreate('survivor', 20, { eltSize: 64 });
  t.equal(mempoolLookup('survivor'), b, 'the new pool of that name is');
  t.equal(b.size, 20);
  t.ok(new MempoolError('x') instanceof Error);
});
