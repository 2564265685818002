#!/usr/bin/env node
// Probe benchmark: how long `collectFacts` (src/steps/probe.ts) takes, natively and inside gVisor (runsc do).
// The target is ≤ 150 ms per probe. The first call in a fresh process and the median of later calls are
// reported separately (the first pays for cold caches). Prints a Markdown table for BENCHMARKS.md.
//   node bench/probe/bench.mjs [--runs N]
import { spawnSync } from 'node:child_process';
import { $, argv, fs, os, path } from 'zx';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const runs = Number(argv.runs ?? 30);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Runs inside the measured environment: times collectFacts `runs` times in this process. */
async function measure() {
  const { collectFacts } = await import(path.join(root, 'src/steps/probe.ts'));
  const durations = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await collectFacts({ dataDir: '/var/lib/rancher/k3s', httpsPort: 6443 });
    durations.push(performance.now() - start);
  }
  process.stdout.write(JSON.stringify({ first: durations[0], median: median(durations.slice(1)), max: Math.max(...durations) }));
}

function inGvisor() {
  // runsc loses output written straight to a pipe, and files written inside stay inside: stdout goes to a host file.
  const out = path.join(os.tmpdir(), `probe-bench-${process.pid}.json`);
  const fd = fs.openSync(out, 'w');
  const script = path.join(root, 'bench/probe/bench.mjs');
  const result = spawnSync('runsc', ['--network=none', '--platform=ptrace', 'do', process.execPath, '--import', 'tsx', script, '--inside', '--runs', String(runs)], {
    cwd: root,
    stdio: ['ignore', fd, 'inherit'],
  });
  fs.closeSync(fd);
  const text = fs.readFileSync(out, 'utf8');
  fs.rmSync(out);
  if (result.status !== 0) throw new Error(`runsc exited ${result.status}: ${text}`);
  return JSON.parse(text);
}

if (argv.inside) {
  await measure();
} else {
  const native = JSON.parse((await $`node --import tsx ${path.join(root, 'bench/probe/bench.mjs')} --inside --runs ${runs}`.quiet()).stdout);
  const gvisor = inGvisor();
  const row = (name, r) => `| ${name} | ${r.first.toFixed(1)} | ${r.median.toFixed(1)} | ${r.max.toFixed(1)} |`;
  console.log(`Probe (collectFacts, ${runs} runs per environment, target ≤ 150 ms)\n`);
  console.log('| environment | first call (ms) | median of the rest (ms) | max (ms) |');
  console.log('|---|---|---|---|');
  console.log(row('native', native));
  console.log(row('gVisor (runsc --platform=ptrace)', gvisor));
}
