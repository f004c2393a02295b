// VFIO interrupts of one 82574 (e1000e) function, each kind in turn (src/vfio/irq.ts): the NIC raises its link-status
// cause by a write to ICS, and the eventfd bound to the vector must count it. MSI-X: IVAR routes Other (LSC) to
// vector 0; MSI: one vector; INTx: the kernel masks the line when it fires, the cause is cleared (ICR read), the
// line unmasked through VFIO, and a second cause must arrive. Prints KEY=VALUE lines (irq_<kind>_*).
//   node irq-check.mjs BDF [noiommu]
import koffi from 'koffi';
import { Vfio, eventfds, closeFds, eventfdDrain } from '../../../dist/src/vfio/index.js';

const [bdf, mode] = process.argv.slice(2);
const ICR = 0xc0, ICS = 0xc8, IMS = 0xd0, IMC = 0xd8, IVAR = 0xe4;
const ICR_LSC = 1 << 2, ICR_OTHER = 1 << 24;
const v = new Vfio({ flow: mode === 'cdev' ? 'cdev' : 'legacy', allowNoIommu: mode === 'noiommu' });
const d = v.attach(bdf);
d.enableMemory();
d.setBusMaster(true); // an MSI or MSI-X message is a memory write by the function: bus mastering on (INTx needs none)
const bar = d.mapBar(0);
const r = new Uint32Array(koffi.view(bar.addr, bar.len));
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
/** raises LSC and waits up to 1 s for the eventfd to count it */
function fire(fd) {
  r[ICS >> 2] = ICR_LSC;
  for (let i = 0; i < 100; i++) {
    const n = eventfdDrain(fd);
    if (n > 0) return n;
    sleep(10);
  }
  return 0;
}
for (const kind of ['msix', 'msi', 'intx']) {
  console.log(`irq_${kind}_count=${d.irqCount(kind)}`);
  const [fd] = eventfds(1);
  try {
    r[IMC >> 2] = 0xffffffff;
    void r[ICR >> 2];
    if (kind === 'msix') d.enableMsix([fd]);
    else if (kind === 'msi') d.enableMsi([fd]);
    else d.enableIntx(fd);
    if (kind === 'msix') r[IVAR >> 2] = (0 | 8) << 16; // Other -> vector 0, valid
    r[IMS >> 2] = ICR_LSC | (kind === 'msix' ? ICR_OTHER : 0);
    console.log(`irq_${kind}_fired=${fire(fd) > 0 ? 1 : 0}`);
    void r[ICR >> 2]; // the cause handled (ICR clears on read)
    if (kind === 'intx') d.unmaskIntx();
    console.log(`irq_${kind}_again=${fire(fd) > 0 ? 1 : 0}`);
    r[IMC >> 2] = 0xffffffff;
    void r[ICR >> 2];
    d.disableIrqs();
    console.log(`irq_${kind}_off=${d.irqEnabled === null ? 1 : 0}`);
  } catch (e) {
    console.log(`irq_${kind}_error=${JSON.stringify(e.message)}`);
  } finally {
    closeFds([fd]);
  }
}
r[IVAR >> 2] = 0;
v.close();
