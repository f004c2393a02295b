// Starting a port the way most PMD tests want it: nq queue pairs on one pool, then devStart.
import { devConfigure, rxQueueSetup, txQueueSetup, devStart } from '../../src/ethdev/ethdev.js';
import type { EthConf } from '../../src/pmd/driver.js';
import type { Mempool } from '../../src/mempool/mempool.js';

/** Configures port p with nq RX and TX queues of nbDesc descriptors (0: the driver's default) and starts it. */
export function startPort(p: number, pool: Mempool, nq = 1, nbDesc = 0, conf: EthConf = {}): void {
  devConfigure(p, nq, nq, conf);
  for (let q = 0; q < nq; q++) {
    rxQueueSetup(p, q, nbDesc, -1, null, pool);
    txQueueSetup(p, q, nbDesc, -1);
  }
  devStart(p);
}
