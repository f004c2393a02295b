// Marks every file named in package.json's "bin" executable after a build.
// tsc writes its output 0644; npx in this checkout runs the bin file itself, so
// a fresh clone would answer "Permission denied" without this step.
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const file of Object.values(pkg.bin ?? {})) {
  const path = join(root, file);
  if (!existsSync(path)) {
    console.error(`bin-modes: ${file} is missing after the build; run "npm run build" and check tsconfig.json's include`);
    process.exit(1);
  }
  chmodSync(path, 0o755);
}
