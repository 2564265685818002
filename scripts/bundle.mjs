#!/usr/bin/env node
// The bootstrapper bundle (scripts/build.mjs builds it into dist/).
//   node scripts/bundle.mjs OUTDIR     bundles into OUTDIR and prints esbuild's metafile (test/unit/bundle.test.ts)
import { build, transform } from 'esbuild';
import { fs, path } from 'zx';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
export const CHUNK_PREFIX = 'k3s-sandbox-chunk-';
export const ENTRY = 'k3s-sandbox.cjs';
const EXTENSION = '.cjs';

/**
 * esbuild puts its CommonJS helpers (the packages need them) into a chunk of their own and makes every file import it,
 * even a file that uses none of them, by a bare `import "./chunk.cjs"` (esbuild issue #1892). That chunk only defines
 * functions, so such an import runs nothing, and removing it spares each command one file to open.
 */
async function dropRuntimeOnlyImports(outdir, metafile) {
  const runtimeOnly = Object.entries(metafile.outputs)
    .filter(([file, output]) => Object.keys(output.inputs).length === 0 && file.endsWith(EXTENSION))
    .map(([file]) => path.basename(file));
  for (const name of await fs.readdir(outdir)) {
    const file = path.join(outdir, name);
    const code = await fs.readFile(file, 'utf8');
    let kept = code;
    for (const chunk of runtimeOnly) kept = kept.replaceAll(`import"./${chunk}";`, '');
    if (kept !== code) await fs.writeFile(file, kept);
  }
}

/**
 * Each file esbuild split out, from ES module syntax to CommonJS: static imports become require() calls at the top,
 * dynamic ones `Promise.resolve().then(() => require())`, exports `module.exports` getters (live, as ES bindings are).
 * Node loads CommonJS files with one synchronous read each, where its ESM loader first starts its machinery and then
 * resolves, reads (on its thread pool) and links every file: in gVisor that was about 14 ms of each command's start
 * (BENCHMARKS.md, "Bootstrapper"). Strict mode stays, as ES modules have it.
 */
async function toCommonJs(outdir) {
  for (const name of await fs.readdir(outdir)) {
    const file = path.join(outdir, name);
    const { code } = await transform(await fs.readFile(file, 'utf8'), {
      format: 'cjs',
      platform: 'node',
      target: 'node18',
      minify: true,
      legalComments: 'eof',
      supported: { 'dynamic-import': false },
    });
    await fs.writeFile(file, `"use strict";${code}`);
  }
}

/**
 * Code-split: the entry holds every command's declaration and all the code of `--help`, `status`, `env` and a warm
 * `up`; the rest loads on demand (src/lazy.ts says why through one module), in chunks beside it. esbuild splits only
 * ES modules, so the split files are turned into CommonJS after (toCommonJs); `import.meta.url` becomes each file's
 * own URL, as it was. Returns esbuild's metafile.
 */
export async function bundleInto(outdir) {
  const version = (await fs.readJson(path.join(root, 'package.json'))).version;
  const { metafile } = await build({
    entryPoints: { 'k3s-sandbox': path.join(root, 'src/cli.ts') },
    outdir,
    splitting: true,
    chunkNames: `${CHUNK_PREFIX}[hash]`,
    outExtension: { '.js': EXTENSION },
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'esm',
    minify: true,
    legalComments: 'eof',
    define: { K3S_SANDBOX_VERSION: JSON.stringify(version), 'import.meta.url': '__k3sModuleUrl' },
    banner: { js: 'const __k3sModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
    logLevel: 'warning',
    metafile: true,
  });
  await dropRuntimeOnlyImports(outdir, metafile);
  await toCommonJs(outdir);
  const entry = path.join(outdir, ENTRY);
  await fs.writeFile(entry, `#!/usr/bin/env node\n${await fs.readFile(entry, 'utf8')}`);
  await fs.chmod(entry, 0o755);
  return metafile;
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const outdir = process.argv[2];
  if (!outdir) throw new Error('usage: node scripts/bundle.mjs OUTDIR');
  process.stdout.write(JSON.stringify(await bundleInto(path.resolve(outdir))));
}
