// Departure schedules for a generator: how many packets are due at a given time on a nanosecond clock.
//
// Constant: packet k leaves at start + k / rate. The loop asks due(now) on every pass and sends what is due, so
// packets go out as soon as their time has come (one at a time at low rates), not as bursts per millisecond tick.
// Poisson: gaps are exponential with mean 1 / rate (inverse-transform sampling of a xorshift32 uniform), the
// arrival process RFC 2544 does not ask for but MoonGen and TRex offer for queueing tests.
// A sender that fell behind (its TX ring refused packets, the CPU was taken away) catches up by at most
// `maxBacklog` packets; older debt is forgiven and counted in `skipped`, so the achieved rate shows the shortfall.
export const PACE_CONSTANT = 0;
export const PACE_POISSON = 1;

export class Pacer {
  readonly mode: number;
  /** packets per second */
  readonly rate: number;
  private readonly nsPerPkt: number;
  private readonly maxBacklog: number;
  /**
   * [0] departure time of the next packet (ns), [1] packets whose departure was forgiven because the sender fell
   * more than maxBacklog behind. In a Float64Array: a double class field would be boxed on every store.
   */
  private readonly st = new Float64Array(2);
  /** xorshift32 state (an Int32Array: an int32 above 2^30 in a field would be boxed on every store) */
  private readonly rng = new Int32Array(1);

  constructor(mode: number, rate: number, maxBacklog = 64, seed = 0x2545f491) {
    if (!(rate > 0)) throw new RangeError(`pacer rate ${rate}: packets per second above 0`);
    this.mode = mode;
    this.rate = rate;
    this.nsPerPkt = 1e9 / rate;
    this.maxBacklog = maxBacklog;
    this.rng[0] = seed | 0 || 1;
  }

  start(nowNs: number): void {
    this.st[0] = nowNs;
    this.st[1] = 0;
  }

  get skipped(): number { return this.st[1]; }

  /**
   * Moves the next departure on by one gap: 1 / rate, or an exponential one (inverse transform of a xorshift32
   * uniform in (0, 1], Marsaglia 2003). Written to the state array, not returned: a returned fraction is boxed.
   */
  private advance(): void {
    if (this.mode !== PACE_POISSON) {
      this.st[0] += this.nsPerPkt;
      return;
    }
    let x = this.rng[0];
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng[0] = x;
    this.st[0] += -Math.log(((x >>> 0) + 1) / 4294967296) * this.nsPerPkt;
  }

  /** How many packets are due at nowNs, at most max (see dueAt). */
  due(nowNs: number, max: number): number {
    const t = new Float64Array(1);
    t[0] = nowNs;
    return this.dueAt(t, 0, max);
  }

  /**
   * How many packets are due at the time in t[i] (ns), at most max; their departures are consumed (what the TX
   * ring refused goes back with giveBack()). The time comes in an array, not an argument: see NsClock.nowInto.
   */
  dueAt(t: Float64Array, i: number, max: number): number {
    const st = this.st;
    const now = t[i];
    if (now < st[0]) return 0;
    const late = (now - st[0]) / this.nsPerPkt;
    if (late > this.maxBacklog) {
      const forgive = Math.floor(late) - this.maxBacklog;
      st[1] += forgive;
      st[0] += forgive * this.nsPerPkt;
    }
    let k = 0;
    while (k < max && st[0] <= now) {
      this.advance();
      k++;
    }
    return k;
  }

  /** Packets due() handed out that were not sent: they are due again at once. */
  giveBack(n: number): void {
    this.st[0] -= n * this.nsPerPkt;
  }
}
