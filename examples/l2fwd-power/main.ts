#!/usr/bin/env node
// l2fwd-power: l2fwd (../l2fwd) whose lcores sleep on RX interrupts when their queues are idle, as DPDK's
// l3fwd-power does (the loop: ./fwd.ts).
//
//   node dist/examples/l2fwd-power/main.js [EAL options] -- [l2fwd's options] [--idle-polls N]
//   npx pktio-l2fwd-power ...
//
// The ports are configured with intrConf.rxq (drivers with RX interrupts: net_e1000e, net_igb over VFIO MSI-X, and
// the software ports that have them). The statistics add, per forwarding lcore, the wake-ups and the share of the
// period spent asleep.
import * as pktio from '../../src/index.js';
import { main, UsageError, type L2fwdVariant } from '../l2fwd/main.js';
import { POWER_ZONE, MAX_LCORES, PW_WORDS, PW_WAKEUPS, PW_ASLEEP_US, PW_SLEEPS, PW_SINCE, PW_TID } from './fwd.js';

/** DPDK l3fwd-power sleeps after MIN_ZERO_POLL_COUNT (10) empty polls; the same here by default. */
const DEFAULT_IDLE_POLLS = 10;

function takeOwnArgs(args: readonly string[], out: { idlePolls: number }): string[] {
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a !== '--idle-polls' && !a.startsWith('--idle-polls=')) {
      rest.push(a);
      continue;
    }
    const x = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
    if (x === undefined || !/^\d+$/.test(x) || Number(x) < 1 || Number(x) > 1e9) {
      throw new UsageError(`invalid --idle-polls '${x ?? ''}': empty polls before sleeping, a whole number from 1, e.g. 10`);
    }
    out.idlePolls = Number(x);
  }
  return rest;
}

export function l2fwdPower(): L2fwdVariant {
  const o = { idlePolls: DEFAULT_IDLE_POLLS };
  let pw: Float64Array | null = null;
  const last = new Float64Array(MAX_LCORES * PW_WORDS);
  const fwdArgs: Record<string, unknown> = {};
  return {
    name: 'l2fwd-power',
    options: ' [--idle-polls N]',
    usage: `\n  --idle-polls N: empty polls of all its queues before a lcore arms RX interrupts and sleeps (default ${DEFAULT_IDLE_POLLS})`,
    parse(args) {
      const rest = takeOwnArgs(args, o);
      fwdArgs.idlePolls = o.idlePolls;
      return rest;
    },
    ethConf: { intrConf: { rxq: true } },
    fwdModule: pktio.siblingModule(import.meta.url, 'fwd'),
    fwdArgs,
    setup() {
      const z = pktio.memzoneReserve(POWER_ZONE, MAX_LCORES * PW_WORDS * 8);
      pw = new Float64Array(pktio.mem().buf, z.off, MAX_LCORES * PW_WORDS);
      pw.fill(0);
    },
    stats(elapsed) {
      if (!pw) return '';
      const out = ['Lcore sleep statistics ============================='];
      const now = pktio.clockUs();
      for (const l of pktio.workerLcores()) {
        const b = l * PW_WORDS;
        // time asleep so far, the sleep in progress included (it may span several periods)
        const since = pw[b + PW_SINCE];
        // clockUs() wraps as an int32: the span is the 32-bit difference
        const total = pw[b + PW_ASLEEP_US] + (since > 0 ? Math.max(0, (now - since) | 0) : 0);
        const wake = pw[b + PW_WAKEUPS] - last[b + PW_WAKEUPS];
        const asleep = total - last[b + PW_ASLEEP_US];
        const sleeps = pw[b + PW_SLEEPS] - last[b + PW_SLEEPS];
        last[b + PW_WAKEUPS] = pw[b + PW_WAKEUPS];
        last[b + PW_SLEEPS] = pw[b + PW_SLEEPS];
        last[b + PW_ASLEEP_US] = total;
        if (total === 0 && pw[b + PW_SLEEPS] === 0) continue;
        const pct = elapsed > 0 ? Math.min(100, asleep / 1e4 / elapsed) : 0;
        out.push(`Lcore ${l} (thread ${pw[b + PW_TID]}): wake-ups ${wake.toFixed(0)}, sleeps ${sleeps.toFixed(0)}, asleep ${(asleep / 1e6).toFixed(3)} s (${pct.toFixed(1)}%)` +
          ` | total wake-ups ${pw[b + PW_WAKEUPS].toFixed(0)}, asleep ${(total / 1e6).toFixed(3)} s`);
      }
      return out.join('\n') + '\n';
    },
  };
}

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2), l2fwdPower());
}
