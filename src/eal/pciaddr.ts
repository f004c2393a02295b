// PCI addresses in DPDK's form: domain:bus:device.function, e.g. 0000:00:03.0.
import { oneLine } from './args.js';

/** Normalizes "00:03.0" or "0000:00:03.0" to "0000:00:03.0"; throws `Err` with a clear message otherwise. */
export function parsePciAddressLoose(s: string, Err: new (msg: string) => Error = Error): string {
  const m = /^(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-1]?[0-9a-fA-F])\.([0-7])$/.exec(s.trim());
  if (!m || parseInt(m[3], 16) > 0x1f) {
    throw new Err(`bad PCI address '${oneLine(s)}': expected DDDD:BB:DD.F, e.g. 0000:00:03.0`);
  }
  const dom = (m[1] ?? '0').padStart(4, '0').toLowerCase();
  const bus = m[2].padStart(2, '0').toLowerCase();
  const dev = m[3].padStart(2, '0').toLowerCase();
  return `${dom}:${bus}:${dev}.${m[4]}`;
}
