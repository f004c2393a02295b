// The driver registry: which PMDs this process knows, and which data planes this thread can attach queues with.
//
// Built-in drivers are named in a catalogue (name, module, PCI IDs) and imported only when a device needs them, so
// a process that uses net_null never loads the Intel drivers. registerPmd() adds a driver on the main lcore (an
// application's own PMD included); its data-plane module is then imported by every worker lcore before launched
// code runs (the EAL's launch preload), so queues of that driver can be polled anywhere.
import { isMainThread } from 'node:worker_threads';
import { addLaunchPreload } from '../eal/lcore.js';
import type { PmdInfo, PmdDataPlane } from './driver.js';
import { INTEL_DEVICES } from './intel/devices.js';

export interface CatalogEntry {
  name: string;
  /** module exporting `pmd: PmdInfo` */
  url: string;
  pciIds?: ReadonlyArray<{ vendor: number; device: number }>;
  vdev?: boolean;
}

function builtin(name: string, rel: string, extra: Partial<CatalogEntry> = {}): CatalogEntry {
  return { name, url: new URL(rel, import.meta.url).href, ...extra };
}

const intelIds = (driver: string) => INTEL_DEVICES.filter((d) => d.driver === driver).map((d) => ({ vendor: 0x8086, device: d.device }));

/** The drivers pktio ships. */
export const CATALOG: readonly CatalogEntry[] = [
  builtin('net_null', './null/null.js', { vdev: true }),
  builtin('net_ring', './ring/ring.js', { vdev: true }),
  builtin('net_af_packet', './af_packet/af_packet.js', { vdev: true }),
  builtin('net_tap', './tap/tap.js', { vdev: true }),
  builtin('net_pcap', './pcap/pcap.js', { vdev: true }),
  builtin('net_memif', './memif/memif.js', { vdev: true }),
  builtin('net_e1000e', './intel/e1000e/e1000e.js', { pciIds: intelIds('net_e1000e') }),
  builtin('net_igb', './intel/igb/igb.js', { pciIds: intelIds('net_igb') }),
  builtin('net_ixgbe', './intel/ixgbe/ixgbe.js', { pciIds: intelIds('net_ixgbe') }),
  builtin('net_virtio', './virtio/virtio.js', { pciIds: [{ vendor: 0x1af4, device: 0x1041 }, { vendor: 0x1af4, device: 0x1000 }] }),
];

const pmds = new Map<string, PmdInfo>();
const dataPlanes = new Map<string, PmdDataPlane>();

/** Makes a driver's data plane usable on this thread. Driver modules call it when imported, on every lcore. */
export function registerDataPlane(name: string, dp: PmdDataPlane): void {
  dataPlanes.set(name, dp);
}

export function findDataPlane(name: string): PmdDataPlane | undefined {
  return dataPlanes.get(name);
}

/** Adds a driver (main lcore). Workers load its data plane from pmd.dataPlaneUrl before launched code runs. */
export function registerPmd(p: PmdInfo): void {
  if (!isMainThread) throw new Error(`registerPmd(${p.name}) runs on the main lcore; workers load its data plane by itself`);
  const had = pmds.get(p.name);
  if (had && had !== p) throw new Error(`a driver named ${p.name} is already registered`);
  pmds.set(p.name, p);
  registerDataPlane(p.name, p.dataPlane);
  addLaunchPreload(p.dataPlaneUrl);
}

export function findPmd(name: string): PmdInfo | undefined {
  return pmds.get(name);
}

/** Registered drivers (loaded built-ins and the application's own). */
export function registeredPmds(): PmdInfo[] {
  return [...pmds.values()];
}

/** Imports and registers a catalogued driver; returns it (the registered one when already loaded). */
export async function loadPmd(name: string): Promise<PmdInfo> {
  const have = pmds.get(name);
  if (have) return have;
  const e = CATALOG.find((c) => c.name === name);
  if (!e) throw new Error(`no driver named ${name} (drivers: ${CATALOG.map((c) => c.name).join(', ')})`);
  const mod = (await import(e.url)) as { pmd?: PmdInfo };
  if (!mod.pmd) throw new Error(`${e.url} exports no 'pmd'`);
  registerPmd(mod.pmd);
  return mod.pmd;
}

/** Names of the virtual-device drivers, catalogued and registered. */
export function vdevDriverNames(): string[] {
  const names = new Set(CATALOG.filter((c) => c.vdev).map((c) => c.name));
  for (const p of pmds.values()) if (p.probeVdev) names.add(p.name);
  return [...names];
}

/** The driver a vdev name belongs to: the longest driver name that starts it (net_ring0 -> net_ring). */
export function vdevDriverFor(devName: string): string | undefined {
  return vdevDriverNames().filter((n) => devName.startsWith(n)).sort((a, b) => b.length - a.length)[0];
}

/** (vendor, device) -> driver, for PCI matching: catalogued drivers and registered ones with pciIds. */
export function pciIdTable(): Array<{ vendor: number; device: number; driver: string }> {
  const out = CATALOG.flatMap((c) => (c.pciIds ?? []).map((id) => ({ ...id, driver: c.name })));
  for (const p of pmds.values()) {
    for (const id of p.pciIds ?? []) if (!out.some((o) => o.vendor === id.vendor && o.device === id.device)) out.push({ ...id, driver: p.name });
  }
  return out;
}
