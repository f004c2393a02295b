// Guest-side VFIO check for an e1000e (8086:10d3) bound to vfio-pci. Prints one JSON object on stdout
// and exits 0 when every step passed, 1 otherwise. Needs root, vfio-pci loaded and the NIC bound.
//
//   node dist/test/vm/guest/vfio-check.js --bdf 0000:00:03.0 [--flow auto|legacy|cdev]
//        [--noiommu] [--iommufd-compat] [--mac-prefix 52:54:00:12:34:] [--kernel-bdf 0000:00:04.0]
//        [--expect-error CODE]
//
// Steps: vfioIovaPlan -> 2 MiB of memory (hugepage if one is free, else anonymous; reserved at a low
// address so IOVA = VA fits a 39-bit IOMMU) -> mapSegments -> attach -> enableMemory -> BAR0 mmap ->
// STATUS (0x8), RAL0/RAH0 (0x5400/0x5404) -> MAC -> bus master on/off read back from PCI_COMMAND ->
// irq and region info -> reset -> STATUS again -> close. With --noiommu it first checks that the
// no-IOMMU group is refused without the opt-in. With --kernel-bdf it checks that a device bound to a
// kernel driver is refused with BOUND_TO_KERNEL. With --expect-error CODE the run passes only when
// the main sequence stops with VfioError CODE (e.g. NO_CDEV for --noiommu --flow cdev on 6.12).
import { readFileSync } from 'node:fs';
import * as ffi from '../../../src/eal/ffi.js';
import { Vfio, VfioError, vfioIovaPlan, type VfioFlow } from '../../../src/vfio/index.js';

