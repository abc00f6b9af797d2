import { Writable } from 'node:stream';
import { Listr, ListrLogger, ProcessOutput } from 'listr2';
import { describe, expect, test } from 'vitest';
import type { Output } from '../../src/io/output.js';
import { runSteps } from '../../src/plan/run.js';
import type { Step } from '../../src/plan/step.js';

/** A pipe-like stream (not a terminal) that keeps what was written. */
function sink(): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  }) as unknown as NodeJS.WriteStream & { text: () => string };
  Object.assign(w, { isTTY: false, text: () => chunks.join('') });
  return w;
}

const output = (stream: NodeJS.WriteStream): Output => ({ stream, color: false, warnings: [], info: () => undefined, warn: () => undefined });

/** How runSteps printed off a terminal before: listr2's simple renderer, kept here as the reference. */
async function listrSimple(steps: Step[], stream: NodeJS.WriteStream): Promise<void> {
  const processOutput = new ProcessOutput(stream, stream);
  const logger = new ListrLogger({ processOutput, useIcons: true });
  const list = new Listr(
    steps.map((step) => ({
      title: step.title,
      task: async (_ctx: unknown, task: { title: string; output: string }) => {
        const already = await step.check();
        if (already) {
          task.title = `${step.title} (${already})`;
          return;
        }
        const detail = await step.run((m) => {
          task.output = m;
        });
        if (detail) task.title = `${step.title}: ${detail}`;
      },
    })),
    {
      renderer: 'simple',
      rendererOptions: { logger, processOutput } as never,
      exitOnError: true,
      registerSignalListeners: false,
      collectErrors: false,
    },
  );
  await list.run();
}

const step = (title: string, check: string | undefined, run: (p: (m: string) => void) => Promise<string | undefined>): Step => ({
  title,
  check: async () => check,
  run,
  describe: () => [],
});

describe('the task list off a terminal', () => {
  const cases: Record<string, Step[]> = {
    'a re-run with everything in place': [step('Check PostgreSQL on 127.0.0.1:5432', 'PostgreSQL 16.4, reached as blog_user', async () => undefined), step('Write DATABASE_URL to .env', 'already set', async () => undefined)],
    'steps that run, with progress lines and multi-line details': [
      step('Create role blog_user', undefined, async () => 'created (LOGIN, not superuser)'),
      step('Add the PostgreSQL driver and Alembic to the project', undefined, async (p) => {
        p('uv add psycopg[binary] alembic');
        p('second line');
        return 'added psycopg, alembic';
      }),
      step('Log in', undefined, async () => undefined),
      step('Read the project', undefined, async () => 'line one\n\n   \nline two'),
    ],
    'a step that fails': [
      step('Create database blog', 'exists', async () => undefined),
      step('Create the initial migration', undefined, async () => {
        throw new Error('alembic failed:\nKeyError: posts');
      }),
      step('Never reached', undefined, async () => 'no'),
    ],
  };
  for (const [name, steps] of Object.entries(cases)) {
    test(`prints what listr2's simple renderer prints: ${name}`, async () => {
      const ours = sink();
      const theirs = sink();
      const a = await runSteps(steps, output(ours)).catch((e: Error) => e.message);
      const b = await listrSimple(steps, theirs).catch((e: Error) => e.message);
      expect(ours.text()).toBe(theirs.text());
      expect(ours.text()).toContain(steps[0]!.title);
      if (typeof b === 'string') expect(a).toBe(b);
    });
  }

  test('reports each step as present or done, and stops at the first failure', async () => {
    const ran: string[] = [];
    const steps = [
      step('A', 'there', async () => undefined),
      step('B', undefined, async () => (ran.push('B'), 'made')),
      step('C', undefined, async () => {
        throw new Error('boom');
      }),
      step('D', undefined, async () => (ran.push('D'), 'made')),
    ];
    const stream = sink();
    await expect(runSteps(steps.slice(0, 2), output(stream))).resolves.toEqual([
      { title: 'A', status: 'present', detail: 'there' },
      { title: 'B', status: 'done', detail: 'made' },
    ]);
    await expect(runSteps(steps, output(stream))).rejects.toThrow('boom');
    expect(ran).toEqual(['B', 'B']);
  });
});
