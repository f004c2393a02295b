// EAL command line: every option, the "--" split, and the errors (message + usage) for bad or conflicting input.
import t, { type Test } from 'tap';
import {
  parseEalArgs, parseCpuList, parseLcores, usage, EalArgError, ealInit, ealInitialized, chooseIovaMode,
} from '../src/eal/index.js';

const cfg = (...argv: string[]) => parseEalArgs(argv).config;

/** Asserts that argv is rejected with an EalArgError stating `msg` and carrying the usage text. */
function rejects(t: Test, argv: string[], msg: string | RegExp): void {
  let err: unknown;
  try {
    parseEalArgs(argv);
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof EalArgError, `${argv.join(' ')} -> EalArgError`);
  const m = (err as Error | undefined)?.message ?? '';
  if (typeof msg === 'string') t.ok(m.startsWith(msg), `${argv.join(' ')}: message starts with "${msg}" (got "${m.split('\n')[0]}")`);
  else t.match(m.split('\n')[0], msg, `${argv.join(' ')}: message`);
  t.ok(m.includes(usage()), `${argv.join(' ')}: message includes the usage`);
}

t.test('defaults', async (t) => {
  const { config, appArgs } = parseEalArgs([]);
  t.same(config, {
    lcores: { 0: [0] }, mainLcore: 0, allow: [], block: [], vdevs: [], noHuge: false, noPci: false, hugeDir: null,
    memoryMb: null, iovaMode: null, filePrefix: 'pktio', logLevel: 'info', logFormat: null, vfioNoIommu: false, vfioFlow: 'auto', vfioIommufdCompat: false, baseVirtaddr: null, help: false,
  });
  t.same(appArgs, []);
  t.equal(chooseIovaMode(config), 'va');
  t.equal(chooseIovaMode(cfg('--no-huge')), 'va');
  t.equal(chooseIovaMode(cfg('--iova-mode', 'pa')), 'pa');
});

t.test('-l: ranges and lists', async (t) => {
  t.same(cfg('-l', '0-3').lcores, { 0: [0], 1: [1], 2: [2], 3: [3] });
  t.same(cfg('-l0-3').lcores, { 0: [0], 1: [1], 2: [2], 3: [3] }, 'glued value');
  t.same(cfg('-l', '0,2,4').lcores, { 0: [0], 2: [2], 4: [4] });
  t.same(cfg('-l', '1,3-4,1').lcores, { 1: [1], 3: [3], 4: [4] }, 'duplicates collapse');
  t.same(cfg('--lcores=0-1').lcores, { 0: [0], 1: [1] }, '--opt=value');
  t.equal(cfg('-l', '2-3').mainLcore, 2, 'main lcore defaults to the lowest');
  t.same(parseCpuList('5'), [5]);
  t.same(parseCpuList('0-2,7'), [0, 1, 2, 7]);
  t.throws(() => parseCpuList(''), { name: 'EalArgError', message: /^empty lcore list/ });
  rejects(t, ['-l', '3-1'], "invalid lcore list '3-1': range 3-1 runs backwards");
  rejects(t, ['-l', '0-1024'], "invalid lcore list '0-1024': ids must be below 1024");
  rejects(t, ['-l', 'a'], "invalid lcore list 'a': expected e.g. 0-3 or 0,2,4");
  rejects(t, ['-l', '0,,1'], "invalid lcore list '0,,1'");
  rejects(t, ['-l'], 'option -l needs a value');
  rejects(t, ['-l', '--no-huge'], 'option -l needs a value');
  rejects(t, ['-l', '-1'], "invalid lcore list '-1'");
});

