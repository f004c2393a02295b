// IEEE 1588 clock and timestamp latches of the Intel families with advanced descriptors (82576 and successors,
// 82599 / X540): the control-half part every family shares. A family programs its own increment, filter and
// enable registers (igb.ts, ...) and hands this class where its latches are.
//
// The same scheme on every family (the 82576 and 82599 datasheets' time sync chapters):
// - SYSTIM is a 64-bit counter that advances by the increment value every increment period (TIMINCA); a family
//   programs it to count nanoseconds. Reading SYSTIML latches SYSTIMH, so the low half is read first.
// - one received and one sent PTP frame at a time get their SYSTIM copied into RXSTMP / TXSTMP; the control
//   register's VALID bit says a time is latched, and no other frame is stamped until the driver reads it.
// - the time the application sees is SYSTIM plus an offset kept here, as DPDK's igb and ixgbe do for the 82576
//   and 82599 (rte_timecounter): writeTime and adjustTime move the offset, SYSTIM itself runs free. This also
//   works on QEMU's igb, whose SYSTIM follows QEMU's virtual clock and ignores writes to SYSTIML / SYSTIMH.
// - SYSTIM may count fractions of a nanosecond (`shift` fraction bits: the 82599 and X540 add a link-speed
//   dependent increment, 2^-21 / 2^-28 ns units at 10 Gb/s), and then wraps soon: 2^64 units of 2^-28 ns are
//   69 s on the X540. Every raw value read is placed next to the last one read (the 64-bit wrap undone), so
//   the clock must be read at least every half wrap: `watchMs` reads it on a timer (Linux's ixgbe does the same
//   every 30 s), unref'd so it keeps no process alive.
import type { Regs } from './regs.js';
import { IntelPort } from './port.js';

/** Where a family keeps its timesync registers (byte offsets in BAR 0) and which bits say "latched". */
export interface TimesyncRegs {
  systimL: number;
  systimH: number;
  rxCtl: number;
  rxValid: number;
  rxStampL: number;
  rxStampH: number;
  /** registers read after RXSTMPH to free the RX latch (datasheet: RXSTMPH frees it; QEMU's igb frees it on RXSATRH) */
  rxRelease: readonly number[];
  txCtl: number;
  txValid: number;
  txStampL: number;
  txStampH: number;
}

const U64 = (1n << 64n) - 1n;
const WRAP = 1n << 64n;

export class IntelTimesync {
  /** application time = SYSTIM in ns + offset (mod 2^64) */
  private offset = 0n;
  /** the last raw value read, with the wraps before it counted (bits above 64) */
  private lastExt = 0n;
  private readonly shift: bigint;
  private watch: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly r: Regs, private readonly regs: TimesyncRegs, shift = 0, watchMs = 0) {
    this.shift = BigInt(shift);
    this.lastExt = this.rd64(regs.systimL, regs.systimH);
    if (watchMs > 0) {
      this.watch = setInterval(() => this.systim(), watchMs);
      this.watch.unref();
    }
  }

  /** A 64-bit register pair, low half first (reading the low half latches the high one). */
  private rd64(lo: number, hi: number): bigint {
    const l = this.r.rd(lo);
    return (BigInt(this.r.rd(hi)) << 32n) | BigInt(l);
  }

  /** raw (64 bits) as the value nearest to the last one read, in ns */
  private ns(raw: bigint): bigint {
    let ext = (this.lastExt & ~U64) | raw;
    if (ext - this.lastExt > WRAP / 2n) ext -= WRAP;
    else if (this.lastExt - ext > WRAP / 2n) ext += WRAP;
    if (ext > this.lastExt) this.lastExt = ext;
    return ext >> this.shift;
  }

  private time(raw: bigint): bigint {
    return (this.ns(raw) + this.offset) & U64;
  }

  /** SYSTIM in ns (fractions dropped), its wraps counted. */
  systim(): bigint {
    return this.ns(this.rd64(this.regs.systimL, this.regs.systimH));
  }

  /** Once the clock runs: the application's time starts at 0 (whatever SYSTIM held), latches freed. */
  start(): void {
    this.offset = -this.systim();
    this.readRx();
    this.readTx();
  }

  /** No more reads: the watch timer stopped. */
  stop(): void {
    if (this.watch !== null) clearInterval(this.watch);
    this.watch = null;
  }

  readTime(): bigint {
    return (this.systim() + this.offset) & U64;
  }

  writeTime(ns: bigint): void {
    this.offset = ns - this.systim();
  }

  adjustTime(deltaNs: bigint): void {
    this.offset += deltaNs;
  }

  /** The latched RX time, the latch freed; null when VALID is clear. */
  readRx(): bigint | null {
    const g = this.regs;
    if ((this.r.rd(g.rxCtl) & g.rxValid) === 0) return null;
    const raw = this.rd64(g.rxStampL, g.rxStampH);
    for (const reg of g.rxRelease) this.r.rd(reg);
    return this.time(raw);
  }

  /** The latched TX time (reading TXSTMPH frees the latch); null when VALID is clear. */
  readTx(): bigint | null {
    const g = this.regs;
    if ((this.r.rd(g.txCtl) & g.txValid) === 0) return null;
    return this.time(this.rd64(g.txStampL, g.txStampH));
  }
}

