// A simulated 82576 (igb) for host tests, on the shared Intel NIC model (intel-sim.ts). What it adds:
// - the control path's register semantics, through the PciDeviceAccess.mmioHook seam: CTRL.RST resets the register
//   file to its reset values (and clears itself), STATUS.GIO_MASTER_ENABLE follows CTRL.GIO_MASTER_DISABLE,
//   RXDCTL/TXDCTL.ENABLE and MDIC.READY read back one read after they were written (so a driver that does not
//   poll sees the old value), a clause-22 PHY behind MDIC at address 1 whose autonegotiation restart raises
//   STATUS.LU a little later (as QEMU's igb does, 500 ms there), SWSM.SMBI taken by reading it, EERD answering from
//   an NVM holding the MAC address, clear-on-read counters and interrupt causes;
// - receive(): a frame as the NIC's receive path sees it: length limits (RCTL.LPE, RLPML), the L2 filter (receive
//   addresses, UPE, MPE, BAM), VLAN strip (CTRL.VME), IPv4 / TCP / UDP checksum checks (RXCSUM.IPOFLD/TUOFLD), RSS
//   (MRQC, RSSRK, RETA as the driver programmed them, hash types as QEMU's igb selects them, the hash computed with
//   common/rss.ts's Toeplitz), the advanced write-back (status, errors, length, VLAN, RSS hash, pkt_info) on the
//   chosen queue, spanning SRRCTL.BSIZEPACKET-sized buffers, and the receive counters;
// - stepTx(): the shared model's advanced TX (data and context descriptors, VLE insertion, DD on RS) plus the
//   checksum insertion the descriptors ask for (IXSM: IPv4 header; TXSM: TCP/UDP over the pseudo-header sum the
//   software put in the checksum field, as Intel's hardware expects), and the transmit counters.
// Frame builders with correct checksums are at the end.
import { mem } from '../../src/eal/memory.js';
import type { PciDeviceAccess } from '../../src/pmd/pci/access.js';
import * as R from '../../src/pmd/intel/igb/regs.js';
import { toeplitz } from '../../src/pmd/intel/common/rss.js';
import { IntelSim, spyDoorbells as spy, type SimLayout, type SentFrame } from './intel-sim.js';

export const BAR_LEN = 128 * 1024;

const CTRL_SPD_1000 = 2 << 8;
const BMCR_FD = 1 << 8;
const BMCR_SPEED1000 = 1 << 6;
const BMCR_RESET = 1 << 15;

export interface IgbSimOptions {
  deviceId?: number;
  mac?: number[];
  /** LAN function (STATUS.FUNC_ID) */
  func?: number;
  /** CTRL_EXT.LINK_MODE at reset (0 copper) */
  linkMode?: number;
  /** how long autonegotiation takes after a restart */
  autonegMs?: number;
}

export interface Delivered {
  queue: number;
  /** RSS type (pkt_info 3:0) and hash; 0 without RSS */
  rssType: number;
  hash: number;
}

const isStat = (off: number): boolean => (off >= R.STATS_START && off < R.STATS_END) || off === R.SCVPC;

