// Data path on a worker lcore: receive bursts from one port and send them to another.
import { rxBurst, txBurst, pktmbufFreeBulk, lcoreId } from '../../src/index.js';

export function forward(a: { rx: number; tx: number; iterations: number }): { lcore: number; rx: number; tx: number; freed: number } {
  const pkts = new Uint32Array(32);
  let rx = 0;
  let tx = 0;
  let freed = 0;
  for (let i = 0; i < a.iterations; i++) {
    const n = rxBurst(a.rx, 0, pkts, 32);
    rx += n;
    const s = txBurst(a.tx, 0, pkts, n);
    tx += s;
    if (s < n) {
      pktmbufFreeBulk(pkts, n - s, s);
      freed += n - s;
    }
  }
  return { lcore: lcoreId(), rx, tx, freed };
}
