// The forwarding loop of l2fwd-power, on each worker lcore: l2fwd's forwarding (../l2fwd/fwd.ts) with DPDK
// l3fwd-power's idea of what to do when the queues go quiet:
//   poll while packets come; after `idlePolls` empty polls of all this lcore's queues in a row:
//   1. arm every queue's interrupt (rxIntrEnable), then poll each once more: a packet that came in between the last
//      empty poll and the arming raised no interrupt, this poll finds it (no lost wake-up, by construction),
//   2. nothing found: sleep in rxIntrWait until an armed queue's interrupt fires, a port stops or quit is requested,
//   3. disarm every queue (rxIntrDisable) and poll again.
// Nothing waits to be sent before a sleep: forwardBurst sends every burst at once (../l2fwd/fwd.ts), so there is no
// TX buffer to flush and no drain timer; the EAL clock is read only around a sleep, for the time asleep.
// Wake-ups and the time asleep are counted per lcore in the "l2fwd_power" memzone for the statistics.
//
// Hot path rules (as l2fwd): nothing allocated per burst or per sleep (the woken array is made once), no try/catch.
import { mem, memzoneLookup, clockUs, quitRequested, lcoreId } from '../../src/eal/index.js';
import { gettid } from '../../src/eal/ffi.js';
import { rxBurst } from '../../src/ethdev/ethdev.js';
import { rxIntrEnable, rxIntrDisable, rxIntrCtlQ, rxIntrWait, rxIntrRelease } from '../../src/ethdev/intr.js';
import { makeCtx, markStarted, forwardBurst, MAX_PKT_BURST, type Ctx, type FwdArgs } from '../l2fwd/fwd.js';

/** "l2fwd_power" memzone: per lcore id, f64 [wake-ups, microseconds asleep, sleeps, clockUs() the current sleep
 * began at as an unsigned 32-bit number (0: awake), the lcore's thread id (for /proc/PID/task/TID/stat)] */
export const POWER_ZONE = 'l2fwd_power';
export const MAX_LCORES = 128;
export const PW_WAKEUPS = 0;
export const PW_ASLEEP_US = 1;
export const PW_SLEEPS = 2;
export const PW_SINCE = 3;
export const PW_TID = 4;
export const PW_WORDS = 8;

export interface PowerArgs extends FwdArgs {
  /** empty polls of all queues in a row before the lcore arms interrupts and sleeps */
  idlePolls: number;
}

/** Arms every queue, then polls each once more; returns how many packets that poll forwarded. */
function armAndPoll(c: Ctx, rx: Int32Array, dst: Int32Array, pkts: Uint32Array, mac: boolean): number {
  for (let i = 0; i < rx.length; i++) rxIntrEnable(rx[i], 0);
  let got = 0;
  for (let i = 0; i < rx.length; i++) {
    const n = rxBurst(rx[i], 0, pkts, MAX_PKT_BURST);
    if (n !== 0) forwardBurst(c, rx[i], dst[rx[i]], pkts, n, mac);
    got += n;
  }
  return got;
}

function loop(c: Ctx, a: PowerArgs, pw: Float64Array): void {
  const rx = Int32Array.from(a.rxPorts);
  const dst = Int32Array.from(a.dst);
  const pkts = new Uint32Array(MAX_PKT_BURST);
  const woken = new Uint32Array(64);
  const mac = a.macUpdating;
  // the first read asks the main lcore for its 1 ms tick (lcore.ts askClock): done here, so the clock is already
  // running when the first sleep reads it
  clockUs();
  let idle = 0;
  while (!quitRequested()) {
    let got = 0;
    for (let i = 0; i < rx.length; i++) {
      const p = rx[i];
      const n = rxBurst(p, 0, pkts, MAX_PKT_BURST);
      if (n !== 0) forwardBurst(c, p, dst[p], pkts, n, mac);
      got += n;
    }
    if (got !== 0 || ++idle < a.idlePolls) {
      if (got !== 0) idle = 0;
      continue;
    }
    idle = 0;
    if (armAndPoll(c, rx, dst, pkts, mac) === 0) {
      // clockUs() is an int32 that wraps every 71.6 minutes: time spans are (b - a) | 0, and the start of the sleep
      // goes to the zone as its unsigned bits, at least 1 (0 there means awake)
      const t0 = clockUs();
      pw[PW_SINCE] = (t0 >>> 0) || 1;
      const k = rxIntrWait(-1, woken);
      pw[PW_ASLEEP_US] += (clockUs() - t0) | 0;
      pw[PW_SINCE] = 0;
      pw[PW_SLEEPS]++;
      if (k > 0) pw[PW_WAKEUPS]++;
    }
    for (let i = 0; i < rx.length; i++) rxIntrDisable(rx[i], 0);
  }
}

/** Entry point for remoteLaunch: forwards, sleeping when idle, until quitRequested(). */
export default function l2fwdPowerLoop(a: PowerArgs): { lcore: number } {
  const z = memzoneLookup(POWER_ZONE);
  if (!z) throw new Error(`l2fwd-power: memzone ${POWER_ZONE} missing`);
  const lc = lcoreId();
  const pw = new Float64Array(mem().buf, z.off + lc * PW_WORDS * 8, PW_WORDS);
  pw[PW_TID] = gettid();
  const c = makeCtx(a);
  for (const p of a.rxPorts) rxIntrCtlQ(p, 0, 'add');
  markStarted(c);
  loop(c, a, pw);
  for (const p of a.rxPorts) rxIntrCtlQ(p, 0, 'del');
  rxIntrRelease();
  return { lcore: lc };
}
