// Every poll-mode driver pktio ships, by name. ethdev probes devices through this table.
import type { PmdInfo } from './driver.js';
import { nullPmd } from './null/null.js';
import { ringPmd } from './ring/ring.js';
import { e1000ePmd } from './e1000e/e1000e.js';

export const pmds: PmdInfo[] = [nullPmd, ringPmd, e1000ePmd];

export function registerPmd(p: PmdInfo): void {
  if (pmds.some((x) => x.name === p.name)) throw new Error(`a driver named ${p.name} is already registered`);
  pmds.push(p);
}

export function findPmd(name: string): PmdInfo | undefined {
  return pmds.find((p) => p.name === name);
}

export * from './driver.js';
