// A simulated Intel 82599 (and, by device ID, X540 / X550) for host tests of net_ixgbe.
//
// BAR 0 is a memzone in EAL memory, so the driver's control half and its data plane view it like a mapped BAR. The
// model sees every register access: it replaces Atomics.load / Atomics.store (which is all the driver uses on BAR
// views: common/regs.ts and the rxq/txq doorbells) by versions that hand accesses to a simulated BAR (recognised by
// its length and a tag word at its end) to the model, and pass everything else through unchanged.
//
// What is modelled:
// - reset: CTRL.RST / LNK_RST clear themselves 1 ms after the write; EEC.ARD and RDRXCTL.DMAIDONE come 2 and 3 ms
//   after; every register returns to its reset value; the link drops and comes back (linkDelayMs);
// - link: LINKS up with the configured speed linkDelayMs after a reset or (82599) an AUTOC.AN_RESTART, which
//   clears itself; setLink() forces it;
// - queue enables (RXDCTL / TXDCTL.ENABLE) take one read to show a change, so a driver must poll them;
//   SECRXSTAT.SECRX_RDY likewise after SECRXCTRL.RX_DIS; STATUS.GIO clears with CTRL.GIO_DIS;
// - statistics: clear on read (a 36-bit pair clears when its high half is read), counting as the hardware does
//   (32-bit registers wrap), preload() to start a counter anywhere (e.g. near 2^32);
// - RX DMA (receive()): L2 filter (RAL/RAH, FCTRL.UPE/MPE/BAM), size limits (MAXFRS with HLREG0.JUMBOEN), RSS
//   (Toeplitz from common/rss.ts over the key in RSSRK, type by the MRQC fields and the 82599's priorities, queue
//   from RETA), frames written into the buffers the driver armed between RDH and RDT across as many descriptors
//   as SRRCTL.BSIZEPACKET needs, advanced write-back (pkt_info with RSS and packet type, RSS hash, status and
//   errors with IPv4 / TCP / UDP checksum verdicts, length, VLAN, tag stripped with RXDCTL.VME), drops counted in
//   MPC (or QPRDC with SRRCTL.DROP_EN) when the ring is full;
// - TX DMA: descriptors between TDH and TDT consumed when TDT is written (autoTx) or by stepTx(): context
//   descriptors remembered, data descriptors gathered into frames, IXSM / TXSM computed into the frame (from the
//   fields as software left them: IP checksum 0, L4 checksum seeded with the pseudo-header sum), VLAN inserted with
//   VLE, short frames padded (HLREG0.TXPADEN), DD written back where RS is set, frames recorded in `sent`.
//
// Preconditions checked (each violation is recorded in `violations`, with the datasheet section): see RULES.
import { setObservableDoorbells } from '../../src/pmd/intel/common/layout.js';
import { performance } from 'node:perf_hooks';
import { mem, memzoneReserve, memzoneFree, CTL } from '../../src/eal/memory.js';
import type { PciDeviceAccess } from '../../src/pmd/pci/access.js';
import { toeplitz } from '../../src/pmd/intel/common/rss.js';
import * as R from '../../src/pmd/intel/ixgbe/regs.js';

export const BAR_LEN = 512 * 1024;
const TAG_OFF = BAR_LEN - 4;
const NQ = 64;
const TWO32 = 4294967296;

/** The preconditions the model checks, by rule id: where each comes from (82599 datasheet unless said). */
export const RULES = {
  'reset-unmasked': '4.6.3.1: interrupts are masked (EIMC) before a global reset',
  'unmasked-after-reset': '4.6.3.1: interrupts are masked again after the global reset, before the initialisation goes on',
  'access-during-reset': '4.6.3 / 4.6.3.2: after CTRL.RST only CTRL, STATUS, EEC, RDRXCTL, EICR and EIMC are touched until EEC.ARD (EEPROM auto-read) and RDRXCTL.DMAIDONE have been read back set',
  'rx-tail-before-enable': '4.6.7 step 9: RDT is bumped only after RXDCTL.ENABLE reads back 1 (and never on a disabled queue)',
  'tx-tail-before-enable': '4.6.8 step 9: TDT is bumped only after TXDCTL.ENABLE reads back 1 (and never on a disabled queue)',
  'ring-write-while-enabled': '4.6.7.1 / 4.6.8.1: base, length, head and SRRCTL of a queue are written only while it is disabled (ENABLE read back 0)',
  'ring-geometry': '7.1.9 / 7.2.3.3: RDLEN / TDLEN a non-zero multiple of 128 bytes, ring base 128-byte aligned, when the queue is enabled',
  'tail-out-of-range': '7.1.9 / 7.2.3.3: RDT / TDT index a descriptor of the ring',
  'dma-outside-memory': 'VFIO / IOMMU: descriptor rings and buffers lie in memory mapped for DMA (EAL memory); elsewhere the IOMMU faults',
  'rxen-without-secrx-halt': '4.6.7 step 11: RXCTRL.RXEN is changed only with SECRXCTRL.RX_DIS set and SECRXSTAT.SECRX_RDY seen',
  'crc-strip-mismatch': '4.6.7 (RDRXCTL): RDRXCTL.CRCSTRIP is set like HLREG0.RXCRCSTRP when the receiver is enabled',
  'rss-disabled-queue': '7.1.2.8 / 4.6.7 step 8: with RSS on, every RETA entry names an enabled queue (packets directed to a disabled queue are dropped)',
  'txq-before-te': '4.6.8 steps 8-9: DMATXCTL.TE is set before any TXDCTL.ENABLE',
  'mtqc-without-arbdis': '4.6.11.3.4 (MTQC): MTQC is written only with RTTDCS.ARBDIS set',
  'rx-desc-dd-set': '7.1.6.1: a read-format RX descriptor handed to the NIC has bit 0 of the header address (DD) clear',
  'tx-desc-dd-set': '7.2.3.2.4: TX descriptors handed to the NIC have STA.DD clear',
  'tx-bad-desc': '7.2.3.2.3 / 7.2.3.2.4: advanced TX descriptors (DEXT) of type context (0010) or data (0011)',
  'tx-paylen': '7.2.3.2.4: without TSE, PAYLEN is the byte count of the packet\'s data descriptors',
  'tx-offload-without-context': '7.2.3.2.4: IXSM / TXSM / VLE need CC and a context descriptor written earlier on the queue',
  'rx-buffer-config': '8.2.3.8.7 (SRRCTL): an enabled queue has BSIZEPACKET of 1-16 KiB and a descriptor type the write-back uses (advanced one buffer)',
  'dma-without-bus-master': 'PCI: RX / TX DMA is enabled only with bus mastering on',
  'access-after-release': 'no register access after the device was released (its BAR is unmapped)',
} as const;
export type Rule = keyof typeof RULES;

export interface Violation {
  rule: Rule;
  section: string;
  detail: string;
}

export interface RxResult {
  ok: boolean;
  /** the queue RSS (or queue 0) chose */
  queue: number;
  /** the RSS hash written back (0 when none) */
  hash: number;
  /** pkt_info RSS type */
  rssType: number;
  reason?: string;
}

export interface RxOptions {
  /** the frame arrives with a bad FCS: counted in CRCERRS and dropped (unless FCTRL.SBP) */
  crcError?: boolean;
  /** report a MAC error (RXE) in the write-back, as with FCTRL.SBP and a bad frame */
  rxe?: boolean;
}