const args = process.argv.slice(2);
const opt = (name: string, def?: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const bdf = opt('--bdf', '0000:00:03.0')!;
const flow = (opt('--flow', 'auto') as VfioFlow);
const noIommu = args.includes('--noiommu');
const compat = args.includes('--iommufd-compat');
const macPrefix = opt('--mac-prefix', '52:54:00:12:34:')!;
const kernelBdf = opt('--kernel-bdf');
const expectCode = opt('--expect-error');

const out: Record<string, unknown> = { bdf, flow, noIommu, iommufdCompat: compat, checks: {} as Record<string, boolean> };
const checks = out.checks as Record<string, boolean>;
const warnings: string[] = [];
const logger = {
  warn: (o: object, msg?: string) => { warnings.push(`${msg ?? ''} ${JSON.stringify(o)}`); },
  info: () => {},
  debug: () => {},
};
const hex = (n: number | bigint) => '0x' + n.toString(16);

function expectError(name: string, code: string, fn: () => unknown): void {
  try {
    fn();
    checks[name] = false;
    out[name] = 'no error';
  } catch (e) {
    checks[name] = e instanceof VfioError && e.code === code;
    out[name] = e instanceof VfioError ? `${e.code}: ${e.message}` : String(e);
  }
}

/** Physical address of a resident page from /proc/self/pagemap (root only), or null. */
function physAddr(va: bigint): bigint | null {
  const fd = ffi.open('/proc/self/pagemap', ffi.O_RDONLY, 0);
  if (fd < 0) return null;
  const b = Buffer.alloc(8);
  const n = ffi.pread(fd, b, 8, (va / 4096n) * 8n);
  ffi.close(fd);
  if (n !== 8) return null;
  const e = b.readBigUInt64LE(0);
  if ((e >> 63n) === 0n) return null;
  return (e & ((1n << 55n) - 1n)) * 4096n + (va % 4096n);
}

function allocDma(len: number, hint: bigint): { va: bigint; huge: boolean } {
  // hint: a low address (256 GiB) so that IOVA = VA stays below 2^39
  const prot = ffi.PROT_READ | ffi.PROT_WRITE;
  const base = ffi.MAP_PRIVATE | ffi.MAP_ANONYMOUS | ffi.MAP_POPULATE;
  let va = ffi.mmap(hint, len, prot, base | ffi.MAP_HUGETLB, -1, 0);
  let huge = true;
  if (va === ffi.MAP_FAILED) {
    va = ffi.mmap(hint, len, prot, base, -1, 0);
    huge = false;
  }
  if (va === ffi.MAP_FAILED) throw new Error(`mmap of ${len} bytes failed: ${ffi.strerror(ffi.errno())}`);
  new Uint8Array(ffi.view(va, len)).fill(0x5a);
  return { va, huge };
}

let vfio: Vfio | null = null;
let rc = 0;
try {
  if (kernelBdf) {
    expectError('refusesKernelDriver', 'BOUND_TO_KERNEL', () => new Vfio({ flow, log: logger }).attach(kernelBdf));
  }
  if (noIommu) {
    expectError('refusesNoIommuWithoutOptIn', 'NOIOMMU_NOT_ALLOWED', () => new Vfio({ flow, log: logger }).attach(bdf));
    expectError('planRefusesNoIommuWithoutOptIn', 'NOIOMMU_NOT_ALLOWED', () => vfioIovaPlan([bdf]));
  }
  const plan = vfioIovaPlan([bdf], { allowNoIommu: noIommu });
  out.plan = plan;
  checks.plan = plan.iova === (noIommu ? 'pa' : 'va');

  const len = 2 << 20;
  const mem = allocDma(len, 0x4000000000n);
  out.dma = { va: hex(mem.va), len, hugepage: mem.huge, pa: noIommu ? hex(physAddr(mem.va) ?? 0n) : undefined };
  vfio = new Vfio({ flow, allowNoIommu: noIommu, iommufdCompat: compat, log: logger });
  vfio.mapSegments([{ va: mem.va, iova: mem.va, len }]); // deferred until the first attach
  const dev = vfio.attach(bdf);
  out.iommuType = vfio.iommuType;
  out.requiresPhysicalIova = vfio.requiresPhysicalIova;
  out.deviceFlow = dev.flow;
  checks.iommuType = vfio.iommuType === (noIommu ? 'noiommu' : dev.flow === 'cdev' ? 'iommufd' : 'type1');
  checks.requiresPhysicalIova = vfio.requiresPhysicalIova === noIommu;
  if (flow !== 'auto') checks.flow = dev.flow === flow;
  // a second segment after attach is mapped at once
  const mem2 = allocDma(len, 0x4000400000n);
  vfio.mapSegments([{ va: mem2.va, iova: mem2.va, len }]);
  out.dma2 = { va: hex(mem2.va), hugepage: mem2.huge };
  checks.mapSegments = true;

  out.vendorDevice = hex(dev.cfgRead32(0));
  checks.configRead = dev.cfgRead16(0) === 0x8086;
  const r0 = dev.regionInfo(0);
  out.bar0 = { size: hex(r0.size), flags: r0.flags, mmap: r0.mmappable };
  dev.enableMemory();
  const bar = dev.mapBar(0);
  const regs = new Uint32Array(ffi.view(bar.addr, bar.len));
  const status = regs[0x8 / 4];
  const ral = regs[0x5400 / 4];
  const rah = regs[0x5404 / 4];
  const mac = [ral & 0xff, (ral >>> 8) & 0xff, (ral >>> 16) & 0xff, ral >>> 24, rah & 0xff, (rah >>> 8) & 0xff]
    .map((x) => x.toString(16).padStart(2, '0')).join(':');
  Object.assign(out, { status: hex(status), ral0: hex(ral), rah0: hex(rah), mac, barLen: bar.len });
  checks.mac = mac.startsWith(macPrefix);
  checks.addressValid = (rah & 0x80000000) !== 0;

  const on = dev.setBusMaster(true);
  const off = dev.setBusMaster(false);
  out.command = { busMasterOn: hex(on), busMasterOff: hex(off) };
  checks.busMaster = (on & 4) !== 0 && (off & 4) === 0 && (on & 2) !== 0;

  out.irqs = [0, 1, 2].filter((i) => i < dev.numIrqs).map((i) => dev.irqInfo(i));
  checks.irqInfo = (out.irqs as { count: number }[]).length === 3 && (out.irqs as { count: number }[])[2].count > 0;

  out.resetSupported = (dev.flags & 1) !== 0;
  const didReset = dev.reset();
  out.reset = didReset;
  dev.enableMemory();
  out.statusAfterReset = hex(regs[0x8 / 4]);
  out.macAfterReset = hex(regs[0x5400 / 4]);
  checks.reset = didReset ? regs[0x5400 / 4] === ral : true;
  dev.setBusMaster(true);
  dev.close();
  // close() turns bus mastering off: read PCI_COMMAND back through sysfs (read-only)
  const cmdAfterClose = readFileSync(`/sys/bus/pci/devices/${bdf}/config`).readUInt16LE(4);
  out.commandAfterClose = hex(cmdAfterClose);
  checks.closeStopsBusMaster = (cmdAfterClose & 4) === 0;
  out.warnings = warnings;
  if (noIommu) checks.noIommuWarning = warnings.some((w) => w.includes('NO-IOMMU'));
  vfio.close();
  vfio = null;
  out.kernelTaint = readFileSync('/proc/sys/kernel/tainted', 'utf8').trim();
} catch (e) {
  out.error = e instanceof VfioError ? `${e.code}: ${e.message}` : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  if (expectCode !== undefined && e instanceof VfioError) out.errorCode = e.code;
  rc = 1;
} finally {
  vfio?.close();
}
if (expectCode !== undefined) {
  checks.expectedError = out.errorCode === expectCode;
  rc = 0;
}
out.ok = rc === 0 && Object.values(checks).every(Boolean);
console.log(JSON.stringify(out));
process.exit(out.ok ? 0 : 1);
