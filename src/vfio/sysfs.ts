// What sysfs and /dev say about a device before any VFIO file is opened. Pure reads, so every check
// here runs against a fake tree in the unit tests (sysfsRoot / devRoot point into a temp dir).
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PciError, parsePciAddress, readPciDevice, type PciDevice } from '../eal/pci.js';
import { VfioError } from './errors.js';

export interface VfioPaths {
  sysfsRoot: string;
  devRoot: string;
}

/** What attach() will open for one device. */
export interface DevicePlan {
  bdf: string;
  pci: PciDevice;
  group: number;
  /** The group is a VFIO no-IOMMU group (/dev/vfio/noiommu-N): no isolation, no DMA mapping. */
  noIommu: boolean;
  /** /dev/vfio/N or /dev/vfio/noiommu-N. */
  groupNode: string;
  /** /dev/vfio/devices/vfioM when the kernel made one (CONFIG_VFIO_DEVICE_CDEV), else null. */
  cdevNode: string | null;
}

/** Drivers that may own the other members of a VFIO group (the kernel's driver_managed_dma drivers). */
function harmlessDriver(d: string | null): boolean {
  return d === null || d === 'pci-stub' || d === 'pcieport' || d.includes('vfio');
}

function readText(p: string): string | null {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return null;
  }
}

function linkBase(p: string): string | null {
  try {
    return basename(readlinkSync(p));
  } catch {
    return null;
  }
}

/** 'Y' / 'N' of vfio's enable_unsafe_noiommu_mode, or null when the parameter does not exist. */
export function noIommuParam(sysfsRoot: string): 'Y' | 'N' | null {
  const v = readText(join(sysfsRoot, 'module/vfio/parameters/enable_unsafe_noiommu_mode'));
  if (v === null) return null;
  return v.startsWith('Y') || v === '1' ? 'Y' : 'N';
}

export function noIommuDisabledError(bdf: string, sysfsRoot: string): VfioError {
  const param = noIommuParam(sysfsRoot);
  const vfioLoaded = existsSync(join(sysfsRoot, 'module/vfio'));
  const how = param === null && vfioLoaded
    ? `this kernel's vfio module has no no-IOMMU support (built without CONFIG_VFIO_NOIOMMU); use a kernel that has it, or boot with the IOMMU on (intel_iommu=on / amd_iommu=on)`
    : `enable VFIO's no-IOMMU mode with 'modprobe vfio enable_unsafe_noiommu_mode=1' (or, when vfio is already loaded, ` +
      `'echo Y > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode'), bind again with 'npx pktio-devbind --bind vfio-pci ${bdf}' ` +
      `and run with --vfio-noiommu; or boot with the IOMMU on (intel_iommu=on / amd_iommu=on)`;
  return new VfioError('NOIOMMU_DISABLED',
    `${bdf} has no IOMMU group (no IOMMU protects it) and VFIO no-IOMMU mode is off: ${how}`);
}

/** Members of IOMMU group `group` other than `self`, with their drivers. */
export function groupMembers(group: number, sysfsRoot: string): { bdf: string; driver: string | null }[] {
  const dir = join(sysfsRoot, 'kernel/iommu_groups', String(group), 'devices');
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names.map((bdf) => ({ bdf, driver: linkBase(join(dir, bdf, 'driver')) }));
}

export function notViableError(bdf: string, group: number, sysfsRoot: string): VfioError {
  const others = groupMembers(group, sysfsRoot).filter((m) => m.bdf !== bdf && !harmlessDriver(m.driver));
  const list = others.length > 0
    ? others.map((m) => `${m.bdf} (driver ${m.driver})`).join(', ')
    : 'a device the kernel still uses';
  const fix = others.length > 0 ? `npx pktio-devbind --bind vfio-pci ${others.map((m) => m.bdf).join(' ')}` : 'npx pktio-devbind --status';
  return new VfioError('NOT_VIABLE',
    `IOMMU group ${group} of ${bdf} is not viable: every device in a group must be bound to vfio-pci or have no driver, ` +
    `but the group also holds ${list}. Bind them to vfio-pci too (${fix}) or move ${bdf} to another slot`);
}

