#!/usr/bin/env node
// The bootstrapper bundle (scripts/build.mjs builds it into dist/).
//   node scripts/bundle.mjs OUTDIR     bundles into OUTDIR and prints esbuild's metafile (test/unit/bundle.test.ts)
import { build } from 'esbuild';
import { fs, path } from 'zx';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
export const CHUNK_PREFIX = 'k3s-sandbox-chunk-';
export const ENTRY = 'k3s-sandbox.mjs';

/**
 * `node:` built-ins are loaded with require() (the banner's), not as ES modules: an ESM import of a built-in makes Node
 * read every export of it (node:fs's getters then load all of node:stream), and a command pays for that at start-up.
 * Each importing file gets its own small wrapper (the importer is part of its path), so that no wrapper becomes a
 * chunk of its own; dynamic imports of built-ins stay as they are. For our own files (src/) the wrapper is an ES module
 * exporting just the names the file imports, so that the entry needs none of esbuild's CommonJS helpers: those live
 * in a chunk every other chunk imports, which would be one more file for each command to open.
 */
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'import-statement' ? { path: `${args.path}|${args.importer}`, namespace: 'node-builtin' } : { path: args.path, external: true },
    );
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, async (args) => {
      const [builtin, importer] = args.path.split('|');
      const names = importer.startsWith(path.join(root, 'src/')) ? namedImports(await fs.readFile(importer, 'utf8'), builtin) : undefined;
      if (!names) return { contents: `module.exports = require(${JSON.stringify(builtin)});`, loader: 'js' };
      const exports = names.map((name) => `export const ${name} = builtin.${name};`);
      // The banner's require under another name: esbuild would route a require() call through its CommonJS helpers.
      return { contents: [`const builtin = __k3sRequire(${JSON.stringify(builtin)});`, ...exports].join('\n'), loader: 'js' };
    });
  },
};

/**
 * The values `source` imports by name from `builtin` (`import { a, b as c, type T } from 'node:x'`: a and b), or
 * undefined when it imports it any other way (a default or namespace import, a re-export), which keeps the CommonJS
 * wrapper.
 */
function namedImports(source, builtin) {
  const quoted = `['"]${builtin.replace(/[/]/g, '\\/')}['"]`;
  const statements = [...source.matchAll(new RegExp(`^(import|export)\\s+([^;]*?)\\s+from\\s+${quoted}`, 'gms'))];
  if (statements.length === 0) return undefined;
  const names = new Set();
  for (const [, keyword, clause] of statements) {
    if (keyword !== 'import' || clause.startsWith('type ')) {
      if (keyword === 'import') continue;
      return undefined;
    }
    const braces = /^\{([^}]*)\}$/.exec(clause.trim());
    if (!braces) return undefined;
    for (const specifier of braces[1].split(',').map((part) => part.trim()).filter(Boolean)) {
      if (specifier.startsWith('type ')) continue;
      names.add(specifier.split(/\s+as\s+/)[0]);
    }
  }
  return [...names];
}

/**
 * esbuild puts its CommonJS helpers (the packages need them) into a chunk of their own and makes every file import it,
 * even a file that uses none of them, by a bare `import "./chunk.mjs"` (esbuild issue #1892). That chunk only defines
 * functions, so such an import runs nothing, and removing it spares each command one file to open.
 */
async function dropRuntimeOnlyImports(outdir, metafile) {
  const runtimeOnly = Object.entries(metafile.outputs)
    .filter(([file, output]) => Object.keys(output.inputs).length === 0 && file.endsWith('.mjs'))
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
 * Code-split: the entry holds every command's declaration and all the code of `--help`, `status`, `env` and a warm
 * `up`; the rest loads on demand (src/lazy.ts says why through one module), in chunks beside it. Returns esbuild's
 * metafile.
 */
export async function bundleInto(outdir) {
  const version = (await fs.readJson(path.join(root, 'package.json'))).version;
  const { metafile } = await build({
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
    // Some CommonJS dependencies call require(); give each ESM file one (and the built-in wrappers their own name for it).
    banner: {
      js: "import { createRequire as __k3sCreateRequire } from 'node:module';\nconst require = __k3sCreateRequire(import.meta.url), __k3sRequire = require;",
    },
    plugins: [builtinsThroughRequire],
    logLevel: 'warning',
    metafile: true,
  });
  await dropRuntimeOnlyImports(outdir, metafile);
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
