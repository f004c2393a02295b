// EAL: command line, memory, lcores. rte_eal_init's job, without device probing (see src/index.ts).
import * as fs from 'node:fs';
import { parseEalArgs, usage, type EalConfig, EalArgError } from './args.js';
import { initMemory, releaseMemory, memShareInfo, type IovaModeName } from './memory.js';
import { startLcores, stopLcores, clearQuit } from './lcore.js';
import { setLogLevel, setLogFormat, log } from './log.js';

export * from './args.js';
export * from './memory.js';
export * from './lcore.js';
export * from './log.js';
export { siblingModule } from './worker.js';
export { parsePciAddressLoose as parsePciAddress } from './pciaddr.js';

let current: EalConfig | null = null;

export function ealConfig(): EalConfig {
  if (!current) throw new Error('EAL is not initialised: call init() first');
  return current;
}

export function ealInitialized(): boolean {
  return current !== null;
}

/** Are there VFIO no-IOMMU groups on this machine? (They need IOVA = PA.) */
function noIommuGroupsPresent(): boolean {
  try {
    return fs.readdirSync('/dev/vfio').some((n) => n.startsWith('noiommu-'));
  } catch {
    return false;
  }
}

/** Chooses the IOVA mode like DPDK: what the user asked for, else PA when VFIO no-IOMMU will be used, else VA. */
export function chooseIovaMode(c: EalConfig): IovaModeName {
  if (c.iovaMode) return c.iovaMode;
  if (c.noHuge) return 'va';
  if (c.vfioNoIommu && !c.noPci && noIommuGroupsPresent()) return 'pa';
  return 'va';
}

/** What the bus layer decides before memory is mapped (VFIO: no-IOMMU needs PA; narrow IOMMUs need low VAs). */
export interface MemoryPlan {
  iovaMode?: IovaModeName;
  baseVirtaddr?: bigint;
}

/**
 * Parses the EAL options, maps memory and starts the lcores. Returns the arguments after "--".
 * With -h/--help it prints the usage and returns config.help = true without initialising anything.
 * `planMemory` runs after parsing and before memory is mapped (src/index.ts plugs the PCI/VFIO scan in here).
 */
export async function ealInit(argv: readonly string[],
  planMemory?: (c: EalConfig) => MemoryPlan): Promise<{ config: EalConfig; appArgs: string[] }> {
  if (current) throw new Error('EAL is already initialised');
  const { config, appArgs } = parseEalArgs(argv);
  if (config.help) {
    process.stdout.write(usage() + '\n');
    return { config, appArgs };
  }
  if (config.logFormat) setLogFormat(config.logFormat);
  setLogLevel(config.logLevel);
  if (config.vfioNoIommu && config.noHuge) {
    throw new EalArgError('--vfio-noiommu needs hugepages (no-IOMMU DMA uses physical addresses): drop --no-huge');
  }
  const plan = planMemory?.(config) ?? {};
  let iovaMode = chooseIovaMode(config);
  if (plan.iovaMode && plan.iovaMode !== iovaMode) {
    if (config.iovaMode) {
      throw new EalArgError(`--iova-mode ${config.iovaMode} does not fit the devices: they need IOVA as ${plan.iovaMode.toUpperCase()}`);
    }
    if (plan.iovaMode === 'pa' && config.noHuge) throw new EalArgError('these devices need IOVA = PA, which needs hugepages: drop --no-huge');
    iovaMode = plan.iovaMode;
  }
  const region = initMemory({
    noHuge: config.noHuge, hugeDir: config.hugeDir, memoryMb: config.memoryMb, iovaMode, filePrefix: config.filePrefix,
    baseVirtaddr: config.baseVirtaddr ?? plan.baseVirtaddr ?? null,
  });
  try {
    clearQuit();
    const { base, len } = memShareInfo();
    await startLcores({ lcores: config.lcores, mainLcore: config.mainLcore, logLevel: config.logLevel, memBase: base, memLen: len });
  } catch (e) {
    await stopLcores();
    releaseMemory();
    throw e;
  }
  current = config;
  log('eal').info({ lcores: Object.keys(config.lcores).map(Number), main: config.mainLcore, iova: iovaMode,
    mb: region.len / 1048576, hugepages: region.hugepages }, 'EAL initialised');
  return { config, appArgs };
}

/** Stops the worker lcores and unmaps memory (DPDK's rte_eal_cleanup). */
export async function ealCleanup(): Promise<void> {
  await stopLcores();
  releaseMemory();
  current = null;
}