function layout(deviceId: number): SimLayout {
  return {
    barLen: BAR_LEN,
    vendorId: 0x8086,
    deviceId,
    rx: (q) => ({ bal: R.RDBAL(q), bah: R.RDBAH(q), len: R.RDLEN(q), head: R.RDH(q), tail: R.RDT(q) }),
    tx: (q) => ({ bal: R.TDBAL(q), bah: R.TDBAH(q), len: R.TDLEN(q), head: R.TDH(q), tail: R.TDT(q) }),
    // QEMU's igb receives with RCTL.EN, bus mastering, link up, a ring and the queue enabled
    rxEnabled: (sim, q) => sim.busMaster && (sim.get(R.RCTL) & R.RCTL_EN) !== 0 && (sim.get(R.STATUS) & R.STATUS_LU) !== 0 &&
      sim.get(R.RDLEN(q)) > 0 && (sim.get(R.RXDCTL(q)) & R.XDCTL_ENABLE) !== 0,
    txEnabled: (sim, q) => sim.busMaster && (sim.get(R.TCTL) & R.TCTL_EN) !== 0 && (sim.get(R.TXDCTL(q)) & R.XDCTL_ENABLE) !== 0,
    rxBufSize: (sim, q) => {
      const kb = sim.get(R.SRRCTL(q)) & R.SRRCTL_BSIZEPACKET_MASK;
      return kb !== 0 ? kb << 10 : 2048;
    },
    txFormat: 'advanced',
    clearOnRead: (off) => isStat(off) || off === R.ICR || off === R.EICR,
    onMissed: (sim) => sim.add(R.MPC, 1),
    onTx(sim, frame) {
      const wire = frame.length + 4;
      sim.add(R.GPTC, 1);
      sim.add(R.GOTCL, wire);
      sim.add(R.TPT, 1);
      sim.add(R.TOTL, wire);
      if (frame[0] & 1) sim.add(frame.slice(0, 6).every((b) => b === 0xff) ? R.BPTC : R.MPTC, 1);
    },
  };
}

interface Pending { reads: number; val: number }

export class IgbSim extends IntelSim {
  readonly mac: number[];
  readonly func: number;
  readonly linkMode: number;
  autonegMs: number;
  /** the PHY's clause-22 registers */
  readonly phy = new Uint16Array(32);
  /** every control-path access in order: [op, offset, value seen / written] */
  readonly log: Array<['r' | 'w', number, number]> = [];
  /** MAC resets seen (CTRL.RST) */
  macResets = 0;
  private linkUpAt: number | null = null;
  private readonly pending = new Map<number, Pending>();
  /** RXDCTL / TXDCTL values as they read back once settled */
  private readonly qctl = new Map<number, number>();

