// Hardware statistics of Intel NICs: clear-on-read registers accumulated into 64-bit totals (JS numbers, exact to
// 2^53). 32-bit counters wrap: at 1 Gb/s a packet counter in about 48 minutes, a 32-bit byte counter in 34
// seconds, at 10 Gb/s ten times sooner. So the reader is driven by a timer on the main lcore as well as by
// statsGet: totals stay right even when the application never reads them.
import type { Regs } from './regs.js';

/** One counter: its register (the low one of a 64-bit pair, whose high half follows at +4), its xstat name. */
export interface StatReg {
  reg: number;
  name: string;
  /** a low/high pair: the low register is read first (reading the high one clears the pair) */
  wide?: boolean;
}

/** How often the timer accumulates: well inside the fastest 32-bit wrap pktio's NICs have. */
export const STATS_POLL_MS = 1000;

export class HwStatsReader {
  private readonly totals: Float64Array;
  private readonly index: Map<number, number>;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly regs: Regs, readonly table: readonly StatReg[]) {
    this.totals = new Float64Array(table.length);
    this.index = new Map(table.map((s, i) => [s.reg, i]));
  }

  /** Reads (and so clears) every register into the totals. */
  read(): void {
    const t = this.totals;
    for (let i = 0; i < this.table.length; i++) {
      const s = this.table[i];
      if (s.wide) {
        const lo = this.regs.rd(s.reg);
        t[i] += lo + this.regs.rd(s.reg + 4) * 4294967296;
      } else {
        t[i] += this.regs.rd(s.reg);
      }
    }
  }

  /** Total of one register (by its offset) since the last reset. */
  get(reg: number): number {
    const i = this.index.get(reg);
    if (i === undefined) throw new Error(`statistics register 0x${reg.toString(16)} is not in the table`);
    return this.totals[i];
  }

  /** Reads, then zeroes the totals. */
  reset(): void {
    this.read();
    this.totals.fill(0);
  }

  xstats(): Array<{ name: string; value: number }> {
    this.read();
    return this.table.map((s, i) => ({ name: s.name, value: this.totals[i] }));
  }

  /** Starts accumulating every periodMs (the timer does not keep the process alive). */
  start(periodMs = STATS_POLL_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.read(), periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
