/**
 * `npm run build` (after `tsc --noEmit` has type-checked src/): bundle src/ into dist/ with
 * esbuild, as two CommonJS files, so a run loads two files instead of ~100 modules (pg-setup's
 * own and its libraries'), each of which Node would resolve, read, compile and link apart.
 *
 * - dist/cli.cjs: src/cli.ts and what it imports statically (flags, --help, errors, output,
 *   redaction): all that `--help` and `--version` load, a few dozen KB.
 * - dist/commands-<hash>.cjs: everything else (the commands, providers, pg, execa, listr2),
 *   which cli.ts reaches through `import('./commands/index.js')`. It is loaded by
 *   src/io/code-cache.ts with V8's code cache, on Node 20 too, where Node has no compile cache
 *   of its own: compiling this megabyte was most of a re-run's cost beyond starting Node. Its
 *   name carries a hash of its content, which keys the cache. Inside it, a dynamic import
 *   (pg on the first connection, execa on the first child process, listr2 on a terminal) still
 *   runs that library's code only when reached: esbuild wraps each such module in a function.
 * - The modules both sides use (errors.ts's classes, the secrets redact() knows) exist once:
 *   the commands bundle takes them from cli.cjs (its `__pgSetupShared`), never a copy of its own.
 * - dockerode and @inquirer/prompts stay outside the bundle (dockerode's ssh2 carries optional
 *   native code), imported from node_modules by io/docker.ts and options/prompts.ts when used.
 *
 * Why CommonJS: `vm.Script`, the one way to hand V8 a code cache on Node 20, compiles scripts,
 * not ES modules; and a CommonJS entry also spares Node 20 from starting its ES module loader.
 */
import { readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
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

/** `import.meta.url` in a CommonJS bundle: the bundle file's own URL (package-dir.ts and cli.ts find the package root from it). */
const moduleUrl = {
  define: { 'import.meta.url': '__pgSetupModuleUrl' },
  banner: { js: 'var __pgSetupModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
};

/** @type {import('esbuild').BuildOptions} */
const common = {
  absWorkingDir: ROOT,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: [
    'dockerode',
    '@inquirer/prompts',
    // pg requires these only for pg.native and inside a Cloudflare Worker, never on Node.
    'pg-native',
    'pg-cloudflare',
  ],
  ...moduleUrl,
  // Whitespace and syntax only: a quarter less to read on every run (measured: a re-run ~10 ms
  // faster on Node 20); names stay, so stack traces (PGSETUP_DEBUG) still read.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'inline',
  logLevel: 'warning',
};

const COMMANDS = './commands/index.js';
const fromCli = (args) => args.path === COMMANDS && args.importer === join(ROOT, 'src', 'cli.ts');
const key = (file) => relative(ROOT, file).split('\\').join('/');

/** 1. The modules cli.ts imports statically: cli.cjs holds them, and the commands bundle takes them from it. */
const cliInputs = await esbuild.build({
  ...common,
  entryPoints: ['src/cli.ts'],
  write: false,
  metafile: true,
  outfile: 'dist/cli.cjs',
  plugins: [{ name: 'commands-apart', setup: (b) => b.onResolve({ filter: /commands/ }, (args) => (fromCli(args) ? { path: COMMANDS, external: true } : undefined)) }],
});
const shared = Object.keys(cliInputs.metafile.inputs)
  .filter((f) => f.startsWith('src/') && f !== 'src/cli.ts')
  // The commands' import() of modules outside the bundle must run in an ordinary module (see that file).
  .concat('src/io/import-outside.ts')
  .sort();
if (!shared.includes('src/errors.ts')) throw new Error(`cli.ts no longer imports src/errors.ts? shared: ${shared.join(', ')}`);

/** In the commands bundle, each shared module is cli.cjs's instance, handed over by src/io/code-cache.ts. */
const sharedFromCli = {
  name: 'shared-from-cli',
  setup(build) {
    build.onResolve({ filter: /^\./ }, (args) => {
      if (!args.importer) return undefined;
      const target = key(resolve(dirname(args.importer), args.path.replace(/\.js$/, '.ts')));
      return shared.includes(target) ? { path: target, namespace: 'shared-from-cli' } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'shared-from-cli' }, (args) => ({ contents: `module.exports = __pgSetupShared[${JSON.stringify(args.path)}];`, loader: 'js' }));
  },
};

rmSync(join(ROOT, 'dist'), { recursive: true, force: true });

/** 2. The commands bundle, named by its content's hash. */
const commands = await esbuild.build({
  ...common,
  entryPoints: { commands: 'src/commands/index.ts' },
  entryNames: '[name]-[hash]',
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  metafile: true,
  plugins: [pgNodeCrypto, sharedFromCli],
});
// pg's client and its SCRAM code each require the file: a pg that moved it would otherwise go unnoticed.
if (pgCryptoReplaced < 2) throw new Error(`pg's lib/crypto/utils was replaced ${pgCryptoReplaced} times, not 2: has pg moved it?`);
const commandsFile = basename(Object.keys(commands.metafile.outputs).find((f) => f.endsWith('.cjs')));
// A shared module that slipped into the commands bundle would be a second instance (two UserError classes).
const copied = Object.keys(commands.metafile.inputs).filter((f) => shared.includes(f));
if (copied.length > 0) throw new Error(`the commands bundle has its own copy of ${copied.join(', ')}`);
// An import() left in it would fail on Node 20 (no import() in a vm.Script): src/io/import-outside.ts is the way.
const commandsText = readFileSync(join(ROOT, 'dist', commandsFile), 'utf8');
const left = commandsText.split('\n').filter((l) => /(^|[^\w.$])import\(/.test(l));
if (left.length > 0) throw new Error(`import() in the commands bundle, which runs as a vm.Script:\n${left.join('\n')}`);

/** 3. cli.cjs: its import of the commands becomes src/io/code-cache.ts loading the commands bundle. */
const loadCommands = {
  name: 'load-commands',
  setup(build) {
    build.onResolve({ filter: /commands/ }, (args) => (fromCli(args) ? { path: COMMANDS, namespace: 'load-commands' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'load-commands' }, () => ({
      resolveDir: ROOT,
      loader: 'js',
      contents: [
        `import { loadBundle } from './src/io/code-cache.ts';`,
        ...shared.map((f, i) => `import * as shared${i} from './${f}';`),
        `const shared = { ${shared.map((f, i) => `${JSON.stringify(f)}: shared${i}`).join(', ')} };`,
        'export async function runCommand(flags) {',
        '  let storeCache;',
        `  const commands = loadBundle(require('node:path').join(__dirname, ${JSON.stringify(commandsFile)}), shared, (store) => { storeCache = store; });`,
        '  try {',
        '    return await commands.runCommand(flags);',
        '  } finally {',
        '    storeCache?.();',
        '  }',
        '}',
      ].join('\n'),
    }));
  },
};
await esbuild.build({ ...common, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.cjs', plugins: [loadCommands] });
