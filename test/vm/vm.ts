// Helpers for VM tests: is the rig there, and run a command in a guest.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Test } from 'tap';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

export type VmMode = 'type1' | 'noiommu' | 'cdev';
/** run.sh --nic: e1000e (82574L) everywhere, igb (82576, QEMU 10) everywhere, mixed (hub 0 igb, hub 1 e1000e), or
 * virtio (virtio-net-pci everywhere) */
export type VmNic = 'e1000e' | 'igb' | 'mixed' | 'virtio';
export type VmTopology = 'l2fwd' | 'one' | 'loop';
const here = path.dirname(fileURLToPath(import.meta.url));
export const cacheDir = process.env.PKTIO_VM_CACHE ?? '/var/cache/pktio-vm';

/** Why VM tests (with these NICs) cannot run here, or null when they can. */
export function rigMissing(nic: VmNic = 'e1000e'): string | null {
  if (process.getuid?.() !== 0) return 'VM tests need root';
  const qemu10 = existsSync(path.join(cacheDir, 'qemu10/qemu.env'));
  if (nic !== 'e1000e' && !qemu10) return `${nic} needs the rig's QEMU 10 in ${cacheDir}/qemu10: run test/vm/provision.sh`;
  if (nic !== 'e1000e' && process.env.PKTIO_VM_QEMU === 'system') return 'igb needs QEMU 10, and PKTIO_VM_QEMU=system';
  if (!qemu10 && spawnSync('sh', ['-c', 'command -v qemu-system-x86_64']).status !== 0) return 'no QEMU: run test/vm/provision.sh';
  if (!existsSync(path.join(cacheDir, 'initrd.gz')) || !existsSync(path.join(cacheDir, 'mods/vfio.ko'))) {
    return `the rig is not provisioned in ${cacheDir}: run test/vm/provision.sh`;
  }
  return null;
}

/**
 * The guest's NIC layout for a topology, as run.sh exports it to the guest (`run.sh --describe`): PKTIO_VM_PORT_A,
 * PKTIO_VM_PORT_B (pktio's BDFs), PKTIO_VM_NS0, PKTIO_VM_NS1 (the kernel NICs'), each with _MODEL and _MAC,
 * PKTIO_NICS, PKTIO_VM_KERNEL_NICS, PKTIO_VM_QEMU_VERSION. Absent roles are empty strings.
 */
export function rigLayout(nic: VmNic = 'e1000e', topology: VmTopology = 'l2fwd'): Record<string, string> {
  const r = spawnSync('bash', [path.join(here, 'run.sh'), '--nic', nic, '--topology', topology, '--describe'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`run.sh --describe: ${r.stderr.trim()}`);
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([A-Z0-9_]+)='?([^']*)'?$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

export interface GuestRun {
  code: number;
  out: string;
  /** KEY=VALUE lines of the output */
  kv: Record<string, string>;
}

/** Boots a guest, runs `script` (bash) in it, returns its output. Kills QEMU on timeout. */
export function runInGuest(opts: { mode: VmMode; topology?: VmTopology; nic?: VmNic; timeoutSec?: number; awBits?: number;
  /** virtio: packed virtqueues offered (run.sh --packed on), pktio's ports legacy-only (--virtio-legacy) */
  packed?: boolean; virtioLegacy?: boolean; /** virtio queue pairs per NIC (run.sh --mq: taps in a namespace) */ mq?: number },
  script: string): Promise<GuestRun> {
  const args = [path.join(here, 'run.sh'), '--mode', opts.mode, '--topology', opts.topology ?? 'l2fwd', '--nic', opts.nic ?? 'e1000e',
    '--timeout', String(opts.timeoutSec ?? 300), '--aw-bits', String(opts.awBits ?? 48),
    ...(opts.packed ? ['--packed', 'on'] : []), ...(opts.virtioLegacy ? ['--virtio-legacy'] : []),
    ...(opts.mq ? ['--mq', String(opts.mq)] : []), '--', script];
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
        const m = /^([A-Za-z0-9_]+)=(\S*)$/.exec(line.trim());
        if (m) kv[m[1]] = m[2];
      }
      resolve({ code: code ?? 1, out, kv });
    });
  });
}

export const guestDir = path.join(here, 'guest');

/**
 * When the test fails (its own checks or its subtests', which run after its function returns), prints what the guest
 * printed: the last `lines` lines on stderr and the whole output in a file whose path it names. A teardown, so a
 * failure anywhere in the test counts; call it right after runInGuest.
 */
export function showGuestOnFailure(t: Test, r: GuestRun, lines = 120): void {
  t.teardown(() => {
    if (r.code === 0 && t.passing()) return;
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'pktio-vm-')), 'guest.log');
    writeFileSync(file, r.out);
    const tail = r.out.split('\n').slice(-lines).join('\n');
    process.stderr.write(`\n--- ${t.fullname}: failed (guest exit ${r.code}); the guest's last ${lines} lines (all of it in ${file}):\n` +
      `${tail}\n--- end of guest output\n`);
  });
}
