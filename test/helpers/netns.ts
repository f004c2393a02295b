// A small lab of network namespaces and veth pairs for the software-port tests, made with iproute2 and removed
// on cleanup (and by name on the next run, if a crashed run left them). Test traffic stays in what the lab
// made: never the machine's own interfaces.
import { spawnSync } from 'node:child_process';

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

function sh(cmd: string[], input?: string): Run {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', input, timeout: 60000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Why the lab cannot run here (not root, no iproute2), or null. */
export function netLabSkipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (sh(['ip', '-V']).status !== 0) return 'needs iproute2 (apt-get install -y iproute2)';
  return null;
}

export class NetLab {
  /** short unique prefix of every name this lab makes (interface names have 15 characters) */
  readonly tag: string;
  private readonly namespaces: string[] = [];
  private readonly links: string[] = [];

  constructor(tag: string) {
    if (!/^[a-z0-9]{1,6}$/.test(tag)) throw new Error(`lab tag '${tag}': 1 to 6 lowercase letters or digits`);
    this.tag = tag;
    // leftovers of an earlier run that died
    for (const ns of sh(['ip', 'netns', 'list']).stdout.split('\n')) {
      const n = ns.split(' ')[0];
      if (n.startsWith(`${tag}-`)) sh(['ip', 'netns', 'del', n]);
    }
    for (const l of sh(['ip', '-o', 'link', 'show']).stdout.split('\n')) {
      const m = /^\d+:\s+([^:@]+)/.exec(l);
      if (m && m[1].startsWith(tag)) sh(['ip', 'link', 'del', m[1]]);
    }
  }

  /** Runs a command and throws with its stderr when it fails. */
  must(cmd: string[]): string {
    const r = sh(cmd);
    if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr.trim() || `exit ${r.status}`}`);
    return r.stdout;
  }

  /** Makes namespace `${tag}-${name}` with its loopback up; returns its name. */
  netns(name: string): string {
    const ns = `${this.tag}-${name}`;
    this.must(['ip', 'netns', 'add', ns]);
    this.namespaces.push(ns);
    this.must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /**
   * Makes a veth pair a <-> b (names get the lab's tag as prefix; returned). `b` may go into namespace `nsB` with
   * address `ipB` (CIDR); `a` stays in this namespace, up, without an address, for a pktio port to take.
   */
  veth(a: string, b: string, o: { nsB?: string; ipB?: string; mtu?: number } = {}): [string, string] {
    const na = `${this.tag}${a}`;
    const nb = `${this.tag}${b}`;
    this.must(['ip', 'link', 'add', na, 'type', 'veth', 'peer', 'name', nb]);
    this.links.push(na);
    if (o.mtu) {
      this.must(['ip', 'link', 'set', na, 'mtu', String(o.mtu)]);
      this.must(['ip', 'link', 'set', nb, 'mtu', String(o.mtu)]);
    }
    if (o.nsB) this.must(['ip', 'link', 'set', nb, 'netns', o.nsB]);
    const inB = o.nsB ? ['-n', o.nsB] : [];
    if (o.ipB) this.must(['ip', ...inB, 'addr', 'add', o.ipB, 'dev', nb]);
    this.must(['ip', ...inB, 'link', 'set', nb, 'up']);
    this.must(['ip', 'link', 'set', na, 'up']);
    // no IPv6 chatter (router solicitations, DAD) on the side pktio owns: counters stay exact
    sh(['sysctl', '-q', '-w', `net.ipv6.conf.${na}.disable_ipv6=1`]);
    if (o.nsB) sh(['ip', 'netns', 'exec', o.nsB, 'sysctl', '-q', '-w', `net.ipv6.conf.${nb}.disable_ipv6=1`]);
    return [na, nb];
  }

  /** Moves an interface (e.g. a tap a pktio port made) into a namespace with an address, up. */
  adopt(ifname: string, ns: string, ip?: string): void {
    this.must(['ip', 'link', 'set', ifname, 'netns', ns]);
    if (ip) this.must(['ip', '-n', ns, 'addr', 'add', ip, 'dev', ifname]);
    sh(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv6.conf.${ifname}.disable_ipv6=1`]);
    this.must(['ip', '-n', ns, 'link', 'set', ifname, 'up']);
  }

  /** Runs a command inside a namespace. */
  exec(ns: string, cmd: string[], input?: string): Run {
    return sh(['ip', 'netns', 'exec', ns, ...cmd], input);
  }

  /** An interface's kernel counters (rx/tx packets and bytes, drops) in a namespace, from /sys. */
  counters(ns: string | null, ifname: string): Record<'rx_packets' | 'tx_packets' | 'rx_bytes' | 'tx_bytes' | 'rx_dropped' | 'tx_dropped', number> {
    const keys = ['rx_packets', 'tx_packets', 'rx_bytes', 'tx_bytes', 'rx_dropped', 'tx_dropped'] as const;
    const cmd = ['cat', ...keys.map((k) => `/sys/class/net/${ifname}/statistics/${k}`)];
    const r = ns ? this.exec(ns, cmd) : sh(cmd);
    if (r.status !== 0) throw new Error(`counters of ${ifname}: ${r.stderr.trim()}`);
    const v = r.stdout.trim().split('\n').map(Number);
    return Object.fromEntries(keys.map((k, i) => [k, v[i]])) as Record<(typeof keys)[number], number>;
  }

  /** Deletes what the lab made. Safe to call twice. */
  cleanup(): void {
    for (const l of this.links.splice(0)) sh(['ip', 'link', 'del', l]);
    for (const ns of this.namespaces.splice(0)) sh(['ip', 'netns', 'del', ns]);
  }
}
