// Polls a port of the application's own driver on a worker lcore (that lcore never imported the driver itself).
import { rxBurst, pktmbufFreeBulk } from '../../src/index.js';

export function poll(a: { port: number; queue: number; iterations: number }): number {
  const pkts = new Uint32Array(32);
  let got = 0;
  for (let i = 0; i < a.iterations; i++) {
    const n = rxBurst(a.port, a.queue, pkts, 32);
    got += n;
    pktmbufFreeBulk(pkts, n, 0);
  }
  return got;
}