/** True when the group is one VFIO created for no-IOMMU use. */
export function isNoIommuGroup(group: number, p: VfioPaths): boolean {
  const name = readText(join(p.sysfsRoot, 'kernel/iommu_groups', String(group), 'name'));
  if (name === 'vfio-noiommu') return true;
  return existsSync(join(p.devRoot, 'vfio', `noiommu-${group}`)) && !existsSync(join(p.devRoot, 'vfio', String(group)));
}

/**
 * Checks everything sysfs and /dev can tell about `addr` and says what attach() will open.
 * Throws VfioError with a fix in the message: BAD_ADDRESS, NO_DEVICE, NO_VFIO, BOUND_TO_KERNEL,
 * NOT_BOUND, NOIOMMU_DISABLED, NOT_VIABLE. No-IOMMU opt-in is checked by the caller.
 */
export function planDevice(addr: string, p: VfioPaths): DevicePlan {
  let bdf: string;
  try {
    bdf = parsePciAddress(addr);
  } catch (e) {
    throw new VfioError('BAD_ADDRESS', (e as Error).message);
  }
  let pci: PciDevice;
  try {
    pci = readPciDevice(bdf, { sysfsRoot: p.sysfsRoot });
  } catch (e) {
    if (e instanceof PciError) throw new VfioError('NO_DEVICE', e.message);
    throw e;
  }
  if (!existsSync(join(p.devRoot, 'vfio'))) {
    throw new VfioError('NO_VFIO',
      `no ${join(p.devRoot, 'vfio')}: the VFIO modules are not loaded. Load vfio-pci: modprobe vfio-pci, ` +
      `then bind the device: npx pktio-devbind --bind vfio-pci ${bdf}`);
  }
  const noGroupNoNoIommu = pci.iommuGroup === null && noIommuParam(p.sysfsRoot) !== 'Y';
  if (pci.driver !== null && pci.driver !== 'vfio-pci') {
    const ifs = pci.netdevs.length > 0 ? ` (interface ${pci.netdevs.map((n) => n.name).join(', ')})` : '';
    const extra = noGroupNoNoIommu ? `. Note: ${noIommuDisabledError(bdf, p.sysfsRoot).message}` : '';
    throw new VfioError('BOUND_TO_KERNEL',
      `${bdf} is bound to the kernel driver '${pci.driver}'${ifs}, not to vfio-pci: ` +
      `bind it with 'npx pktio-devbind --bind vfio-pci ${bdf}' (this takes it away from the kernel)${extra}`);
  }
  if (pci.driver === null) {
    if (noGroupNoNoIommu) throw noIommuDisabledError(bdf, p.sysfsRoot);
    const loaded = existsSync(join(p.sysfsRoot, 'bus/pci/drivers/vfio-pci'));
    throw new VfioError('NOT_BOUND',
      `${bdf} is not bound to any driver: ${loaded ? '' : 'load vfio-pci (modprobe vfio-pci) and '}bind it with 'npx pktio-devbind --bind vfio-pci ${bdf}'`);
  }
  if (pci.iommuGroup === null) {
    // vfio-pci does not bind without a group; seeing this means sysfs changed under us
    throw noIommuDisabledError(bdf, p.sysfsRoot);
  }
  const group = pci.iommuGroup;
  const noIommu = isNoIommuGroup(group, p);
  const groupNode = join(p.devRoot, 'vfio', noIommu ? `noiommu-${group}` : String(group));
  const members = groupMembers(group, p.sysfsRoot);
  if (members.some((m) => m.bdf !== bdf && !harmlessDriver(m.driver))) throw notViableError(bdf, group, p.sysfsRoot);
  const cdev = pci.vfioDev !== null ? join(p.devRoot, 'vfio/devices', pci.vfioDev) : null;
  return { bdf, pci, group, noIommu, groupNode, cdevNode: cdev !== null && existsSync(cdev) ? cdev : null };
}
