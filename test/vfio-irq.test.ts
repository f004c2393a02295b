// VFIO interrupts on the host (no VFIO here: the VM test test/vm/intr.vm.ts binds real vectors): the
// struct vfio_irq_set layouts the SET_IRQS calls send, eventfds made, drained and closed, and a failing
// SET_IRQS reported as one line naming the device, the kind and the errno.
import t from 'tap';
import * as ffi from '../src/eal/ffi.js';
import {
  irqSetStruct, setIrqs, eventfds, closeFds, eventfdDrain, VFIO_IRQ_SET_SIZE, VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_UNMASK,
} from '../src/vfio/irq.js';
import { VFIO_PCI_MSIX_IRQ_INDEX } from '../src/vfio/uapi.js';

t.test('struct vfio_irq_set', async (t) => {
  const b = irqSetStruct(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, 3, [7, 8, -1]);
  t.equal(b.length, VFIO_IRQ_SET_SIZE + 12, 'header and one s32 per vector');
  t.same([0, 4, 8, 12, 16].map((o) => b.readUInt32LE(o)), [32, 0x24, 2, 0, 3], 'argsz, flags, index, start, count');
  t.same([20, 24, 28].map((o) => b.readInt32LE(o)), [7, 8, -1], 'the eventfds (-1 unbinds one)');
  const off = irqSetStruct(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, 0);
  t.same([off.length, off.readUInt32LE(4), off.readUInt32LE(16)], [20, 0x21, 0], 'teardown: DATA_NONE | ACTION_TRIGGER, count 0');
  const un = irqSetStruct(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0, 0, 1);
  t.same([un.readUInt32LE(4), un.readUInt32LE(8), un.readUInt32LE(16)], [0x11, 0, 1], 'INTx unmask');
});

t.test('eventfds', async (t) => {
  const fds = eventfds(3);
  t.equal(new Set(fds).size, 3, 'three distinct fds');
  t.equal(eventfdDrain(fds[0]), 0, 'nothing signalled: 0 (non-blocking)');
  ffi.write(fds[0], new BigUint64Array([1n]), 8);
  ffi.write(fds[0], new BigUint64Array([1n]), 8);
  t.equal(eventfdDrain(fds[0]), 2, 'two signals, one read');
  t.equal(eventfdDrain(fds[0]), 0, 'and reset');
  closeFds(fds);
  t.equal(ffi.fcntl(fds[1], ffi.F_GETFL, 0), -1, 'closed');
});

t.test('a failing SET_IRQS is one line', async (t) => {
  const [fd] = eventfds(1); // not a VFIO device: the ioctl fails with ENOTTY
  t.throws(() => setIrqs(fd, '0000:00:03.0', irqSetStruct(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 2, 0, 0)),
    /VFIO_DEVICE_SET_IRQS 0000:00:03\.0 MSI-X .*errno 25/);
  closeFds([fd]);
});
