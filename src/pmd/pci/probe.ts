// The PCI bus probe: which functions pktio's drivers take, the IOVA layout that asks for, and opening them through
// VFIO. The EAL calls planPci before it maps memory (no-IOMMU needs IOVA = PA; a narrow IOMMU needs memory mapped
// low) and probePci after, when the memory can be mapped for DMA.
import type { EalConfig, MemoryPlan } from '../../eal/index.js';
import { log, memsegs } from '../../eal/index.js';
import { scanPci, filterDevices, matchPmds, hex4, type PmdMatch } from '../../eal/pci.js';
import { Vfio, vfioIovaPlan } from '../../vfio/index.js';
import { pciIdTable, loadPmd, type CatalogEntry } from '../registry.js';
import type { EthDevOps, PmdInfo } from '../driver.js';

/** User VAs reach 2^47; an IOMMU with fewer address bits (QEMU's intel-iommu: 39) needs EAL memory mapped low. */
const LOW_BASE = 0x4000000000n; // 256 GiB

let matches: PmdMatch[] = [];
let vfio: Vfio | null = null;

/** The VFIO state of this process (null when no PCI device was probed). */
export function vfioState(): Vfio | null {
  return vfio;
}

/** PCI scan before memory: which devices the drivers take, and what that asks of the IOVA layout. */
export function planPci(c: EalConfig, sysfsRoot?: string): MemoryPlan {
  matches = [];
  if (c.noPci) return {};
  const table = pciIdTable();
  const { devices, notFound } = filterDevices(scanPci({ sysfsRoot }), c.allow, c.block);
  if (notFound.length) throw new Error(`-a ${notFound.join(', ')}: no such PCI device (see: npx pktio-devbind --status)`);
  const found = matchPmds(devices, table);
  for (const a of c.allow) {
    if (!found.some((m) => m.device.bdf === a)) {
      const d = devices.find((x) => x.bdf === a)!;
      const drivers = [...new Set(table.map((t) => t.driver))].join(', ');
      throw new Error(`-a ${a}: no pktio driver for ${hex4(d.vendor)}:${hex4(d.device)} (drivers: ${drivers || 'none'})`);
    }
  }
  // without -a, only devices already handed to vfio-pci are taken (as DPDK does); with -a, attach() explains
  matches = c.allow.length ? found : found.filter((m) => m.device.driver === 'vfio-pci');
  if (matches.length === 0) return {};
  const plan = vfioIovaPlan(matches.map((m) => m.device.bdf), { allowNoIommu: c.vfioNoIommu });
  const out: MemoryPlan = {};
  if (plan.iova === 'pa') out.iovaMode = 'pa';
  if (plan.iova === 'va' && plan.iovaBits !== null && plan.iovaBits < 48) out.baseVirtaddr = LOW_BASE;
  return out;
}

/**
 * Opens every planned function through VFIO (EAL memory mapped for DMA first) and probes it with its driver.
 * `allocate` registers each port with ethdev. Loads only the drivers the matched devices need.
 */
export async function probePci(c: EalConfig, allocate: (name: string, ops: EthDevOps, pmd: PmdInfo) => void): Promise<void> {
  if (matches.length === 0) return;
  const drivers = new Map<string, PmdInfo>();
  for (const m of matches) if (!drivers.has(m.driver)) drivers.set(m.driver, await loadPmd(m.driver));
  vfio = new Vfio({ flow: c.vfioFlow, allowNoIommu: c.vfioNoIommu, iommufdCompat: c.vfioIommufdCompat });
  vfio.mapSegments(memsegs());
  for (const m of matches) {
    const pmd = drivers.get(m.driver)!;
    const bdf = m.device.bdf;
    allocate(bdf, pmd.probePci!(bdf, vfio, pciDevargs(bdf, c.allowArgs?.[bdf], pmd)), pmd);
  }
  log('eal').info({ devices: matches.map((m) => m.device.bdf), iommu: vfio.iommuType, flows: vfio.devices().map((d) => d.flow) },
    'PCI devices probed through VFIO');
}

/** The key=value list of `-a BDF,key=value,...`, checked against the driver's argument keys. */
function pciDevargs(bdf: string, list: string | undefined, pmd: PmdInfo): Map<string, string> {
  const args = new Map<string, string>();
  for (const a of list ? list.split(',') : []) {
    const eq = a.indexOf('=');
    const k = eq < 0 ? a : a.slice(0, eq);
    if (!pmd.vdevArgs?.includes(k)) {
      throw new Error(`-a ${bdf},${list}: ${pmd.name} has no argument '${k}' (valid: ${pmd.vdevArgs?.join(', ') || 'none'})`);
    }
    args.set(k, eq < 0 ? '' : a.slice(eq + 1));
  }
  return args;
}

/** Closes the VFIO container/iommufd (after the ports are closed). */
export function closeVfio(): void {
  vfio?.close();
  vfio = null;
}

export type { CatalogEntry };
