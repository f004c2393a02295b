// A full garbage collection on demand, on any thread: what `node --expose-gc` gives as gc(), without the flag on
// the command line. For measurements only (before a window whose GC count is reported), never on a data path.
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

let gcFn: (() => void) | null = null;

/** Collects this thread's heap fully (the first call turns V8's --expose-gc on for the process). */
export function fullGc(): void {
  if (gcFn === null) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
}
