/**
 * `npm run build` (after `tsc --noEmit` has type-checked src/): bundle src/cli.ts into dist/
 * with esbuild, so a run loads a handful of files instead of ~100 modules (pg-setup's own and
 * its libraries'), each of which Node's ESM loader resolves, reads, compiles and links apart.
 *
 * Code splitting keeps every dynamic import() a file of its own, loaded only when reached:
 * - dist/cli.js holds `--help` and `--version` (the shared errors, flags and output go into one
 *   chunk both use); the commands come in with `import('./commands/index.js')`;
 * - pg (db/pg-driver.ts), execa (io/exec.ts) and listr2 (plan/run.ts) are chunks of their own,
 *   loaded on the first connection, child process or terminal task list;
 * - dockerode and @inquirer/prompts stay outside the bundle (dockerode's ssh2 carries optional
 *   native code), imported from node_modules by io/docker.ts and options/prompts.ts when used.
 * pg-setup's own modules import each other statically, so they form one chunk: splitting at
 * each of them made ~30 small files on a re-run's path, and each file costs about 1 ms. The
 * exception is providers/local/tar.ts (with zlib), which only a download of binaries needs.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * pg's crypto helpers (`pg/lib/crypto/utils.js`, required by its client and SCRAM code) are
 * replaced by src/db/pg-crypto.ts: the same functions on Node's own crypto instead of Web Crypto,
 * whose first use costs ~10 ms of every run that logs in (see that file).
 */
let pgCryptoReplaced = 0;
const pgNodeCrypto = {
  name: 'pg-node-crypto',
  setup(build) {
    const target = join('node_modules', 'pg', 'lib', 'crypto', 'utils');
    build.onResolve({ filter: /utils$/ }, (args) => {
      if (!args.importer || relative(ROOT, resolve(dirname(args.importer), args.path)) !== target) return undefined;
      pgCryptoReplaced++;
      return { path: join(ROOT, 'src/db/pg-crypto.ts') };
    });
  },
};

/**
 * pg-setup's own imports of Node's built-in modules (`import { readFileSync } from 'node:fs'`)
 * become `require('node:fs')` and the names src/ imports from it. An ESM import of a built-in
 * makes Node build the module's ESM facade, which reads every export, lazy getters included:
 * for node:fs that loads all of its stream classes (fs.ReadStream), a quarter of `--help` on
 * Node 24. Libraries' own imports are left as they are.
 */
let imported;
function importedNames() {
  if (imported) return imported;
  imported = new Map();
  const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  for (const file of files(join(ROOT, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/^import\s+(type\s+)?\{([^}]*)\}\s+from\s+'(node:[^']+)';/gm)) {
      if (m[1]) continue;
      const names = imported.get(m[3]) ?? new Set();
      for (const part of m[2].split(',').map((p) => p.trim()).filter(Boolean)) if (!part.startsWith('type ')) names.add(part.split(/\s+as\s+/)[0]);
      imported.set(m[3], names);
    }
  }
  return imported;
}

const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(build) {
    const src = join(ROOT, 'src') + '/';
    build.onResolve({ filter: /^node:/ }, (args) => (args.importer.startsWith(src) ? { path: args.path, namespace: 'builtin-by-require' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'builtin-by-require' }, (args) => {
      const id = JSON.stringify(args.path);
      const names = [...(importedNames().get(args.path) ?? [])];
      return { contents: `const m = require(${id});\n${names.map((n) => `export const ${n} = m.${n};`).join('\n')}\n`, loader: 'js' };
    });
  },
};

/** @type {import('esbuild').BuildOptions} */
const buildOptions = {
  absWorkingDir: ROOT,
  entryPoints: ['src/cli.ts'],
  outdir: 'dist',
  // Chunks sit beside cli.js: package-dir.ts and cli.ts find the package root as dist/..
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: [
    'dockerode',
    '@inquirer/prompts',
    // pg requires these only for pg.native and inside a Cloudflare Worker, never on Node.
    'pg-native',
    'pg-cloudflare',
  ],
  // pg is CommonJS and requires Node's modules; an ESM chunk has no `require` of its own.
  banner: { js: "import { createRequire as __pgSetupCreateRequire } from 'node:module'; const require = __pgSetupCreateRequire(import.meta.url);" },
  plugins: [pgNodeCrypto, builtinsByRequire],
  legalComments: 'inline',
  logLevel: 'warning',
};

rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
await esbuild.build(buildOptions);
// pg's client and its SCRAM code each require the file: a pg that moved it would otherwise go unnoticed.
if (pgCryptoReplaced < 2) throw new Error(`pg's lib/crypto/utils was replaced ${pgCryptoReplaced} times, not 2: has pg moved it?`);
