// The `up` pipeline's fallback loop, with real processes in real gVisor: the probe facts claim a privileged
// container on a real kernel, so mode auto plans server; the k3s double (as /usr/local/bin/k3s) then meets
// gVisor for real, its kubelet dies on the missing kernel tunables, and the pipeline must fall back to control-plane.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInGvisor } from './helpers/gvisor.js';
import { REPO } from './helpers/repo.js';
import { tempDir } from './helpers/tempDir.js';

test('in real gVisor: auto plans server, kubelet dies on the missing tunables, and up falls back to control-plane', (t) => {
  const script = join(tempDir('pipeline'), 'fallback.mts');
  const src = (file: string) => JSON.stringify(join(REPO, file));
  writeFileSync(
    script,
    [
      `import { DEFAULT_CONFIG } from ${src('src/config.ts')};`,
      `import { resolvePaths } from ${src('src/paths.ts')};`,
      `import { bringUpFrom } from ${src('src/pipeline.ts')};`,
      `import { targetUser } from ${src('src/steps/publish.ts')};`,
      `import { createStatusReporter } from ${src('src/ui/status.ts')};`,
      `import { run as down } from ${src('src/commands/down.ts')};`,
      `import { privilegedDockerFacts } from ${src('test/unit/helpers/probeFacts.ts')};`,
      "const config = { ...DEFAULT_CONFIG, mode: 'auto' as const };",
      'const paths = resolvePaths(config);',
      'const status = createStatusReporter(process.stdout);',
      'const options = { wait: true, waitNode: false, json: false };',
      'const shared = { config, paths, status, options };',
      "const result = await bringUpFrom(privilegedDockerFacts(), targetUser('root'), shared);",
      "console.log(`final mode: ${result.instance.record.mode}; fallbacks: ${JSON.stringify(result.fallbacks)}; ready: ${result.ready !== undefined}`);",
      'console.log(`down: ${await down({ config, configSources: {} as never, paths, status })}`);',
    ].join('\n'),
  );
  const run = runInGvisor(t, [
    'bash',
    '-c',
    `exec 2>&1; cp build/fixtures/k3s-double /usr/local/bin/k3s && ` +
      `K3S_SANDBOX_BIN_DIR=${join(REPO, 'dist/bin')} K3S_DOUBLE_READY_DELAY=300ms node --import tsx ${script}`,
  ]);
  if (!run) return;
  const { status, output } = run;
  assert.equal(status, 0, output);
  assert.match(output, /✓ plan \(\d+\.\ds\): server\n/);
  assert.match(output, /level=fatal msg="Failed to start ContainerManager"/);
  assert.match(output, /mode server cannot run here: .*; falling back to mode control-plane/);
  assert.match(output, /✓ plan \(\d+\.\ds\): control-plane \(fallback\)\n/);
  assert.match(output, /final mode: control-plane; fallbacks: \[\{"from":"server","reason":"[^"]+"\}\]; ready: true/);
  assert.match(output, /down: 0/);
});
