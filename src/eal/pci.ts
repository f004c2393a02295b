// PCI bus scan through sysfs, the device filters of -a/-b, and matching devices to poll-mode drivers.
// Read-only: nothing here writes to sysfs (binding drivers is bin/devbind.ts's job).
//
// Every function takes a `sysfsRoot` (default '/sys') so tests can point it at a fake tree with the
// same layout: <root>/bus/pci/devices/<BDF>/{vendor,device,subsystem_vendor,subsystem_device,class,
// numa_node}, <BDF>/driver -> .../drivers/<name>, <BDF>/iommu_group -> .../iommu_groups/<N>,
// <BDF>/net/<ifname>/{operstate,flags} (or <BDF>/virtioN/net/<ifname>), <BDF>/vfio-dev/vfio<M>.
import { readdirSync, readlinkSync, existsSync } from 'node:fs';
import { readText } from './sysfs.js';
import { basename, join } from 'node:path';
import { parsePciAddressLoose } from './pciaddr.js';
import { oneLine } from './args.js';

export const DEFAULT_SYSFS_ROOT = '/sys';
export const DEFAULT_ROUTE_PATH = '/proc/net/route';

/** PCI class codes (base class << 16 | subclass << 8 | prog-if): 0x02xxxx is a network controller. */
export const PCI_BASE_CLASS_NETWORK = 0x02;

export class PciError extends Error {
  constructor(msg: string) {
    super(oneLine(msg)); // user input quoted in the message stays on one line
    this.name = 'PciError';
  }
}

/** A kernel network interface that belongs to a PCI function. */
export interface NetInterface {
  name: string;
  /** IFF_UP is set (or operstate is "up"). */
  up: boolean;
  /** /sys/class/net/<if>/operstate: up, down, unknown, dormant, ... */
  operstate: string;
  /** At least one IPv4 route uses this interface (/proc/net/route). */
  routes: boolean;
}

export interface PciDevice {
  /** Normalized address, e.g. 0000:00:03.0. */
  bdf: string;
  vendor: number;
  device: number;
  subsystemVendor: number;
  subsystemDevice: number;
  /** 24-bit class code, e.g. 0x020000 for an Ethernet controller. */
  classCode: number;
  /** Name of the bound kernel driver (e1000e, vfio-pci, ...), or null when unbound. */
  driver: string | null;
  /** Contents of driver_override, or null when empty or absent. */
  driverOverride: string | null;
  /** IOMMU group number, or null when the device has no group (no IOMMU and not bound to no-iommu VFIO). */
  iommuGroup: number | null;
  /** NUMA node, -1 when unknown. */
  numaNode: number;
  /** Kernel network interfaces of this function (empty once it is bound to vfio-pci). */
  netdevs: NetInterface[];
  /** Name of the VFIO device cdev in sysfs (vfio-dev/vfioN), e.g. "vfio0", or null. */
  vfioDev: string | null;
}

export interface PciScanOptions {
  /** sysfs mount point; default /sys. */
  sysfsRoot?: string;
  /** IPv4 routing table; default /proc/net/route. */
  routePath?: string;
}

/**
 * Normalizes "00:03.0" or "0000:00:03.0" to "0000:00:03.0" (lower case).
 * Throws PciError "bad PCI address 'x': expected DDDD:BB:DD.F, e.g. 0000:00:03.0" otherwise.
 */
export function parsePciAddress(s: string): string {
  return parsePciAddressLoose(s, PciError);
}

/** True for a syntactically valid full or short PCI address. */
export function isPciAddress(s: string): boolean {
  try {
    parsePciAddress(s);
    return true;
  } catch {
    return false;
  }
}

export function pciDevicesDir(sysfsRoot = DEFAULT_SYSFS_ROOT): string {
  return join(sysfsRoot, 'bus/pci/devices');
}

export function pciDeviceDir(bdf: string, sysfsRoot = DEFAULT_SYSFS_ROOT): string {
  return join(pciDevicesDir(sysfsRoot), bdf);
}

function readHex(path: string): number {
  const s = readText(path);
  if (s === null) return -1;
  const n = parseInt(s, 16);
  return Number.isNaN(n) ? -1 : n;
}

