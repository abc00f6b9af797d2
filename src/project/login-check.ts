import { join } from 'node:path';
import { ExitCode, UserError } from '../errors.js';
import { run } from '../io/exec.js';
import { redact } from '../io/secrets.js';
import { pythonDir } from '../package-dir.js';
import type { Step } from '../plan/step.js';
import type { ManagerKind } from './analysis.js';
import { projectPython } from './dependencies.js';

/** What python/login_check.py reports. */
export type PythonLogin =
  | { ok: true; driver: string; user: string; ssl: boolean; protocol: string | null; verified: boolean; hostChecked: boolean }
  | { ok: false; error: string; detail: string };

/**
 * Log in as the app from Python with the app's driver and its exact URL (through SQLAlchemy, as
 * the app does), with the project's interpreter. The URL travels in the environment.
 */
export async function loginFromPython(projectDir: string, manager: ManagerKind, url: string): Promise<PythonLogin> {
  // The interpreter the migration ran with: the venv, else the project's manager (poetry keeps its venv elsewhere).
  const py = projectPython({ projectDir, manager: { kind: manager } });
  const r = await run(py.cmd, [...py.args, join(pythonDir(), 'login_check.py')], { cwd: projectDir, env: { PGSETUP_LOGIN_URL: url }, reject: false });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as PythonLogin;
  } catch {
    return { ok: false, error: 'no-result', detail: redact(r.stderr.trim().split('\n').slice(-3).join(' ')) };
  }
}

/** In words: "TLSv1.3, certificate and host name verified". */
export function describePythonTls(r: Extract<PythonLogin, { ok: true }>): string {
  if (!r.ssl) return 'not encrypted';
  return `${r.protocol}, ${r.hostChecked ? 'certificate and host name verified' : r.verified ? 'certificate verified' : 'certificate NOT verified'}`;
}

/**
 * The last proof of a run: the app's driver logs in with the URL written to the env file.
 * `done` gives the login the migration's Python process made already (same check, same URL), so
 * a first run starts no Python process just for it.
 */
export function pythonLoginStep(projectDir: string, manager: ManagerKind, role: string, driver: string, url: string, done: () => PythonLogin | undefined = () => undefined): Step {
  return {
    title: `Log in as ${role} from Python (${driver})`,
    readOnly: true,
    check: async () => undefined,
    async run() {
      const r = done() ?? (await loginFromPython(projectDir, manager, url));
      if (!r.ok) {
        throw new UserError(`The app's driver (${driver}) cannot log in with the URL pg-setup wrote: ${r.error}: ${redact(r.detail)}`, {
          hint: driver === 'asyncpg'
            ? 'asyncpg reads ssl=<mode> from the URL; check that the CA file is readable by the app.'
            : 'psycopg reads sslmode, sslrootcert, sslcert and sslkey from the URL; check that those files are readable by the app.',
          exitCode: ExitCode.auth,
        });
      }
      return describePythonTls(r);
    },
    describe: () => [`python python/login_check.py (the URL in its environment): connect with ${driver} through SQLAlchemy, read pg_stat_ssl`],
  };
}
