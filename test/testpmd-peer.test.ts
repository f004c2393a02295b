// The DPDK testpmd peer (bench/dpdk/testpmd.ts) against a stand-in dpdk-testpmd put first on PATH: a script that
// talks the way testpmd does when its ports fail, with its prompt on stdout and its errors on stderr, written so
// that stderr's line lands between two halves of the prompt. Checks that the prompt is still found, what the RFC
// 2544 runner says of such a DUT, and that no testpmd is left running after either.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Testpmd } from '../bench/dpdk/testpmd.js';
import { startDut } from '../bench/rfc2544-dut.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pktio-fake-testpmd-'));
const pidFile = path.join(dir, 'pid');
// testpmd's output when a port cannot take the frame size: the errors at start-up, the first prompt, then at
// 'start' the refusal on stderr between "testpm" and "d> " (each write flushed and a moment apart, so the two
// pipes deliver them in that order); 'quit' ends it, anything else gets a prompt. The start-up errors come after
// the first prompt's half "testpm": testpmd writes them first, but a loaded host's reader can take stdout's chunk
// before stderr's (a unit run saw "testpmFrame size (9018) > ..." in the runner's message)
fs.writeFileSync(path.join(dir, 'dpdk-testpmd'), `#!/bin/bash
echo $$ > ${pidFile}
echo 'Interactive-mode selected'
printf 'testpm'
sleep 0.1
echo 'Frame size (9018) > device max frame size (1518) for port_id 0' >&2
echo 'Fail to configure port 0' >&2
echo 'Start ports failed' >&2
sleep 0.1
printf 'd> '
while read -r line; do
  case $line in
    start) printf 'testpm'; sleep 0.1; echo 'Not all ports were started' >&2; sleep 0.1; printf 'd> ' ;;
    quit) echo 'Bye...'; exit 0 ;;
    *) printf 'testpmd> ' ;;
  esac
done
`, { mode: 0o755 });
process.env.PATH = `${dir}:${process.env.PATH}`;
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Whether the stand-in's process still runs. */
function alive(): boolean {
  try {
    process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
}

t.test('a prompt split by a stderr line is still the prompt', async (t) => {
  const tp = await Testpmd.start({ vdevs: [] });
  t.ok(alive(), 'the stand-in runs');
  const text = await tp.cmd('start', 5000);
  t.equal(text.replace(/\r/g, ''), '', "'start' printed nothing on stdout before its prompt");
  t.match(tp.out, /testpm(Not all ports were started\n)?d> |Not all ports were started/, 'the refusal is in the output');
  t.equal(await tp.quit(), 0, 'quit at the next prompt');
  t.notOk(alive(), 'the stand-in is gone');
});

t.test('the RFC 2544 runner refuses such a DUT in one line and leaves nothing running', async (t) => {
  await t.rejects(startDut('testpmd', ['--vdev', 'net_memif0'], { fwd: 0, main: 0 }, 9018), {
    message: 'dpdk-testpmd could not start its ports: Frame size (9018) > device max frame size (1518) for port_id 0; ' +
      'Fail to configure port 0; Start ports failed; Not all ports were started ' +
      '(frames of 9018 bytes: leave out --jumbo and sizes above 1518, or testpmd from --dut)',
  }, 'every error line whole, in the order testpmd wrote them, no prompt half in any');
  t.notOk(alive(), 'the testpmd it started has exited');
});
