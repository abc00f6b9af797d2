import { ExitCode } from '../errors.js';
import { readEnvValue } from '../files/env-file.js';
import { readTextIfExists } from '../files/writer.js';
import { probeAsApp } from '../db/provision.js';
import { parseUrl } from '../db/url.js';
import { DOCTOR_CHECKS } from '../doctor/checks.js';
import type { CheckResult, DoctorCheck, DoctorContext } from '../doctor/registry.js';
import { style, type Output } from '../io/output.js';
import { addSecret } from '../io/secrets.js';
import type { Options } from '../options/types.js';
import type { CommandResult } from './result.js';

export interface DoctorResult {
  ok: boolean;
  checks: ({ id: string; title: string } & CheckResult)[];
}

/**
 * pg-setup doctor: run every check, print each as pass/fail with the exact fix, exit 1 when
 * any fails. Reads only: it needs no superuser, just the URL in the env file.
 */
export async function doctor(opts: Options, out: Output, checks: DoctorCheck[] = DOCTOR_CHECKS): Promise<CommandResult> {
  const ctx = await doctorContext(opts);
  const s = style(out);
  const rows: DoctorResult['checks'] = [];
  for (const check of checks) {
    let r: CheckResult;
    try {
      r = await check.run(ctx);
    } catch (e) {
      r = { status: 'fail', detail: `the check itself failed: ${(e as Error).message}`, fix: 'Run with PGSETUP_DEBUG=1 and report it.' };
    }
    ctx.results.set(check.id, r);
    rows.push({ id: check.id, title: check.title, ...r });
    const mark = r.status === 'pass' ? s.green('✓') : r.status === 'fail' ? s.red('✗') : r.status === 'warn' ? s.bold('!') : s.dim('-');
    out.info(`${mark} ${check.title}: ${r.status === 'skip' ? s.dim(`skipped (${r.detail})`) : r.detail}`);
    if (r.fix) out.info(`    fix: ${r.fix}`);
  }
  const failed = rows.filter((r) => r.status === 'fail').length;
  out.info('');
  out.info(failed === 0 ? s.green('All checks passed.') : s.red(`${failed} of ${rows.length} checks failed.`));
  return { exitCode: failed === 0 ? ExitCode.ok : ExitCode.failed, json: { ok: failed === 0, checks: rows } satisfies DoctorResult };
}

async function doctorContext(opts: Options): Promise<DoctorContext> {
  const envText = await readTextIfExists(opts.envFile);
  const envValue = envText === undefined ? undefined : readEnvValue(envText, opts.envKey);
  addSecret(parseUrl(process.env[opts.envKey] ?? '')?.password);
  const u = envValue === undefined ? undefined : parseUrl(envValue);
  const login = u ? { host: u.host, port: u.port, user: u.user, password: u.password, database: u.database, tls: u.tls } : undefined;
  let probe: ReturnType<DoctorContext['probe']> | undefined;
  return {
    opts,
    envText,
    envValue,
    login,
    probe: () => (probe ??= login ? probeAsApp(login) : Promise.resolve(undefined)),
    results: new Map(),
  };
}
