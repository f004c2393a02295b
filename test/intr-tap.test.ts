// RX interrupts on net_tap and net_af_packet (level sources: the queue's own fd). The README's responder (ARP and
// ICMP echo with for await on the main thread) on a tap answers 1,000 pings from a namespace while an HTTP server
// in the same process answers requests: the event loop's delay (perf_hooks.monitorEventLoopDelay) and the idle
// CPU (/proc/self/task/*/stat) are reported. Then a worker lcore asleep on an af_packet queue wakes for frames from the
// veth peer and ends its loop on devStop.
import t from 'tap';
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as pktio from '../src/index.js';
import { NetLab, netLabSkipReason } from './helpers/netns.js';
import { respond, startResponderPort } from '../examples/responder/main.js';
import { memzoneReserve, memzoneFree, mem } from '../src/eal/index.js';
import { startPort } from './helpers/ports.js';
import { steadyIdle } from './helpers/cpu.js';
import { C_SLEEPS, C_WAKES, C_RECEIVED } from './helpers/intr-lcore.js';

const skip = netLabSkipReason() ?? (existsSync('/dev/net/tun') ? null : 'needs /dev/net/tun (modprobe tun)');
const cpus = pktio.cpusAllowed();
const lab = skip ? null : new NetLab('pint');
const sleeperModule = new URL('./helpers/intr-lcore.ts', import.meta.url);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (skip) {
  t.skip(`RX interrupt tests on taps and veths: ${skip}`);
} else {
  t.before(async () => {
    await pktio.init(['--no-pci', '--no-huge', '-m', '128', '--log-level', 'error', '--lcores', `0@${cpus[0]},1@${cpus[cpus.length - 1]}`]);
  });
  t.teardown(async () => {
    await pktio.cleanup();
    lab!.cleanup();
  });
}

/** Runs a command without blocking the event loop; resolves with its stdout. */
function run(cmd: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { out += d; });
    c.on('error', reject);
    c.on('close', () => resolve(out));
  });
}

/** Requests the server in a loop until `stop()`; returns the count and the slowest answer. */
function httpLoad(url: string): { stop: () => Promise<{ answered: number; maxMs: number }> } {
  let on = true;
  let answered = 0;
  let maxMs = 0;
  const agent = new http.Agent({ keepAlive: true });
  const loop = (async () => {
    while (on) {
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => {
        http.get(url, { agent }, (res) => { res.resume(); res.on('end', () => resolve()); }).on('error', reject);
      });
      answered++;
      maxMs = Math.max(maxMs, performance.now() - t0);
      await sleep(5);
    }
  })();
  return { stop: async () => { on = false; await loop; agent.destroy(); return { answered, maxMs }; } };
}

t.test('responder on a tap: 1,000 pings from a namespace, no loss, while an HTTP server answers', { skip: skip ?? false }, async (t) => {
  const ns = lab!.netns('ping');
  const ifname = `${lab!.tag}r`;
  const port = await pktio.devProbe(`net_tap0,iface=${ifname}`);
  const pool = startResponderPort(port);
  lab!.adopt(ifname, ns, '10.77.0.1/24');
  const server = http.createServer((_req, res) => res.end('ok\n'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const replies = respond(port, Uint8Array.from([10, 77, 0, 2]));
  // the first rxBursts of the process starts its waker thread: ping once until the responder answers
  for (let i = 0; i < 30 && !/ 1 received/.test(await run(['ip', 'netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', '10.77.0.2'])); i++);

  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const load = httpLoad(url);
  const out = await run(['ip', 'netns', 'exec', ns, 'ping', '-c', '1000', '-i', '0.005', '-W', '1', '-q', '10.77.0.2']);
  const web = await load.stop();
  h.disable();
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  t.ok(m, out);
  t.equal(Number(m?.[2]), 1000, `1,000 pings answered: ${out.split('\n').filter((l) => /rtt|received/.test(l)).join('; ')}`);
  const ms = (ns: number) => (ns / 1e6).toFixed(2);
  t.ok(web.answered > 100, `HTTP server answered ${web.answered} requests meanwhile, slowest ${web.maxMs.toFixed(1)} ms`);
  // the histogram samples the loop with a 1 ms timer: a value is the time between two samples (1 ms when the loop is free)
  t.ok(h.percentile(99) < 50e6, `event loop delay (1 ms sampling timer): mean ${ms(h.mean)} ms, p50 ${ms(h.percentile(50))} ms, ` +
    `p99 ${ms(h.percentile(99))} ms, max ${ms(h.max)} ms`);

  // idle: no pings, the responder sleeps on the tap's fd; its steady state is measured (helpers/cpu.ts says why)
  await sleep(300);
  const idle = await steadyIdle((pct) => pct < 2);
  t.comment(`idle CPU of the process per 2 s window, with each thread that ran (main is the event loop, with the idle ` +
    `HTTP server and the sleeping responder; the others are lcore 1, the waker, libuv and V8): ${idle.report}`);
  t.ok(idle.pct < 2, `idle CPU under 2% of a CPU in a steady window (${idle.report})`);

  pktio.devStop(port);
  const n = await replies;
  t.ok(n >= 1000, `${n} replies (pings and ARP)`);
  server.close();
  pktio.devClose(port);
  t.equal(pool.inUseCount(), 0, 'every mbuf back');
});

t.test('af_packet: a worker asleep on a veth queue wakes for its frames and ends on devStop', { skip: skip ?? false }, async (t) => {
  const ns = lab!.netns('af');
  const [mine] = lab!.veth('a', 'b', { nsB: ns, ipB: '10.78.0.1/24' });
  const port = await pktio.devProbe(`net_af_packet0,iface=${mine}`);
  const pool = pktio.pktmbufPoolCreate('intr_af', 1023, 0);
  startPort(port, pool, 1, 0, { intrConf: { rxq: true } });
  const z = memzoneReserve('intr_af_cnt', 64);
  const i32 = mem().i32;
  const c = z.off >> 2;
  i32.fill(0, c, c + 16);
  pktio.remoteLaunch(1, sleeperModule, { port, queue: 0, zone: 'intr_af_cnt' }, 'sleeper');
  const end = Date.now() + 30000;
  while (Atomics.load(i32, c + C_SLEEPS) === 0 && Date.now() < end) await sleep(10);
  // 20 pings to an address nobody has: 20 ARP requests out of the namespace's veth, a second apart is too slow;
  // arping-like traffic with ping -i 0.05 to a neighbour-less address makes the kernel send ARPs (3 per probe cycle)
  await run(['ip', 'netns', 'exec', ns, 'ping', '-c', '20', '-i', '0.05', '-W', '1', '-q', '10.78.0.9']);
  await sleep(200);
  const got = Atomics.load(i32, c + C_RECEIVED);
  const wakes = Atomics.load(i32, c + C_WAKES);
  t.ok(got > 0 && wakes > 0, `${got} frames received over ${wakes} wake-ups (${Atomics.load(i32, c + C_SLEEPS)} sleeps)`);
  const t1 = Date.now();
  pktio.devStop(port);
  const res = await pktio.waitLcore(1) as { reason: string };
  t.equal(res.reason, 'stopped', `devStop ended the worker's loop in ${Date.now() - t1} ms`);
  pktio.devClose(port);
  memzoneFree('intr_af_cnt');
  t.equal(pool.inUseCount(), 0, 'every mbuf back');
});
