// Kernel network interfaces, for the ports that sit on one (af_packet, tap, pcap's live interfaces): index, MAC,
// MTU, flags and carrier through the classic SIOC* ioctls on a datagram socket (struct ifreq: 16-byte name, then
// a 24-byte union), and /sys/class/net for what the ioctls do not say. Control path only.
import * as ffi from '../../eal/ffi.js';
import { readText } from '../../eal/sysfs.js';

const AF_INET = 2;
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const SIOCGIFMTU = 0x8921;
export const SIOCSIFMTU = 0x8922;
export const SIOCSIFHWADDR = 0x8924;
export const SIOCGIFHWADDR = 0x8927;
export const SIOCGIFINDEX = 0x8933;
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_RUNNING = 0x40;
export const IFF_PROMISC = 0x100;
export const IFF_ALLMULTI = 0x200;
export const IFNAMSIZ = 16;
const IFREQ_SIZE = 40;
const ARPHRD_ETHER = 1;

export class NetifError extends Error {
  readonly errno: number;
  constructor(msg: string, errno = 0) {
    super(msg);
    this.name = 'NetifError';
    this.errno = errno;
  }
}

/** Checks an interface name the way the kernel does (1 to 15 bytes, no '/', ':' or whitespace). */
export function checkIfName(driver: string, name: string): void {
  if (!/^[^/:\s]{1,15}$/.test(name) || name === '.' || name === '..') {
    throw new NetifError(`${driver}: '${name}' is not a valid interface name (1 to 15 characters, no '/', ':' or spaces)`);
  }
}

function ifreq(name: string): Buffer {
  const b = Buffer.alloc(IFREQ_SIZE);
  b.write(name, 0, IFNAMSIZ - 1, 'latin1');
  return b;
}

function ioctlIf(name: string, req: number, b: Buffer, what: string): void {
  const fd = ffi.socket(AF_INET, ffi.SOCK_DGRAM | ffi.SOCK_CLOEXEC, 0);
  if (fd < 0) throw new NetifError(`socket for ${what}: ${ffi.strerror(ffi.errno())}`, ffi.errno());
  try {
    if (ffi.ioctlPtr(fd, req, b) < 0) {
      const e = ffi.errno();
      const hint = e === ffi.ENODEV ? `: no interface '${name}' (ip link show lists them)` :
        e === ffi.EPERM ? ': run as root or with CAP_NET_ADMIN' : '';
      throw new NetifError(`${what} of ${name}: ${ffi.strerror(e)}${hint}`, e);
    }
  } finally {
    ffi.close(fd);
  }
}

export function ifExists(name: string): boolean {
  return ffi.if_nametoindex(name) !== 0;
}

/** The interface index; throws a NetifError naming the interface when there is none. */
export function ifIndex(name: string): number {
  const i = ffi.if_nametoindex(name);
  if (i === 0) throw new NetifError(`no interface '${name}' (ip link show lists them)`, ffi.ENODEV);
  return i;
}

export function ifMac(name: string): Uint8Array {
  const b = ifreq(name);
  ioctlIf(name, SIOCGIFHWADDR, b, 'read the MAC address');
  const family = b.readUInt16LE(16);
  if (family !== ARPHRD_ETHER) throw new NetifError(`${name} is not an Ethernet interface (hardware type ${family})`);
  return Uint8Array.from(b.subarray(18, 24));
}

export function ifSetMac(name: string, mac: Uint8Array): void {
  const b = ifreq(name);
  b.writeUInt16LE(ARPHRD_ETHER, 16);
  b.set(mac, 18);
  ioctlIf(name, SIOCSIFHWADDR, b, 'set the MAC address');
}

export function ifMtu(name: string): number {
  const b = ifreq(name);
  ioctlIf(name, SIOCGIFMTU, b, 'read the MTU');
  return b.readInt32LE(16);
}

export function ifSetMtu(name: string, mtu: number): void {
  const b = ifreq(name);
  b.writeInt32LE(mtu, 16);
  ioctlIf(name, SIOCSIFMTU, b, `set the MTU to ${mtu}`);
}

export function ifFlags(name: string): number {
  const b = ifreq(name);
  ioctlIf(name, SIOCGIFFLAGS, b, 'read the flags');
  return b.readUInt16LE(16);
}

/** Sets (on) or clears the given IFF_* bits. */
export function ifSetFlags(name: string, bits: number, on: boolean): void {
  const b = ifreq(name);
  ioctlIf(name, SIOCGIFFLAGS, b, 'read the flags');
  const f = b.readUInt16LE(16);
  b.writeUInt16LE(on ? f | bits : f & ~bits, 16);
  ioctlIf(name, SIOCSIFFLAGS, b, on ? 'set the flags' : 'clear the flags');
}

/** Carrier of the interface: true when it is up and has a link (a veth whose peer is up, a tap with a reader). */
export function ifCarrier(name: string): boolean {
  return readText(`/sys/class/net/${name}/carrier`) === '1';
}

/** Link speed in Mbit/s from sysfs, 0 when the interface does not say (down, or virtual without a speed). */
export function ifSpeed(name: string): number {
  const s = Number(readText(`/sys/class/net/${name}/speed`) ?? '0');
  return Number.isFinite(s) && s > 0 ? s : 0;
}

/** The tun/tap flags of an interface (IFF_TAP, IFF_TUN, ...), or null when it is not a tun/tap device. */
export function ifTunFlags(name: string): number | null {
  const s = readText(`/sys/class/net/${name}/tun_flags`);
  return s === null ? null : Number(s);
}
