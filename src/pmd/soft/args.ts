// Devargs of the software ports (`--vdev net_pcap0,rx_pcap=in.pcap,infinite_rx=1`), read with DPDK's spellings.
// Each reader names the driver, the key, the value and what it expects, so a bad --vdev is one line to fix.
import { VdevArgs } from '../driver.js';

export class DevArgError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'DevArgError';
  }
}

/** An integer devarg in [min, max], or `def` when absent. Accepts decimal and 0x hex. */
export function argInt(driver: string, args: Map<string, string>, key: string, def: number, min: number, max: number): number {
  const v = args.get(key);
  if (v === undefined) return def;
  const n = /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new DevArgError(`${driver}: ${key}=${v}: expected an integer from ${min} to ${max}`);
  return n;
}

/** A power-of-two integer devarg in [min, max] (ring sizes, buffer sizes). */
export function argPow2(driver: string, args: Map<string, string>, key: string, def: number, min: number, max: number): number {
  const n = argInt(driver, args, key, def, min, max);
  if (n & (n - 1)) throw new DevArgError(`${driver}: ${key}=${n}: expected a power of two from ${min} to ${max}`);
  return n;
}

/** A 0/1 devarg; a key given without a value (`persist`) counts as 1. */
export function argBool(driver: string, args: Map<string, string>, key: string, def = false): boolean {
  const v = args.get(key);
  if (v === undefined) return def;
  if (v === '' || v === '1' || v === 'yes' || v === 'true') return true;
  if (v === '0' || v === 'no' || v === 'false') return false;
  throw new DevArgError(`${driver}: ${key}=${v}: expected 0 or 1`);
}

/** One of a fixed set of words. */
export function argChoice<T extends string>(driver: string, args: Map<string, string>, key: string, def: T, choices: readonly T[]): T {
  const v = args.get(key);
  if (v === undefined) return def;
  if (!(choices as readonly string[]).includes(v)) throw new DevArgError(`${driver}: ${key}=${v}: expected ${choices.join(' or ')}`);
  return v as T;
}

/** A MAC address devarg (`mac=02:00:00:00:00:01`), or null when absent. */
export function argMac(driver: string, args: Map<string, string>, key = 'mac'): Uint8Array | null {
  const v = args.get(key);
  if (v === undefined) return null;
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(v);
  if (!m) throw new DevArgError(`${driver}: ${key}=${v}: expected six hex bytes like 02:00:00:00:00:01`);
  const mac = Uint8Array.from(m.slice(1).map((h) => parseInt(h, 16)));
  if (mac[0] & 1) throw new DevArgError(`${driver}: ${key}=${v} is a multicast address: give a unicast one (first byte even)`);
  return mac;
}

/** A non-empty string devarg, or null when absent. */
export function argStr(driver: string, args: Map<string, string>, key: string): string | null {
  const v = args.get(key);
  if (v === undefined) return null;
  if (v === '') throw new DevArgError(`${driver}: ${key}= is empty: give a value`);
  return v;
}

/** A locally administered unicast MAC that differs per driver and instance (ports without a MAC of their own). */
export function localMac(driverTag: number, index: number): Uint8Array {
  return Uint8Array.from([0x02, 0x70, 0x6b, driverTag & 0xff, (index >> 8) & 0xff, index & 0xff]);
}

/** Every value of a devarg that may repeat (`rx_pcap=a.pcap,rx_pcap=b.pcap`), in order; [] when absent. */
export function argAll(driver: string, args: Map<string, string>, key: string): string[] {
  const all = args instanceof VdevArgs ? args.all(key) : args.has(key) ? [args.get(key)!] : [];
  for (const v of all) if (v === '') throw new DevArgError(`${driver}: ${key}= is empty: give a value`);
  return all;
}
