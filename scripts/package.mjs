#!/usr/bin/env node
// `npm run package` [--no-build]: builds (unless told the build is fresh), stages a self-contained feature folder (everything install.sh needs and nothing else),
// and packages it with the devcontainer CLI into build/package/devcontainer-feature-k3s-sandbox.tgz.
// The stage carries both architectures' prebuilt helpers plus their C sources, so install.sh can build them with cc
// on a machine the prebuilt ones do not fit.
import { $, fs, path } from 'zx';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const stage = path.join(root, 'build', 'package-stage', 'k3s-sandbox');
const output = path.join(root, 'build', 'package');
const ARCHES = ['x86_64', 'aarch64'];
const HELPERS = ['k3s-sandbox-intercept', 'k3s-sandbox-supervise'];
const HOOKS = ['entrypoint.sh', 'post-start.sh', 'lifecycle.sh', 'session-start.sh', 'claude-setup.sh', 'claude-settings.json'];

// C sources only: the checkouts' build/ dirs hold objects for this machine, and the interceptor's fuzz target
// (interceptor/fuzz/, with its corpus) is a test, not something install.sh builds.
function isCSource(file) {
  const parts = path.relative(root, file).split(path.sep);
  return !parts.includes('build') && !(parts[0] === 'interceptor' && parts[1] === 'fuzz') && !file.endsWith('.o');
}

async function copyInto(relative, filter) {
  await fs.copy(path.join(root, relative), path.join(stage, relative), { filter });
}

async function stageFeature() {
  await fs.remove(path.dirname(stage));
  await fs.mkdirp(stage);
  for (const file of ['devcontainer-feature.json', 'install.sh', 'NOTES.md', 'LICENSE']) await copyInto(file);
  for (const hook of HOOKS) await copyInto(path.join('hooks', hook));
  // The bootstrapper: its entry and the chunks it loads (scripts/build.mjs).
  for (const file of await fs.readdir(path.join(root, 'dist'))) {
    if (file === 'k3s-sandbox.cjs' || /^k3s-sandbox-chunk-.*\.cjs$/.test(file)) await copyInto(path.join('dist', file));
  }
  for (const arch of ARCHES) {
    for (const helper of HELPERS) await copyInto(path.join('dist', arch, helper));
  }
  await copyInto('interceptor', isCSource);
  await copyInto('supervisor', isCSource);
}

if (!process.argv.includes('--no-build')) await $({ cwd: root, stdio: 'inherit' })`node scripts/build.mjs`;
await stageFeature();
await $({ cwd: root, stdio: 'inherit' })`npx --no-install devcontainer features package ${stage} -o ${output} -f`;
const tgz = path.join(output, 'devcontainer-feature-k3s-sandbox.tgz');
if (!(await fs.pathExists(tgz))) throw new Error(`devcontainer features package did not produce ${tgz}`);
console.log(`packaged ${path.relative(root, tgz)} (${(await fs.stat(tgz)).size} bytes)`);
