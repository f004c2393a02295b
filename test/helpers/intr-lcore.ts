// Worker-lcore loops of the RX interrupt tests: poll while packets come, arm and sleep when the queue is idle
// (l3fwd-power's loop), counting in a memzone the main lcore watches: [sleeps, wakes, received, done].
import {
  rxBurst, rxIntrCtlQ, rxIntrArm, rxIntrWait, rxIntrDisable, rxIntrEnable, rxIntrRelease, portIsStarted, quitRequested,
  pktmbufFreeBulk, mem, memzoneLookup,
} from '../../src/index.js';

export const C_SLEEPS = 0;
export const C_WAKES = 1;
export const C_RECEIVED = 2;
export const C_DONE = 3;

export interface SleeperArgs { port: number; queue: number; zone: string; /** arm with rxIntrEnable alone (net_null) */ plainEnable?: boolean }

export function sleeper(a: SleeperArgs): { sleeps: number; wakes: number; received: number; reason: string } {
  const z = memzoneLookup(a.zone);
  if (!z) throw new Error(`no memzone ${a.zone}`);
  const i32 = mem().i32;
  const c = z.off >> 2;
  const pkts = new Uint32Array(32);
  const woken = new Uint32Array(16);
  let sleeps = 0;
  let wakes = 0;
  let received = 0;
  rxIntrCtlQ(a.port, a.queue, 'add');
  let reason = 'quit';
  while (!quitRequested()) {
    if (!portIsStarted(a.port)) {
      reason = 'stopped';
      break;
    }
    let n = rxBurst(a.port, a.queue, pkts, 32);
    if (n === 0) {
      if (a.plainEnable) rxIntrEnable(a.port, a.queue);
      else n = rxIntrArm(a.port, a.queue, pkts, 32);
      if (n === 0) {
        Atomics.store(i32, c + C_SLEEPS, ++sleeps);
        rxIntrWait(-1, woken);
        Atomics.store(i32, c + C_WAKES, ++wakes);
        if (portIsStarted(a.port)) rxIntrDisable(a.port, a.queue);
        continue;
      }
    }
    received += n;
    pktmbufFreeBulk(pkts, n);
    Atomics.store(i32, c + C_RECEIVED, received);
  }
  rxIntrCtlQ(a.port, a.queue, 'del');
  rxIntrRelease();
  Atomics.store(i32, c + C_DONE, 1);
  return { sleeps, wakes, received, reason };
}

/** n cycles of arm, sleep, wake, disarm, poll (net_null fires as soon as it is armed). */
export function cycles(a: { port: number; queue: number; n: number }): { wakes: number; received: number } {
  const pkts = new Uint32Array(32);
  const woken = new Uint32Array(16);
  let wakes = 0;
  let received = 0;
  rxIntrCtlQ(a.port, a.queue, 'add');
  for (let i = 0; i < a.n; i++) {
    rxIntrEnable(a.port, a.queue);
    if (rxIntrWait(1000, woken) === 1 && woken[0] === ((a.port << 16) | a.queue)) wakes++;
    rxIntrDisable(a.port, a.queue);
    const got = rxBurst(a.port, a.queue, pkts, 32);
    received += got;
    pktmbufFreeBulk(pkts, got);
  }
  rxIntrCtlQ(a.port, a.queue, 'del');
  rxIntrRelease();
  return { wakes, received };
}

/** rxBursts on a worker lcore: counts packets until the port stops; then closes this thread's waker. */
export async function streamer(a: { port: number; queue: number; zone: string }): Promise<{ received: number }> {
  const { rxBursts, rxBurstsClose } = await import('../../src/index.js');
  const z = memzoneLookup(a.zone)!;
  const i32 = mem().i32;
  let received = 0;
  Atomics.store(i32, (z.off >> 2) + C_SLEEPS, 1); // started
  for await (const b of rxBursts(a.port, a.queue)) {
    received += b.count;
    pktmbufFreeBulk(b.mbufs, b.count);
    Atomics.store(i32, (z.off >> 2) + C_RECEIVED, received);
  }
  await rxBurstsClose();
  return { received };
}
