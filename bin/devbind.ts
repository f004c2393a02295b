#!/usr/bin/env node
// devbind: show which driver owns each network PCI function and move functions between kernel
// drivers and vfio-pci, in the manner of dpdk-devbind.py.
//
//   devbind --status                      network devices: userspace (vfio-pci) / kernel / no driver
//   devbind --bind vfio-pci BDF|IFNAME...  driver_override + unbind from the old driver + drivers_probe
//   devbind --bind e1000e BDF...           give a device back to a kernel driver the same way
//   devbind --unbind BDF...                unbind from the current driver
//   devbind --force ...                    also touch devices whose interface is up and has routes
//
// Run: npx pktio-devbind ... (in this checkout, or in a project that installed pktio), or node dist/bin/devbind.js ...
// Exit status: 0 ok, 1 error (the message says what to do). Loads no modules itself.
import { existsSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  DEFAULT_SYSFS_ROOT, PciError, hex4, isActive, isNetworkDevice, parsePciAddress, pciDeviceDir, readPciDevice, scanPci,
  type PciDevice, type PciScanOptions,
} from '../src/eal/pci.js';
import { commandName } from '../src/eal/command.js';

export class DevbindError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'DevbindError';
  }
}

export interface DevbindOptions extends PciScanOptions {
  /** Take devices whose kernel interface is up and routed. */
  force?: boolean;
  /** Check the driver link after a bind (default true; fake sysfs trees in tests have no kernel behind them). */
  verify?: boolean;
}

function sysWrite(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const hint = err.code === 'EACCES' || err.code === 'EPERM' ? ': run as root'
      : err.code === 'ENODEV' || err.code === 'EINVAL' ? ': the kernel refused (see dmesg)' : '';
    throw new DevbindError(`cannot write '${value.trim()}' to ${path}: ${err.message}${hint}`);
  }
}

function currentDriver(bdf: string, sysfsRoot: string): string | null {
  try {
    return basename(readlinkSync(join(pciDeviceDir(bdf, sysfsRoot), 'driver')));
  } catch {
    return null;
  }
}

/** BDF (full or short) or a kernel interface name -> the device. */
export function resolveDevice(name: string, opts: PciScanOptions = {}): PciDevice {
  if (/^([0-9a-fA-F]{1,4}:)?[0-9a-fA-F]{1,2}:[0-9a-fA-F]{1,2}\.[0-7]$/.test(name)) {
    try {
      return readPciDevice(name, opts);
    } catch (e) {
      if (e instanceof PciError) throw new DevbindError(e.message);
      throw e;
    }
  }
  const d = scanPci(opts).find((x) => x.netdevs.some((n) => n.name === name));
  if (d) return d;
  try {
    parsePciAddress(name);
  } catch (e) {
    throw new DevbindError(`${(e as Error).message}, or the name of a kernel network interface (see ${prog()} --status)`);
  }
  throw new DevbindError(`unknown device '${name}': give a PCI address or an interface name that ${prog()} --status lists`);
}

function refuseActive(d: PciDevice, what: string, force: boolean): void {
  if (!isActive(d) || force) return;
  const ifs = d.netdevs.filter((n) => n.up && n.routes).map((n) => n.name);
  throw new DevbindError(
    `refusing to ${what} ${d.bdf}: its interface ${ifs.join(', ')} is up and has routes, so this host is using it ` +
    `(taking it away can cut off the machine). Bring it down first (ip link set ${ifs[0]} down) or pass --force`);
}

/** Binds `addr` to `driver` (driver_override, unbind, drivers_probe). Returns a one-line report. */
export function bindDevice(addr: string, driver: string, opts: DevbindOptions = {}): string {
  const root = opts.sysfsRoot ?? DEFAULT_SYSFS_ROOT;
  if (!/^[\w.-]+$/.test(driver)) throw new DevbindError(`bad driver name '${driver}': e.g. vfio-pci, or a kernel driver such as e1000e`);
  const d = resolveDevice(addr, opts);
  const drvDir = join(root, 'bus/pci/drivers', driver);
  if (!existsSync(drvDir)) {
    throw new DevbindError(`driver ${driver} is not loaded (${drvDir} is missing): load it first: modprobe ${driver}`);
  }
  if (driver === 'vfio-pci' && d.iommuGroup === null) {
    const p = join(root, 'module/vfio/parameters/enable_unsafe_noiommu_mode');
    let on = false;
    try {
      on = /^[Y1]/.test(readFileSync(p, 'utf8'));
    } catch { /* vfio not loaded, or built without no-IOMMU support */ }
    if (!on) {
      throw new DevbindError(
        `${d.bdf} has no IOMMU group (no IOMMU, or it is off), so vfio-pci cannot take it. Boot with the IOMMU on ` +
        `(intel_iommu=on / amd_iommu=on), or allow unsafe no-IOMMU mode: modprobe vfio enable_unsafe_noiommu_mode=1 ` +
        `(or echo Y > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode) and use --vfio-noiommu`);
    }
  }
  if (d.driver === driver) return `${d.bdf} already bound to ${driver}`;
  refuseActive(d, `bind ${driver} to`, opts.force ?? false);
  const dir = pciDeviceDir(d.bdf, root);
  sysWrite(join(dir, 'driver_override'), driver);
  if (d.driver !== null) sysWrite(join(dir, 'driver/unbind'), d.bdf);
  sysWrite(join(root, 'bus/pci/drivers_probe'), d.bdf);
  if (opts.verify ?? true) {
    const now = currentDriver(d.bdf, root);
    if (now !== driver) {
      throw new DevbindError(`${d.bdf} did not bind to ${driver} (driver now: ${now ?? 'none'}); see dmesg for the reason`);
    }
  }
  return `${d.bdf} bound to ${driver}${d.driver ? ` (was ${d.driver})` : ''}`;
}

