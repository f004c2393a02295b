// VFIO interrupts: a device's INTx, MSI and MSI-X vectors bound to eventfds (include/uapi/linux/vfio.h,
// VFIO_DEVICE_SET_IRQS; the kernel's Documentation/driver-api/vfio.rst). Control path only.
//
// The device fd is the same kind of fd in every VFIO mode (type1 container, no-IOMMU, cdev + iommufd), so this
// works in all three. What an application does with the eventfds: epoll them; when one is readable, read its
// 8-byte counter (that is the acknowledgement on the VFIO side for MSI / MSI-X; INTx is masked by the kernel when it
// fires and stays masked until unmaskIntx()).
//
//   struct vfio_irq_set { u32 argsz, flags, index, start, count; u8 data[]; }
//   flags: one DATA_* (what data[] holds) | one ACTION_* (what to do with the vectors start..start+count-1)
//   - DATA_EVENTFD | ACTION_TRIGGER, data = s32 fd per vector: the vector signals that eventfd (fd -1: unbind one)
//   - DATA_NONE | ACTION_TRIGGER, count 0: every vector of the index off (the device's MSI / MSI-X disabled)
//   - DATA_NONE | ACTION_UNMASK, INTx: unmask the line the kernel masked when it fired
//
// One index at a time: vfio-pci enables INTx, MSI or MSI-X, not two of them at once; and an enabled MSI / MSI-X
// index cannot grow, so enabling again first disables (what DPDK's vfio code and QEMU's vfio-pci do too).
import * as ffi from '../eal/ffi.js';
import { VfioError } from './errors.js';
import * as u from './uapi.js';

/** sizeof(struct vfio_irq_set) without data[] */
export const VFIO_IRQ_SET_SIZE = 20;
export const VFIO_IRQ_SET_DATA_NONE = 1 << 0;
export const VFIO_IRQ_SET_DATA_BOOL = 1 << 1;
export const VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2;
export const VFIO_IRQ_SET_ACTION_MASK = 1 << 3;
export const VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4;
export const VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5;

export type IrqKind = 'intx' | 'msi' | 'msix';
export const IRQ_INDEX: Record<IrqKind, number> = {
  intx: u.VFIO_PCI_INTX_IRQ_INDEX, msi: u.VFIO_PCI_MSI_IRQ_INDEX, msix: u.VFIO_PCI_MSIX_IRQ_INDEX,
};
const KIND_NAME = ['INTx', 'MSI', 'MSI-X'];

/** A struct vfio_irq_set with `fds` as its s32 data (DATA_EVENTFD), or no data. */
export function irqSetStruct(flags: number, index: number, start: number, count: number, fds: readonly number[] = []): Buffer {
  const b = Buffer.alloc(VFIO_IRQ_SET_SIZE + fds.length * 4);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt32LE(flags, 4);
  b.writeUInt32LE(index, 8);
  b.writeUInt32LE(start, 12);
  b.writeUInt32LE(count, 16);
  fds.forEach((fd, i) => b.writeInt32LE(fd, VFIO_IRQ_SET_SIZE + i * 4));
  return b;
}

/** VFIO_DEVICE_SET_IRQS on device fd `fd`, or a VfioError naming the device, the index and the errno. */
export function setIrqs(fd: number, bdf: string, b: Buffer): void {
  if (ffi.ioctlPtr(fd, u.VFIO_DEVICE_SET_IRQS, b) < 0) {
    const e = ffi.errno();
    const index = b.readUInt32LE(8);
    throw new VfioError('SYSCALL', `VFIO_DEVICE_SET_IRQS ${bdf} ${KIND_NAME[index] ?? `index ${index}`} ` +
      `(flags 0x${b.readUInt32LE(4).toString(16)}, ${b.readUInt32LE(16)} vectors): ${ffi.strerror(e)} (errno ${e})`, e);
  }
}

/** Binds vectors 0..fds.length-1 of irq `index` to the eventfds (enables MSI / MSI-X in the device). */
export function irqBind(fd: number, bdf: string, index: number, fds: readonly number[]): void {
  setIrqs(fd, bdf, irqSetStruct(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, index, 0, fds.length, fds));
}

/** Every vector of irq `index` off (DATA_NONE | ACTION_TRIGGER, count 0). */
export function irqOff(fd: number, bdf: string, index: number): void {
  setIrqs(fd, bdf, irqSetStruct(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, index, 0, 0));
}

/** Unmasks INTx after it fired (the kernel masks the line until the device's cause is handled). */
export function intxUnmask(fd: number, bdf: string): void {
  setIrqs(fd, bdf, irqSetStruct(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, u.VFIO_PCI_INTX_IRQ_INDEX, 0, 1));
}

/** n eventfds (non-blocking, close-on-exec, counting from 0); closes what it made and throws when one fails. */
export function eventfds(n: number): number[] {
  const fds: number[] = [];
  for (let i = 0; i < n; i++) {
    const fd = ffi.eventfd(0, ffi.EFD_CLOEXEC | ffi.EFD_NONBLOCK);
    if (fd < 0) {
      const e = ffi.errno();
      closeFds(fds);
      throw new VfioError('SYSCALL', `eventfd: ${ffi.strerror(e)} (errno ${e}): raise the open-file limit (ulimit -n)`, e);
    }
    fds.push(fd);
  }
  return fds;
}

export function closeFds(fds: readonly number[]): void {
  for (const fd of fds) if (fd >= 0) ffi.close(fd);
}

const counter = Buffer.alloc(8);

/** Reads (and so resets) an eventfd's counter: how many times it was signalled since the last read (0: none). */
export function eventfdDrain(fd: number): number {
  const n = ffi.read(fd, counter, 8);
  return n === 8 ? Number(counter.readBigUInt64LE(0)) : 0;
}
