// MSI-X vectors of a PCI function bound to eventfds, for RX and link-status interrupts: what every PCI PMD's
// interrupt set-up needs (the Intel families and net_virtio). The driver decides which vector serves what; this
// owns the eventfds and the binding, so that a failed bind or a stop leaves no descriptor open.
import { eventfds, closeFds } from '../../vfio/index.js';
import type { PciIrqAccess } from './access.js';

export class MsixEventfds {
  private fds: number[] = [];

  /** Are vectors bound (between bind and release)? */
  get bound(): boolean {
    return this.fds.length !== 0;
  }

  /** The eventfd of vector i (valid while bound). */
  fd(i: number): number {
    return this.fds[i];
  }

  /**
   * Binds vectors 0..want-1 to fresh eventfds. When the function offers fewer, or the process has no interrupt
   * access, throws `shortage(have, noAccess)` (the driver's sentence: what to configure instead) and opens nothing.
   */
  bind(irq: PciIrqAccess | undefined, want: number, shortage: (have: number, noAccess: boolean) => string): void {
    const have = irq?.msixCount() ?? 0;
    if (!irq || have < want) throw new Error(shortage(have, !irq));
    const fds = eventfds(want);
    try {
      irq.enableMsix(fds);
    } catch (e) {
      closeFds(fds);
      throw e;
    }
    this.fds = fds;
  }

  /** Unbinds every vector and closes the eventfds (idempotent). */
  release(irq: PciIrqAccess | undefined): void {
    if (this.fds.length === 0) return;
    try {
      irq?.disable();
    } finally {
      closeFds(this.fds);
      this.fds = [];
    }
  }
}
