#!/usr/bin/env node
// Builds everything the feature ships: the bootstrapper bundle and the static C helpers for each architecture.
import { $, fs, path } from 'zx';
import { bundleInto, CHUNK_PREFIX, ENTRY } from './bundle.mjs';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');
const compilers = { x86_64: 'x86_64-linux-gnu-gcc', aarch64: 'aarch64-linux-gnu-gcc' };
const nativeArch = (await $`uname -m`.quiet()).stdout.trim();
const cProjects = ['interceptor', 'supervisor'];

/**
 * The bootstrapper is code-split (scripts/bundle.mjs): the entry, dist/k3s-sandbox.cjs, and chunks beside it
 * (dist/k3s-sandbox-chunk-*.cjs). install.sh copies the entry and its chunks into one directory.
 */
async function bundleBootstrapper() {
  // Built aside, then moved in: chunks first (content-hashed names), the entry by one rename, and only then the old
  // chunks go, so a k3s-sandbox started from dist/ meanwhile finds a complete set.
  const staging = await fs.mkdtemp(path.join(dist, '.bootstrapper-'));
  try {
    await bundleInto(staging);
    const fresh = await fs.readdir(staging);
    for (const name of fresh) if (name !== ENTRY) await fs.rename(path.join(staging, name), path.join(dist, name));
    await fs.rename(path.join(staging, ENTRY), path.join(dist, ENTRY));
    for (const name of await fs.readdir(dist)) {
      if (name.startsWith(CHUNK_PREFIX) && !fresh.includes(name)) await fs.remove(path.join(dist, name));
    }
  } finally {
    await fs.remove(staging);
  }
}

async function compilerFor(arch) {
  const cc = arch === nativeArch ? 'cc' : compilers[arch];
  const found = await $`command -v ${cc}`.nothrow().quiet();
  return found.exitCode === 0 ? cc : undefined;
}

async function compileHelpers() {
  for (const arch of Object.keys(compilers)) {
    const cc = await compilerFor(arch);
    if (!cc) {
      throw new Error(`no C compiler for ${arch}: install ${compilers[arch]} (Debian package gcc-${arch.replace('_', '-')}-linux-gnu)`);
    }
    const out = path.join(dist, arch);
    await fs.mkdirp(out);
    for (const project of cProjects) {
      await $`make -s -C ${path.join(root, project)} OUT=${out} CC=${cc}`;
    }
  }
  await fs.copy(path.join(dist, nativeArch), path.join(dist, 'bin'), { overwrite: true });
}

await fs.mkdirp(dist);
await bundleBootstrapper();
await compileHelpers();
console.log(`built ${path.relative(root, dist)}/: k3s-sandbox.cjs and its chunks, ${Object.keys(compilers).join(' and ')} helpers`);
