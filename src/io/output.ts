import { redact } from './secrets.js';

/**
 * Human output. With --json it all goes to stderr so stdout carries only the JSON result.
 * Every line is redacted: a secret that slipped into a message is masked here at the latest.
 */
export interface Output {
  readonly stream: NodeJS.WriteStream;
  readonly color: boolean;
  info(message: string): void;
  warn(message: string): void;
  /** Warnings collected for the summary and --json. */
  readonly warnings: string[];
}

export function createOutput(json: boolean): Output {
  const stream = json ? process.stderr : process.stdout;
  const color = Boolean(stream.isTTY) && !process.env.NO_COLOR;
  const warnings: string[] = [];
  return {
    stream,
    color,
    warnings,
    info(message) {
      stream.write(redact(message) + '\n');
    },
    warn(message) {
      const m = redact(message);
      warnings.push(m);
      stream.write(`${color ? '\x1b[33m' : ''}warning:${color ? '\x1b[39m' : ''} ${m}\n`);
    },
  };
}

let endsQuietly = false;

/**
 * A reader that stops reading (`pg-setup status | head -1`) ends the run quietly, as git and ls
 * do: no stack, no message, exit 141. Node ignores SIGPIPE, so the closed pipe arrives as an
 * EPIPE error on the stream, which unhandled would crash with a stack. Exit handlers still run
 * (the lock and temp files go), as on Ctrl-C.
 */
export function endQuietlyWhenOutputCloses(exitCode: number): void {
  if (endsQuietly) return;
  endsQuietly = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      process.exit(exitCode);
    });
  }
}

/** Bold/dim helpers that degrade to plain text. */
export function style(out: Output) {
  const wrap = (open: string, close: string) => (s: string) => (out.color ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return { bold: wrap('1', '22'), dim: wrap('2', '22'), green: wrap('32', '39'), red: wrap('31', '39'), cyan: wrap('36', '39') };
}
