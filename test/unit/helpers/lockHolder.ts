// Takes the instance lock in its own process, says "locked <pid of a detached child or 0>", and holds
// the lock for argv[3] ms. With argv[4] = "spawn", it first starts a detached `sleep` the way launch
// starts the supervisor, to show the lock does not leak into children.
import { spawn } from 'node:child_process';
import { acquireInstanceLock } from '../../../src/instance/lock.js';

const [file, holdMs, mode] = process.argv.slice(2);
const lock = await acquireInstanceLock(file, 30);
let childPid = 0;
if (mode === 'spawn') {
  const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  child.unref();
  childPid = child.pid ?? 0;
}
process.stdout.write(`locked ${childPid}\n`);
setTimeout(() => {
  lock.release();
  process.exit(0);
}, Number(holdMs));
