#!/usr/bin/env node
// Builds everything the feature ships: the bootstrapper bundle and the static C helpers for each architecture.
import { $, fs, path } from 'zx';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');
const compilers = { x86_64: 'x86_64-linux-gnu-gcc', aarch64: 'aarch64-linux-gnu-gcc' };
const nativeArch = (await $`uname -m`.quiet()).stdout.trim();
const cProjects = ['interceptor', 'supervisor'];

async function bundleBootstrapper() {
  await build({
    entryPoints: [path.join(root, 'src/cli.ts')],
    outfile: path.join(dist, 'k3s-sandbox.mjs'),
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'esm',
    minify: true,
    legalComments: 'eof',
    // Some CommonJS dependencies call require(); give the ESM bundle one.
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __k3sCreateRequire } from 'node:module';\nconst require = __k3sCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  await fs.chmod(path.join(dist, 'k3s-sandbox.mjs'), 0o755);
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
console.log(`built ${path.relative(root, dist)}/: k3s-sandbox.mjs, ${Object.keys(compilers).join(' and ')} helpers`);
