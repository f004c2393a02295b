// l2fwd: its option parser and port pairing, then the compiled example as a child process (SIGINT, -h, errors).
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseL2fwdArgs, pairPorts, UsageError } from '../examples/l2fwd/main.js';
import { cpusAllowed } from '../src/eal/lcore.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const mainJs = join(root, 'dist/examples/l2fwd/main.js');
const cpus = cpusAllowed();
const lcores = cpus.length >= 2 ? `${cpus[0]},${cpus[1]}` : `${cpus[0]}`;

t.test('parseL2fwdArgs', async (t) => {
  t.same(parseL2fwdArgs([]), { portmask: null, promisc: false, rxPerLcore: 1, period: 10, macUpdating: true, portmap: null, duration: 0, maxPktLen: 0 });
  t.match(parseL2fwdArgs(['-p', '0x3', '-P', '-q', '4', '-T', '0', '--no-mac-updating', '--duration', '1.5']),
    { portmask: 3, promisc: true, rxPerLcore: 4, period: 0, macUpdating: false, duration: 1.5 });
  t.equal(parseL2fwdArgs(['-p', 'ff']).portmask, 255, 'hex without 0x');
  t.equal(parseL2fwdArgs(['--no-mac-updating', '--mac-updating']).macUpdating, true);
  t.same(parseL2fwdArgs(['--portmap=(0,1),(2,3)']).portmap, [[0, 1], [2, 3]]);
  t.same(parseL2fwdArgs(['--portmap', '( 1 , 0 ), (0,1)']).portmap, [[1, 0], [0, 1]]);
  t.equal(parseL2fwdArgs(['--duration=2']).duration, 2);
  t.equal(parseL2fwdArgs(['--max-pkt-len', '9018']).maxPktLen, 9018);
  const bad: Array<[string[], string]> = [
    [['-p', '0'], "invalid portmask '0': expected a non-zero hexadecimal bitmask of ports, e.g. 0x3 for ports 0 and 1"],
    [['-p', 'xyz'], "invalid portmask 'xyz': expected a non-zero hexadecimal bitmask of ports, e.g. 0x3 for ports 0 and 1"],
    [['-q', '0'], "invalid -q '0': the number of RX ports per lcore, 1 to 16"],
    [['-q', '17'], "invalid -q '17': the number of RX ports per lcore, 1 to 16"],
    [['-T', '-1'], "invalid timer period '-1': seconds from 0 (no statistics) to 86400"],
    [['-T', '86401'], "invalid timer period '86401': seconds from 0 (no statistics) to 86400"],
    [['--portmap=(0,1)x'], "invalid portmap '(0,1)x': expected (rx,tx),(rx,tx)"],
    [['--portmap', '0,1'], "invalid portmap '0,1': expected (rx,tx),(rx,tx)"],
    [['--duration', 'soon'], "invalid duration 'soon': seconds, e.g. 10 or 0.5 (0: until SIGINT)"],
    [['--max-pkt-len', '9k'], "invalid max packet length '9k': bytes from 64 to 65535, e.g. 9018"],
    [['--max-pkt-len=63'], "invalid max packet length '63': bytes from 64 to 65535, e.g. 9018"],
    [['--bogus'], "unknown option '--bogus'"],
    [['-p'], 'option -p needs a value'],
    [['-q'], 'option -q needs a value'],
  ];
  for (const [args, msg] of bad) t.throws(() => parseL2fwdArgs(args), { constructor: UsageError, message: msg }, args.join(' '));
});

t.test('pairPorts', async (t) => {
  const expect = (pairs: Record<number, number>) => {
    const d = new Array(32).fill(-1);
    for (const [k, v] of Object.entries(pairs)) d[Number(k)] = v;
    return d;
  };
  t.same(pairPorts([0, 1, 2, 3], null), expect({ 0: 1, 1: 0, 2: 3, 3: 2 }), 'consecutive ports pair up');
  t.same(pairPorts([1, 4], null), expect({ 1: 4, 4: 1 }));
  t.throws(() => pairPorts([0, 1, 2], null), {
    message: 'l2fwd forwards between pairs of ports and 3 ports (0,1,2) are enabled: enable an even number of ports (--vdev, -a, -p) ' +
      'or pair them with --portmap, e.g. --portmap="(0,0)"',
  });
  t.throws(() => pairPorts([2], null), { message: /and only port 2 is enabled: .* e\.g\. --portmap="\(2,2\)"$/ }, 'one port: says which');
  t.same(pairPorts([0, 1], [[0, 1]]), expect({ 0: 1, 1: 0 }), 'the reverse direction is implied');
  t.same(pairPorts([0, 1, 2], [[0, 1], [1, 2], [2, 0]]), expect({ 0: 1, 1: 2, 2: 0 }), 'a cycle');
  t.same(pairPorts([0], [[0, 0]]), expect({ 0: 0 }), 'a port to itself');
  t.throws(() => pairPorts([0, 1], [[0, 5]]), { constructor: UsageError, message: 'portmap (0,5) names a port that is not enabled (enabled: 2 ports (0,1))' });
  t.throws(() => pairPorts([0, 1], [[0, 1], [0, 1]]), { message: 'port 0 is the RX port of two --portmap pairs: give each port once as RX' });
  t.throws(() => pairPorts([0, 1, 2], [[0, 1]]), { message: 'port 2 is enabled but not in the portmap: add a pair for it, or leave it out of -p' });
});

