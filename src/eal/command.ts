// How the user ran this program, for usage lines: a command they can type again as printed.
import * as path from 'node:path';

/**
 * `npx NAME` for a package bin run from node_modules/.bin (npx, npm scripts), `node FILE` for a script run with node
 * (FILE relative to the working directory when it is below it; `npx tsx FILE` for TypeScript), else the plain name
 * (a bin on PATH).
 * `fallback` is used when there is no script (a REPL, `node -e`).
 */
export function commandName(fallback = 'app', argv1: string | undefined = process.argv[1], cwd = process.cwd()): string {
  if (!argv1) return fallback;
  const base = path.basename(argv1);
  if (path.basename(path.dirname(argv1)) === '.bin' && path.basename(path.dirname(path.dirname(argv1))) === 'node_modules') {
    return `npx ${base}`;
  }
  if (/\.[cm]?[jt]s$/.test(base)) {
    const rel = path.relative(cwd, argv1);
    const file = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : argv1;
    return `${/\.[cm]?ts$/.test(base) ? 'npx tsx' : 'node'} ${file}`;
  }
  return base;
}

/**
 * Walks an application's options the way getopt_long reads them: `--name=value` carries its value inline, any
 * other argument is a name whose value (for options that take one) is the next argument. One scanner for every
 * example's parser (l2fwd, testpmd, pktgen), so they agree on the syntax:
 *
 *   const s = new OptionScanner(args, (name) => new UsageError(`option ${name} needs a value`));
 *   while (s.next()) switch (s.name) { case '-p': o.portmask = parseMask(s.value()); break; ... }
 */
export class OptionScanner {
  /** the option's name: `--name` of `--name=value`, else the whole argument */
  name = '';
  /** the argument as typed, for "unknown option" messages */
  raw = '';
  private i = -1;
  private inline: string | undefined;

  constructor(private readonly args: readonly string[], private readonly missing: (name: string) => Error) {}

  /** Moves to the next option; false after the last. */
  next(): boolean {
    if (++this.i >= this.args.length) return false;
    this.raw = this.args[this.i];
    const eq = this.raw.startsWith('--') ? this.raw.indexOf('=') : -1;
    this.name = eq > 0 ? this.raw.slice(0, eq) : this.raw;
    this.inline = eq > 0 ? this.raw.slice(eq + 1) : undefined;
    return true;
  }

  /** true when the option came as `--name=value` (for options that take no value: an error) */
  hasInline(): boolean {
    return this.inline !== undefined;
  }

  /** The option's value: the inline one, or the next argument (consumed); throws `missing(name)` when there is none. */
  value(): string {
    const x = this.inline ?? this.args[++this.i];
    if (x === undefined) throw this.missing(this.name);
    this.inline = undefined;
    return x;
  }
}
