// pktio: userspace packet I/O for Node.js in the style of DPDK.
//
//   import * as pktio from 'pktio';
//   const { appArgs } = await pktio.init(process.argv.slice(2));   // EAL options, then "--", then yours
//   const pool = pktio.pktmbufPoolCreate('mbufs', 8191, 256, 0, pktio.MBUF_DEFAULT_BUF_SIZE);
//   pktio.devConfigure(0, 1, 1); pktio.rxQueueSetup(0, 0, 1024, -1, null, pool); ...
import { ealInit, ealCleanup, requestQuit, log, memsegs, type EalConfig, type MemoryPlan } from './eal/index.js';
import { probeVdev, closeAllPorts, portIds, ethDevAllocate } from './ethdev/ethdev.js';
import { scanPci, filterDevices, matchPmds, type PmdMatch } from './eal/pci.js';
import { Vfio, vfioIovaPlan } from './vfio/index.js';
import { pmds } from './pmd/index.js';

export * from './eal/index.js';
export * from './ring/ring.js';
export * from './mempool/mempool.js';
export * as mbuf from './mempool/mbuf.js';
export {
  pktmbufPoolCreate, pktmbufAlloc, pktmbufAllocBulk, pktmbufAllocBurst, pktmbufFree, pktmbufFreeBulk, pktmbufCopy,
  MBUF_DEFAULT_BUF_SIZE, MBUF_DEFAULT_DATAROOM, PKTMBUF_HEADROOM,
} from './mempool/mbuf.js';
export * from './ethdev/ethdev.js';
export { scanPci, filterDevices, matchPmds, type PciDevice } from './eal/pci.js';
export { Vfio, VfioError, VfioDevice } from './vfio/index.js';
export { registerPmd, type PmdInfo, type EthDevOps, type DevInfo, type Link, type EthConf } from './pmd/index.js';

let exitHooked = false;
let vfio: Vfio | null = null;
let pciMatches: PmdMatch[] = [];

/** The VFIO state of this process (null when no PCI device was probed). */
export function vfioState(): Vfio | null {
  return vfio;
}

/** User VAs reach 2^47; an IOMMU with fewer address bits (QEMU's intel-iommu: 39) needs EAL memory mapped low. */
const LOW_BASE = 0x4000000000n; // 256 GiB

/** PCI scan before memory: which devices the PMDs take, and what that asks of the IOVA layout. */
function planPci(c: EalConfig): MemoryPlan {
  pciMatches = [];
  if (c.noPci) return {};
  const table = pmds.flatMap((p) => (p.pciIds ?? []).map((id) => ({ vendor: id.vendor, device: id.device, driver: p.name })));
  const { devices, notFound } = filterDevices(scanPci(), c.allow, c.block);
  if (notFound.length) throw new Error(`-a ${notFound.join(', ')}: no such PCI device (see: npx pktio-devbind --status)`);
  const matches = matchPmds(devices, table);
  for (const a of c.allow) {
    if (!matches.some((m) => m.device.bdf === a)) {
      const d = devices.find((x) => x.bdf === a)!;
      throw new Error(`-a ${a}: no pktio driver for ${d.vendor.toString(16).padStart(4, '0')}:${d.device.toString(16).padStart(4, '0')} ` +
        `(drivers: ${pmds.filter((p) => p.pciIds?.length).map((p) => p.name).join(', ') || 'none'})`);
    }
  }
  // without -a, only devices already handed to vfio-pci are taken (as DPDK does); with -a, attach() explains
  pciMatches = c.allow.length ? matches : matches.filter((m) => m.device.driver === 'vfio-pci');
  if (pciMatches.length === 0) return {};
  const plan = vfioIovaPlan(pciMatches.map((m) => m.device.bdf), { allowNoIommu: c.vfioNoIommu });
  const out: MemoryPlan = {};
  if (plan.iova === 'pa') out.iovaMode = 'pa';
  if (plan.iova === 'va' && plan.iovaBits !== null && plan.iovaBits < 48) out.baseVirtaddr = LOW_BASE;
  return out;
}

function probePciDevices(c: EalConfig): void {
  if (pciMatches.length === 0) return;
  vfio = new Vfio({ flow: c.vfioFlow, allowNoIommu: c.vfioNoIommu, iommufdCompat: c.vfioIommufdCompat });
  vfio.mapSegments(memsegs());
  const devs: string[] = [];
  for (const m of pciMatches) {
    const pmd = pmds.find((p) => p.name === m.driver)!;
    ethDevAllocate(m.device.bdf, pmd.probePci!(m.device.bdf, vfio), pmd);
    devs.push(m.device.bdf);
  }
  log('eal').info({ devices: devs, iommu: vfio.iommuType, flows: vfio.devices().map((d) => d.flow) }, 'PCI devices probed through VFIO');
}

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
  const res = await ealInit(argv, planPci);
  if (res.config.help) return res;
  try {
    probePciDevices(res.config);
    for (const v of res.config.vdevs) probeVdev(v);
  } catch (e) {
    closeAllPorts();
    vfio?.close();
    vfio = null;
    await ealCleanup();
    throw e;
  }
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => {
      closeAllPorts();
      vfio?.close();
    });
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  log('eal').debug({ ports: portIds() }, 'devices probed');
  return res;
}

/** rte_eal_cleanup: closes every port, stops the lcores and unmaps memory. */
export async function cleanup(): Promise<void> {
  closeAllPorts();
  vfio?.close();
  vfio = null;
  await ealCleanup();
}
