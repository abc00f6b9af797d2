import type { Options } from '../../src/options/types.js';
import type { Step } from '../../src/plan/step.js';

/** Resolved options as the CLI would hand them to a provider, non-interactive by default. */
export function providerOptions(over: Partial<Options> = {}): Options {
  return {
    command: 'setup',
    interactive: false,
    yes: true,
    projectDir: '/tmp/my-app',
    provider: 'auto',
    host: '127.0.0.1',
    port: 5432,
    adminUrl: undefined,
    dbName: 'app',
    dbUser: 'app',
    dbPassword: undefined,
    dbPasswordSource: undefined,
    resetPassword: false,
    driver: 'psycopg',
    envFile: '/tmp/my-app/.env',
    envKey: 'DATABASE_URL',
    envFileValue: undefined,
    overwriteEnv: false,
    dryRun: false,
    json: false,
    pgVersion: undefined,
    containerName: undefined,
    dockerImage: undefined,
    timeoutMs: 60_000,
    migrations: 'none',
    sqlite: 'keep',
    dataDir: undefined,
    volumes: false,
    settings: undefined,
    urlField: undefined,
    base: undefined,
    models: undefined,
    envKeyGiven: false,
    portGiven: false,
    ...over,
  };
}

export interface StepResult {
  title: string;
  status: 'present' | 'done';
  detail: string | undefined;
  progress: string[];
}

/** Run steps the way the plan runner does: check first, run only when work is due. */
export async function runSteps(steps: Step[]): Promise<StepResult[]> {
  const out: StepResult[] = [];
  for (const step of steps) {
    const present = await step.check();
    if (present !== undefined) {
      out.push({ title: step.title, status: 'present', detail: present, progress: [] });
      continue;
    }
    const progress: string[] = [];
    const detail = await step.run((m) => progress.push(m));
    out.push({ title: step.title, status: 'done', detail, progress });
  }
  return out;
}
