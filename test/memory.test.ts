// EAL memory: --no-huge and hugepage regions, IOVA in VA and PA mode, memzones, and the errors of a machine
// without (enough) hugepages, using fake /proc and /sys trees.
import t, { type Test } from 'tap';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ealInit, ealCleanup, mem, memShareInfo, memAttached, memzoneReserve, memzoneLookup, memzoneFree, memzoneList, heapFree,
  hugetlbfsMounts, freeHugepages, meminfoHugepageSize, initMemory, virt2phys, memsegs, MemoryError,
  extmemMap, extmemUnmap, extmemList,
} from '../src/eal/index.js';
import * as ffi from '../src/eal/ffi.js';

const MB = 1048576;
const HUGE = 2 * MB;

function hugepagesAvailable(pages: number): string | false {
  const m = hugetlbfsMounts().find((x) => x.pageSize === HUGE);
  if (!m) return 'no 2 MiB hugetlbfs mount on this machine';
  const f = freeHugepages(HUGE).free;
  if (f < pages) return `only ${f} free 2 MiB hugepages, ${pages} needed`;
  return false;
}

t.test('before init', async (t) => {
  t.equal(memAttached(), false);
  t.throws(() => mem(), { name: 'MemoryError', message: /not initialised/ });
  t.throws(() => memShareInfo(), MemoryError);
});