/** Unbinds `addr` from its driver and clears driver_override. */
export function unbindDevice(addr: string, opts: DevbindOptions = {}): string {
  const root = opts.sysfsRoot ?? DEFAULT_SYSFS_ROOT;
  const d = resolveDevice(addr, opts);
  if (d.driver === null) return `${d.bdf} is not bound to any driver`;
  refuseActive(d, 'unbind', opts.force ?? false);
  const dir = pciDeviceDir(d.bdf, root);
  sysWrite(join(dir, 'driver/unbind'), d.bdf);
  if (existsSync(join(dir, 'driver_override'))) sysWrite(join(dir, 'driver_override'), '\n');
  return `${d.bdf} unbound from ${d.driver}`;
}

const USERSPACE_DRIVERS = new Set(['vfio-pci', 'uio_pci_generic', 'igb_uio']);

function describe(d: PciDevice): string {
  const parts = [`${d.bdf} '${hex4(d.vendor)}:${hex4(d.device)}'`];
  if (d.netdevs.length > 0) parts.push(`if=${d.netdevs.map((n) => n.name).join(',')}`);
  if (d.driver) parts.push(`drv=${d.driver}`);
  if (d.driverOverride) parts.push(`override=${d.driverOverride}`);
  parts.push(`numa=${d.numaNode}`, `iommu_group=${d.iommuGroup ?? 'none'}`);
  if (d.vfioDev) parts.push(`cdev=${d.vfioDev}`);
  if (isActive(d)) parts.push('*Active*');
  return parts.join(' ');
}

/** The --status report for network-class devices. */
export function statusReport(opts: PciScanOptions = {}): string {
  const net = scanPci(opts).filter(isNetworkDevice);
  const groups: [string, PciDevice[]][] = [
    ['Network devices using a userspace driver (vfio-pci)', net.filter((d) => d.driver !== null && USERSPACE_DRIVERS.has(d.driver))],
    ['Network devices using a kernel driver', net.filter((d) => d.driver !== null && !USERSPACE_DRIVERS.has(d.driver))],
    ['Other network devices (no driver)', net.filter((d) => d.driver === null)],
  ];
  const out: string[] = [];
  for (const [title, list] of groups) {
    out.push(title, '='.repeat(title.length));
    out.push(...(list.length > 0 ? list.map(describe) : ['<none>']), '');
  }
  return out.join('\n');
}

function isMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

/** How to run this tool again, as the user ran it (npx pktio-devbind, node dist/bin/devbind.js, ...). */
function prog(): string {
  return isMain() ? commandName('pktio-devbind') : 'pktio-devbind';
}

export function usage(): string {
  return `Usage: ${prog()} [--force] --status | --bind DRIVER DEVICE... | --unbind DEVICE...

  -s, --status          show network devices by driver (vfio-pci / kernel / none); *Active* = up with routes
  -b, --bind DRIVER     bind DEVICEs to DRIVER (vfio-pci, or a kernel driver such as e1000e)
  -u, --unbind          unbind DEVICEs from their driver
  --force               also touch devices whose interface is up and has routes (can cut off this host)
  -h, --help            this help

DEVICE is a PCI address (0000:00:03.0 or 00:03.0) or a kernel interface name (eth1).
vfio-pci must be loaded first: modprobe vfio-pci`;
}

/** The command line. Writes to out/err and returns the exit status (0 ok, 1 error). */
export function devbind(argv: readonly string[], opts: DevbindOptions & { out?: (s: string) => void; err?: (s: string) => void } = {}): number {
  const out = opts.out ?? ((s: string) => process.stdout.write(s + '\n'));
  const err = opts.err ?? ((s: string) => process.stderr.write(s + '\n'));
  let action: 'status' | 'bind' | 'unbind' | 'help' | null = null;
  let driver = '';
  let force = opts.force ?? false;
  const devs: string[] = [];
  try {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      const set = (x: typeof action) => {
        if (action !== null && action !== x) throw new DevbindError(`give only one of --status, --bind and --unbind`);
        action = x;
      };
      if (a === '-s' || a === '--status') set('status');
      else if (a === '-u' || a === '--unbind') set('unbind');
      else if (a === '-h' || a === '--help') set('help');
      else if (a === '--force') force = true;
      else if (a === '-b' || a === '--bind' || a.startsWith('--bind=')) {
        set('bind');
        driver = a.startsWith('--bind=') ? a.slice(7) : argv[++i] ?? '';
        if (!driver || driver.startsWith('-')) throw new DevbindError('--bind needs a driver name, e.g. --bind vfio-pci 0000:00:03.0');
      } else if (a.startsWith('-')) throw new DevbindError(`unknown option '${a}'`);
      else devs.push(a);
    }
    if (action === null) throw new DevbindError('nothing to do: give --status, --bind DRIVER DEVICE... or --unbind DEVICE...');
    if (action === 'help') {
      out(usage());
      return 0;
    }
    if (action === 'status') {
      out(statusReport(opts));
      return 0;
    }
    if (devs.length === 0) throw new DevbindError(`--${action} needs at least one device, e.g. 0000:00:03.0`);
    const o = { ...opts, force };
    for (const d of devs) out(action === 'bind' ? bindDevice(d, driver, o) : unbindDevice(d, o));
    return 0;
  } catch (e) {
    if (e instanceof DevbindError) {
      err(`${prog()}: ${e.message}`);
      if (/nothing to do|unknown option|only one of/.test(e.message)) err(usage());
      return 1;
    }
    throw e;
  }
}

if (isMain()) process.exitCode = devbind(process.argv.slice(2));
