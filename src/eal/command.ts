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