t.test('--no-huge: anonymous memory, IOVA = VA, memzones', async (t) => {
  await ealInit(['--no-huge', '-m', '16', '--log-level', 'error']);
  t.teardown(ealCleanup);
  const r = mem();
  t.equal(r.len, 16 * MB);
  t.equal(r.hugepages, false);
  t.equal(r.iovaPa, false);
  t.equal(r.pageSize, 4096);
  t.same(memShareInfo(), { base: r.base, len: r.viewLen }, 'workers view the memory and the external-memory window');
    t.equal(r.len, 16 * MB);
    t.equal(r.viewLen, 16 * MB + 1024 * MB);
  t.equal(r.iova(0), r.baseNum);
  t.equal(r.iova(12345), r.baseNum + 12345, 'IOVA = VA');
  t.equal(r.va(100), r.base + 100n);
  t.same(memsegs(), [{ va: r.base, iova: r.base, len: r.len, off: 0 }], 'one segment in VA mode');
  await t.rejects(ealInit(['--no-huge', '-m', '8']), { message: 'EAL is already initialised' });
  t.throws(() => initMemory({ noHuge: true, hugeDir: null, memoryMb: 8, iovaMode: 'va', filePrefix: 'x' }),
    { name: 'MemoryError', message: 'EAL memory is already initialised' });

  t.test('reserve, lookup, free', async (t) => {
    const free0 = heapFree();
    t.ok(free0.total > 15 * MB && free0.total === free0.largest, 'one free block at start');
    const a = memzoneReserve('zone_a', 1000);
    t.equal(a.off % 64, 0, 'default alignment is a cache line');
    t.equal(a.len, 1000);
    t.equal(a.iova, r.baseNum + a.off);
    t.equal(a.va, r.base + BigInt(a.off));
    t.same(memzoneLookup('zone_a'), a, 'lookup returns the same zone');
    t.equal(memzoneLookup('nope'), null);
    r.u8.fill(0xab, a.off, a.off + 1000);
    const b = memzoneReserve('zone_b', 5000, { align: 4096 });
    t.equal(b.off % 4096, 0, 'align 4096');
    t.ok(b.off >= a.off + 1000 || b.off + 5000 <= a.off, 'zones do not overlap');
    const c = memzoneReserve('zone_c', 3000, { bound: 4096 });
    t.equal(Math.floor(c.off / 4096), Math.floor((c.off + 2999) / 4096), 'bound: does not cross 4 KiB');
    t.same(memzoneList().map((z) => z.name).sort(), ['zone_a', 'zone_b', 'zone_c']);
    t.ok(heapFree().total <= free0.total - 9000);
    memzoneFree('zone_a');
    t.equal(memzoneLookup('zone_a'), null, 'freed zone is gone');
    const a2 = memzoneReserve('zone_a', 1000);
    t.equal(a2.off, a.off, 'first fit reuses the freed block');
    t.ok(r.u8.subarray(a2.off, a2.off + 1000).every((x) => x === 0), 'reserved memory is zeroed');
    t.throws(() => memzoneFree('nope'), { name: 'MemoryError', message: "no memzone 'nope'" });
    for (const n of ['zone_a', 'zone_b', 'zone_c']) memzoneFree(n);
    t.same(heapFree(), free0, 'freeing everything merges the heap back into one block');
    t.same(memzoneList(), []);
  });

  t.test('names, lengths, alignment, duplicates', async (t) => {
    memzoneReserve('dup', 64);
    t.throws(() => memzoneReserve('dup', 64), { name: 'MemoryError', message: "memzone 'dup' already exists" });
    memzoneFree('dup');
    const n43 = 'x'.repeat(43);
    t.equal(memzoneReserve(n43, 64).name, n43, '43 characters is the limit');
    t.ok(memzoneLookup(n43));
    memzoneFree(n43);
    for (const bad of ['', 'x'.repeat(44), 'has space', 'tab\t', 'caf\u00e9']) {
      t.throws(() => memzoneReserve(bad, 64), { name: 'MemoryError', message: `bad memzone name '${bad}': 1 to 43 printable ASCII characters` });
    }
    for (const len of [0, -1, 1.5, NaN]) {
      t.throws(() => memzoneReserve('len', len), { name: 'MemoryError', message: `bad memzone length ${len}` });
    }
    t.throws(() => memzoneReserve('al', 64, { align: 48 }), { name: 'MemoryError', message: 'memzone alignment 48 is not a power of two' });
    const big = memzoneReserve('big_align', 100, { align: MB });
    t.equal(big.off % MB, 0, '1 MiB alignment');
    memzoneFree('big_align');
    const contig = memzoneReserve('contig', 3 * MB, { contig: true });
    t.equal(contig.len, 3 * MB, 'contig zones larger than a page are fine in VA mode');
    memzoneFree('contig');
  });

  t.test('exhaustion: the error says how much is free and suggests -m', async (t) => {
    const f = heapFree();
    const want = 32 * MB;
    t.throws(() => memzoneReserve('too_big', want), {
      name: 'MemoryError',
      message: `cannot reserve ${want} bytes for 'too_big': ${f.total} bytes free, largest block ${f.largest}; give the EAL more memory with -m`,
    });
    t.equal(memzoneLookup('too_big'), null, 'nothing reserved');
    // fragment the heap: the largest block is reported, not the total
    const z1 = memzoneReserve('frag1', 4 * MB);
    const z2 = memzoneReserve('frag2', 4 * MB);
    memzoneReserve('frag3', 4 * MB);
    memzoneFree('frag2');
    const g = heapFree();
    t.ok(g.largest < g.total, 'fragmented');
    t.throws(() => memzoneReserve('frag_big', g.largest + 4096), { message: new RegExp(`${g.total} bytes free, largest block ${g.largest}`) });
    const fit = memzoneReserve('frag_fit', 4 * MB, { align: 64 });
    t.ok(fit.off >= z1.off + z1.len && fit.off + fit.len <= z2.off + z2.len || fit.off > z2.off, 'a hole of the right size is used');
    for (const n of ['frag1', 'frag3', 'frag_fit']) memzoneFree(n);
    t.same(heapFree(), f);
  });

  t.test('memzone slots run out at 512', async (t) => {
    const names: string[] = [];
    let err: Error | null = null;
    try {
      for (let i = 0; i < 600; i++) {
        memzoneReserve(`s${i}`, 64);
        names.push(`s${i}`);
      }
    } catch (e) {
      err = e as Error;
    }
    t.equal(names.length, 512);
    t.match(err, { name: 'MemoryError', message: 'no free memzone slot (512 in use)' });
    t.ok(memzoneLookup('s511'), 'the last zone is found');
    for (const n of names) memzoneFree(n);
    t.same(memzoneList(), []);
    memzoneReserve('after', 64);
    memzoneFree('after');
  });
});

