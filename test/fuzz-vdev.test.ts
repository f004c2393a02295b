// Fuzzed --vdev strings of every virtual driver in the CATALOG (mutations of valid ones): each is rejected with an
// EthdevError of one line, or probes a port that closes again; no hang, no port or fd left behind. The probes run
// in a child process in a network namespace of its own (tap and af_packet see only its lo and a veth pair) and a
// scratch directory (pcap and memif files; mutations insert no '/', so no path leaves it).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOG } from '../src/pmd/registry.js';
import { FUZZ_N, type FuzzResult } from './helpers/fuzz.js';
import { tsNodeArgs } from './helpers/ts-child.js';

const child = fileURLToPath(new URL('./helpers/fuzz-vdev-child.ts', import.meta.url));
const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['--net', 'true']).status === 0;
// a probe opens sockets, tap devices and files: a fifth of the argument-parser count keeps the file near a minute
const N = Math.ceil(FUZZ_N / (process.env.PKTIO_FUZZ_N ? 1 : 5));

t.test('--vdev strings of every virtual driver', { skip: !canUnshare && 'needs root and unshare --net' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pktio-fuzz-vdev-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // a veth pair inside the namespace for af_packet (it wants an Ethernet interface; lo is not one)
  const veth = 'ip link add fzv0 type veth peer name fzv1 && ip link set fzv0 up && ip link set fzv1 up && exec "$@"';
  const r = spawnSync('unshare', ['--net', 'sh', '-c', veth, 'sh', process.execPath, ...tsNodeArgs, child, String(N)],
    { cwd: dir, encoding: 'utf8', timeout: Math.max(600000, N * 6 * 15), maxBuffer: 64 << 20 }); // ~3 ms a probe here
  const line = /FUZZ-RESULT (.*)/.exec(r.stdout)?.[1];
  t.equal(r.status, 0, 'the child finished', { saw: `${r.error ?? ''} ${r.signal ?? ''}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-4000)}` });
  if (!line) return;
  const res = JSON.parse(line) as Record<string, FuzzResult & { missing?: boolean; fdsLeft: string[] }> & { portsLeft: number; fdsLeaked: number; fdsLeft: string[] };
  const only = process.env.PKTIO_FUZZ_VDEV_DRIVERS?.split(',');
  for (const c of CATALOG.filter((e) => e.vdev && (!only || only.includes(e.name)))) {
    const x = res[c.name];
    t.notOk(x.missing, `${c.name} has valid strings to mutate in fuzz-vdev-child.ts`);
    if (x.missing) continue;
    t.comment(`${c.name}: ${x.n} strings, ${x.accepted} probed and closed, ${x.rejected} rejected, slowest ${x.maxMs.toFixed(1)} ms`);
    t.same(x.bad, [], `${c.name}: every rejection is an EthdevError with a one-line message`);
    t.ok(x.maxMs < 5000, `${c.name}: no probe hung (slowest ${x.maxMs.toFixed(1)} ms)`);
    if (x.fdsLeft.length) t.comment(`${c.name}: descriptors open after its strings: ${x.fdsLeft.join(', ')}`);
  }
  t.equal(res.portsLeft, 0, 'no port left open');
  t.equal(res.fdsLeaked, 0, `no fd left open${res.fdsLeft.length ? ` (open: ${res.fdsLeft.join(', ')})` : ''}`);
});
