// pktio-hugepages against a fake /sys and /proc: --show, --reserve, --mount (mount itself faked), errors and usage.
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, parseSize, usage, type HugeOpts } from '../bin/hugepages.js';

t.test('parseSize', async (t) => {
  t.equal(parseSize('256M'), 256 * 1048576);
  t.equal(parseSize('1G'), 1073741824);
  t.equal(parseSize('4k'), 4096);
  t.throws(() => parseSize('1Q'), { message: "bad size '1Q': expected e.g. 256M or 1G" });
});

t.test('the command line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pktio-huge-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const h = join(dir, 'sys/kernel/mm/hugepages/hugepages-2048kB');
  mkdirSync(h, { recursive: true });
  writeFileSync(join(h, 'nr_hugepages'), '4\n');
  writeFileSync(join(h, 'free_hugepages'), '3\n');
  mkdirSync(join(dir, 'proc'));
  writeFileSync(join(dir, 'proc/mounts'), 'nodev /dev/hugepages hugetlbfs rw,pagesize=2M 0 0\n');
  const out: string[] = [];
  const errs: string[] = [];
  const runs: string[][] = [];
  const o: HugeOpts = {
    sysRoot: join(dir, 'sys'), procRoot: join(dir, 'proc'), out: (s) => out.push(s), err: (s) => errs.push(s),
    run: (c, a) => { runs.push([c, ...a]); return { status: 0, stderr: '' }; },
  };
  const cli = (...argv: string[]) => {
    out.length = 0;
    errs.length = 0;
    return main(argv, o);
  };

  t.equal(cli('--show'), 0);
  t.match(out.join('\n'), /0 +4 2Mb 0\.0Gb 0\.0Gb\n\nHugepages mounted on \/dev\/hugepages/);
  t.equal(cli('--reserve', '64M'), 0);
  t.same(out, ['reserved 32 pages of 2 MiB']);
  t.equal(readFileSync(join(h, 'nr_hugepages'), 'utf8'), '32');
  t.equal(cli('--mount', '/dev/hugepages'), 0);
  t.same(out, ['/dev/hugepages is already a hugetlbfs mount']);
  t.equal(cli('--mount', join(dir, 'mnt')), 0);
  t.same(runs.at(-1), ['mount', '-t', 'hugetlbfs', '-o', 'pagesize=2M', 'nodev', join(dir, 'mnt')]);
  t.equal(cli('--help'), 0);
  t.equal(out[0], usage());
  t.match(usage(), /^usage: pktio-hugepages \[--show\]/, 'the package bin\'s name when not run as a program');

  t.equal(cli(), 1, 'nothing to do');
  t.match(errs[0], /^pktio-hugepages: nothing to do: give --show, --setup SIZE/);
  t.match(errs[0], /\nusage: pktio-hugepages/, 'a bad command line gets the usage');
  t.equal(cli('--reserve', '1Q'), 1);
  t.match(errs[0], /bad size '1Q'/);
  t.equal(cli('--bogus'), 1);
  t.match(errs[0], /unknown option '--bogus'/);
  t.equal(cli('--reserve'), 1);
  t.match(errs[0], /--reserve needs a value/);
  t.equal(cli('--pagesize', '1G', '--reserve', '1G'), 1, 'a failed action');
  t.equal(errs.length, 1);
  t.equal(errs[0], `pktio-hugepages: this kernel has no 1024 MiB hugepages (${dir}/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages ` +
    'is missing): use --pagesize 2M', 'one line, no usage');
});
