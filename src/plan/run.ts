import { Listr, ListrLogger, ProcessOutput } from 'listr2';
import { redact } from '../io/secrets.js';
import { pauseForTest } from '../io/test-hooks.js';
import type { Output } from '../io/output.js';
import type { Step, StepOutcome } from './step.js';

/**
 * Run steps in order with listr2: each step first checks whether its effect is already there
 * (that is what makes a re-run change nothing), and only then runs. Rich renderer on a TTY,
 * plain lines otherwise. The first failure stops the run and is rethrown to cli.ts.
 */
export async function runSteps(steps: Step[], out: Output): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  const processOutput = new ProcessOutput(out.stream, out.stream);
  const logger = new ListrLogger({ processOutput, useIcons: true });
  const list = new Listr(
    steps.map((step) => ({
      title: step.title,
      task: async (_ctx: unknown, task: { title: string; output: string }) => {
        await pauseForTest(step.title);
        const already = await step.check();
        if (already) {
          task.title = `${step.title} ${out.color ? '\x1b[2m' : ''}(${redact(already)})${out.color ? '\x1b[22m' : ''}`;
          outcomes.push({ title: step.title, status: 'present', detail: already });
          return;
        }
        const detail = await step.run((message) => {
          task.output = redact(message);
        });
        if (detail) task.title = `${step.title}: ${redact(detail)}`;
        outcomes.push({ title: step.title, status: step.readOnly ? 'present' : 'done', detail: detail ? redact(detail) : undefined });
      },
    })),
    {
      renderer: out.stream.isTTY ? 'default' : 'simple',
      fallbackRenderer: 'simple',
      rendererOptions: { logger, processOutput } as never,
      fallbackRendererOptions: { logger, processOutput } as never,
      exitOnError: true,
      registerSignalListeners: false,
      collectErrors: false,
    },
  );
  await list.run();
  return outcomes;
}

/** --dry-run: check each step and print what it would do, with its SQL and commands. Changes nothing. */
export async function describeSteps(steps: Step[], out: Output): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  for (const step of steps) {
    let already: string | undefined;
    let note = '';
    try {
      already = await step.check();
    } catch (e) {
      note = ` (could not check: ${(e as Error).message.split('\n')[0]})`;
    }
    if (already) {
      out.info(`- ${step.title}: already in place (${already})`);
      outcomes.push({ title: step.title, status: 'present', detail: already });
      continue;
    }
    out.info(`- would ${step.title.charAt(0).toLowerCase()}${step.title.slice(1)}${note}`);
    for (const line of step.describe()) out.info(`    ${line}`);
    outcomes.push({ title: step.title, status: 'planned', detail: undefined });
  }
  return outcomes;
}
