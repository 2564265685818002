/**
 * The code-split bootstrapper (scripts/bundle.mjs, src/lazy.ts): the hot commands (`--help`, `status`, `env`, a warm
 * `up`) open few files, because each module file costs Node's ESM loader about 18 syscalls, slow in gVisor
 * (BENCHMARKS.md, "Bootstrapper"). Checked on esbuild's metafile of a real build: the files the entry loads
 * statically, and what they hold.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
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

/** The output files a file loads before it runs: it and its static imports, transitively (as written on disk). */
function staticClosure(dir: string, entry: string): string[] {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const code = readFileSync(join(dir, name), 'utf8');
    // Static imports only: `import{..}from"./x.mjs"` and bare `import"./x.mjs"`, not `import("./x.mjs")`.
    for (const match of code.matchAll(/import(?:\{[^}]*\}from|\s*)"\.\/([^"]+\.mjs)"/g)) visit(match[1]);
  };
  visit(entry);
  return [...seen];
}

test('bundle: the entry loads at most three files, and they hold every hot command and nothing heavy', () => {
  const { metafile, dir } = build();
  try {
    const closure = staticClosure(dir, 'k3s-sandbox.mjs');
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