export type SimFamily = '82599' | 'x540' | 'x550';

export function familyOf(deviceId: number): SimFamily {
  if (deviceId === 0x1528 || deviceId === 0x1560) return 'x540';
  if (deviceId === 0x1563 || deviceId === 0x15d1) return 'x550';
  return '82599';
}

// ---- the Atomics hook --------------------------------------------------------------------------------------------
type LoadFn = typeof Atomics.load;
type StoreFn = typeof Atomics.store;
const live = new Map<number, IxgbeSim>();
let origLoad: LoadFn | null = null;
let origStore: StoreFn | null = null;
let hookLoad: LoadFn | null = null;
let hookStore: StoreFn | null = null;
let nextTag = 0x1b6e5000;

function simOf(arr: unknown): IxgbeSim | undefined {
  const a = arr as Int32Array;
  if (a.byteLength !== BAR_LEN || a.BYTES_PER_ELEMENT !== 4 || a.byteOffset !== 0) return undefined;
  return live.get(origLoad!(a, TAG_OFF >> 2) >>> 0);
}

function install(): void {
  if (origLoad) return;
  const L = Atomics.load;
  const S = Atomics.store;
  origLoad = L;
  origStore = S;
  hookLoad = function (arr: Int32Array, idx: number): number {
    const sim = simOf(arr);
    if (sim === undefined) return L(arr, idx);
    const v = sim.mmioRead(idx * 4);
    return arr instanceof Int32Array ? v | 0 : v >>> 0;
  } as LoadFn;
  hookStore = function (arr: Int32Array, idx: number, v: number): number {
    const sim = simOf(arr);
    if (sim === undefined) return S(arr, idx, v);
    sim.mmioWrite(idx * 4, Number(v) >>> 0);
    return v;
  } as StoreFn;
  (Atomics as { load: LoadFn }).load = hookLoad;
  (Atomics as { store: StoreFn }).store = hookStore;
}

function uninstall(): void {
  if (!origLoad || live.size > 0) return;
  if (Atomics.load === hookLoad) (Atomics as { load: LoadFn }).load = origLoad;
  if (Atomics.store === hookStore) (Atomics as { store: StoreFn }).store = origStore!;
  origLoad = origStore = hookLoad = hookStore = null;
}

