// Argument-vector fuzzing: a seeded PRNG (mulberry32) and mutations of valid command lines, and the check every
// parser must pass: it returns, or throws one of pktio's own error classes with a one-line message; never a
// TypeError/RangeError from inside the parser, never a stack trace in the message, never a hang.

/** Iterations per parser: 10,000 by default (CI), PKTIO_FUZZ_N=100000 for the full run. */
export const FUZZ_N = Number(process.env.PKTIO_FUZZ_N ?? 10000);

/** mulberry32: a small, fast, seeded 32-bit PRNG; the same seed gives the same vectors on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Characters mutations insert: digits, hex, separators the parsers split on, blanks, and a few oddities
// (no '/': file-taking drivers run in a scratch directory and must not reach out of it).
const CHARS = '0123456789abcdefxABCDEFX,.:=@()-_ +\t\n\\\'"$%*#~!?;[]{}<>|é\u0000\u200b';
const NUMS = ['0', '1', '-1', '00', '0x', '0x0', '0xffffffff', '4294967296', '9007199254740993', '1e3', '1.5', 'NaN', 'Infinity', '', ' ',
  '1024', '65535', '65536', '-0', '0b1', '+1', '99999999999999999999'];

export function pick<T>(r: () => number, a: readonly T[]): T {
  return a[Math.floor(r() * a.length)];
}

/** One mutation of a string: insert, delete, replace a character, splice a number, cut, or double it. */
export function mutateString(r: () => number, s: string): string {
  const i = Math.floor(r() * (s.length + 1));
  switch (Math.floor(r() * 7)) {
    case 0: return s.slice(0, i) + pick(r, [...CHARS]) + s.slice(i);
    case 1: return s.slice(0, i) + s.slice(i + 1);
    case 2: return s.slice(0, i) + pick(r, [...CHARS]) + s.slice(i + 1);
    case 3: return s.slice(0, i) + pick(r, NUMS) + s.slice(i);
    case 4: return s.slice(0, i);
    case 5: return s + s;
    default: return s.replace(/\d+/, pick(r, NUMS));
  }
}

/** 1..4 mutations of an argument vector: of its strings, dropping, duplicating, swapping or adding tokens. */
export function mutateArgv(r: () => number, argv: readonly string[], tokens: readonly string[]): string[] {
  const a = [...argv];
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const i = Math.floor(r() * a.length);
    switch (Math.floor(r() * 6)) {
      case 0: case 1: if (a.length) a[i] = mutateString(r, a[i]); break;
      case 2: a.splice(i, 1); break;
      case 3: if (a.length) a.splice(i, 0, a[i]); break;
      case 4: if (a.length > 1) [a[i], a[a.length - 1]] = [a[a.length - 1], a[i]]; break;
      default: a.splice(i, 0, pick(r, tokens)); break;
    }
  }
  return a;
}

export interface FuzzResult { n: number; accepted: number; rejected: number; maxMs: number; bad: string[] }

/**
 * Runs `parse` on n mutated inputs. A rejection is good when it is an instance of one of `errors` and its message
 * (without the usage text some errors append after a blank line) is one line with no stack frames.
 */
export function fuzz<I>(n: number, seed: number, gen: (r: () => number) => I, parse: (input: I) => unknown,
  errors: ReadonlyArray<new (...a: never[]) => Error>): FuzzResult {
  const r = prng(seed);
  const res: FuzzResult = { n, accepted: 0, rejected: 0, maxMs: 0, bad: [] };
  for (let k = 0; k < n; k++) {
    const input = gen(r);
    const t0 = performance.now();
    try {
      parse(input);
      res.accepted++;
    } catch (e) {
      res.rejected++;
      const why = badError(e, errors, JSON.stringify(input).length);
      if (why && res.bad.length < 10) res.bad.push(`${JSON.stringify(input)}: ${why}`);
    }
    const ms = performance.now() - t0;
    if (ms > res.maxMs) res.maxMs = ms;
  }
  return res;
}

/** `inputLen`: a message may quote the input (twice: the whole string and the bad part), plus its own words. */
function badError(e: unknown, errors: ReadonlyArray<new (...a: never[]) => Error>, inputLen: number): string | null {
  if (!(e instanceof Error)) return `threw a non-Error: ${String(e)}`;
  if (!errors.some((c) => e instanceof c)) return `${e.name}: ${e.message}\n${e.stack}`;
  const line = e.message.split('\n\n')[0];
  if (line.trim() === '') return 'empty message';
  if (line.includes('\n')) return `message of several lines: ${JSON.stringify(line)}`;
  if (/\n\s+at /.test(e.message)) return 'a stack trace in the message';
  if (line.length > 300 + 2 * inputLen) return `message of ${line.length} characters`;
  return null;
}
