import { rmSync } from 'node:fs';

/**
 * Paths to remove when the process exits, whatever the reason: a normal end, an error, or
 * SIGINT (cli.ts calls process.exit(130), which still fires 'exit'). Only synchronous work can
 * run then, so cleanup is a plain rmSync of registered paths: temp files of an atomic write that
 * has not renamed yet, and the project lock.
 */
const paths = new Set<string>();
let installed = false;

/** Remove `path` on exit unless `forgetOnExit(path)` is called first. */
export function removeOnExit(path: string): void {
  paths.add(path);
  if (!installed) {
    installed = true;
    process.once('exit', () => {
      for (const p of paths) rmSync(p, { force: true });
    });
  }
}

/** The path is handled (renamed into place or removed): leave it alone on exit. */
export function forgetOnExit(path: string): void {
  paths.delete(path);
}