// ---- checksums ---------------------------------------------------------------------------------------------------
/** One's complement sum of bytes [from, to) (big-endian 16-bit words), not folded to 16 bits. */
function sum16(b: Uint8Array, from: number, to: number, acc = 0): number {
  let i = from;
  for (; i + 1 < to; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (i < to) acc += b[i] << 8;
  return acc;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

interface Parsed {
  tagged: boolean;
  tci: number;
  l3: 'ipv4' | 'ipv6' | null;
  l3ext: boolean;
  ipOff: number;
  l4: 'tcp' | 'udp' | 'sctp' | null;
  l4Off: number;
  l4End: number;
  frag: boolean;
  ipBad: boolean;
  /** undefined: not checked */
  l4Bad: boolean | undefined;
}

function pseudoSum(b: Uint8Array, p: Parsed, proto: number, len: number): number {
  if (p.l3 === 'ipv4') return sum16(b, p.ipOff + 12, p.ipOff + 20) + proto + len;
  return sum16(b, p.ipOff + 8, p.ipOff + 40) + proto + len;
}

function parse(b: Uint8Array): Parsed {
  const p: Parsed = { tagged: false, tci: 0, l3: null, l3ext: false, ipOff: 0, l4: null, l4Off: 0, l4End: 0, frag: false, ipBad: false, l4Bad: undefined };
  let et = (b[12] << 8) | b[13];
  let off = 14;
  if (et === 0x8100 && b.length >= 18) {
    p.tagged = true;
    p.tci = (b[14] << 8) | b[15];
    et = (b[16] << 8) | b[17];
    off = 18;
  }
  p.ipOff = off;
  let proto = -1;
  if (et === 0x0800 && b.length >= off + 20) {
    p.l3 = 'ipv4';
    const ihl = (b[off] & 0xf) * 4;
    p.l3ext = ihl > 20;
    p.ipBad = fold(sum16(b, off, off + ihl)) !== 0xffff;
    const fl = (b[off + 6] << 8) | b[off + 7];
    p.frag = (fl & 0x3fff) !== 0;
    proto = b[off + 9];
    p.l4Off = off + ihl;
    p.l4End = Math.min(b.length, off + ((b[off + 2] << 8) | b[off + 3]));
  } else if (et === 0x86dd && b.length >= off + 40) {
    p.l3 = 'ipv6';
    let nh = b[off + 6];
    let at = off + 40;
    p.l4End = Math.min(b.length, at + ((b[off + 4] << 8) | b[off + 5]));
    while ((nh === 0 || nh === 43 || nh === 60 || nh === 44) && at + 8 <= b.length) {
      p.l3ext = true;
      if (nh === 44) p.frag = true;
      const len = nh === 44 ? 8 : (b[at + 1] + 1) * 8;
      nh = b[at];
      at += len;
    }
    proto = nh;
    p.l4Off = at;
  }
  if (p.l3 !== null && !p.frag) {
    if (proto === 6) p.l4 = 'tcp';
    else if (proto === 17) p.l4 = 'udp';
    else if (proto === 132) p.l4 = 'sctp';
    if ((p.l4 === 'tcp' || p.l4 === 'udp') && p.l4End > p.l4Off) {
      const len = p.l4End - p.l4Off;
      const ck = p.l4 === 'udp' ? (b[p.l4Off + 6] << 8) | b[p.l4Off + 7] : -1;
      if (!(p.l4 === 'udp' && ck === 0 && p.l3 === 'ipv4')) {
        p.l4Bad = fold(sum16(b, p.l4Off, p.l4End, pseudoSum(b, p, proto, len))) !== 0xffff;
      }
    }
  }
  return p;
}

// ---- the model ---------------------------------------------------------------------------------------------------
interface QState {
  /** the NIC treats the queue as enabled (from the ENABLE write until the driver has read ENABLE back as 0) */
  active: boolean;
  /** the driver has read ENABLE = 1 since the queue was last enabled */
  seen: boolean;
  /** reads left before a change of ENABLE shows */
  pend: number;
}

interface TxContext { w0: number; w2: number; w3: number }

const RX_REG = (off: number): { q: number; f: number } | null => {
  if (off >= 0x01000 && off < 0x02000) return { q: (off - 0x01000) >> 6, f: (off - 0x01000) & 0x3f };
  if (off >= 0x0d000 && off < 0x0e000) return { q: 64 + ((off - 0x0d000) >> 6), f: (off - 0x0d000) & 0x3f };
  return null;
};
const TX_REG = (off: number): { q: number; f: number } | null =>
  (off >= 0x06000 && off < 0x08000 ? { q: (off - 0x06000) >> 6, f: (off - 0x06000) & 0x3f } : null);

/** Clear-on-read counters: 32-bit ones, and the 36-bit low/high pairs (low -> high). */
const STAT32 = new Set<number>([
  R.CRCERRS, R.ILLERRC, R.ERRBC, R.MSPDC, R.MLFC, R.MRFC, R.RLEC, R.LXONTXC, R.LXOFFTXC, R.LXONRXCNT, R.LXOFFRXCNT,
  R.PRC64, R.PRC127, R.PRC255, R.PRC511, R.PRC1023, R.PRC1522, R.GPRC, R.BPRC, R.MPRC, R.GPTC, R.RUC, R.RFC, R.ROC,
  R.RJC, R.MNGPRC, R.MNGPDC, R.MNGPTC, R.TPR, R.TPT, R.PTC64, R.PTC127, R.PTC255, R.PTC511, R.PTC1023, R.PTC1522,
  R.MPTC, R.BPTC, R.XEC,
  ...Array.from({ length: 8 }, (_, i) => R.MPC(i)),
  ...Array.from({ length: 16 }, (_, i) => R.QPRC(i)), ...Array.from({ length: 16 }, (_, i) => R.QPRDC(i)),
  ...Array.from({ length: 16 }, (_, i) => R.QPTC(i)),
]);
const WIDE = new Map<number, number>([
  [R.GORCL, R.GORCH], [R.GOTCL, R.GOTCH], [R.TORL, R.TORH],
  ...Array.from({ length: 16 }, (_, i): [number, number] => [R.QBRC_L(i), R.QBRC_H(i)]),
  ...Array.from({ length: 16 }, (_, i): [number, number] => [R.QBTC_L(i), R.QBTC_H(i)]),
]);
const WIDE_HIGH = new Map<number, number>([...WIDE.entries()].map(([l, h]) => [h, l]));

/** Registers a driver may touch while a reset is in progress (polling and interrupt masking). */
const DURING_RESET = new Set<number>([R.CTRL, R.STATUS, R.EEC, R.RDRXCTL, R.EICR, R.EIMC, R.EIMC_EX(0), R.EIMC_EX(1), R.EEMNGCTL]);

function canon(off: number): number {
  if (off >= 0x02100 && off < 0x02140) return R.SRRCTL((off - 0x02100) >> 2);
  if (off >= 0x02200 && off < 0x02240) return R.DCA_RXCTRL((off - 0x02200) >> 2);
  if (off >= 0x0eb00 && off < 0x0eb80) return R.RETA((off - 0x0eb00) >> 2);
  if (off >= 0x0eb80 && off < 0x0eba8) return R.RSSRK((off - 0x0eb80) >> 2);
  if (off === R.MRQC_ALIAS) return R.MRQC;
  return off;
}

export interface SimOptions {
  /** PCI device ID (default 0x10fb, 82599ES SFP+); X540 / X550 IDs select those families */
  deviceId?: number;
  mac?: number[];
  name?: string;
  /** Mb/s once the link is up */
  linkSpeed?: number;
  linkDelayMs?: number;
}

export class IxgbeSim {
  readonly zone: string;
  readonly off: number;
  readonly addr: bigint;
  readonly deviceId: number;
  readonly family: SimFamily;
  readonly mac: number[];
  readonly tag: number;
  busMaster = false;
  closed = false;
  /** global resets (CTRL.RST / LNK_RST writes) and function-level resets through the PCI access */
  resets = 0;
  flrs = 0;
  anRestarts = 0;
  linkSpeed: number;
  linkDelayMs: number;
  /** consume TX descriptors as soon as TDT is written (false: only in stepTx) */
  autoTx = true;
  readonly violations: Violation[] = [];
  /** frames put on the wire (no FCS), and the queue each left from */
  readonly sent: Uint8Array[] = [];
  readonly sentQueue: number[] = [];
  /** register accesses in order (capped), for order checks */
  readonly log: Array<{ w: boolean; reg: number; v: number }> = [];
  logCap = 200000;

  private linkUp = false;
  private linkUpAt = -1;
  private rstClearAt = -1;
  private ardAt = -1;
  private dmaAt = -1;
  private ardSeen = true;
  private dmaSeen = true;
  private inReset = false;
  private intrMasked = false;
  private maskedAfterReset = true;
  private secRdyPend = 0;
  private secRdySeen = false;
  private readonly rxq: QState[] = [];
  private readonly txq: QState[] = [];
  private readonly ctx: Array<Map<number, TxContext>> = [];
  /** high halves latched by reading a 36-bit pair's low half */
  private readonly latched = new Map<number, number>();

  constructor(o: SimOptions = {}) {
    setObservableDoorbells(true); // the model sees doorbells through Atomics.store
    this.deviceId = o.deviceId ?? 0x10fb;
    this.family = familyOf(this.deviceId);
    this.mac = o.mac ?? [0x52, 0x54, 0x00, 0x99, 0x00, 0x01];
    this.linkSpeed = o.linkSpeed ?? 10000;
    this.linkDelayMs = o.linkDelayMs ?? 5;
    this.zone = o.name ?? `ixgbe_sim_${nextTag.toString(16)}`;
    const z = memzoneReserve(this.zone, BAR_LEN, { align: 4096 });
    this.off = z.off;
    this.addr = z.va;
    this.tag = nextTag++;
    for (let q = 0; q < NQ; q++) {
      this.rxq.push({ active: false, seen: false, pend: 0 });
      this.txq.push({ active: false, seen: false, pend: 0 });
      this.ctx.push(new Map());
    }
    this.loadDefaults();
    // powered up and initialised by the NVM: no reset in progress, the link comes up by itself
    this.linkUpAt = performance.now() + this.linkDelayMs;
    install();
    live.set(this.tag, this);
  }

  // ---- raw access (no side effects, no checks): tests --------------------------------------------------------
  peek(reg: number): number {
    return mem().u32[(this.off + canon(reg)) >> 2];
  }

  poke(reg: number, v: number): void {
    mem().u32[(this.off + canon(reg)) >> 2] = v >>> 0;
  }

  /** Sets a counter (a 36-bit pair by its low register) to `v`, e.g. just below 2^32 to watch it wrap. */
  preload(reg: number, v: number): void {
    const hi = WIDE.get(reg);
    if (hi !== undefined) {
      this.poke(reg, v % TWO32);
      this.poke(hi, Math.floor(v / TWO32) & 0xf);
    } else this.poke(reg, v);
  }

  clearSent(): void {
    this.sent.length = 0;
    this.sentQueue.length = 0;
  }

  /** Forces the link (speed in Mb/s). */
  setLink(up: boolean, speed = this.linkSpeed): void {
    this.linkSpeed = speed;
    this.linkUp = up;
    this.linkUpAt = -1;
  }

  /** What the driver's probe gets. */
  access(bdf: string): PciDeviceAccess {
    return {
      bdf, vendorId: 0x8086, deviceId: this.deviceId, bar0: { addr: this.addr, len: BAR_LEN },
      setBusMaster: (on) => { this.busMaster = on; },
      reset: () => { this.flrs++; },
      close: () => { this.closed = true; this.busMaster = false; },
    };
  }

  release(): void {
    live.delete(this.tag);
    memzoneFree(this.zone);
    uninstall();
  }

  /** Violations of one rule (all when absent). */
  broken(rule?: Rule): Violation[] {
    return rule === undefined ? this.violations : this.violations.filter((v) => v.rule === rule);
  }

  private violate(rule: Rule, detail: string): void {
    if (this.violations.length < 1000) this.violations.push({ rule, section: RULES[rule], detail });
  }

  private g(reg: number): number {
    return mem().u32[(this.off + reg) >> 2];
  }

  private s(reg: number, v: number): void {
    mem().u32[(this.off + reg) >> 2] = v >>> 0;
  }

  private inc(reg: number, n = 1): void {
    this.s(reg, (this.g(reg) + n) % TWO32);
  }

  private add36(lo: number, n: number): void {
    const hi = WIDE.get(lo)!;
    const v = (this.g(lo) + (this.g(hi) & 0xf) * TWO32 + n) % 2 ** 36;
    this.s(lo, v % TWO32);
    this.s(hi, Math.floor(v / TWO32));
  }

  private loadDefaults(): void {
    const u8 = mem().u8;
    u8.fill(0, this.off, this.off + TAG_OFF);
    this.s(TAG_OFF, this.tag);
    const m = this.mac;
    this.s(R.RAL(0), (m[0] | (m[1] << 8) | (m[2] << 16) | (m[3] << 24)) >>> 0);
    this.s(R.RAH(0), (m[4] | (m[5] << 8) | R.RAH_AV) >>> 0);
    this.s(R.EEC, R.EEC_PRES | R.EEC_ARD);
    this.s(R.EEMNGCTL, R.EEMNGCTL_CFG_DONE0 | R.EEMNGCTL_CFG_DONE1);
    this.s(R.STATUS, R.STATUS_GIO);
    this.s(R.AUTOC, R.AUTOC_LMS_10G_SERIAL);
    this.s(R.DMATXCTL, 0x8100 << R.DMATXCTL_VT_SHIFT);
    this.s(R.VLNCTRL, 0x8100);
    this.s(R.MAXFRS, 1518 << R.MAXFRS_MFS_SHIFT);
    this.s(R.HLREG0, R.HLREG0_TXCRCEN | R.HLREG0_RXCRCSTRP | R.HLREG0_TXPADEN);
    this.s(R.RDRXCTL, (0x8 << 17) | R.RDRXCTL_DMAIDONE);
    this.s(R.RXPBSIZE(0), 512 << 10);
    this.s(R.TXPBSIZE(0), 160 << 10);
    for (let q = 0; q < NQ; q++) {
      this.s(R.SRRCTL(q), 0x402);
      this.s(R.DCA_RXCTRL(q), R.DCA_RXCTRL_BIT12);
      this.rxq[q] = { active: false, seen: false, pend: 0 };
      this.txq[q] = { active: false, seen: false, pend: 0 };
      this.ctx[q].clear();
    }
    this.latched.clear();
    this.secRdyPend = 0;
    this.secRdySeen = false;
  }

  /** Global reset: registers back to their reset values, the NVM auto-read and DMA init take a few ms. */
  private doReset(ctrl: number): void {
    if (!this.intrMasked) this.violate('reset-unmasked', `CTRL = 0x${ctrl.toString(16)} written with interrupts not masked`);
    this.resets++;
    this.loadDefaults();
    const t = performance.now();
    this.s(R.CTRL, ctrl & R.CTRL_RST_MASK);
    this.s(R.EEC, R.EEC_PRES);
    this.s(R.RDRXCTL, 0x8 << 17);
    this.rstClearAt = t + 1;
    this.ardAt = t + 2;
    this.dmaAt = t + 3;
    this.inReset = true;
    this.ardSeen = false;
    this.dmaSeen = false;
    this.maskedAfterReset = false;
    this.linkUp = false;
    this.linkUpAt = t + 3 + this.linkDelayMs;
  }

  private tick(): void {
    const t = performance.now();
    if (this.rstClearAt >= 0 && t >= this.rstClearAt) {
      this.s(R.CTRL, this.g(R.CTRL) & ~R.CTRL_RST_MASK);
      this.rstClearAt = -1;
    }
    if (this.ardAt >= 0 && t >= this.ardAt) {
      this.s(R.EEC, this.g(R.EEC) | R.EEC_ARD);
      this.ardAt = -1;
    }
    if (this.dmaAt >= 0 && t >= this.dmaAt) {
      this.s(R.RDRXCTL, this.g(R.RDRXCTL) | R.RDRXCTL_DMAIDONE);
      this.dmaAt = -1;
    }
    if (this.linkUpAt >= 0 && t >= this.linkUpAt) {
      this.linkUp = true;
      this.linkUpAt = -1;
    }
  }

  private logAccess(w: boolean, reg: number, v: number): void {
    if (this.log.length < this.logCap) this.log.push({ w, reg, v });
  }

  private checkReset(reg: number, what: string): void {
    if (!this.inReset) return;
    if (this.ardSeen && this.dmaSeen) {
      this.inReset = false;
      return;
    }
    if (!DURING_RESET.has(reg)) {
      this.violate('access-during-reset', `${what} 0x${reg.toString(16)} before EEC.ARD (${this.ardSeen ? 'seen' : 'not seen'}) ` +
        `and RDRXCTL.DMAIDONE (${this.dmaSeen ? 'seen' : 'not seen'}) were read back set`);
    }
  }

  // ---- register reads --------------------------------------------------------------------------------------------
  mmioRead(rawOff: number): number {
    const reg = canon(rawOff);
    if (this.closed) this.violate('access-after-release', `read of 0x${reg.toString(16)}`);
    this.tick();
    this.checkReset(reg, 'read of');
    const v = this.read(reg);
    this.logAccess(false, reg, v);
    return v >>> 0;
  }

  private read(reg: number): number {
    let v = this.g(reg);
    if (STAT32.has(reg)) {
      this.s(reg, 0);
      return v;
    }
    if (WIDE.has(reg)) {
      this.latched.set(reg, this.g(WIDE.get(reg)!));
      return v;
    }
    const lo = WIDE_HIGH.get(reg);
    if (lo !== undefined) {
      const hi = this.latched.get(lo) ?? v;
      this.latched.delete(lo);
      this.s(lo, 0);
      this.s(reg, 0);
      return hi;
    }
    switch (reg) {
      case R.EEC:
        if (v & R.EEC_ARD) this.ardSeen = true;
        return v;
      case R.RDRXCTL:
        if (v & R.RDRXCTL_DMAIDONE) this.dmaSeen = true;
        return v;
      case R.STATUS:
        return (v & ~R.STATUS_GIO) | ((this.g(R.CTRL) & R.CTRL_GIO_DIS) !== 0 ? 0 : R.STATUS_GIO);
      case R.LINKS:
        return this.links();
      case R.SECRXSTAT:
        if ((this.g(R.SECRXCTRL) & R.SECRXCTRL_RX_DIS) === 0) return 0;
        if (this.secRdyPend > 0) {
          this.secRdyPend--;
          return 0;
        }
        this.secRdySeen = true;
        return R.SECRXSTAT_SECRX_RDY;
      default:
    }
    const rx = RX_REG(reg);
    if (rx && rx.f === 0x28 && rx.q < NQ) return this.readCtl(this.rxq[rx.q], v, R.RXDCTL_ENABLE);
    const tx = TX_REG(reg);
    if (tx && tx.f === 0x28 && tx.q < NQ) return this.readCtl(this.txq[tx.q], v, R.TXDCTL_ENABLE);
    return v;
  }

  /** RXDCTL / TXDCTL: a change of ENABLE shows one read late. */
  private readCtl(st: QState, v: number, EN: number): number {
    if (st.pend > 0) {
      st.pend--;
      return (v & EN) !== 0 ? v & ~EN : v | EN;
    }
    if ((v & EN) !== 0) st.seen = true;
    else st.active = false;
    return v;
  }

  private links(): number {
    if (!this.linkUp) return 0;
    let sp: number;
    switch (this.linkSpeed) {
      case 100: sp = R.LINKS_SPEED_100; break;
      case 1000: sp = R.LINKS_SPEED_1G; break;
      case 2500: sp = R.LINKS_SPEED_10G | R.LINKS_SPEED_NON_STD; break;
      case 5000: sp = R.LINKS_SPEED_100 | R.LINKS_SPEED_NON_STD; break;
      default: sp = R.LINKS_SPEED_10G;
    }
    return (R.LINKS_UP | R.LINKS_KX_AN_COMP | sp) >>> 0;
  }

  // ---- register writes -------------------------------------------------------------------------------------------
  mmioWrite(rawOff: number, v: number): void {
    const reg = canon(rawOff);
    if (this.closed) this.violate('access-after-release', `write of 0x${v.toString(16)} to 0x${reg.toString(16)}`);
    this.tick();
    this.logAccess(true, reg, v);
    if (reg === R.CTRL && (v & R.CTRL_RST_MASK) !== 0) {
      this.doReset(v);
      return;
    }
    this.checkReset(reg, 'write to');
    if (reg === R.EIMC || reg === R.EIMC_EX(0) || reg === R.EIMC_EX(1)) {
      if (reg === R.EIMC && (v & R.EIMC_ALL) === R.EIMC_ALL) {
        this.intrMasked = true;
        this.maskedAfterReset = true;
      }
      return;
    }
    if (!this.maskedAfterReset && reg !== R.CTRL) {
      this.violate('unmasked-after-reset', `write to 0x${reg.toString(16)} before EIMC was written after the reset`);
      this.maskedAfterReset = true;
    }
    if (reg === R.EIMS) {
      if (v !== 0) this.intrMasked = false;
      this.s(reg, v);
      return;
    }
    const rx = RX_REG(reg);
    if (rx && rx.f !== 0x30 && rx.f !== 0x34 && rx.f !== 0x38 && rx.q < NQ) {
      this.writeRx(rx.q, rx.f, reg, v);
      return;
    }
    const tx = TX_REG(reg);
    if (tx && tx.f !== 0x30 && tx.q < NQ) {
      this.writeTx(tx.q, tx.f, reg, v);
      return;
    }
    switch (reg) {
      case R.RDRXCTL:
        this.s(reg, (v & ~R.RDRXCTL_DMAIDONE) | (this.g(reg) & R.RDRXCTL_DMAIDONE));
        return;
      case R.AUTOC:
        if ((v & R.AUTOC_AN_RESTART) !== 0 && this.family === '82599') {
          this.anRestarts++;
          this.linkUp = false;
          this.linkUpAt = performance.now() + this.linkDelayMs;
        }
        this.s(reg, v & ~R.AUTOC_AN_RESTART);
        return;
      case R.SECRXCTRL: {
        const was = this.g(reg) & R.SECRXCTRL_RX_DIS;
        if (!was && (v & R.SECRXCTRL_RX_DIS)) this.secRdyPend = 1;
        if (!(v & R.SECRXCTRL_RX_DIS)) this.secRdySeen = false;
        this.s(reg, v);
        return;
      }
      case R.RXCTRL: {
        const rising = (this.g(reg) & R.RXCTRL_RXEN) === 0 && (v & R.RXCTRL_RXEN) !== 0;
        if (rising && !((this.g(R.SECRXCTRL) & R.SECRXCTRL_RX_DIS) !== 0 && this.secRdySeen)) {
          this.violate('rxen-without-secrx-halt', 'RXCTRL.RXEN set without SECRXCTRL.RX_DIS set and SECRX_RDY seen');
        }
        this.s(reg, v);
        if (rising) this.checkRxOn();
        return;
      }
      case R.MTQC:
        if ((this.g(R.RTTDCS) & R.RTTDCS_ARBDIS) === 0) this.violate('mtqc-without-arbdis', `MTQC = 0x${v.toString(16)} with RTTDCS.ARBDIS clear`);
        this.s(reg, v);
        return;
      case R.MRQC:
        this.s(reg, v);
        if (this.g(R.RXCTRL) & R.RXCTRL_RXEN) this.checkReta();
        return;
      case R.LINKS:
      case R.SECRXSTAT:
      case R.STATUS:
      case R.EEC:
        return; // read-only here
      default:
        this.s(reg, v);
    }
  }

  /** Checks made when the receiver is switched on. */
  private checkRxOn(): void {
    const strip = (this.g(R.HLREG0) & R.HLREG0_RXCRCSTRP) !== 0;
    if (strip !== ((this.g(R.RDRXCTL) & R.RDRXCTL_CRCSTRIP) !== 0)) {
      this.violate('crc-strip-mismatch', `HLREG0.RXCRCSTRP ${strip ? 'set' : 'clear'}, RDRXCTL.CRCSTRIP ${strip ? 'clear' : 'set'}`);
    }
    if (!this.busMaster) this.violate('dma-without-bus-master', 'RXCTRL.RXEN set with bus mastering off');
    this.checkReta();
  }

  private checkReta(): void {
    if ((this.g(R.MRQC) & R.MRQC_MRQE_MASK) !== R.MRQC_RSSEN) return;
    const bad = new Set<number>();
    for (let e = 0; e < R.RETA_ENTRIES; e++) {
      const q = this.retaQueue(e);
      if ((this.g(R.RXDCTL(q)) & R.RXDCTL_ENABLE) === 0) bad.add(q);
    }
    if (bad.size) this.violate('rss-disabled-queue', `RETA names disabled RX queue(s) ${[...bad].join(', ')}`);
  }

  private ringCheck(rx: boolean, q: number): void {
    const bal = this.g(rx ? R.RDBAL(q) : R.TDBAL(q));
    const base = this.g(rx ? R.RDBAH(q) : R.TDBAH(q)) * TWO32 + bal;
    const len = this.g(rx ? R.RDLEN(q) : R.TDLEN(q));
    const who = `${rx ? 'RX' : 'TX'} queue ${q}`;
    if (len === 0 || len % 128 !== 0) this.violate('ring-geometry', `${who}: ring length ${len} bytes`);
    if (bal % 128 !== 0) this.violate('ring-geometry', `${who}: ring base 0x${base.toString(16)} not 128-byte aligned`);
    if (len > 0 && this.iovaToOff(base, len) < 0) this.violate('dma-outside-memory', `${who}: ring at IOVA 0x${base.toString(16)} + ${len}`);
  }

  private writeRx(q: number, f: number, reg: number, v: number): void {
    const st = this.rxq[q];
    switch (f) {
      case 0x00: case 0x04: case 0x08: case 0x10: case 0x14:
        if (st.active) this.violate('ring-write-while-enabled', `RX queue ${q}: 0x${reg.toString(16)} = 0x${v.toString(16)} while enabled`);
        this.s(reg, v);
        return;
      case 0x18: { // RDT
        const en = (this.g(R.RXDCTL(q)) & R.RXDCTL_ENABLE) !== 0;
        if (en && !st.seen) this.violate('rx-tail-before-enable', `RX queue ${q}: RDT = ${v} before RXDCTL.ENABLE was read back`);
        else if (!en && v !== 0) this.violate('rx-tail-before-enable', `RX queue ${q}: RDT = ${v} on a disabled queue`);
        const nb = this.g(R.RDLEN(q)) / 16;
        if (nb >= 1 && v >= nb) this.violate('tail-out-of-range', `RX queue ${q}: RDT = ${v}, ring of ${nb}`);
        else if (en && nb >= 1) {
          const ring = this.ringOff(true, q, nb);
          const u32 = mem().u32;
          for (let d = this.g(reg); ring >= 0 && d !== v; d = (d + 1) % nb) {
            if ((u32[(ring >> 2) + d * 4 + 2] & 1) !== 0) {
              this.violate('rx-desc-dd-set', `RX queue ${q}: descriptor ${d} handed over with DD set`);
              break;
            }
          }
        }
        this.s(reg, v);
        return;
      }
      case 0x28: { // RXDCTL
        const was = (this.g(reg) & R.RXDCTL_ENABLE) !== 0;
        const on = (v & R.RXDCTL_ENABLE) !== 0;
        if (!was && on) {
          this.ringCheck(true, q);
          const srr = this.g(R.SRRCTL(q));
          const bs = srr & R.SRRCTL_BSIZEPKT_MASK;
          if (bs < 1 || bs > 16 || (srr & R.SRRCTL_DESCTYPE_MASK) !== R.SRRCTL_DESCTYPE_ADV_ONEBUF) {
            this.violate('rx-buffer-config', `RX queue ${q}: SRRCTL = 0x${srr.toString(16)}`);
          }
          st.active = true;
          st.seen = false;
          st.pend = 1;
        } else if (was && !on) {
          st.seen = false;
          st.pend = 1;
        }
        this.s(reg, v);
        return;
      }
      default:
        this.s(reg, v);
    }
  }

  private writeTx(q: number, f: number, reg: number, v: number): void {
    const st = this.txq[q];
    switch (f) {
      case 0x00: case 0x04: case 0x08: case 0x10:
        if (st.active) this.violate('ring-write-while-enabled', `TX queue ${q}: 0x${reg.toString(16)} = 0x${v.toString(16)} while enabled`);
        this.s(reg, v);
        return;
      case 0x18: { // TDT
        const en = (this.g(R.TXDCTL(q)) & R.TXDCTL_ENABLE) !== 0;
        if (en && !st.seen) this.violate('tx-tail-before-enable', `TX queue ${q}: TDT = ${v} before TXDCTL.ENABLE was read back`);
        else if (!en && v !== 0) this.violate('tx-tail-before-enable', `TX queue ${q}: TDT = ${v} on a disabled queue`);
        const nb = this.g(R.TDLEN(q)) / 16;
        if (nb >= 1 && v >= nb) {
          this.violate('tail-out-of-range', `TX queue ${q}: TDT = ${v}, ring of ${nb}`);
          return;
        }
        if (en && nb >= 1) {
          const ring = this.ringOff(false, q, nb);
          const u32 = mem().u32;
          for (let d = this.g(reg); ring >= 0 && d !== v; d = (d + 1) % nb) {
            if ((u32[(ring >> 2) + d * 4 + 3] & 1) !== 0) {
              this.violate('tx-desc-dd-set', `TX queue ${q}: descriptor ${d} handed over with DD set`);
              break;
            }
          }
        }
        this.s(reg, v);
        if (en && this.autoTx) this.stepTx(q);
        return;
      }
      case 0x28: { // TXDCTL
        const was = (this.g(reg) & R.TXDCTL_ENABLE) !== 0;
        const on = (v & R.TXDCTL_ENABLE) !== 0;
        if (!was && on) {
          if ((this.g(R.DMATXCTL) & R.DMATXCTL_TE) === 0) this.violate('txq-before-te', `TX queue ${q} enabled with DMATXCTL.TE clear`);
          if (!this.busMaster) this.violate('dma-without-bus-master', `TX queue ${q} enabled with bus mastering off`);
          this.ringCheck(false, q);
          this.ctx[q].clear();
          st.active = true;
          st.seen = false;
          st.pend = 1;
        } else if (was && !on) {
          st.seen = false;
          st.pend = 1;
        }
        this.s(reg, v & ~R.TXDCTL_SWFLSH);
        return;
      }
      default:
        this.s(reg, v);
    }
  }

  // ---- DMA helpers -----------------------------------------------------------------------------------------------
  /** Region offset of [iova, iova + len), or -1 when it is not all in EAL memory. */
  iovaToOff(iova: number, len: number): number {
    const r = mem();
    if (!r.iovaPa) {
      const off = iova - r.baseNum;
      return off >= 0 && off + len <= r.len ? off : -1;
    }
    const ps = r.pageSize;
    const pages = Math.floor(r.len / ps);
    const find = (a: number): number => {
      for (let p = 0; p < pages; p++) {
        const pi = r.f64[(CTL.PAGE_IOVA >> 3) + p];
        if (a >= pi && a < pi + ps) return p * ps + (a - pi);
      }
      return -1;
    };
    const o = find(iova);
    return o >= 0 && (len <= 1 || find(iova + len - 1) === o + len - 1) ? o : -1;
  }

  private ringOff(rx: boolean, q: number, nb: number): number {
    const base = this.g(rx ? R.RDBAH(q) : R.TDBAH(q)) * TWO32 + this.g(rx ? R.RDBAL(q) : R.TDBAL(q));
    return this.iovaToOff(base, nb * 16);
  }

  private retaQueue(e: number): number {
    return (this.g(R.RETA(e >> 2)) >>> ((e & 3) * 8)) & 0xf;
  }

  private statIdx(rx: boolean, q: number): number {
    return (this.g(rx ? R.RQSMR(q >> 2) : R.TQSM(q >> 2)) >>> ((q & 3) * 8)) & 0xf;
  }

  private sizeBucket(len: number, rx: boolean): number {
    const t = rx ? [R.PRC64, R.PRC127, R.PRC255, R.PRC511, R.PRC1023, R.PRC1522] : [R.PTC64, R.PTC127, R.PTC255, R.PTC511, R.PTC1023, R.PTC1522];
    return len <= 64 ? t[0] : len <= 127 ? t[1] : len <= 255 ? t[2] : len <= 511 ? t[3] : len <= 1023 ? t[4] : t[5];
  }

  /** The RSS key the driver programmed (RSSRK, byte 4i in the low byte of register i). */
  rssKey(): number[] {
    const k: number[] = [];
    for (let i = 0; i < 10; i++) {
      const v = this.g(R.RSSRK(i));
      k.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
    }
    return k;
  }

  /** RSS type and hash input of a frame under the MRQC field enables (82599 datasheet 7.1.2.8.1 priorities). */
  private rssInput(b: Uint8Array, p: Parsed, mrqc: number): [number, number[]] {
    const ports = (): number[] => Array.from(b.subarray(p.l4Off, p.l4Off + 4));
    if (p.l3 === 'ipv4') {
      const addrs = Array.from(b.subarray(p.ipOff + 12, p.ipOff + 20));
      if (p.l4 === 'tcp' && (mrqc & R.MRQC_RSS_FIELD_IPV4_TCP)) return [1, [...addrs, ...ports()]];
      if (p.l4 === 'udp' && (mrqc & R.MRQC_RSS_FIELD_IPV4_UDP)) return [7, [...addrs, ...ports()]];
      if (mrqc & R.MRQC_RSS_FIELD_IPV4) return [2, addrs];
      return [0, []];
    }
    if (p.l3 === 'ipv6') {
      const addrs = Array.from(b.subarray(p.ipOff + 8, p.ipOff + 40));
      if (p.l4 === 'tcp' && (mrqc & R.MRQC_RSS_FIELD_IPV6_EX_TCP)) return [6, [...addrs, ...ports()]];
      if (p.l4 === 'tcp' && (mrqc & R.MRQC_RSS_FIELD_IPV6_TCP)) return [3, [...addrs, ...ports()]];
      if (p.l4 === 'udp' && (mrqc & R.MRQC_RSS_FIELD_IPV6_EX_UDP)) return [9, [...addrs, ...ports()]];
      if (p.l4 === 'udp' && (mrqc & R.MRQC_RSS_FIELD_IPV6_UDP)) return [8, [...addrs, ...ports()]];
      if (mrqc & R.MRQC_RSS_FIELD_IPV6_EX) return [4, addrs];
      if (mrqc & R.MRQC_RSS_FIELD_IPV6) return [5, addrs];
    }
    return [0, []];
  }

  private accepted(b: Uint8Array): boolean {
    const fctrl = this.g(R.FCTRL);
    if (b[0] === 0xff && b[1] === 0xff && b[2] === 0xff && b[3] === 0xff && b[4] === 0xff && b[5] === 0xff) return (fctrl & R.FCTRL_BAM) !== 0;
    if (b[0] & 1) return (fctrl & R.FCTRL_MPE) !== 0;
    if (fctrl & R.FCTRL_UPE) return true;
    const lo = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
    const hi = b[4] | (b[5] << 8);
    for (let i = 0; i < R.RAR_COUNT; i++) {
      const h = this.g(R.RAH(i));
      if ((h & R.RAH_AV) !== 0 && (h & 0xffff) === hi && this.g(R.RAL(i)) === lo) return true;
    }
    return false;
  }

  // ---- RX DMA ----------------------------------------------------------------------------------------------------
  /** A frame (no FCS) arrives from the wire. */
  receive(frame: ArrayLike<number>, o: RxOptions = {}): RxResult {
    const b = Uint8Array.from(frame);
    const drop = (reason: string, queue = -1, hash = 0, rssType = 0): RxResult => ({ ok: false, queue, hash, rssType, reason });
    this.tick();
    if (this.closed || (this.g(R.RXCTRL) & R.RXCTRL_RXEN) === 0) return drop('receiver off');
    if (!this.linkUp) return drop('link down');
    if (!this.busMaster) {
      this.violate('dma-without-bus-master', 'a frame arrived for DMA with bus mastering off');
      return drop('no bus master');
    }
    let rxe = o.rxe === true;
    if (o.crcError) {
      this.inc(R.CRCERRS);
      if ((this.g(R.FCTRL) & R.FCTRL_SBP) === 0) return drop('bad FCS');
      rxe = true;
    }
    const p = parse(b);
    const withFcs = b.length + 4;
    const max = ((this.g(R.HLREG0) & R.HLREG0_JUMBOEN) !== 0 ? this.g(R.MAXFRS) >>> R.MAXFRS_MFS_SHIFT : 1518) + (p.tagged ? 4 : 0);
    if (b.length < 60) {
      this.inc(R.RUC);
      return drop('undersize');
    }
    if (withFcs > max) {
      this.inc(R.ROC);
      return drop('oversize');
    }
    this.inc(R.TPR);
    this.add36(R.TORL, withFcs);
    if (!this.accepted(b)) return drop('filtered');
    const strip = (this.g(R.HLREG0) & R.HLREG0_RXCRCSTRP) !== 0;
    this.inc(R.GPRC);
    this.add36(R.GORCL, strip ? b.length : withFcs);
    if (b[0] & 1) this.inc(b[0] === 0xff && b[5] === 0xff ? R.BPRC : R.MPRC);
    this.inc(this.sizeBucket(withFcs, true));
    // queue
    let q = 0;
    let hash = 0;
    let rssType = 0;
    const mrqc = this.g(R.MRQC);
    if ((mrqc & R.MRQC_MRQE_MASK) === R.MRQC_RSSEN) {
      const [type, input] = this.rssInput(b, p, mrqc);
      rssType = type;
      if (type !== 0) hash = toeplitz(this.rssKey(), input);
      q = this.retaQueue(hash & 0x7f);
    }
    const rxdctl = this.g(R.RXDCTL(q));
    const si = this.statIdx(true, q);
    if ((rxdctl & R.RXDCTL_ENABLE) === 0) {
      this.inc(R.QPRDC(si));
      return drop('queue disabled', q, hash, rssType);
    }
    const data = p.tagged && (rxdctl & R.RXDCTL_VME) !== 0 ? Uint8Array.from([...b.subarray(0, 12), ...b.subarray(16)]) : b;
    const srr = this.g(R.SRRCTL(q));
    const bsize = (srr & R.SRRCTL_BSIZEPKT_MASK) << R.SRRCTL_BSIZEPKT_SHIFT;
    if (bsize === 0) return drop('no buffer size', q, hash, rssType);
    const nb = this.g(R.RDLEN(q)) / 16;
    const head = this.g(R.RDH(q));
    const need = Math.ceil(data.length / bsize);
    const avail = (this.g(R.RDT(q)) - head + nb) % nb;
    if (avail < need) {
      if (srr & R.SRRCTL_DROP_EN) this.inc(R.QPRDC(si));
      else this.inc(R.MPC(0));
      return drop('no free descriptors', q, hash, rssType);
    }
    const ring = this.ringOff(true, q, nb);
    if (ring < 0) return drop('ring outside memory', q, hash, rssType);
    // write-back fields
    let ptype = 0;
    if (p.l3 === 'ipv4') ptype |= p.l3ext ? 0x2 : 0x1;
    if (p.l3 === 'ipv6') ptype |= p.l3ext ? 0x8 : 0x4;
    if (p.l4 === 'tcp') ptype |= 0x10;
    else if (p.l4 === 'udp') ptype |= 0x20;
    else if (p.l4 === 'sctp') ptype |= 0x40;
    let status = 0x1; // DD
    let errors = 0;
    if (p.tagged) status |= 0x8; // VP
    if (p.l3 === 'ipv4') {
      status |= 0x40; // IPCS
      if (p.ipBad) errors |= 1 << 31;
    }
    if (p.l4Bad !== undefined) {
      status |= 0x20; // L4CS
      if (p.l4 === 'udp') status |= 0x10; // UDPCS
      if (p.l4Bad) errors |= 1 << 30;
    }
    if (p.ipBad || p.l4Bad) this.inc(R.XEC);
    if (rxe) errors |= 1 << 29;
    const r = mem();
    for (let i = 0; i < need; i++) {
      const d = (head + i) % nb;
      const w = (ring >> 2) + d * 4;
      const addr = r.u32[w + 1] * TWO32 + r.u32[w];
      const chunk = data.subarray(i * bsize, Math.min(data.length, (i + 1) * bsize));
      const bo = this.iovaToOff(addr, bsize);
      if (bo < 0) {
        this.violate('dma-outside-memory', `RX queue ${q}: descriptor ${d} buffer at IOVA 0x${addr.toString(16)} + ${bsize}`);
        return drop('buffer outside memory', q, hash, rssType);
      }
      r.u8.set(chunk, bo);
      const last = i === need - 1;
      r.u32[w] = (rssType | (ptype << 4)) >>> 0;
      r.u32[w + 1] = hash >>> 0;
      r.u32[w + 3] = (chunk.length | (p.tagged ? p.tci << 16 : 0)) >>> 0;
      r.u32[w + 2] = (status | (last ? 0x2 : 0) | errors) >>> 0;
    }
    this.s(R.RDH(q), (head + need) % nb);
    this.inc(R.QPRC(si));
    this.add36(R.QBRC_L(si), strip ? data.length : data.length + 4);
    return { ok: true, queue: q, hash, rssType };
  }

  // ---- TX DMA ----------------------------------------------------------------------------------------------------
  /** Sends what TX queue q holds between TDH and TDT (whole packets); returns the frames sent. */
  stepTx(q = 0): Uint8Array[] {
    const out: Uint8Array[] = [];
    if ((this.g(R.TXDCTL(q)) & R.TXDCTL_ENABLE) === 0 || (this.g(R.DMATXCTL) & R.DMATXCTL_TE) === 0) return out;
    if (!this.busMaster) {
      this.violate('dma-without-bus-master', `TX queue ${q} has descriptors with bus mastering off`);
      return out;
    }
    const nb = this.g(R.TDLEN(q)) / 16;
    const ring = this.ringOff(false, q, nb);
    if (nb < 1 || ring < 0) return out;
    const r = mem();
    const u32 = r.u32;
    const t = this.g(R.TDT(q));
    let h = this.g(R.TDH(q));
    while (h !== t) {
      // a packet goes only once its EOP descriptor is in the NIC's part of the ring
      let end = -1;
      for (let k = h; k !== t; k = (k + 1) % nb) {
        const w2 = u32[(ring >> 2) + k * 4 + 2];
        if (((w2 >>> 20) & 0xf) === 3 && (w2 & (1 << 24)) !== 0) {
          end = k;
          break;
        }
      }
      if (end < 0) break;
      const chunks: Uint8Array[] = [];
      let first = -1;
      const rs: number[] = [];
      let bad = false;
      for (let k = h; ; k = (k + 1) % nb) {
        const w = (ring >> 2) + k * 4;
        const w2 = u32[w + 2];
        const w3 = u32[w + 3];
        const dtyp = (w2 >>> 20) & 0xf;
        if ((w2 & (1 << 29)) === 0 || (dtyp !== 2 && dtyp !== 3)) {
          this.violate('tx-bad-desc', `TX queue ${q}: descriptor ${k} cmd_type_len 0x${w2.toString(16)}`);
          bad = true;
        } else if (dtyp === 2) {
          this.ctx[q].set((w3 >>> 4) & 0x7, { w0: u32[w], w2, w3 });
        } else {
          if (first < 0) first = k;
          const len = w2 & 0xffff;
          const addr = u32[w + 1] * TWO32 + u32[w];
          const bo = this.iovaToOff(addr, len);
          if (bo < 0) {
            this.violate('dma-outside-memory', `TX queue ${q}: descriptor ${k} data at IOVA 0x${addr.toString(16)} + ${len}`);
            bad = true;
          } else chunks.push(r.u8.slice(bo, bo + len));
        }
        if (w2 & (1 << 27)) rs.push(k);
        if (k === end) break;
      }
      if (!bad && first >= 0) {
        const w = (ring >> 2) + first * 4;
        const f = this.finishTx(q, chunks, u32[w + 2], u32[w + 3]);
        if (f) out.push(f);
      }
      for (const k of rs) u32[(ring >> 2) + k * 4 + 3] = 1; // STA.DD (write-back)
      h = (end + 1) % nb;
      this.s(R.TDH(q), h);
    }
    return out;
  }

  private finishTx(q: number, chunks: Uint8Array[], cmd: number, olinfo: number): Uint8Array | null {
    let total = 0;
    for (const c of chunks) total += c.length;
    let f = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      f.set(c, at);
      at += c.length;
    }
    const paylen = olinfo >>> 14;
    if (paylen !== total) this.violate('tx-paylen', `TX queue ${q}: PAYLEN ${paylen}, data ${total} bytes`);
    const ixsm = (olinfo & (1 << 8)) !== 0;
    const txsm = (olinfo & (1 << 9)) !== 0;
    const vle = (cmd & (1 << 30)) !== 0;
    if (ixsm || txsm || vle) {
      const ctx = (olinfo & (1 << 7)) !== 0 ? this.ctx[q].get((olinfo >>> 4) & 0x7) : undefined;
      if (!ctx) {
        this.violate('tx-offload-without-context', `TX queue ${q}: olinfo 0x${olinfo.toString(16)}, cmd 0x${cmd.toString(16)}`);
      } else {
        const maclen = (ctx.w0 >>> 9) & 0x7f;
        const iplen = ctx.w0 & 0x1ff;
        if (ixsm && (ctx.w2 & (1 << 10)) !== 0 && maclen + iplen <= f.length) {
          const c = ~fold(sum16(f, maclen, maclen + iplen)) & 0xffff;
          f[maclen + 10] = c >> 8;
          f[maclen + 11] = c & 0xff;
        }
        const l4t = (ctx.w2 >>> 11) & 3;
        if (txsm && (l4t === 0 || l4t === 1)) {
          const l4 = maclen + iplen;
          const at2 = l4 + (l4t === 1 ? 16 : 6);
          if (at2 + 2 <= f.length) {
            let c = ~fold(sum16(f, l4, f.length)) & 0xffff;
            if (l4t === 0 && c === 0) c = 0xffff;
            f[at2] = c >> 8;
            f[at2 + 1] = c & 0xff;
          }
        }
        if (vle) {
          const vt = this.g(R.DMATXCTL) >>> R.DMATXCTL_VT_SHIFT;
          const tci = ctx.w0 >>> 16;
          const g = new Uint8Array(f.length + 4);
          g.set(f.subarray(0, 12), 0);
          g.set([vt >> 8, vt & 0xff, tci >> 8, tci & 0xff], 12);
          g.set(f.subarray(12), 16);
          f = g;
        }
      }
    }
    if ((this.g(R.HLREG0) & R.HLREG0_TXPADEN) !== 0 && f.length < 60) {
      const g = new Uint8Array(60);
      g.set(f);
      f = g;
    }
    const si = this.statIdx(false, q);
    this.inc(R.GPTC);
    this.add36(R.GOTCL, f.length + 4);
    this.inc(R.TPT);
    this.inc(this.sizeBucket(f.length + 4, false));
    if (f[0] & 1) this.inc(f[0] === 0xff && f[5] === 0xff ? R.BPTC : R.MPTC);
    this.inc(R.QPTC(si));
    this.add36(R.QBTC_L(si), f.length);
    this.sent.push(f);
    this.sentQueue.push(q);
    return f;
  }
}
