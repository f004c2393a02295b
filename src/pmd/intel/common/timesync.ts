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
import type { Regs } from './regs.js';

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

export class IntelTimesync {
  /** application time = SYSTIM + offset (mod 2^64) */
  private offset = 0n;

  constructor(private readonly r: Regs, private readonly regs: TimesyncRegs) {}

  /** A 64-bit register pair, low half first (reading the low half latches the high one). */
  private rd64(lo: number, hi: number): bigint {
    const l = this.r.rd(lo);
    return (BigInt(this.r.rd(hi)) << 32n) | BigInt(l);
  }

  private time(raw: bigint): bigint {
    return (raw + this.offset) & U64;
  }

  systim(): bigint {
    return this.rd64(this.regs.systimL, this.regs.systimH);
  }

  /** Once the clock runs: the application's time starts at 0 (whatever SYSTIM held), latches freed. */
  start(): void {
    this.offset = -this.systim();
    this.readRx();
    this.readTx();
  }

  readTime(): bigint {
    return this.time(this.systim());
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
