import { readFileSync } from 'node:fs';
import { ExitCode, InterruptedError, isUserError } from './errors.js';
import { HELP, parseFlags } from './options/parse.js';
import { redact } from './io/secrets.js';
import { endQuietlyWhenOutputCloses } from './io/output.js';

/**
 * argv -> options -> command -> exit code. The only place that turns errors into output.
 * Heavy modules load lazily so `--help` and `--version` cost little more than starting Node.
 */
export async function main(argv: string[]): Promise<number> {
  endQuietlyWhenOutputCloses(ExitCode.closedPipe);
  const json = argv.includes('--json');
  let flags;
  try {
    flags = parseFlags(argv);
  } catch (e) {
    return report(e, json);
  }
  if (flags.help) {
    process.stdout.write(HELP);
    return ExitCode.ok;
  }
  if (flags.version) {
    process.stdout.write(`${version()}\n`);
    return ExitCode.ok;
  }
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
 * Node 22.3+: V8's code for the chunks a command loads (not for cli.js, which --help reads
 * alone) is kept in the OS temp folder and reused by the next run, as TypeScript's tsc does.
 * Older Nodes have neither process.getBuiltinModule nor the cache: nothing happens.
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
