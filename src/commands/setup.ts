import { basename, relative } from 'node:path';
import type { SqlSession } from '../db/admin.js';
import { maskUrl } from '../db/url.js';
import { ExitCode, UserError } from '../errors.js';
import { addSecret } from '../io/secrets.js';
import { style, type Output } from '../io/output.js';
import type { Given } from '../options/resolve.js';
import { askConfirm } from '../options/prompts.js';
import type { Options, RunConfig } from '../options/types.js';
import { decideSetup, type Note, type SetupAnswers, type SetupFacts, type SetupPlan } from '../plan/decide.js';
import { describeSteps, runSteps } from '../plan/run.js';
import type { Step, StepOutcome } from '../plan/step.js';
import { envFileSteps } from '../steps/env-files.js';
import { inspectSetup, provisionSteps, type ServerAccess } from '../steps/provision.js';
import { confirmProjectChanges, projectPhaseSteps } from './project-phase.js';
import { settleSetup, type InPlace } from './settle.js';

export interface SetupResult {
  ok: true;
  dryRun: boolean;
  changed: boolean;
  provider: string;
  host: string;
  port: number;
  database: string;
  role: string;
  envFile: string;
  envKey: string;
  /** The URL with the password masked. */
  url: string;
  steps: StepOutcome[];
  warnings: string[];
  nextSteps: string[];
  /** SQLite-only workarounds in the code to check by hand (`file:line: why`). */
  review: string[];
}

/** pg-setup [setup]: settle every input, ready the server, inspect, decide, then run the plan. */
export async function setup(opts: Options, given: Given, out: Output): Promise<SetupResult> {
  const settled = await settleSetup(opts, given, out);
  const { config: c, provider, inPlace } = settled;

  // Phase 1: a ready server. Prompts never run while a task list is on screen.
  const serverSteps = inPlace ? [reachedStep(c, inPlace)] : provider.steps();
  const outcomes: StepOutcome[] = [...(c.dryRun ? await describeSteps(serverSteps, out) : await runSteps(serverSteps, out))];

  // Phase 2: look before touching anything, and decide. The superuser session opens on first
  // use only (a re-run that finds everything in place never needs it).
  const endpoint = inPlace ? { host: c.host, port: c.port as number } : provider.endpoint();
  let adminP: Promise<SqlSession> | undefined;
  let adminUsable = true;
  const access: ServerAccess = {
    endpoint,
    provider: provider.name,
    admin: () => (adminUsable ? (adminP ??= provider.admin()) : Promise.reject(new Error('the server is not running yet'))),
  };
  // A dry run may stop here: the server it would start is not running yet.
  if (c.dryRun && !inPlace) adminUsable = await access.admin().then((a) => a.query('SELECT 1')).then(() => true, () => false);
  try {
    const facts = await inspectSetup(c, access, { inPlace, serverUp: adminUsable });
    const plan = await decideAsking(c, facts, out);
    addSecret(plan.password);
    const project = await confirmProjectChanges(settled.project, c, out);
    const steps = [
      ...provisionSteps(c, plan, access),
      ...envFileSteps(c, plan, facts),
      // They end with the app's own driver logging in with the URL as written (its TLS parameters
      // included); a re-run that found everything in place proved that before, unless TLS is in play.
      ...(await projectPhaseSteps(project, c, plan.url, access.admin, !inPlace || c.tls !== undefined)),
    ];
    outcomes.push(...(c.dryRun ? await describeSteps(steps, out) : await runSteps(steps, out)));
    const result: SetupResult = {
      ok: true,
      dryRun: c.dryRun,
      changed: outcomes.some((o) => o.status === 'done'),
      provider: provider.name,
      host: endpoint.host,
      port: endpoint.port,
      database: c.dbName,
      role: c.dbUser,
      envFile: c.envFile,
      envKey: c.envKey,
      url: maskUrl(plan.url),
      steps: outcomes,
      warnings: out.warnings,
      nextSteps: nextSteps(c, project.startCommand),
      review: project.review,
    };
    printSummary(result, out);
    return result;
  } finally {
    if (adminP) await (await adminP.catch(() => undefined))?.close();
  }
}

/**
 * decideSetup, asking the user whatever it asks (wizard only), each note printed once and in
 * order, until it returns the plan.
 */
async function decideAsking(c: RunConfig, facts: SetupFacts, out: Output): Promise<SetupPlan> {
  const answers: SetupAnswers = {};
  const printed = new Set<string>();
  const print = (notes: Note[]): void => {
    for (const n of notes.filter((n) => !printed.has(n.text))) {
      printed.add(n.text);
      if (n.level === 'warn') out.warn(n.text);
      else out.info(n.text);
    }
  };
  for (;;) {
    const d = decideSetup(c, facts, answers);
    if (d.kind === 'plan') {
      print(d.plan.notes);
      return d.plan;
    }
    print(d.notes);
    answers[d.key] = await askConfirm(d.question, false);
  }
}

function reachedStep(opts: RunConfig, p: InPlace): Step {
  return {
    title: `Check PostgreSQL on ${opts.host}:${opts.port}`,
    check: async () => {
      // A re-run that asks for another major must not be told "in place" on the old server.
      const major = p.serverVersion.split('.')[0];
      if (opts.pgVersion !== undefined && opts.pgVersion.split('.')[0] !== major)
        throw new UserError(`${opts.envKey} points at PostgreSQL ${p.serverVersion} on ${opts.host}:${opts.port}, not the --pg-version ${opts.pgVersion} asked for; pg-setup keeps the server the project uses. Nothing was changed.`, {
          hint: `Drop --pg-version (or pass --pg-version ${major}) to keep it; for another major, set up a new server (e.g. another --container-name) and move the data with pg_dump and pg_restore.`,
          exitCode: ExitCode.usage,
        });
      return `PostgreSQL ${p.serverVersion}, reached as ${opts.dbUser}`;
    },
    run: async () => undefined,
    describe: () => [],
  };
}

function nextSteps(opts: RunConfig, start: string | undefined): string[] {
  const envRel = relative(opts.projectDir, opts.envFile) || opts.envFile;
  const how = start ? `start it as usual: ${start}` : 'start it as usual';
  return [`Your app reads ${opts.envKey} from ${envRel}; ${how}`, 'Check everything at any time: npx pg-setup doctor'];
}

function printSummary(r: SetupResult, out: Output): void {
  const s = style(out);
  out.info('');
  if (r.dryRun) {
    out.info(s.bold('Dry run: nothing was changed.'));
    return;
  }
  if (!r.changed) {
    out.info(s.green('Everything is already in place; nothing changed.'));
  } else {
    out.info(s.green(s.bold('Done.')));
  }
  out.info(`  server    ${r.provider}, ${r.host}:${r.port}`);
  out.info(`  database  ${r.database}, owned by ${r.role}`);
  out.info(`  ${r.envKey}  ${r.url}  (in ${basename(r.envFile)})`);
  if (r.changed) {
    out.info('');
    out.info(s.bold('Next steps'));
    r.nextSteps.forEach((n, i) => out.info(`  ${i + 1}. ${n}`));
  }
  if (r.review.length) {
    out.info('');
    out.info(s.bold('Check by hand (SQLite-only code that PostgreSQL changes; not edited)'));
    for (const line of r.review) out.info(`  ${line}`);
  }
}