function linkName(path: string): string | null {
  try {
    return basename(readlinkSync(path));
  } catch {
    return null;
  }
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

/** Interface names that have at least one IPv4 route, from /proc/net/route (first column). */
export function routedInterfaces(routePath = DEFAULT_ROUTE_PATH): Set<string> {
  const out = new Set<string>();
  const text = readText(routePath);
  if (text === null) return out;
  for (const line of text.split('\n').slice(1)) {
    const iface = line.trim().split(/\s+/)[0];
    if (iface) out.add(iface);
  }
  return out;
}

/** net/<if> of the function, or of a child device (virtio-pci puts them under virtioN/net/<if>). */
function netDirs(dir: string): string[] {
  const out = listDir(join(dir, 'net')).map((n) => join(dir, 'net', n));
  for (const child of listDir(dir).filter((n) => /^virtio\d+$/.test(n))) {
    out.push(...listDir(join(dir, child, 'net')).map((n) => join(dir, child, 'net', n)));
  }
  return out;
}

function readNetdevs(dir: string, routed: Set<string>): NetInterface[] {
  return netDirs(dir).map((path) => {
    const name = basename(path);
    const operstate = readText(join(path, 'operstate')) ?? 'unknown';
    const flags = readHex(join(path, 'flags'));
    const up = (flags > 0 && (flags & 0x1) !== 0) || operstate === 'up';
    return { name, up, operstate, routes: routed.has(name) };
  });
}

function readDevice(dir: string, bdf: string, routed: Set<string>): PciDevice {
  const group = linkName(join(dir, 'iommu_group'));
  const numa = readText(join(dir, 'numa_node'));
  const override = readText(join(dir, 'driver_override'));
  const vfio = listDir(join(dir, 'vfio-dev')).find((n) => /^vfio\d+$/.test(n)) ?? null;
  return {
    bdf,
    vendor: readHex(join(dir, 'vendor')),
    device: readHex(join(dir, 'device')),
    subsystemVendor: readHex(join(dir, 'subsystem_vendor')),
    subsystemDevice: readHex(join(dir, 'subsystem_device')),
    classCode: readHex(join(dir, 'class')),
    driver: linkName(join(dir, 'driver')),
    driverOverride: override === null || override === '' || override === '(null)' ? null : override,
    iommuGroup: group !== null && /^\d+$/.test(group) ? Number(group) : null,
    numaNode: numa !== null && /^-?\d+$/.test(numa) ? Number(numa) : -1,
    netdevs: readNetdevs(dir, routed),
    vfioDev: vfio,
  };
}

/** All PCI functions under <sysfsRoot>/bus/pci/devices, sorted by address. */
export function scanPci(opts: PciScanOptions = {}): PciDevice[] {
  const root = opts.sysfsRoot ?? DEFAULT_SYSFS_ROOT;
  const routed = routedInterfaces(opts.routePath);
  const out: PciDevice[] = [];
  for (const name of listDir(pciDevicesDir(root))) {
    let bdf: string;
    try {
      bdf = parsePciAddress(name);
    } catch {
      continue; // not a PCI function entry
    }
    out.push(readDevice(join(pciDevicesDir(root), name), bdf, routed));
  }
  return out;
}

/**
 * One PCI function. Accepts short addresses. Throws PciError when the address is malformed or no
 * such device exists in sysfs (the message says how to list the devices).
 */
export function readPciDevice(addr: string, opts: PciScanOptions = {}): PciDevice {
  const bdf = parsePciAddress(addr);
  const dir = pciDeviceDir(bdf, opts.sysfsRoot);
  if (!existsSync(dir)) {
    throw new PciError(`no PCI device ${bdf} (${dir} does not exist): list the devices with 'npx pktio-devbind --status' or lspci -D`);
  }
  return readDevice(dir, bdf, routedInterfaces(opts.routePath));
}

export function isNetworkDevice(d: PciDevice): boolean {
  return d.classCode >>> 16 === PCI_BASE_CLASS_NETWORK;
}

/** A kernel interface of the device is up and carries routes: the host is using it (dpdk-devbind's "*Active*"). */
export function isActive(d: PciDevice): boolean {
  return d.netdevs.some((n) => n.up && n.routes);
}

export function hex4(n: number): string {
  return n < 0 ? '????' : n.toString(16).padStart(4, '0');
}

/**
 * Applies EAL -a (allow) / -b (block) lists. With an allow list only those devices are probed; with a
 * block list every device except those. Both at once is an error, as in DPDK. Addresses are normalized.
 * `notFound` lists allowed addresses that are not in `devs`.
 */
export function filterDevices(devs: readonly PciDevice[], allow: readonly string[] = [], block: readonly string[] = []):
  { devices: PciDevice[]; notFound: string[] } {
  if (allow.length > 0 && block.length > 0) {
    throw new PciError('the allow list (-a) and the block list (-b) cannot be used together: give one of them');
  }
  const a = new Set(allow.map(parsePciAddress));
  const b = new Set(block.map(parsePciAddress));
  if (a.size > 0) {
    const devices = devs.filter((d) => a.has(d.bdf));
    const have = new Set(devices.map((d) => d.bdf));
    return { devices, notFound: [...a].filter((x) => !have.has(x)) };
  }
  return { devices: devs.filter((d) => !b.has(d.bdf)), notFound: [] };
}

/** One row of a poll-mode driver's id table. `device: null` matches every device of the vendor. */
export interface PciIdEntry {
  vendor: number;
  device: number | null;
  driver: string;
}

export interface PmdMatch {
  device: PciDevice;
  driver: string;
}

/** Devices whose vendor/device id appears in `table`, each with the first matching driver name. */
export function matchPmds(devs: readonly PciDevice[], table: readonly PciIdEntry[]): PmdMatch[] {
  const out: PmdMatch[] = [];
  for (const d of devs) {
    const e = table.find((t) => t.vendor === d.vendor && (t.device === null || t.device === d.device));
    if (e) out.push({ device: d, driver: e.driver });
  }
  return out;
}
