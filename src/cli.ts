import { readFileSync, writeSync } from 'node:fs';
import { ExitCode, InterruptedError, isUserError } from './errors.js';
import { HELP, parseFlags } from './options/parse.js';
import { redact } from './io/secrets.js';
import { endQuietlyWhenOutputCloses } from './io/output.js';

/**
 * argv -> options -> command -> exit code. The only place that turns errors into output.
 * Heavy modules load lazily so `--help` and `--version` cost little more than starting Node.
 */
export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  let flags;
  try {
    flags = parseFlags(argv);
  } catch (e) {
    endQuietlyWhenOutputCloses(ExitCode.closedPipe);
    return report(e, json);
  }
  if (flags.help) return printPlain(HELP);
  if (flags.version) return printPlain(`${version()}\n`);
  endQuietlyWhenOutputCloses(ExitCode.closedPipe);
  const onSigint = () => {
    process.stderr.write('\nInterrupted.\n');
    process.exit(ExitCode.interrupted);
  };
  process.once('SIGINT', onSigint);
  try {
    enableCompileCache();
    const { runCommand } = await import('./commands/index.js');
    const result = await runCommand(flags);
    if (json) process.stdout.write(redact(JSON.stringify(result.json, null, 2)) + '\n');
    return result.exitCode;
  } catch (e) {
    return report(e, json);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/**
 * --help and --version: the text written to file descriptor 1 directly. Building process.stdout
 * (a stream) would load Node's stream modules, a third of what `--help` costs beyond Node on
 * Node 24. A reader that closed the pipe early ends the run quietly, as elsewhere.
 */
function printPlain(text: string): number {
  let rest = Buffer.from(text);
  try {
    while (rest.length > 0) rest = rest.subarray(writeSync(1, rest));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') return ExitCode.closedPipe;
    // A non-blocking stdout that is full: the stream waits for it.
    if (code !== 'EAGAIN') throw e;
    endQuietlyWhenOutputCloses(ExitCode.closedPipe);
    process.stdout.write(rest);
  }
  return ExitCode.ok;
}

function report(e: unknown, json: boolean): number {
  const exitCode = isUserError(e) ? e.exitCode : e instanceof InterruptedError ? ExitCode.interrupted : ExitCode.failed;
  const message = redact(e instanceof Error ? e.message : String(e));
  const hint = isUserError(e) && e.hint ? redact(e.hint) : undefined;
  const color = process.stderr.isTTY && !process.env.NO_COLOR;
  process.stderr.write(`${color ? '\x1b[31m' : ''}error:${color ? '\x1b[39m' : ''} ${message}\n`);
  if (hint) process.stderr.write(`  ${hint}\n`);
  if (!isUserError(e) && process.env.PGSETUP_DEBUG && e instanceof Error && e.stack) process.stderr.write(redact(e.stack) + '\n');
  if (json) process.stdout.write(JSON.stringify({ ok: false, error: { message, hint, exitCode } }, null, 2) + '\n');
  return exitCode;
}

/**
 * Node 22.3+: V8's code for the modules a command imports from node_modules (dockerode,
 * @inquirer/prompts) is kept in the OS temp folder and reused by the next run, as TypeScript's
 * tsc does. The commands bundle itself has its own code cache (src/io/code-cache.ts), on every
 * Node. Older Nodes have neither process.getBuiltinModule nor this cache: nothing happens.
 */
function enableCompileCache(): void {
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  try {
    (getBuiltin?.('node:module') as { enableCompileCache?: () => unknown } | undefined)?.enableCompileCache?.();
  } catch {
    // A cache that cannot be set up only means no cache.
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