t.test('--lcores with @ and parentheses', async (t) => {
  t.same(parseLcores('1@2,(3-4)@(5-6),7@(0,1)'), { 1: [2], 3: [5, 6], 4: [5, 6], 7: [0, 1] });
  t.same(parseLcores('(0-3)@(0-1)'), { 0: [0, 1], 1: [0, 1], 2: [0, 1], 3: [0, 1] });
  t.same(parseLcores('(0,1),2@1'), { 0: [0], 1: [1], 2: [1] }, 'group without @ maps each lcore to its own CPU');
  t.same(cfg('--lcores', '0@1,1@0').lcores, { 0: [1], 1: [0] });
  rejects(t, ['--lcores', '(0-1@0'], "invalid --lcores '(0-1@0': unbalanced parentheses");
  rejects(t, ['--lcores', '0-1)@0'], "invalid --lcores '0-1)@0': unbalanced parentheses");
  rejects(t, ['--lcores', '1@0,1@1'], "invalid --lcores '1@0,1@1': lcore 1 given twice");
  rejects(t, ['--lcores', '1@x'], "invalid --lcores cpu set 'x'");
});

t.test('--main-lcore', async (t) => {
  t.equal(cfg('-l', '0-3', '--main-lcore', '2').mainLcore, 2);
  t.equal(cfg('--main-lcore=1', '-l', '0,1').mainLcore, 1, 'order does not matter');
  rejects(t, ['-l', '0-3', '--main-lcore', '5'], '--main-lcore 5 is not in the lcore list (0,1,2,3)');
  rejects(t, ['--main-lcore', '1'], '--main-lcore 1 is not in the lcore list (0)');
  rejects(t, ['-l', '0-1', '--main-lcore', 'one'], "invalid --main-lcore 'one': expected a non-negative integer");
});

t.test('-a / -b: PCI addresses', async (t) => {
  t.same(cfg('-a', '00:03.0').allow, ['0000:00:03.0'], 'domain added');
  t.same(cfg('-a', '0000:AF:1F.7', '--allow', '1:2:3.4').allow, ['0000:af:1f.7', '0001:02:03.4'], 'normalised, repeatable');
  t.same(cfg('-w', '0000:00:04.0').allow, ['0000:00:04.0'], 'legacy -w');
  t.same(cfg('-a0000:00:05.0').allow, ['0000:00:05.0'], 'glued');
  t.same(cfg('-b', '00:1f.2', '--block', '0000:00:1e.0').block, ['0000:00:1f.2', '0000:00:1e.0']);
  for (const bad of ['eth0', '0000:00:20.0', '0000:00:03.8', '00:03', '00000:00:03.0']) {
    rejects(t, ['-a', bad], `bad PCI address '${bad}': expected DDDD:BB:DD.F, e.g. 0000:00:03.0`);
  }
  rejects(t, ['-b', 'x'], "bad PCI address 'x'");
  rejects(t, ['-a', '00:03.0', '-b', '00:04.0'], 'options -a and -b cannot be used together');
});

t.test('--vdev', async (t) => {
  t.same(cfg('--vdev', 'net_null0,size=64', '--vdev=net_ring0', '--vdev', 'net_ring1,rxring=a,txring=b').vdevs,
    ['net_null0,size=64', 'net_ring0', 'net_ring1,rxring=a,txring=b']);
  t.same(cfg('--vdev', 'net_null').vdevs, ['net_null'], 'instance number optional');
  for (const bad of ['net-null0', '0net', 'net_null0x', ',size=1']) {
    rejects(t, ['--vdev', bad], `invalid --vdev '${bad}': expected NAME[,key=value...]`);
  }
  rejects(t, ['--vdev'], 'option --vdev needs a value');
});

