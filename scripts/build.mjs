#!/usr/bin/env node
// Builds everything the feature ships: the bootstrapper bundle and the static C helpers for each architecture.
import { $, fs, path } from 'zx';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');
const compilers = { x86_64: 'x86_64-linux-gnu-gcc', aarch64: 'aarch64-linux-gnu-gcc' };
const nativeArch = (await $`uname -m`.quiet()).stdout.trim();
const cProjects = ['interceptor', 'supervisor'];
const CHUNK_PREFIX = 'k3s-sandbox-chunk-';
const ENTRY = 'k3s-sandbox.mjs';

/**
 * The bootstrapper is code-split: a small entry, dist/k3s-sandbox.mjs, which holds the command declarations, and
 * chunks beside it (dist/k3s-sandbox-chunk-*.mjs) that a command imports when it runs, so `--help`, `status` and
 * `env` never parse the Kubernetes client. install.sh copies the entry and its chunks into one directory.
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

/**
 * `node:` built-ins are loaded with require() (the banner's), not as ES modules: an ESM import of a built-in makes Node
 * read every export of it (node:fs's getters then load all of node:stream), and a command pays for that at start-up.
 * Each importing file gets its own small wrapper (the importer is part of its path), so that no wrapper becomes a
 * chunk of its own; dynamic imports of built-ins stay as they are.
 */
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'import-statement' ? { path: `${args.path}|${args.importer}`, namespace: 'node-builtin' } : { path: args.path, external: true },
    );
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path.split('|')[0])});`,
      loader: 'js',
    }));
  },
};

async function bundleInto(outdir) {
  const version = (await fs.readJson(path.join(root, 'package.json'))).version;
  await build({
    entryPoints: { 'k3s-sandbox': path.join(root, 'src/cli.ts') },
    outdir,
    splitting: true,
    chunkNames: `${CHUNK_PREFIX}[hash]`,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'esm',
    minify: true,
    legalComments: 'eof',
    define: { K3S_SANDBOX_VERSION: JSON.stringify(version) },
    // Some CommonJS dependencies call require(); give each ESM file one.
    banner: {
      js: "import { createRequire as __k3sCreateRequire } from 'node:module';\nconst require = __k3sCreateRequire(import.meta.url);",
    },
    plugins: [builtinsThroughRequire],
    logLevel: 'warning',
  });
  const entry = path.join(outdir, ENTRY);
  await fs.writeFile(entry, `#!/usr/bin/env node\n${await fs.readFile(entry, 'utf8')}`);
  await fs.chmod(entry, 0o755);
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
console.log(`built ${path.relative(root, dist)}/: k3s-sandbox.mjs and its chunks, ${Object.keys(compilers).join(' and ')} helpers`);