interface Run { code: number | null; signal: string | null; stdout: string; stderr: string }

function run(args: string[], o: { sigintAfterReady?: number; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [mainJs, ...args], { cwd: root, env: { ...process.env, PKTIO_LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const kill = setTimeout(() => c.kill('SIGKILL'), o.timeoutMs ?? 30000);
    c.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (o.sigintAfterReady !== undefined && !sent && stdout.includes('L2FWD: MAC updating')) {
        sent = true;
        setTimeout(() => c.kill('SIGINT'), o.sigintAfterReady);
      }
    });
    c.stderr.on('data', (d: Buffer) => { stderr += d; });
    c.on('error', reject);
    c.on('close', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const lastNumber = (s: string, label: string): number => {
  const all = [...s.matchAll(new RegExp(`${label}:\\s+(\\d+)`, 'g'))];
  return all.length ? Number(all[all.length - 1][1]) : NaN;
};

t.test('the compiled example', async (t) => {
  const b = spawnSync('npx', ['tsc', '-p', '.'], { cwd: root, encoding: 'utf8' });
  t.equal(b.status, 0, `npx tsc -p . builds dist/ ${b.stdout}${b.stderr}`);
  if (!existsSync(mainJs)) return;

  t.test('forwards until SIGINT, prints statistics, returns every mbuf', async (t) => {
    const r = await run(['--no-pci', '--no-huge', '-m', '64', '-l', lcores, '--vdev', 'net_null0', '--vdev', 'net_null1', '--',
      '-q', '2', '-T', '1'], { sigintAfterReady: 2000 });
    t.equal(r.signal, null);
    t.equal(r.code, 0, `exit code 0 (stderr: ${r.stderr.slice(0, 500)})`);
    t.match(r.stdout, /Port 0 \(net_null0\), MAC address: 02:00:00:4E:55:[0-9A-F]{2}/);
    t.match(r.stdout, /Lcore \d+: RX port 0,1 TX port 1,0/, 'one lcore polls both ports with -q 2');
    t.match(r.stdout, /Port 0 Link up at 10000 Mbps FDX/);
    t.ok((r.stdout.match(/Port statistics =+/g) ?? []).length >= 2, 'periodic statistics (-T 1) and the final ones');
    t.match(r.stdout, /Signal SIGINT received, preparing to exit\.\.\./);
    t.match(r.stdout, /Aggregate statistics =+\nTotal packets sent: +\d+/);
    const sent = lastNumber(r.stdout, 'Total packets sent');
    const recv = lastNumber(r.stdout, 'Total packets received');
    t.ok(sent > 1000, `final statistics: ${sent} packets forwarded`);
    t.ok(recv >= sent, `received ${recv} >= sent`);
    t.match(r.stdout, /Closing port 0\.\.\. Done\nClosing port 1\.\.\. Done\n/);
    t.ok(r.stdout.trimEnd().endsWith('Bye...'), 'ends with Bye...');
    t.notMatch(r.stderr, /mbufs were not returned/, 'no mbuf leak reported');
  });

  t.test('--duration stops by itself; promiscuous, no MAC updating, portmap', async (t) => {
    const r = await run(['--no-pci', '--no-huge', '-m', '64', '-l', lcores, '--vdev', 'net_null0', '--vdev', 'net_null1', '--',
      '-q', '2', '-T', '0', '-P', '--no-mac-updating', '--portmap=(0,1),(1,0)', '--duration', '1']);
    t.equal(r.code, 0, r.stderr.slice(0, 500));
    t.match(r.stdout, /L2FWD: MAC updating disabled/);
    t.notMatch(r.stdout, /Signal/);
    t.ok(lastNumber(r.stdout, 'Total packets sent') > 0);
    t.match(r.stdout, /Bye\.\.\.\n$/);
    t.notMatch(r.stderr, /mbufs were not returned/);
  });

  t.test('one port with the suggested --portmap="(0,0)" forwards to itself', async (t) => {
    const r = await run(['--no-pci', '--no-huge', '-m', '64', '-l', lcores, '--vdev', 'net_null0', '--',
      '-T', '0', '--portmap=(0,0)', '--duration', '1']);
    t.equal(r.code, 0, r.stderr.slice(0, 500));
    t.match(r.stdout, /Lcore \d+: RX port 0 TX port 0/);
    t.ok(lastNumber(r.stdout, 'Total packets sent') > 0);
  });

  t.test('logs on stderr: readable lines by default, only JSON lines with --log-format json', async (t) => {
    const base = ['--no-pci', '--no-huge', '-m', '64', '-l', lcores, '--vdev', 'net_null0', '--vdev', 'net_null1'];
    let r = await run([...base, '--', '-q', '2', '-T', '0', '--duration', '0.5']);
    t.equal(r.code, 0, r.stderr.slice(0, 500));
    let lines = r.stderr.split('\n').filter((l) => l);
    t.ok(lines.some((l) => /^EAL: EAL initialised lcores=\[\d+,\d+\] /.test(l)), r.stderr);
    t.ok(lines.some((l) => /^ETHDEV: port allocated port=0 .*net_null0/.test(l)), 'ethdev line');
    for (const l of lines) t.match(l, /^[A-Z][A-Z0-9._]*: \S/, `readable: ${l}`);
    r = await run([...base, '--log-format', 'json', '--', '-q', '2', '-T', '0', '--duration', '0.5']);
    t.equal(r.code, 0, r.stderr.slice(0, 500));
    lines = r.stderr.split('\n').filter((l) => l);
    t.ok(lines.length >= 3);
    for (const l of lines) t.doesNotThrow(() => JSON.parse(l), `JSON: ${l}`);
    t.match(JSON.parse(lines.find((l) => l.includes('EAL initialised'))!), { level: 30, c: 'eal', msg: 'EAL initialised' });
    t.match(r.stdout, /Bye\.\.\./, 'the statistics stay on stdout');
  });

  t.test('-h prints the EAL and l2fwd usage', async (t) => {
    const r = await run(['-h']);
    t.equal(r.code, 0);
    t.match(r.stdout, /Usage: node dist\/examples\/l2fwd\/main\.js \[EAL options\] -- \[application options\]/, 'names the command as it was run');
    t.match(r.stdout, /\nnode dist\/examples\/l2fwd\/main\.js \[EAL options\] -- \[-p PORTMASK\]/);
    t.match(r.stdout, /-p PORTMASK: hexadecimal bitmask of ports to use/);
  });

  const one = ['--no-pci', '--no-huge', '-m', '16', '-l', `${cpus[0]}`];
  t.test('bad application options: exit 1 with the usage', async (t) => {
    for (const [app, msg] of [
      [['-p', '0'], "l2fwd: invalid portmask '0'"],
      [['--bogus'], "l2fwd: unknown option '--bogus'"],
      [['-p', '0x4'], 'l2fwd: portmask names port(s) 2 that do not exist (ports: 0,1)'],
      [['--portmap=(0,3)'], 'l2fwd: portmap (0,3) names a port that is not enabled (enabled: 2 ports (0,1))'],
    ] as Array<[string[], string]>) {
      const r = await run([...one, '--vdev', 'net_null0', '--vdev', 'net_null1', '--', ...app]);
      t.equal(r.code, 1, app.join(' '));
      t.ok(r.stderr.includes(msg), `stderr says: ${msg}`);
      t.match(r.stderr, /-p PORTMASK: hexadecimal bitmask/, 'and shows the usage');
      t.notMatch(r.stdout, /Bye/);
    }
  });

  t.test('setup errors: exit 1 with a clear message', async (t) => {
    let r = await run([...one, '--vdev', 'net_null0']);
    t.equal(r.code, 1);
    t.match(r.stderr, /l2fwd forwards between pairs of ports and only port 0 is enabled: enable an even number of ports/);
    t.match(r.stderr, /or pair them with --portmap, e\.g\. --portmap="\(0,0\)"\n/);
    r = await run([...one]);
    t.equal(r.code, 1);
    t.match(r.stderr, /no Ethernet ports: add some with --vdev/);
    r = await run([...one, '--vdev', 'net_null0', '--vdev', 'net_null1']);
    t.equal(r.code, 1);
    t.match(r.stderr, /2 RX ports at 1 per lcore need 2 worker lcore\(s\), 0 given: add lcores with -l/);
    t.notMatch(r.stderr, /-p PORTMASK/, 'too few lcores: the line alone, no usage');
    // memory too small for the pool: one line naming -m, no stack trace
    r = await run(['--no-pci', '--no-huge', '-m', '4', '-l', lcores, '--vdev', 'net_null0', '--vdev', 'net_null1', '--', '-q', '2']);
    t.equal(r.code, 1);
    t.match(r.stderr, /^l2fwd: cannot create mempool 'mbuf_pool' .*give the EAL more memory with -m$/m);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
    r = await run(['--bogus-eal']);
    t.equal(r.code, 1);
    t.match(r.stderr, /^EAL: unknown EAL option '--bogus-eal'/);
    t.match(r.stderr, /Usage: node dist\/examples\/l2fwd\/main\.js \[EAL options\]/);
  });
});
