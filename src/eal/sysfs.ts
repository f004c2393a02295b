// Reading sysfs and procfs attributes: one trimmed line, or null when the file is absent or unreadable (an
// attribute of a device that went away, or of a link that is down, reads as an error).
import { readFileSync } from 'node:fs';

export function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}
