#!/usr/bin/env node
// Bootstrapper benchmark: readiness detection latency, cold and warm `up`, `status`, `env` and `--help`, each against
// Node's own start (`node -e 0`, the floor), interleaved in one fresh gVisor sandbox (runsc do, as the e2e tests
// do) against the k3s double installed as /usr/local/bin/k3s; prints a Markdown table for BENCHMARKS.md. It runs
// the shipped build: dist/k3s-sandbox.cjs and the chunks beside it (scripts/build.mjs).
//   node bench/bootstrapper/bench.mjs [--runs N]     (needs npm run build and test/fixtures/build-all.sh)
import { $, argv, fs, path } from 'zx';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const dist = path.join(root, 'dist');
const fixtures = path.join(root, 'build/fixtures');
const runs = Number(argv.runs ?? 15);
/** Targets as multiples of the floor (issue 11). */
const TARGETS = { help: 1.3, status: 1.3, env: 1.3, warmUp: 1.4 };

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const nowMs = () => performance.timeOrigin + performance.now();

async function timed(command) {
  const start = nowMs();
  await command();
  return nowMs() - start;
}

/** Wall-clock time (ms since the epoch) of the double's `k3s is up and running` line after `offset`. */
function readyTimestamp(log, offset) {
  const text = fs.readFileSync(log, 'utf8').slice(offset);
  const match = [...text.matchAll(/time="([^"]+)" level=info msg="k3s is up and running"/g)].at(-1);
  if (!match) throw new Error('no "k3s is up and running" line after the launch');
  // RFC3339Nano: keep the microseconds Date drops.
  const [, whole, fraction = ''] = /^(.*?\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(match[1]);
  return Date.parse(`${whole}Z`) + Number(`0.${fraction || '0'}`) * 1000;
}

async function inside() {
  const entry = argv.entry;
  const ks = (...args) => $`node ${entry} ${args}`.quiet();
  const log = '/var/log/k3s-sandbox/k3s.log';
  const latency = [];
  const coldUp = [];
  for (let i = 0; i < runs; i++) {
    await ks('down');
    const offset = fs.existsSync(log) ? fs.statSync(log).size : 0;
    const start = nowMs();
    await ks('up');
    const returned = nowMs();
    coldUp.push(returned - start);
    latency.push(returned - readyTimestamp(log, offset));
  }
  // Interleaved, so that load from elsewhere falls on every measure alike.
  const measures = { floor: [], help: [], status: [], env: [], warmUp: [] };
  for (let i = 0; i < runs; i++) {
    measures.floor.push(await timed(() => $`node -e 0`.quiet()));
    measures.help.push(await timed(() => ks('--help')));
    measures.status.push(await timed(() => ks('status')));
    measures.env.push(await timed(() => ks('env')));
    measures.warmUp.push(await timed(() => ks('up')));
  }
  return { latency, coldUp, ...measures };
}

async function native(entry) {
  const floor = [];
  const help = [];
  for (let i = 0; i < runs; i++) {
    floor.push(await timed(() => $`node -e 0`.quiet()));
    help.push(await timed(() => $`node ${entry} --help`.quiet()));
  }
  return { floor, help };
}

function bootstrapperFiles(dir) {
  return fs.readdirSync(dir).filter((name) => name === 'k3s-sandbox.cjs' || name.startsWith('k3s-sandbox-chunk-'));
}

if (argv.inside) {
  fs.writeFileSync(argv.inside, JSON.stringify(await inside()));
} else {
  for (const file of [path.join(dist, 'k3s-sandbox.cjs'), path.join(fixtures, 'k3s-double'), path.join(fixtures, 'k3s-sandbox-supervise')]) {
    if (!fs.existsSync(file)) throw new Error(`missing ${file}: run npm run build and test/fixtures/build-all.sh`);
  }
  const work = fs.mkdtempSync('/tmp/k3s-sandbox-bench-');
  const result = path.join(work, 'inside.json');
  // A snapshot of the entry and its chunks, so a rebuild meanwhile cannot interfere.
  const snapshot = path.join(work, 'bootstrapper');
  fs.mkdirpSync(snapshot);
  for (const name of bootstrapperFiles(dist)) fs.copyFileSync(path.join(dist, name), path.join(snapshot, name));
  const entry = path.join(snapshot, 'k3s-sandbox.cjs');
  const script = [
    'set -eu',
    `cp ${fixtures}/k3s-double /usr/local/bin/k3s`,
    `export K3S_SANDBOX_BIN_DIR=${fixtures} K3S_DOUBLE_READY_DELAY=300ms`,
    `node ${path.join(root, 'bench/bootstrapper/bench.mjs')} --inside ${result} --entry ${entry} --runs ${runs}`,
    // runsc keeps writes inside the sandbox: hand the numbers out on stdout.
    `cat ${result}`,
  ].join('\n');
  const out = (await $`runsc --network=none --platform=ptrace do bash -c ${script} > ${result}.out 2>&1`.nothrow(), fs.readFileSync(`${result}.out`, 'utf8'));
  let gvisor;
  try {
    gvisor = JSON.parse(out.trim().split('\n').at(-1));
  } catch {
    throw new Error(`the run in gVisor failed:\n${out}`);
  }
  const host = await native(entry);
  const floor = median(gvisor.floor);
  const ratio = (values) => (median(values) / floor).toFixed(2);
  const row = (name, values, extra = ['', '']) =>
    `| ${name} | ${median(values).toFixed(0)} | ${Math.min(...values).toFixed(0)} | ${Math.max(...values).toFixed(0)} | ${extra.join(' | ')} |`;
  // Under load the floor moves too: also the median of each round's own ratio, and the ratio of the minimums.
  const paired = (key) => median(gvisor[key].map((value, i) => value / gvisor.floor[i])).toFixed(2);
  const ofMinimums = (key) => (Math.min(...gvisor[key]) / Math.min(...gvisor.floor)).toFixed(2);
  const vsFloor = (name, key) =>
    row(name, gvisor[key], [
      `${ratio(gvisor[key])}× (paired ${paired(key)}×, min ${ofMinimums(key)}×)`,
      `≤ ${TARGETS[key]}× ${Number(ratio(gvisor[key])) <= TARGETS[key] ? '✓' : '✗'}`,
    ]);
  console.log(`runs: ${runs} each; machine: ${(await $`nproc`.quiet()).stdout.trim()} cores, load ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}, node ${process.version}`);
  console.log('| measure (ms) | median | min | max | ÷ floor (median) | target |');
  console.log('|---|---|---|---|---|---|');
  console.log(row('readiness detection latency, gVisor (double\'s "k3s is up and running" → `up` returns)', gvisor.latency, ['', '≤ 100 ms']));
  console.log(row('cold `up` to ready, gVisor (READY_DELAY 300 ms)', gvisor.coldUp));
  console.log(row('`node -e 0`, gVisor (the floor)', gvisor.floor, ['1.00×', '']));
  console.log(vsFloor('`k3s-sandbox --help`, gVisor', 'help'));
  console.log(vsFloor('`k3s-sandbox status`, gVisor', 'status'));
  console.log(vsFloor('`k3s-sandbox env`, gVisor', 'env'));
  console.log(vsFloor('warm `up` on a healthy cluster, gVisor', 'warmUp'));
  console.log(row('`node -e 0`, native', host.floor));
  console.log(row('`k3s-sandbox --help`, native', host.help, [`${(median(host.help) / median(host.floor)).toFixed(2)}×`, '']));
  const sizes = bootstrapperFiles(snapshot).map((name) => fs.statSync(path.join(snapshot, name)).size);
  console.log(
    `bootstrapper: ${sizes.length} files, ${(sizes.reduce((a, b) => a + b, 0) / 1024 / 1024).toFixed(2)} MiB in all, entry ${(fs.statSync(entry).size / 1024).toFixed(1)} KiB`,
  );
  fs.removeSync(work);
}