t.test('memory options', async (t) => {
  t.equal(cfg('--no-huge').noHuge, true);
  t.equal(cfg('--no-pci').noPci, true);
  t.equal(cfg('--huge-dir', '/mnt/huge').hugeDir, '/mnt/huge');
  t.equal(cfg('--huge-dir=/dev/hugepages').hugeDir, '/dev/hugepages');
  t.equal(cfg('-m', '64').memoryMb, 64);
  t.equal(cfg('-m512').memoryMb, 512, 'glued');
  t.equal(cfg('-m', '2').memoryMb, 2, 'lower bound');
  t.equal(cfg('-m', '4096').memoryMb, 4096, 'upper bound');
  t.equal(cfg('--socket-mem', '512,256').memoryMb, 768, '--socket-mem sums the sockets');
  rejects(t, ['-m', '1'], "invalid -m '1': at least 2 MiB");
  rejects(t, ['-m', '0'], "invalid -m '0': at least 2 MiB");
  rejects(t, ['-m', '4097'], "invalid -m '4097': pktio maps at most 4096 MiB");
  rejects(t, ['-m', '64M'], "invalid -m '64M': expected a non-negative integer");
  rejects(t, ['-m', '-5'], "invalid -m '-5': expected a non-negative integer");
  rejects(t, ['--socket-mem', '1,x'], "invalid --socket-mem 'x'");
  rejects(t, ['--huge-dir'], 'option --huge-dir needs a value');
  rejects(t, ['--no-huge', '--huge-dir', '/dev/hugepages'], '--no-huge and --huge-dir cannot be used together');
});

t.test('--iova-mode', async (t) => {
  t.equal(cfg('--iova-mode', 'pa').iovaMode, 'pa');
  t.equal(cfg('--iova-mode=va').iovaMode, 'va');
  t.equal(cfg('--no-huge', '--iova-mode', 'va').iovaMode, 'va', 'va is fine without hugepages');
  rejects(t, ['--iova-mode', 'PA'], "invalid --iova-mode 'PA': expected pa or va");
  rejects(t, ['--iova-mode', 'dc'], "invalid --iova-mode 'dc': expected pa or va");
  rejects(t, ['--no-huge', '--iova-mode', 'pa'], '--no-huge gives IOVA = VA only: drop --iova-mode pa or use hugepages');
  rejects(t, ['--iova-mode', 'pa', '--no-huge'], '--no-huge gives IOVA = VA only');
});

t.test('--file-prefix', async (t) => {
  t.equal(cfg('--file-prefix', 'app1').filePrefix, 'app1');
  t.equal(cfg('--file-prefix=a.b-c_9').filePrefix, 'a.b-c_9');
  for (const bad of ['a/b', 'x y', '../up']) {
    rejects(t, ['--file-prefix', bad], `invalid --file-prefix '${bad}': letters, digits, '.', '_' and '-' only`);
  }
});

