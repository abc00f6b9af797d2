import type { AppProbe, LoginResult } from '../db/provision.js';
import type { TlsSettings } from '../db/tls.js';
import type { Options } from '../options/types.js';

/** warn: works, but worth fixing (does not fail the run). */
export type CheckStatus = 'pass' | 'fail' | 'skip' | 'warn';

/** One line of the doctor report. `fix` is the exact next step, present when status is fail. */
export interface CheckResult {
  status: CheckStatus;
  detail: string;
  fix?: string;
}

/** What every check may read. Expensive probes are computed once, on first use. */
export interface DoctorContext {
  opts: Options;
  /** The env file's text, undefined when it does not exist. */
  envText: string | undefined;
  /** The key's value in the env file. */
  envValue: string | undefined;
  /** The app's login parsed from envValue, when it is a postgres URL. */
  login: { host: string; port: number; user: string; password: string; database: string; tls?: TlsSettings | undefined } | undefined;
  /** Log in as the app once and read server version, superuser flag and database owner. */
  probe(): Promise<({ ok: true } & AppProbe) | Exclude<LoginResult, { ok: true }> | undefined>;
  /** Results of the checks that ran before this one, by id (for "skipped: needs X"). */
  results: Map<string, CheckResult>;
}

/**
 * A doctor check. Adding one is one entry in DOCTOR_CHECKS (checks.ts): an id, the title
 * printed before pass/fail, and `run`, which never throws for a failed check but returns
 * { status: 'fail', detail, fix }. A check that does not apply returns 'skip' with the reason.
 */
export interface DoctorCheck {
  id: string;
  title: string;
  run(ctx: DoctorContext): Promise<CheckResult>;
}

/** Shorthands for check results. */
export const pass = (detail: string): CheckResult => ({ status: 'pass', detail });
export const fail = (detail: string, fix: string): CheckResult => ({ status: 'fail', detail, fix });
export const skip = (detail: string): CheckResult => ({ status: 'skip', detail });
export const warn = (detail: string, fix: string): CheckResult => ({ status: 'warn', detail, fix });