/** The control registers a family's timesyncDisable clears (byte offsets in BAR 0). */
export interface TimesyncControlRegs {
  txCtl: number;
  rxCtl: number;
  /** the enable bit of both control registers */
  enable: number;
  /** the EtherType filter that recognises PTP frames */
  etqf: number;
  /** the increment register: 0 stops the clock */
  timinca: number;
}

/**
 * An Intel port with IEEE 1588 ops (igb, ixgbe; the 82574 has none, so e1000e extends IntelPort itself and its
 * ports answer "not supported"). A family programs the clock, filter and stamping in timesyncStart, the steps of
 * DPDK's <family>_timesync_enable, and names its control registers; the latches' reads and the clock's offset are
 * the same everywhere.
 */
export abstract class IntelTimesyncPort extends IntelPort {
  private tsync: IntelTimesync | null = null;
  protected abstract readonly timesyncRegs: TimesyncControlRegs;

  /** The family's enable steps, the clock stopped and cleared first; returns where its latches are. */
  protected abstract timesyncStart(): IntelTimesync;

  /** The latches, once timesyncEnable ran; otherwise one line saying what to call first. */
  private timesync(what: string): IntelTimesync {
    if (this.tsync === null) throw new Error(`${this.driverName} ${this.name}: ${what} needs timesyncEnable(port) first`);
    return this.tsync;
  }

  /** Forgets the clock (its watch timer stopped): on disable, and before a reset that stops it. */
  protected timesyncForget(): void {
    this.tsync?.stop();
    this.tsync = null;
  }

  timesyncEnable(): void {
    this.timesyncForget();
    this.tsync = this.timesyncStart();
    this.tsync.start();
  }

  /** DPDK's igb/ixgbe_timesync_disable: stamping off, the PTP filter cleared, the clock stopped. */
  timesyncDisable(): void {
    const c = this.timesyncRegs;
    this.r.clear(c.txCtl, c.enable);
    this.r.clear(c.rxCtl, c.enable);
    this.r.wr(c.etqf, 0);
    this.r.wr(c.timinca, 0);
    this.timesyncForget();
  }

  timesyncReadRxTimestamp(_flags: number): bigint | null {
    return this.timesync('timesyncReadRxTimestamp').readRx();
  }

  timesyncReadTxTimestamp(): bigint | null {
    return this.timesync('timesyncReadTxTimestamp').readTx();
  }

  timesyncReadTime(): bigint {
    return this.timesync('timesyncReadTime').readTime();
  }

  timesyncWriteTime(ns: bigint): void {
    this.timesync('timesyncWriteTime').writeTime(ns);
  }

  timesyncAdjustTime(deltaNs: bigint): void {
    this.timesync('timesyncAdjustTime').adjustTime(deltaNs);
  }
}
