// pktio: userspace packet I/O for Node.js in the style of DPDK.
//
//   import * as pktio from 'pktio';
//   const { appArgs } = await pktio.init(process.argv.slice(2));   // EAL options, then "--", then yours
//   const pool = pktio.pktmbufPoolCreate('mbufs', 8191, 256, 0, pktio.MBUF_DEFAULT_BUF_SIZE);
//   pktio.devConfigure(0, 1, 1); pktio.rxQueueSetup(0, 0, 1024, -1, null, pool); ...
import { ealInit, ealCleanup, requestQuit, log, type EalConfig } from './eal/index.js';
import { probeVdev, closeAllPorts, portIds } from './ethdev/ethdev.js';

export * from './eal/index.js';
export * from './ring/ring.js';
export * from './mempool/mempool.js';
export * as mbuf from './mempool/mbuf.js';
export {
  pktmbufPoolCreate, pktmbufAlloc, pktmbufAllocBulk, pktmbufAllocBurst, pktmbufFree, pktmbufFreeBulk, pktmbufCopy,
  MBUF_DEFAULT_BUF_SIZE, MBUF_DEFAULT_DATAROOM, PKTMBUF_HEADROOM,
} from './mempool/mbuf.js';
export * from './ethdev/ethdev.js';
export { registerPmd, type PmdInfo, type EthDevOps, type DevInfo, type Link, type EthConf } from './pmd/index.js';

let exitHooked = false;

function onSignal(sig: NodeJS.Signals): void {
  requestQuit();
  // the application handles the signal itself if it listens too; otherwise stop the ports and exit as killed
  if (process.listenerCount(sig) > 1) return;
  closeAllPorts();
  process.exit(sig === 'SIGINT' ? 130 : 143);
}

/**
 * rte_eal_init: parses the EAL options, maps memory, starts the lcores and probes the --vdev devices.
 * Returns the application's arguments (after "--"). Ports are stopped and closed when the process exits, on an
 * uncaught error, and on SIGINT/SIGTERM when the application does not handle them.
 */
export async function init(argv: readonly string[] = process.argv.slice(2)): Promise<{ config: EalConfig; appArgs: string[] }> {
  const res = await ealInit(argv);
  if (res.config.help) return res;
  try {
    for (const v of res.config.vdevs) probeVdev(v);
  } catch (e) {
    closeAllPorts();
    await ealCleanup();
    throw e;
  }
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => closeAllPorts());
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  log('eal').debug({ ports: portIds() }, 'devices probed');
  return res;
}

/** rte_eal_cleanup: closes every port, stops the lcores and unmaps memory. */
export async function cleanup(): Promise<void> {
  closeAllPorts();
  await ealCleanup();
}