  constructor(name = 'igb_sim_bar', opts: IgbSimOptions = {}) {
    super(name, layout(opts.deviceId ?? 0x10c9));
    this.mac = opts.mac ?? [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    this.func = opts.func ?? 0;
    this.linkMode = opts.linkMode ?? 0;
    this.autonegMs = opts.autonegMs ?? 20;
    this.powerOn();
  }

  /** The register file at power-on and after CTRL.RST (the values QEMU's igb and the datasheet give). */
  powerOn(): void {
    mem().u8.fill(0, this.off, this.off + BAR_LEN);
    this.pending.clear();
    this.set(R.CTRL, R.CTRL_FD | CTRL_SPD_1000);
    this.set(R.STATUS, this.func << R.STATUS_FUNC_SHIFT);
    this.set(R.EECD, R.EECD_PRES | R.EECD_AUTO_RD);
    this.set(R.EEMNGCTL, R.EEMNGCTL_CFG_DONE(this.func));
    this.set(R.CTRL_EXT, this.linkMode << 22);
    const m = this.mac;
    this.set(R.RAL(0), (m[0] | (m[1] << 8) | (m[2] << 16) | (m[3] << 24)) >>> 0);
    this.set(R.RAH(0), (m[4] | (m[5] << 8) | R.RAH_AV) >>> 0);
    this.qctl.clear();
    for (let q = 0; q < 16; q++) {
      this.setQctl(R.RXDCTL(q), (q === 0 ? R.XDCTL_ENABLE : 0) | (1 << 16));
      this.setQctl(R.TXDCTL(q), q === 0 ? R.XDCTL_ENABLE : 0);
    }
    this.set(R.RXCSUM, R.RXCSUM_IPOFLD | R.RXCSUM_TUOFLD);
    this.set(R.RLPML, 0x2600);
    this.set(R.VET, 0x81008100);
    this.set(R.TCTL, R.TCTL_PSP | R.TCTL_CT_DEFAULT);
    this.phy.fill(0);
    this.phy[R.PHY_BMCR] = R.BMCR_AN_ENABLE | BMCR_FD | BMCR_SPEED1000;
    this.linkUpAt = null; // the link comes up once autonegotiation is restarted
  }

  /** NVM word w: the MAC address in words 0-2. */
  nvm(w: number): number {
    return w < 3 ? this.mac[w * 2] | (this.mac[w * 2 + 1] << 8) : 0xffff;
  }

  override access(bdf: string): PciDeviceAccess {
    const a = super.access(bdf);
    const base = a.mmioHook!;
    return {
      ...a,
      mmioHook: {
        read: (off, v) => {
          const seen = this.onRead(off, base.read(off, v) >>> 0) >>> 0;
          this.log.push(['r', off, seen]);
          return seen;
        },
        write: (off, v) => {
          base.write(off, v);
          this.log.push(['w', off, v >>> 0]);
          this.onWrite(off, v >>> 0);
        },
      },
    };
  }

  /** Makes a write visible to reads only from the second read on (the hardware takes a moment). */
  private later(off: number, now: number, val: number): void {
    this.set(off, now);
    this.pending.set(off, { reads: 1, val: val >>> 0 });
  }

  private isQueueCtl(off: number): boolean {
    return ((off >= 0xc000 && off < 0xc400) || (off >= 0xe000 && off < 0xe400)) && (off & 0x3f) === 0x28;
  }

  private setQctl(off: number, v: number): void {
    this.qctl.set(off, v >>> 0);
    this.set(off, v);
  }

  private linkTick(): void {
    if (this.linkUpAt !== null && Date.now() >= this.linkUpAt) {
      this.linkUpAt = null;
      this.set(R.STATUS, this.get(R.STATUS) | R.STATUS_LU | R.STATUS_FD | (2 << R.STATUS_SPEED_SHIFT));
    }
  }

  private onRead(off: number, v: number): number {
    const p = this.pending.get(off);
    if (p) {
      if (p.reads-- > 0) return v;
      this.pending.delete(off);
      if (this.isQueueCtl(off)) this.setQctl(off, p.val);
      else this.set(off, p.val);
      return p.val;
    }
    switch (off) {
      case R.STATUS: {
        this.linkTick();
        const s = this.get(R.STATUS) & ~R.STATUS_GIO_MASTER_ENABLE;
        return (this.get(R.CTRL) & R.CTRL_GIO_MASTER_DISABLE) !== 0 ? s : s | R.STATUS_GIO_MASTER_ENABLE;
      }
      case R.SWSM:
        this.set(R.SWSM, v | R.SWSM_SMBI); // reading SMBI clear takes it
        return v;
      default:
        return v;
    }
  }

  private onWrite(off: number, v: number): void {
    if (off === R.CTRL && (v & R.CTRL_RST) !== 0) {
      this.macResets++;
      this.powerOn(); // RST self-clears with the rest of the register file
      return;
    }
    if (off === R.MDIC) {
      this.later(R.MDIC, v & ~R.MDIC_READY, this.mdio(v) | R.MDIC_READY);
      return;
    }
    if (off === R.EERD && (v & R.EERD_START) !== 0) {
      const w = (v >>> R.EERD_ADDR_SHIFT) & 0x3fff;
      this.set(R.EERD, (R.EERD_DONE | (w << R.EERD_ADDR_SHIFT) | (this.nvm(w) << R.EERD_DATA_SHIFT)) >>> 0);
      return;
    }
    if (this.isQueueCtl(off)) {
      // the enable bit changes a moment after the write: the settled one reads back until then
      const settled = this.qctl.get(off) ?? 0;
      this.pending.delete(off);
      if (((settled ^ v) & R.XDCTL_ENABLE) !== 0) this.later(off, (v & ~R.XDCTL_ENABLE) | (settled & R.XDCTL_ENABLE), v);
      else this.setQctl(off, v);
    }
  }

  /** One MDIC command: the value MDIC holds when it completes (without READY). */
  private mdio(v: number): number {
    const reg = (v >>> R.MDIC_REG_SHIFT) & 0x1f;
    const addr = (v >>> R.MDIC_PHY_SHIFT) & 0x1f;
    if (addr !== R.PHY_ADDR || this.linkMode !== 0) return v | R.MDIC_ERROR;
    const op = v & (3 << 26);
    if (op === R.MDIC_OP_READ) return ((v & ~R.MDIC_DATA_MASK) | this.phy[reg]) >>> 0;
    if (op === R.MDIC_OP_WRITE) {
      const data = v & R.MDIC_DATA_MASK;
      if (reg === R.PHY_BMCR) {
        this.phy[reg] = data & ~(R.BMCR_RESTART_AN | BMCR_RESET);
        if ((data & R.BMCR_RESTART_AN) !== 0 && (data & R.BMCR_AN_ENABLE) !== 0) {
          this.set(R.STATUS, this.get(R.STATUS) & ~(R.STATUS_LU | R.STATUS_SPEED_MASK));
          this.linkUpAt = Date.now() + this.autonegMs;
        }
      } else {
        this.phy[reg] = data;
      }
      return v;
    }
    return v | R.MDIC_ERROR;
  }

  /** Completes a pending autonegotiation now (tests that do not want to wait). */
  linkUpNow(): void {
    if (this.linkUpAt !== null) this.linkUpAt = 0;
    this.linkTick();
  }

  linkDown(): void {
    this.linkUpAt = null;
    this.set(R.STATUS, this.get(R.STATUS) & ~R.STATUS_LU);
  }

  // ---- receive ------------------------------------------------------------------------------------------------
  /** The RSS key the driver programmed (RSSRK, byte 0 in the low byte of RSSRK0). */
  rssKey(): number[] {
    const k: number[] = [];
    for (let i = 0; i < 10; i++) {
      const v = this.get(R.RSSRK(i));
      k.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
    }
    return k;
  }

  /** RETA entry i as the driver programmed it. */
  retaEntry(i: number): number {
    return (this.get(R.RETA(i >> 2)) >>> ((i & 3) * 8)) & 0xff;
  }

  private rxAccepts(dst: Uint8Array): boolean {
    const rctl = this.get(R.RCTL);
    if (dst.every((b) => b === 0xff)) return (rctl & R.RCTL_BAM) !== 0;
    if (dst[0] & 1) return (rctl & R.RCTL_MPE) !== 0;
    if (rctl & R.RCTL_UPE) return true;
    for (let i = 0; i < 24; i++) {
      const hi = this.get(R.RAH(i));
      if ((hi & R.RAH_AV) === 0) continue;
      const lo = this.get(R.RAL(i));
      const a = [lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24, hi & 0xff, (hi >>> 8) & 0xff];
      if (a.every((b, j) => b === dst[j])) return true;
    }
    return false;
  }

  /** RSS type and hash of a parsed frame, choosing the type as QEMU's igb does (it ignores TcpIPv6 and UdpIPv6Ex). */
  private rss(p: Parsed): { type: number; hash: number } {
    const mrqc = this.get(R.MRQC);
    if ((mrqc & R.MRQC_ENABLE_MASK) !== R.MRQC_ENABLE_RSS || (this.get(R.RXCSUM) & R.RXCSUM_PCSD) === 0) return { type: 0, hash: 0 };
    let type = 0;
    let ports = false;
    if (p.v4) {
      if (p.proto === 6 && (mrqc & R.MRQC_TCP_IPV4)) { type = R.RSS_TYPE_TCP_IPV4; ports = true; }
      else if (p.proto === 17 && (mrqc & R.MRQC_UDP_IPV4)) { type = R.RSS_TYPE_UDP_IPV4; ports = true; }
      else if (mrqc & R.MRQC_IPV4) type = R.RSS_TYPE_IPV4;
    } else if (p.v6) {
      if (p.proto === 6 && (mrqc & R.MRQC_TCP_IPV6_EX)) { type = R.RSS_TYPE_TCP_IPV6; ports = true; }
      else if (p.proto === 17 && (mrqc & R.MRQC_UDP_IPV6)) { type = R.RSS_TYPE_UDP_IPV6; ports = true; }
      else if (mrqc & R.MRQC_IPV6_EX) type = R.RSS_TYPE_IPV6_EX;
      else if (mrqc & R.MRQC_IPV6) type = R.RSS_TYPE_IPV6;
    }
    if (type === 0) return { type: 0, hash: 0 };
    const input = [...p.src, ...p.dst];
    if (ports) input.push(p.sport >> 8, p.sport & 0xff, p.dport >> 8, p.dport & 0xff);
    return { type, hash: toeplitz(this.rssKey(), input) };
  }

  /**
   * A frame (without FCS) arrives from the wire. Returns where it went, or null when the receive path dropped it
   * (disabled, filtered, oversized, or no descriptors: then MPC counts it).
   */
  receive(frame: ArrayLike<number>, opts: { crcError?: boolean } = {}): Delivered | null {
    let f = Uint8Array.from(frame);
    if (!this.busMaster || (this.get(R.RCTL) & R.RCTL_EN) === 0 || (this.get(R.STATUS) & R.STATUS_LU) === 0) return null;
    const vet = this.get(R.VET) & 0xffff;
    const tagged = ((f[12] << 8) | f[13]) === vet;
    const max = (this.get(R.RCTL) & R.RCTL_LPE) !== 0 ? this.get(R.RLPML) - 4 : 1514 + (tagged ? 4 : 0);
    if (f.length > max) {
      this.add(R.ROC, 1);
      return null;
    }
    if (!this.rxAccepts(f.subarray(0, 6))) return null;
    const wire = f.length + 4;
    let status = 0;
    let vlan = 0;
    if (tagged && (this.get(R.CTRL) & R.CTRL_VME) !== 0) {
      vlan = (f[14] << 8) | f[15];
      f = Uint8Array.from([...f.subarray(0, 12), ...f.subarray(16)]);
      status |= R.RXD_STAT_VP;
    }
    const p = parse(f);
    if ((this.get(R.RCTL) & R.RCTL_SECRC) === 0) f = Uint8Array.from([...f, 0, 0, 0, 0]); // the FCS stays
    const rxcsum = this.get(R.RXCSUM);
    if (p.v4 && (rxcsum & R.RXCSUM_IPOFLD)) status |= R.RXD_STAT_IPCS | (p.ipOk ? 0 : R.RXD_ERR_IPE);
    if ((p.proto === 6 || p.proto === 17) && (rxcsum & R.RXCSUM_TUOFLD)) {
      status |= R.RXD_STAT_L4I | (p.proto === 17 ? R.RXD_STAT_UDPCS : 0) | (p.l4Ok ? 0 : R.RXD_ERR_L4E);
    }
    if (opts.crcError) status |= R.RXD_ERR_CE;
    const { type, hash } = this.rss(p);
    const queue = type !== 0 ? this.retaEntry(hash & 0x7f) & 0xf : 0;
    let pktInfo = type;
    if (p.v4) pktInfo |= R.PKT_IPV4;
    if (p.v6) pktInfo |= R.PKT_IPV6;
    if (p.proto === 6) pktInfo |= R.PKT_TCP;
    else if (p.proto === 17) pktInfo |= R.PKT_UDP;
    if (!this.layout.rxEnabled(this, queue)) return null; // a disabled queue drops silently
    if (!this.deliver(f, { status: status >>> 0, w0: pktInfo, hash, vlan }, queue)) return null;
    if (opts.crcError) {
      this.add(R.CRCERRS, 1);
    } else {
      this.add(R.GPRC, 1);
      this.add(R.GORCL, wire);
      if (frame[0] & 1) this.add(frame[0] === 0xff && frame[5] === 0xff ? R.BPRC : R.MPRC, 1);
    }
    this.add(R.TPR, 1);
    this.add(R.TORL, wire);
    return { queue, rssType: type, hash };
  }

  // ---- transmit -----------------------------------------------------------------------------------------------
  /** Sends what TX queue q holds, inserting the checksums its descriptors ask for (POPTS). */
  override stepTx(q = 0, max = 1 << 30): SentFrame[] {
    const out = super.stepTx(q, max);
    for (const f of out) {
      const p = parse(f.bytes);
      if ((f.popts & 1) !== 0 && p.v4) {
        const b = f.bytes;
        b[p.l3 + 10] = 0;
        b[p.l3 + 11] = 0;
        const c = ~onesSum(b, p.l3, p.l3 + p.ihl) & 0xffff;
        b[p.l3 + 10] = c >> 8;
        b[p.l3 + 11] = c & 0xff;
      }
      if ((f.popts & 2) !== 0 && (p.proto === 6 || p.proto === 17)) {
        // the hardware sums the L4 header and payload onto what the field holds: the pseudo-header sum
        const b = f.bytes;
        const at = p.l4 + (p.proto === 6 ? 16 : 6);
        const c = ~onesSum(b, p.l4, p.l4 + p.l4Len) & 0xffff;
        b[at] = c >> 8;
        b[at + 1] = c & 0xff;
      }
    }
    return out;
  }
}

export function spyDoorbells(): ReturnType<typeof spy> {
  return spy(BAR_LEN);
}

// ---- packets --------------------------------------------------------------------------------------------------
interface Parsed {
  v4: boolean;
  v6: boolean;
  l3: number;
  ihl: number;
  proto: number;
  src: number[];
  dst: number[];
  l4: number;
  l4Len: number;
  sport: number;
  dport: number;
  ipOk: boolean;
  l4Ok: boolean;
}

/** One's-complement sum of bytes [from, to) as 16-bit big-endian words, plus `init`; folded to 16 bits. */
export function onesSum(b: ArrayLike<number>, from: number, to: number, init = 0): number {
  let s = init;
  for (let i = from; i < to; i += 2) s += (b[i] << 8) | (i + 1 < to ? b[i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function pseudoSum(p: Parsed, len: number): number {
  let s = 0;
  for (let i = 0; i < p.src.length; i += 2) s += (p.src[i] << 8) | p.src[i + 1];
  for (let i = 0; i < p.dst.length; i += 2) s += (p.dst[i] << 8) | p.dst[i + 1];
  s += p.proto + (len >>> 16) + (len & 0xffff);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** Ethernet (one 802.1Q tag at most) -> IPv4 / IPv6 (no extension headers) -> TCP / UDP, with checksum verdicts. */
export function parse(f: Uint8Array): Parsed {
  const p: Parsed = { v4: false, v6: false, l3: 14, ihl: 0, proto: -1, src: [], dst: [], l4: 0, l4Len: 0, sport: 0, dport: 0, ipOk: true, l4Ok: true };
  let et = (f[12] << 8) | f[13];
  if (et === 0x8100) {
    et = (f[16] << 8) | f[17];
    p.l3 = 18;
  }
  const o = p.l3;
  if (et === 0x0800) {
    p.v4 = true;
    p.ihl = (f[o] & 0xf) * 4;
    p.proto = f[o + 9];
    p.src = [...f.subarray(o + 12, o + 16)];
    p.dst = [...f.subarray(o + 16, o + 20)];
    p.ipOk = onesSum(f, o, o + p.ihl) === 0xffff;
    p.l4 = o + p.ihl;
    p.l4Len = ((f[o + 2] << 8) | f[o + 3]) - p.ihl;
  } else if (et === 0x86dd) {
    p.v6 = true;
    p.ihl = 40;
    p.proto = f[o + 6];
    p.src = [...f.subarray(o + 8, o + 24)];
    p.dst = [...f.subarray(o + 24, o + 40)];
    p.l4 = o + 40;
    p.l4Len = (f[o + 4] << 8) | f[o + 5];
  } else {
    return p;
  }
  if (p.proto === 6 || p.proto === 17) {
    p.sport = (f[p.l4] << 8) | f[p.l4 + 1];
    p.dport = (f[p.l4 + 2] << 8) | f[p.l4 + 3];
    const zeroUdp = p.proto === 17 && p.v4 && f[p.l4 + 6] === 0 && f[p.l4 + 7] === 0;
    p.l4Ok = zeroUdp || onesSum(f, p.l4, p.l4 + p.l4Len, pseudoSum(p, p.l4Len)) === 0xffff;
  }
  return p;
}

export interface FlowSpec {
  v6?: boolean;
  proto: 'tcp' | 'udp';
  src: number[];
  dst: number[];
  sport: number;
  dport: number;
  payload?: number;
  dstMac?: number[];
  /** 802.1Q tag to put after the MAC addresses */
  vlan?: number;
}

/** An Ethernet frame of an IPv4/IPv6 TCP/UDP flow with correct checksums. */
export function flowFrame(s: FlowSpec): Uint8Array {
  const l4h = s.proto === 'tcp' ? 20 : 8;
  const pay = s.payload ?? 18;
  const l3h = s.v6 ? 40 : 20;
  const f = new Uint8Array(14 + l3h + l4h + pay);
  f.set(s.dstMac ?? [0x52, 0x54, 0x00, 0x12, 0x34, 0x56], 0);
  f.set([0x02, 0, 0, 0, 0, 0x01], 6);
  const proto = s.proto === 'tcp' ? 6 : 17;
  if (s.v6) {
    f.set([0x86, 0xdd, 0x60, 0, 0, 0, (l4h + pay) >> 8, (l4h + pay) & 0xff, proto, 64], 12);
    f.set(s.src, 22);
    f.set(s.dst, 38);
  } else {
    const tot = l3h + l4h + pay;
    f.set([0x08, 0x00, 0x45, 0, tot >> 8, tot & 0xff, 0x12, 0x34, 0x40, 0, 64, proto, 0, 0], 12);
    f.set(s.src, 26);
    f.set(s.dst, 30);
    const c = ~onesSum(f, 14, 34) & 0xffff;
    f[24] = c >> 8;
    f[25] = c & 0xff;
  }
  const l4 = 14 + l3h;
  f.set([s.sport >> 8, s.sport & 0xff, s.dport >> 8, s.dport & 0xff], l4);
  if (s.proto === 'tcp') f.set([0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff], l4 + 4);
  else f.set([(l4h + pay) >> 8, (l4h + pay) & 0xff], l4 + 4);
  for (let i = 0; i < pay; i++) f[l4 + l4h + i] = (i * 13 + s.sport) & 0xff;
  const p = parse(f);
  const at = l4 + (s.proto === 'tcp' ? 16 : 6);
  const c = ~onesSum(f, l4, l4 + l4h + pay, pseudoSum(p, l4h + pay)) & 0xffff;
  f[at] = c >> 8;
  f[at + 1] = c & 0xff;
  if (s.vlan === undefined) return f;
  return Uint8Array.from([...f.subarray(0, 12), 0x81, 0x00, s.vlan >> 8, s.vlan & 0xff, ...f.subarray(12)]);
}

/** The pseudo-header sum of a frame's L4 segment (what software leaves in the checksum field for TXSM). */
export function pseudoHeaderSum(f: Uint8Array): number {
  const p = parse(f);
  return pseudoSum(p, p.l4Len);
}
