// Run on a worker lcore by robust-app.mjs: forward on port 0 for a while, then fail as asked.
// Plain JavaScript over dist/ so the child process starts in a second even on a loaded machine.
import { quitRequested } from '../../dist/src/eal/index.js';
import { rxBurst, txBurst } from '../../dist/src/ethdev/ethdev.js';
import { pktmbufFreeBulk } from '../../dist/src/mempool/mbuf.js';

function fail(how) {
  if (how === 'throw') throw new Error('app bug in the forwarding loop');
  if (how === 'exit') process.exit(3);
  const hog = [];
  for (;;) hog.push(new Array(1 << 16).fill(1.5)); // until the worker's heap limit
}

/** rx on port 0, tx back to port 0; after `after` iterations fails with `how` (throw, exit, oom). */
export function forwardThenFail({ how, after }) {
  const pkts = new Uint32Array(32);
  let i = 0;
  while (!quitRequested()) {
    const n = rxBurst(0, 0, pkts, 32);
    const sent = txBurst(0, 0, pkts, n, 0);
    if (sent < n) pktmbufFreeBulk(pkts, n - sent, sent);
    if (++i === after) fail(how);
  }
  return i;
}
