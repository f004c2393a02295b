#!/usr/bin/env node
// responder: answers ARP requests and pings for one IPv4 address, with `for await` on the main thread: the packet
// loop sleeps on the port's RX interrupt while nothing comes, next to whatever else the event loop serves.
//
//   node dist/examples/responder/main.js [EAL options] -- --ip ADDRESS [--port N]
//   e.g.  node dist/examples/responder/main.js --no-huge --no-pci --vdev net_tap0,iface=resp0 -- --ip 10.9.0.2
//         (then: ip addr add 10.9.0.1/24 dev resp0; ip link set resp0 up; ping 10.9.0.2)
import * as pktio from '../../src/index.js';

const ETH_ARP = 0x0806;
const ETH_IPV4 = 0x0800;
const IPPROTO_ICMP = 1;
const ICMP_ECHO_REQUEST = 8;

/** Answers on `port` (queue 0) until the port stops or requestQuit(); returns how many replies it sent. */
export async function respond(port: number, ip: Uint8Array): Promise<number> {
  const u8 = pktio.mem().u8;
  const mac = pktio.macAddrGet(port);
  const tx = new Uint32Array(32);
  let replies = 0;
  for await (const burst of pktio.rxBursts(port, 0)) {
    let n = 0;
    for (let i = 0; i < burst.count; i++) {
      const m = burst.mbufs[i];
      const p = pktio.mbuf.mtod(m);
      const type = (u8[p + 12] << 8) | u8[p + 13];
      if (type === ETH_ARP && u8[p + 21] === 1 && same(u8, p + 38, ip)) {
        u8[p + 21] = 2; // ARP reply: the asker becomes the target, we the sender
        u8.copyWithin(p + 32, p + 22, p + 32);
        u8.set(mac, p + 22);
        u8.set(ip, p + 28);
      } else if (type === ETH_IPV4 && u8[p + 14] === 0x45 && u8[p + 23] === IPPROTO_ICMP && same(u8, p + 30, ip) && u8[p + 34] === ICMP_ECHO_REQUEST) {
        u8.copyWithin(p + 30, p + 26, p + 30); // destination <- source, then ours as the source
        u8.set(ip, p + 26);
        u8[p + 34] = 0; // echo reply; the checksum loses the 8 << 8 of the type (RFC 1624 incremental update)
        const sum = ((u8[p + 36] << 8) | u8[p + 37]) + 0x0800;
        const c = (sum & 0xffff) + (sum >>> 16);
        u8[p + 36] = c >> 8;
        u8[p + 37] = c;
      } else {
        pktio.pktmbufFree(m);
        continue;
      }
      u8.copyWithin(p, p + 6, p + 12); // Ethernet: back to the sender, from us
      u8.set(mac, p + 6);
      tx[n++] = m;
    }
    const sent = pktio.txBurst(port, 0, tx, n);
    if (sent < n) pktio.pktmbufFreeBulk(tx, n - sent, sent);
    replies += sent;
  }
  return replies;
}

function same(u8: Uint8Array, at: number, b: Uint8Array): boolean {
  return u8[at] === b[0] && u8[at + 1] === b[1] && u8[at + 2] === b[2] && u8[at + 3] === b[3];
}

export function parseIp(s: string): Uint8Array {
  const b = s.split('.').map(Number);
  if (b.length !== 4 || b.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`--ip ${s}: expected an IPv4 address like 10.9.0.2`);
  return Uint8Array.from(b);
}

/** Starts `port` with one queue pair and RX interrupts on a pool of its own. */
export function startResponderPort(port: number): pktio.Mempool {
  const pool = pktio.pktmbufPoolCreate(`responder_${port}`, 1023, 0);
  pktio.devConfigure(port, 1, 1, { intrConf: { rxq: true } });
  pktio.rxQueueSetup(port, 0, 0, -1, null, pool);
  pktio.txQueueSetup(port, 0, 0, -1);
  pktio.devStart(port);
  return pool;
}

export async function main(argv: string[]): Promise<number> {
  const init = await pktio.initApp(argv);
  if (!init) return 1;
  const { appArgs, config } = init;
  if (config.help) return 0;
  const arg = (k: string): string | undefined => (appArgs.includes(k) ? appArgs[appArgs.indexOf(k) + 1] : undefined);
  if (!appArgs.includes('--ip')) throw new Error('responder: give the address to answer for: -- --ip 10.9.0.2');
  const ip = parseIp(arg('--ip')!);
  const port = Number(arg('--port') ?? 0);
  if (!pktio.ethDevIsValid(port)) await pktio.cleanup();
  if (!pktio.ethDevIsValid(port)) throw new Error(`responder: no port ${port}: give one with --vdev or -a (e.g. --vdev net_tap0)`);
  startResponderPort(port);
  process.once('SIGINT', () => pktio.requestQuit());
  process.stdout.write(`answering ARP and ping for ${[...ip].join('.')} on port ${port} (${pktio.portName(port)}); Ctrl-C ends\n`);
  const n = await respond(port, ip);
  process.stdout.write(`${n} replies\n`);
  await pktio.cleanup();
  return 0;
}

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2)).catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    return 1;
  });
}