t.test('--log-level names and numbers', async (t) => {
  for (const l of ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']) t.equal(cfg('--log-level', l).logLevel, l);
  t.equal(cfg('--log-level', 'WARN').logLevel, 'warn', 'case-insensitive');
  t.equal(cfg('--log-level', 'lib.eal:debug').logLevel, 'debug', 'DPDK component:level form');
  t.equal(cfg('--log-level=*:error').logLevel, 'error');
  const nums: Record<string, string> = { 1: 'fatal', 2: 'fatal', 3: 'fatal', 4: 'error', 5: 'warn', 6: 'info', 7: 'info', 8: 'debug' };
  for (const [n, l] of Object.entries(nums)) t.equal(cfg('--log-level', n).logLevel, l, `DPDK level ${n} = ${l}`);
  rejects(t, ['--log-level', 'loud'], "invalid --log-level 'loud': expected one of trace, debug, info, warn, error, fatal, silent");
  rejects(t, ['--log-level', '9'], "invalid --log-level '9'");
  rejects(t, ['--log-level', 'lib.eal:loud'], "invalid --log-level 'loud'");
});

t.test('VFIO options', async (t) => {
  t.equal(cfg().vfioNoIommu, false);
  t.equal(cfg('--vfio-noiommu').vfioNoIommu, true);
  t.equal(cfg('--vfio-iommufd-compat').vfioIommufdCompat, true);
  t.equal(cfg().vfioIommufdCompat, false);
  for (const f of ['auto', 'legacy', 'cdev']) t.equal(cfg('--vfio-flow', f).vfioFlow, f);
  rejects(t, ['--vfio-flow', 'iommufd'], "invalid --vfio-flow 'iommufd': expected auto, legacy or cdev");
});

t.test('--base-virtaddr', async (t) => {
  t.equal(cfg('--base-virtaddr', '0x4000000000').baseVirtaddr, 0x4000000000n);
  t.equal(cfg('--base-virtaddr=200000').baseVirtaddr, 0x200000n, 'hex without 0x');
  rejects(t, ['--base-virtaddr', 'zz'], "invalid --base-virtaddr 'zz': expected a hexadecimal address");
  for (const bad of ['0', '0x1000', '0x800000000000']) {
    rejects(t, ['--base-virtaddr', bad], `invalid --base-virtaddr '${bad}': a non-zero multiple of 2 MiB below 0x800000000000`);
  }
});

t.test('-h, -n, "--" and unknown options', async (t) => {
  t.equal(cfg('-h').help, true);
  t.equal(cfg('--help').help, true);
  t.same(cfg('-n', '4').lcores, { 0: [0] }, '-n accepted and ignored');
  const { config, appArgs } = parseEalArgs(['-l', '0-1', '--no-huge', '--', '-p', '0x3', '--', '-l', 'x', '--bogus']);
  t.same(config.lcores, { 0: [0], 1: [1] });
  t.equal(config.noHuge, true);
  t.same(appArgs, ['-p', '0x3', '--', '-l', 'x', '--bogus'], 'everything after the first -- goes to the app, verbatim');
  t.same(parseEalArgs(['--']).appArgs, []);
  t.same(parseEalArgs(['--', '-h']).config.help, false, '-h after -- belongs to the app');
  rejects(t, ['--bogus'], "unknown EAL option '--bogus'");
  rejects(t, ['-x'], "unknown EAL option '-x'");
  rejects(t, ['--bogus=1'], "unknown EAL option '--bogus=1'");
  rejects(t, ['-p', '0x3'], "unknown EAL option '-p'");
  rejects(t, ['foo'], "unknown EAL option 'foo' (application options go after --)");
  const e = new EalArgError('boom');
  t.equal(e.name, 'EalArgError');
  t.ok(e instanceof Error);
  t.equal(e.message, `boom\n\n${usage()}`);
});

t.test('usage lists every option', async (t) => {
  const u = usage('myapp');
  t.ok(u.startsWith('Usage: myapp [EAL options] -- [application options]'));
  for (const o of ['-l, --lcores', '--main-lcore', '-a, --allow', '-b, --block', '--vdev', '--no-pci', '--no-huge', '--huge-dir',
    '-m MB', '--iova-mode', '--file-prefix', '--log-level', '--vfio-noiommu', '--vfio-flow', '-h, --help']) {
    t.ok(u.includes(o), `usage mentions ${o}`);
  }
});

t.test('ealInit: -h prints the usage and initialises nothing; bad options throw before anything is mapped', async (t) => {
  const writes: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => { writes.push(String(s)); return true; }) as typeof process.stdout.write;
  let res;
  try {
    res = await ealInit(['-h', '--', 'app']);
  } finally {
    process.stdout.write = orig;
  }
  t.equal(res.config.help, true);
  t.same(res.appArgs, ['app']);
  t.ok(writes.join('').includes(usage()), 'usage printed on stdout');
  t.equal(ealInitialized(), false);
  await t.rejects(ealInit(['--bogus']), { name: 'EalArgError', message: /^unknown EAL option '--bogus'/ });
  await t.rejects(ealInit(['--no-huge', '--vfio-noiommu', '-m', '8']), {
    name: 'EalArgError', message: /^--vfio-noiommu needs hugepages .*drop --no-huge/,
  });
  t.equal(ealInitialized(), false);
});
