// The kernel's tun/tap character device (/dev/net/tun, drivers/net/tun.c) as net_tap uses it: each open file
// becomes one queue of a multi-queue tap interface through TUNSETIFF (struct ifreq: 16-byte name, then the
// 16-bit flags at byte 16). Control path only: nothing here runs per packet.
import * as ffi from '../../eal/ffi.js';
import { IFNAMSIZ, ifExists, ifTunFlags, NetifError } from '../soft/netif.js';

export const TUN_DEV = '/dev/net/tun';

// linux/if_tun.h: ioctl numbers (_IOW('T', nr, int) = 0x400454nn, _IOR = 0x800454nn) and TUNSETIFF flags
export const TUNSETIFF = 0x400454ca; // _IOW('T', 202, int)
export const TUNSETPERSIST = 0x400454cb; // _IOW('T', 203, int): the argument is the value itself
export const TUNGETFEATURES = 0x800454cf; // _IOR('T', 207, unsigned int)
export const TUNSETQUEUE = 0x400454d9; // _IOW('T', 217, int): struct ifreq with IFF_ATTACH/DETACH_QUEUE
export const IFF_TUN = 0x0001;
export const IFF_TAP = 0x0002;
export const IFF_MULTI_QUEUE = 0x0100;
export const IFF_ATTACH_QUEUE = 0x0200;
export const IFF_DETACH_QUEUE = 0x0400;
export const IFF_PERSIST = 0x0800;
export const IFF_NO_PI = 0x1000;

/** Every queue file of a net_tap port asks for these: Ethernet frames, no packet-info header, one file per queue. */
export const TAP_FLAGS = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;

const IFREQ_SIZE = 40;

export class TapError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'TapError';
  }
}

function openHint(e: number): string {
  if (e === ffi.ENOENT || e === ffi.ENODEV) return ': load the tun module (modprobe tun)';
  if (e === ffi.EACCES || e === ffi.EPERM) return ': run as root or with CAP_NET_ADMIN';
  return '';
}

function setIffHint(name: string, e: number): string {
  if (e === ffi.EPERM) return ': run as root or with CAP_NET_ADMIN';
  if (e === ffi.EBUSY) return `: ${name} is a tap another process holds exclusively`;
  if (e === ffi.EINVAL) return `: ${name} exists with other tun flags (delete it with ip link del ${name})`;
  return '';
}

/**
 * Checks an existing interface before asking the kernel for it: it must be a multi-queue tap. Says what it is
 * otherwise (the kernel would only answer EINVAL).
 */
export function checkExisting(driver: string, name: string): void {
  if (!ifExists(name)) return;
  const f = ifTunFlags(name);
  if (f === null) {
    throw new TapError(`${driver}: iface=${name} exists and is not a tap device: choose another name (ip link show lists those in use)`);
  }
  if ((f & IFF_TAP) === 0) throw new TapError(`${driver}: iface=${name} is a tun device, not a tap: choose another name or delete it (ip link del ${name})`);
  // the kernel refuses a multi-queue file on a single-queue tap (EINVAL); the other flags become the new file's
  if ((f & IFF_MULTI_QUEUE) === 0) {
    throw new TapError(`${driver}: iface=${name} is a single-queue tap: delete it (ip link del ${name}) ` +
      `or make it with ip tuntap add ${name} mode tap multi_queue`);
  }
}

export interface TunFile {
  fd: number;
  /** the interface's name as the kernel made it (dtap%d becomes dtap0) */
  name: string;
}

/**
 * Opens one queue of tap `name` (created when it does not exist; a name with %d lets the kernel number it),
 * non-blocking. `detach` leaves the file attached to the interface without being one of its queues (DPDK's
 * keep-alive file: the interface lives as long as it is open).
 */
export function tunOpen(driver: string, name: string, o: { detach?: boolean } = {}): TunFile {
  const fd = ffi.open(TUN_DEV, ffi.O_RDWR | ffi.O_CLOEXEC | ffi.O_NONBLOCK, 0);
  if (fd < 0) {
    const e = ffi.errno();
    throw new TapError(`${driver}: open ${TUN_DEV}: ${ffi.strerror(e)}${openHint(e)}`);
  }
  try {
    const ifr = Buffer.alloc(IFREQ_SIZE);
    ifr.write(name, 0, IFNAMSIZ - 1, 'latin1');
    ifr.writeUInt16LE(TAP_FLAGS, 16);
    if (ffi.ioctlPtr(fd, TUNSETIFF, ifr) < 0) {
      const e = ffi.errno();
      throw new TapError(`${driver}: TUNSETIFF ${name}: ${ffi.strerror(e)}${setIffHint(name, e)}`);
    }
    const made = ifr.toString('latin1', 0, IFNAMSIZ).replace(/\0[^]*$/, '');
    if (o.detach) {
      ifr.writeUInt16LE(IFF_DETACH_QUEUE, 16);
      if (ffi.ioctlPtr(fd, TUNSETQUEUE, ifr) < 0) throw new TapError(`${driver}: TUNSETQUEUE detach ${made}: ${ffi.strerror(ffi.errno())}`);
    }
    return { fd, name: made };
  } catch (e) {
    ffi.close(fd);
    throw e;
  }
}

export { NetifError };
