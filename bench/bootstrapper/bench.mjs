#!/usr/bin/env node
// Bootstrapper benchmark: readiness detection latency, warm `up`, `status`, bundle size and Node start cost.
// Runs the measurements inside one fresh gVisor sandbox (runsc do, as the e2e tests do) against the k3s
// double installed as /usr/local/bin/k3s; prints a Markdown table for BENCHMARKS.md. Side by side with
// dist/k3s-sandbox.mjs it measures the same source bundled with esbuild code splitting, where the
// Kubernetes client and other lazily imported code sit in chunks that a warm `up` or `status` never parses.
//   node bench/bootstrapper/bench.mjs [--runs N]     (needs npm run build and test/fixtures/build-all.sh)
import { build } from 'esbuild';
import { $, argv, fs, path } from 'zx';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const distBundle = path.join(root, 'dist/k3s-sandbox.mjs');
// Inside the sandbox: the snapshot of the bundle the outer run took, so a rebuild meanwhile cannot interfere.
const bundle = argv.bundle ?? distBundle;
const fixtures = path.join(root, 'build/fixtures');
const runs = Number(argv.runs ?? 15);

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
  const ks = (...args) => $`node ${bundle} ${args}`.quiet();
  const split = (...args) => $`node ${argv.split} ${args}`.quiet();
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
  const warmUp = [];
  const status = [];
  const splitWarmUp = [];
  const splitStatus = [];
  for (let i = 0; i < runs; i++) {
    warmUp.push(await timed(() => ks('up')));
    splitWarmUp.push(await timed(() => split('up')));
    status.push(await timed(() => ks('status')));
    splitStatus.push(await timed(() => split('status')));
  }
  const nodeStart = [];
  const bundleHelp = [];
  const splitHelp = [];
  for (let i = 0; i < runs; i++) {
    nodeStart.push(await timed(() => $`node -e 0`.quiet()));
    bundleHelp.push(await timed(() => ks('--help')));
    splitHelp.push(await timed(() => split('--help')));
  }
  return { latency, coldUp, warmUp, status, nodeStart, bundleHelp, splitWarmUp, splitStatus, splitHelp };
}

async function native(snapshot) {
  const nodeStart = [];
  const bundleHelp = [];
  for (let i = 0; i < runs; i++) {
    nodeStart.push(await timed(() => $`node -e 0`.quiet()));
    bundleHelp.push(await timed(() => $`node ${snapshot} --help`.quiet()));
  }
  return { nodeStart, bundleHelp };
}

if (argv.inside) {
  fs.writeFileSync(argv.inside, JSON.stringify(await inside()));
} else {
  for (const file of [distBundle, path.join(fixtures, 'k3s-double'), path.join(fixtures, 'k3s-sandbox-supervise')]) {
    if (!fs.existsSync(file)) throw new Error(`missing ${file}: run npm run build and test/fixtures/build-all.sh`);
  }
  const work = fs.mkdtempSync('/tmp/k3s-sandbox-bench-');
  const result = path.join(work, 'inside.json');
  const snapshot = path.join(work, 'k3s-sandbox.mjs');
  fs.copyFileSync(distBundle, snapshot);
  // .mjs like the shipped bundle: src/paths.ts tells a bundle from a source checkout by that suffix.
  const splitEntry = path.join(work, 'split', 'cli.mjs');
  await build({
    entryPoints: [path.join(root, 'src/cli.ts')],
    outdir: path.dirname(splitEntry),
    splitting: true,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'esm',
    minify: true,
    banner: { js: "import { createRequire as __k3sCreateRequire } from 'node:module';\nconst require = __k3sCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  const script = [
    'set -eu',
    `cp ${fixtures}/k3s-double /usr/local/bin/k3s`,
    `export K3S_SANDBOX_BIN_DIR=${fixtures} K3S_DOUBLE_READY_DELAY=300ms`,
    `node ${path.join(root, 'bench/bootstrapper/bench.mjs')} --inside ${result} --bundle ${snapshot} --split ${splitEntry} --runs ${runs}`,
    // runsc keeps writes inside the sandbox: hand the numbers out on stdout.
    `cat ${result}`,
  ].join('\n');
  const out = (await $`runsc --network=none --platform=ptrace do bash -c ${script} > ${result}.out 2>&1`.nothrow(), fs.readFileSync(`${result}.out`, 'utf8'));
  const gvisor = JSON.parse(out.trim().split('\n').at(-1));
  const host = await native(snapshot);
  const row = (name, values, target = '') => `| ${name} | ${median(values).toFixed(0)} | ${Math.min(...values).toFixed(0)} | ${Math.max(...values).toFixed(0)} | ${target} |`;
  console.log(`runs: ${runs} each; machine: ${(await $`nproc`.quiet()).stdout.trim()} cores, node ${process.version}`);
  console.log('| measure (ms) | median | min | max | target |');
  console.log('|---|---|---|---|---|');
  console.log(row('readiness detection latency, gVisor (double\'s "k3s is up and running" → `up` returns)', gvisor.latency, '≤ 100'));
  console.log(row('cold `up` to ready, gVisor (READY_DELAY 300 ms)', gvisor.coldUp));
  console.log(row('warm `up` on a healthy cluster, gVisor', gvisor.warmUp, '≤ 300'));
  console.log(row('`status`, gVisor', gvisor.status, '≤ 250'));
  console.log(row('warm `up`, gVisor, code-split bundle', gvisor.splitWarmUp, '≤ 300'));
  console.log(row('`status`, gVisor, code-split bundle', gvisor.splitStatus, '≤ 250'));
  console.log(row('`node -e 0`, gVisor', gvisor.nodeStart));
  console.log(row('`k3s-sandbox --help` (load the bundle), gVisor', gvisor.bundleHelp));
  console.log(row('`k3s-sandbox --help`, gVisor, code-split bundle', gvisor.splitHelp));
  console.log(row('`node -e 0`, native', host.nodeStart));
  console.log(row('`k3s-sandbox --help` (load the bundle), native', host.bundleHelp));
  const splitFiles = fs.readdirSync(path.dirname(splitEntry)).map((name) => fs.statSync(path.join(path.dirname(splitEntry), name)).size);
  console.log(`bundle: dist/k3s-sandbox.mjs ${(fs.statSync(snapshot).size / 1024 / 1024).toFixed(2)} MiB; code-split: ${splitFiles.length} files, ${(splitFiles.reduce((a, b) => a + b, 0) / 1024 / 1024).toFixed(2)} MiB, entry ${(fs.statSync(splitEntry).size / 1024).toFixed(0)} KiB`);
  fs.removeSync(work);
}
