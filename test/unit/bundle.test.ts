/**
 * The code-split bootstrapper (scripts/bundle.mjs, src/lazy.ts): the hot commands (`--help`, `status`, `env`, a warm
 * `up`) open few files, because each file costs Node's loader a resolve, a read and a compile, slow in gVisor
 * (BENCHMARKS.md, "Bootstrapper"). Checked on a real build: the files the entry loads when Node runs it, and what
 * esbuild's metafile says they hold.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';

interface Metafile {
  outputs: Record<string, { inputs: Record<string, unknown>; imports: { path: string; kind: string; external?: boolean }[] }>;
}

const root = new URL('../..', import.meta.url).pathname;

function build(): { metafile: Metafile; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'k3s-sandbox-bundle-'));
  const metafile = JSON.parse(execFileSync(process.execPath, [join(root, 'scripts/bundle.mjs'), dir], { encoding: 'utf8' })) as Metafile;
  return { metafile, dir };
}

/**
 * The output files the entry loads before any command runs: `--help` run by Node, with a preload that lists, at exit,
 * the bundle's files in Node's module cache (CommonJS: what is required statically loads before the entry runs).
 */
function loadedByEntry(dir: string): string[] {
  const list = join(dir, 'loaded.json');
  const recorder = join(dir, 'record-loaded.cjs');
  writeFileSync(recorder, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(Object.keys(require.cache))));\n`);
  execFileSync(process.execPath, ['--require', recorder, join(dir, 'k3s-sandbox.cjs'), '--help'], { encoding: 'utf8' });
  return (JSON.parse(readFileSync(list, 'utf8')) as string[]).filter((file) => dirname(file) === dir && file !== recorder).map((file) => basename(file));
}

test('bundle: the entry loads at most three files, and they hold every hot command and nothing heavy', () => {
  const { metafile, dir } = build();
  try {
    const closure = loadedByEntry(dir);
    const inputs = Object.entries(metafile.outputs)
      .filter(([file]) => closure.includes(basename(file)))
      .flatMap(([, output]) => Object.keys(output.inputs));
    assert.ok(closure.length <= 3, `the entry loads ${closure.length} files: ${closure.join(' ')}`);
    for (const hot of ['src/commands/status.ts', 'src/commands/env.ts', 'src/pipeline.ts', 'src/instance/health.ts', 'src/steps/publish.ts', 'src/steps/report.ts']) {
      assert.ok(inputs.includes(hot), `${hot} is not in the files the entry loads`);
    }
    for (const heavy of ['src/steps/launch.ts', 'src/steps/probe.ts', 'src/steps/plan.ts', 'src/steps/wait.ts', 'src/kube/kubeconfig.ts']) {
      assert.ok(!inputs.includes(heavy), `${heavy} loads with the entry`);
    }
    assert.deepEqual(inputs.filter((input) => input.includes('node_modules/')), [], 'no package loads with the entry');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bundle: our own code is imported lazily only through src/lazy.ts (and the Kubernetes client\'s kubeconfig code)', () => {
  const source = execFileSync('grep', ['-rnE', "import\\('\\.", join(root, 'src')], { encoding: 'utf8' });
  const others = source
    .split('\n')
    .filter((line) => line && !/import\('(\.\.?\/)+lazy\.js'\)/.test(line) && !/import\('(\.\.\/kube\/|\.\/)kubeconfig\.js'\)/.test(line));
  assert.deepEqual(others, [], 'each further dynamic-import target of our own code splits the entry\'s code into more files');
});
