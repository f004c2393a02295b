// Helpers for VM tests: is the rig there, and run a command in a guest.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

export type VmMode = 'type1' | 'noiommu' | 'cdev';
const here = path.dirname(fileURLToPath(import.meta.url));
export const cacheDir = process.env.PKTIO_VM_CACHE ?? '/var/cache/pktio-vm';

/** Why VM tests cannot run here, or null when they can. */
export function rigMissing(): string | null {
  if (process.getuid?.() !== 0) return 'VM tests need root';
  if (spawnSync('sh', ['-c', 'command -v qemu-system-x86_64']).status !== 0) return 'no qemu-system-x86_64: run test/vm/provision.sh';
  if (!existsSync(path.join(cacheDir, 'initrd.gz')) || !existsSync(path.join(cacheDir, 'mods/vfio.ko'))) {
    return `the rig is not provisioned in ${cacheDir}: run test/vm/provision.sh`;
  }
  return null;
}

export interface GuestRun {
  code: number;
  out: string;
  /** KEY=VALUE lines of the output */
  kv: Record<string, string>;
}

/** Boots a guest, runs `script` (bash) in it, returns its output. Kills QEMU on timeout. */
export function runInGuest(opts: { mode: VmMode; topology?: 'l2fwd' | 'one' | 'loop'; timeoutSec?: number; awBits?: number },
  script: string): Promise<GuestRun> {
  const args = [path.join(here, 'run.sh'), '--mode', opts.mode, '--topology', opts.topology ?? 'l2fwd',
    '--timeout', String(opts.timeoutSec ?? 300), '--aw-bits', String(opts.awBits ?? 48), '--', script];
  return new Promise((resolve) => {
    const child = spawn('bash', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const guard = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch { /* gone */ }
    }, ((opts.timeoutSec ?? 300) + 30) * 1000);
    child.on('close', (code) => {
      clearTimeout(guard);
      const kv: Record<string, string> = {};
      for (const line of out.split('\n')) {
        const m = /^([a-z0-9_]+)=(\S*)$/.exec(line.trim());
        if (m) kv[m[1]] = m[2];
      }
      resolve({ code: code ?? 1, out, kv });
    });
  });
}

export const guestDir = path.join(here, 'guest');