/** Maps a file into the window twice, sees its bytes at region offsets both ways, unmaps, and checks the errors. */
function extmemRoundTrip(t: Test): void {
  const r = mem();
  const dir = mkdtempSync(join(tmpdir(), 'extmem-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'f');
  writeFileSync(f, Buffer.alloc(10000, 7));
  const fd = ffi.open(f, ffi.O_RDWR, 0);
  const a = extmemMap('ext_a', fd, 10000);
  const b = extmemMap('ext_b', fd, 4096, 4096);
  ffi.close(fd);
  t.equal(a.len, 12288, 'rounded up to pages');
  t.ok(a.off >= r.len && a.off + a.len <= r.viewLen, 'in the window after the memory');
  t.equal(r.u8[a.off + 9999], 7, 'the file is visible at its region offset');
  r.u8[b.off] = 9;
  t.equal(r.u8[a.off + 4096], 9, 'both mappings share the file pages');
  t.throws(() => extmemMap('ext_a', 0, 4096), /already mapped/);
  t.throws(() => extmemMap('ext_big', 0, 2048 * MB), /window has \d+ bytes free/);
  extmemUnmap('ext_a');
  extmemUnmap('ext_b');
  t.same(extmemList(), []);
  t.throws(() => extmemUnmap('ext_a'), /no external memory 'ext_a'/);
  const memfd = ffi.memfd_create('t', ffi.MFD_CLOEXEC);
  const c = extmemMap('ext_c', memfd, 4096);
  ffi.close(memfd);
  t.equal(c.off, a.off, 'freed window space is reused');
  extmemUnmap('ext_c');
}

t.test('external memory in the window (no-huge)', async (t) => {
  await ealInit(['--no-huge', '-m', '16', '--log-level', 'error']);
  t.teardown(ealCleanup);
  extmemRoundTrip(t);
});

t.test('after cleanup', async (t) => {
  t.equal(memAttached(), false);
  t.throws(() => mem(), MemoryError);
  t.throws(() => memzoneLookup('x'), MemoryError);
});

// ---- hugepage discovery with fake /proc and /sys ------------------------------------------------------------------

function fakeRoots(o: { mounts: string; hugepagesize?: number; nr?: number; free?: number; resv?: number }) {
  const d = mkdtempSync(join(tmpdir(), 'pktio-mem-'));
  const proc = join(d, 'proc');
  const sys = join(d, 'sys');
  mkdirSync(proc);
  writeFileSync(join(proc, 'mounts'), o.mounts);
  writeFileSync(join(proc, 'meminfo'), `MemTotal:  8000000 kB\nHugepagesize:    ${o.hugepagesize ?? 2048} kB\n`);
  const hp = join(sys, 'kernel/mm/hugepages/hugepages-2048kB');
  mkdirSync(hp, { recursive: true });
  writeFileSync(join(hp, 'nr_hugepages'), `${o.nr ?? 0}\n`);
  writeFileSync(join(hp, 'free_hugepages'), `${o.free ?? 0}\n`);
  writeFileSync(join(hp, 'resv_hugepages'), `${o.resv ?? 0}\n`);
  return { proc, sys, cleanup: () => rmSync(d, { recursive: true, force: true }) };
}

t.test('hugetlbfs discovery from /proc and /sys', async (t) => {
  const f = fakeRoots({
    mounts: 'proc /proc proc rw 0 0\n' +
      'nodev /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n' +
      'none /mnt/huge\\0401G hugetlbfs rw,pagesize=1024M 0 0\n' +
      'none /mnt/default hugetlbfs rw,relatime 0 0\n',
    hugepagesize: 4096, nr: 10, free: 7, resv: 2,
  });
  t.teardown(f.cleanup);
  t.same(hugetlbfsMounts(f.proc), [
    { dir: '/dev/hugepages', pageSize: 2 * MB },
    { dir: '/mnt/huge 1G', pageSize: 1024 * MB },
    { dir: '/mnt/default', pageSize: 4 * MB },
  ], 'page sizes from the options, else meminfo; octal escapes decoded');
  t.equal(meminfoHugepageSize(f.proc), 4 * MB);
  t.equal(meminfoHugepageSize('/nonexistent'), 2 * MB, 'default when meminfo is unreadable');
  t.same(freeHugepages(HUGE, f.sys), { total: 10, free: 5 }, 'free minus reserved');
  t.same(freeHugepages(1024 * MB, f.sys), { total: 0, free: 0 }, 'no such size');
  t.same(hugetlbfsMounts('/nonexistent'), []);
});

t.test('not enough hugepages: the error names the counts and the fix', async (t) => {
  const f = fakeRoots({ mounts: 'nodev /dev/hugepages hugetlbfs rw,pagesize=2M 0 0\n', nr: 8, free: 3, resv: 1 });
  t.teardown(f.cleanup);
  const o = { noHuge: false, hugeDir: null, memoryMb: 64, iovaMode: 'va' as const, filePrefix: 'memtest', procRoot: f.proc, sysRoot: f.sys };
  t.throws(() => initMemory(o), {
    name: 'MemoryError',
    message: 'not enough hugepages: 32 pages of 2 MiB needed for -m 64, 2 free of 8: ' +
      "reserve them with 'npx pktio-hugepages --setup 76M' (or: echo 38 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages; " +
      'mkdir -p /dev/hugepages && mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages), ask for less memory with -m, or run with --no-huge',
  });
  t.throws(() => initMemory({ ...o, memoryMb: null }), { message: /^not enough hugepages: 128 pages of 2 MiB needed for -m 256, 2 free of 8/ },
    'default -m is 256');
  t.equal(memAttached(), false, 'nothing mapped after the error');
});

t.test('no hugetlbfs mount at all', async (t) => {
  const f = fakeRoots({ mounts: 'proc /proc proc rw 0 0\n' });
  t.teardown(f.cleanup);
  t.throws(() => initMemory({ noHuge: false, hugeDir: null, memoryMb: 64, iovaMode: 'va', filePrefix: 'x', procRoot: f.proc, sysRoot: f.sys }), {
    name: 'MemoryError',
    message: /^no hugetlbfs mount found: reserve them with 'npx pktio-hugepages --setup 64M' .*or run with --no-huge$/,
  });
  t.throws(() => initMemory({ noHuge: false, hugeDir: '/mnt/x', memoryMb: 8, iovaMode: 'va', filePrefix: 'x', procRoot: f.proc, sysRoot: f.sys }), {
    message: "--huge-dir /mnt/x is not a hugetlbfs mount: mount one with 'mkdir -p /mnt/x && mount -t hugetlbfs nodev /mnt/x' " +
      "or 'npx pktio-hugepages --setup 256M --mount /mnt/x'",
  });
});

t.test('--huge-dir that is not hugetlbfs', async (t) => {
  await t.rejects(ealInit(['--huge-dir', tmpdir(), '-m', '8', '--log-level', 'error']), {
    name: 'MemoryError', message: new RegExp(`^--huge-dir ${tmpdir()} is not a hugetlbfs mount.*mount -t hugetlbfs nodev`),
  });
  t.equal(memAttached(), false);
  t.throws(() => initMemory({ noHuge: true, hugeDir: null, memoryMb: 8, iovaMode: 'pa', filePrefix: 'x' }), {
    name: 'MemoryError', message: /^--no-huge gives IOVA = VA only/,
  });
});

// ---- real hugepages -----------------------------------------------------------------------------------------------

t.test('hugepages, IOVA = VA', { skip: hugepagesAvailable(4) }, async (t) => {
  const dir = hugetlbfsMounts().find((m) => m.pageSize === HUGE)!.dir;
  await ealInit(['--huge-dir', dir, '-m', '8', '--iova-mode', 'va', '--file-prefix', 'memtest_va', '--log-level', 'error']);
  t.teardown(ealCleanup);
  const r = mem();
  t.equal(r.hugepages, true);
  t.equal(r.pageSize, HUGE);
  t.equal(r.len, 8 * MB);
  t.equal(r.iovaPa, false);
  t.equal(r.iova(3 * MB + 5), r.baseNum + 3 * MB + 5);
  t.equal(r.baseNum % HUGE, 0, 'hugepage mapping is 2 MiB aligned');
  t.notOk(readdirSync(dir).some((n) => n.startsWith('memtest_va')), 'the hugepage file is unlinked at once');
  extmemRoundTrip(t);
});

const paSkip = hugepagesAvailable(4) || (process.getuid?.() !== 0 && 'physical addresses (IOVA as PA) need root');

t.test('hugepages, IOVA = PA (physical addresses from pagemap)', { skip: paSkip }, async (t) => {
  const dir = hugetlbfsMounts().find((m) => m.pageSize === HUGE)!.dir;
  await ealInit(['--huge-dir', dir, '-m', '8', '--iova-mode', 'pa', '--file-prefix', 'memtest_pa', '--log-level', 'error']);
  t.teardown(ealCleanup);
  const r = mem();
  t.equal(r.iovaPa, true);
  const pages = r.len / HUGE;
  t.equal(pages, 4);
  const seen = new Set<number>();
  for (let p = 0; p < pages; p++) {
    const off = p * HUGE;
    const iova = r.iova(off);
    t.equal(iova % HUGE, 0, `page ${p}: IOVA 0x${iova.toString(16)} is 2 MiB aligned`);
    t.not(iova, r.baseNum + off, `page ${p}: IOVA differs from VA`);
    t.equal(iova, Number(virt2phys(r.va(off))), `page ${p}: IOVA is the pagemap physical address`);
    for (const k of [1, 17, 256, 511]) {
      t.equal(Number(virt2phys(r.va(off + k * 4096))), iova + k * 4096, `page ${p}: 4 KiB page ${k} is physically contiguous`);
    }
    t.equal(r.iova(off + 12345), iova + 12345, 'offset inside the page');
    seen.add(iova);
  }
  t.equal(seen.size, pages, 'distinct physical pages');
  const segs = memsegs();
  t.equal(segs.reduce((a, s) => a + s.len, 0), r.len, 'segments cover the region');
  for (const s of segs) {
    t.equal(s.iova, BigInt(r.iova(s.off)));
    for (let o = 0; o < s.len; o += HUGE) t.equal(r.iova(s.off + o), Number(s.iova) + o, 'segment is IOVA-contiguous');
  }
  // zones: the IOVA recorded is the physical address; contig zones stay inside one page
  const filler = memzoneReserve('filler', HUGE - 8192);
  const z = memzoneReserve('pa_contig', MB, { contig: true });
  t.equal(Math.floor(z.off / HUGE), Math.floor((z.off + z.len - 1) / HUGE), 'contig zone does not cross a hugepage');
  t.equal(z.iova, r.iova(z.off));
  t.equal(memzoneLookup('pa_contig')!.iova, z.iova);
  t.throws(() => memzoneReserve('too_contig', HUGE + 1, { contig: true }), {
    name: 'MemoryError', message: `memzone 'too_contig': ${HUGE + 1} bytes cannot be IOVA-contiguous in PA mode (page is ${HUGE})`,
  });
  memzoneFree('pa_contig');
  memzoneFree(filler.name);
});
