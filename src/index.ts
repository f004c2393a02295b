// pktio: userspace packet I/O for Node.js in the style of DPDK.
//
//   import * as pktio from 'pktio';
//   const { appArgs } = await pktio.init(process.argv.slice(2));   // EAL options, then "--", then yours
//   const pool = pktio.pktmbufPoolCreate('mbufs', 8191, 256, 0, pktio.MBUF_DEFAULT_BUF_SIZE);
//   pktio.devConfigure(0, 1, 1); pktio.rxQueueSetup(0, 0, 1024, -1, null, pool); ...
import { ealInit, ealCleanup, requestQuit as ealRequestQuit, log } from './eal/index.js';
import { devProbe, closeAllPorts, portIds, ethDevAllocate } from './ethdev/ethdev.js';
import { wakeSleepers } from './ethdev/intr-wake.js';
import { planPci, probePci, closeVfio } from './pmd/pci/probe.js';
import type { EalConfig } from './eal/index.js';

export * from './eal/index.js';
export * from './ring/ring.js';
export * from './mempool/mempool.js';
export * as mbuf from './mempool/mbuf.js';
export {
  pktmbufPoolCreate, pktmbufAlloc, pktmbufAllocBulk, pktmbufAllocBurst, pktmbufAllocPackets, pktmbufFree, pktmbufFreeBulk, pktmbufCopy,
  MBUF_DEFAULT_BUF_SIZE, MBUF_DEFAULT_DATAROOM, PKTMBUF_HEADROOM,
} from './mempool/mbuf.js';
export * from './ethdev/ethdev.js';
export * from './ethdev/timesync.js';
export { rxIntrEnable, rxIntrDisable, rxIntrArm, rxIntrCtlQ, rxIntrWait, rxIntrRelease } from './ethdev/intr.js';
export { rxBursts, rxBurstsClose, RxBurst, type RxBurstsOptions } from './ethdev/rxstream.js';
export { scanPci, filterDevices, matchPmds, type PciDevice } from './eal/pci.js';
export { Vfio, VfioError, VfioDevice } from './vfio/index.js';
export { vfioState } from './pmd/pci/probe.js';
export * from './pmd/driver.js';
export { registerPmd, registerDataPlane, loadPmd, CATALOG } from './pmd/registry.js';
export { setPciAccessProvider, type PciDeviceAccess } from './pmd/pci/access.js';

/**
 * Asks every lcore's loop to end (the EAL's flag, quitRequested()), and wakes the lcores and streams asleep on RX
 * interrupts so that they see it at once.
 */
export function requestQuit(): void {
  ealRequestQuit();
  wakeSleepers(-1);
}

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
/** What init returns: the EAL's configuration and the application's arguments (after "--"). */
export interface InitResult {
  config: EalConfig;
  appArgs: string[];
}

export async function init(argv: readonly string[] = process.argv.slice(2)): Promise<InitResult> {
  const res = await ealInit(argv, planPci);
  if (res.config.help) return res;
  try {
    await probePci(res.config, (name, ops, pmd) => ethDevAllocate(name, ops, pmd));
    for (const v of res.config.vdevs) await devProbe(v);
  } catch (e) {
    closeAllPorts();
    closeVfio();
    await ealCleanup();
    throw e;
  }
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => {
      closeAllPorts();
      closeVfio();
    });
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  log('eal').debug({ ports: portIds() }, 'devices probed');
  return res;
}

/**
 * init for a command-line application: its result, or null once the EAL's error went to `err` as one line
 * `EAL: <how to fix it>` (the application then exits 1, as DPDK's examples do when rte_eal_init fails).
 */
export async function initApp(argv: readonly string[], err: (s: string) => void = (s) => { process.stderr.write(s); }): Promise<InitResult | null> {
  try {
    return await init(argv);
  } catch (e) {
    err(`EAL: ${(e as Error).message}\n`);
    return null;
  }
}

/** rte_eal_cleanup: closes every port, stops the lcores and unmaps memory. */
export async function cleanup(): Promise<void> {
  closeAllPorts();
  closeVfio();
  await ealCleanup();
}
