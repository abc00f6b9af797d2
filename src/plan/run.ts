import { redact } from '../io/secrets.js';
import { testPoint } from '../io/test-point.js';
import type { Output } from '../io/output.js';
import type { Step, StepOutcome } from './step.js';
import { taskLines } from './task-lines.js';

/**
 * Run steps in order: each step first checks whether its effect is already there (that is what
 * makes a re-run change nothing), and only then runs. The first failure stops the run and is
 * rethrown to cli.ts. Off a terminal the task lines are printed directly; on a terminal listr2
 * draws the live list, and loads only once a step has work to do, so a re-run that finds
 * everything in place never loads it.
 */
export async function runSteps(steps: Step[], out: Output): Promise<StepOutcome[]> {
  if (!out.stream.isTTY) return runPlain(steps, out);
  const outcomes: StepOutcome[] = [];
  const lines = taskLines(out.stream);
  for (const [i, step] of steps.entries()) {
    await testPoint(step.title);
    let already: string | undefined;
    try {
      already = await step.check();
    } catch (error) {
      return [...outcomes, ...(await runLive(steps.slice(i), out, { error }))];
    }
    if (!already) return [...outcomes, ...(await runLive(steps.slice(i), out, { error: undefined }))];
    // What the live renderer's last frame shows for a step found in place.
    lines.completed(presentTitle(step, already, out));
    outcomes.push({ title: step.title, status: 'present', detail: already });
  }
  return outcomes;
}

function presentTitle(step: Step, already: string, out: Output): string {
  return `${step.title} ${out.color ? '\x1b[2m' : ''}(${redact(already)})${out.color ? '\x1b[22m' : ''}`;
}

async function runStep(step: Step, progress: (message: string) => void): Promise<{ title: string; outcome: StepOutcome }> {
  const detail = await step.run((message) => progress(redact(message)));
  return {
    title: detail ? `${step.title}: ${redact(detail)}` : step.title,
    outcome: { title: step.title, status: step.readOnly ? 'present' : 'done', detail: detail ? redact(detail) : undefined },
  };
}

/** Off a terminal: the lines listr2's simple renderer would print, without listr2. */
async function runPlain(steps: Step[], out: Output): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  const lines = taskLines(out.stream);
  for (const step of steps) {
    lines.started(step.title);
    try {
      await testPoint(step.title);
      const already = await step.check();
      if (already) {
        lines.completed(presentTitle(step, already, out));
        outcomes.push({ title: step.title, status: 'present', detail: already });
        continue;
      }
      const done = await runStep(step, lines.output);
      lines.completed(done.title);
      outcomes.push(done.outcome);
    } catch (e) {
      lines.failed(step.title, (e as Error)?.message ?? step.title);
      throw e;
    }
  }
  return outcomes;
}

/**
 * On a terminal, from the first step with work to do: listr2's live list. That step's check has
 * run already (its result, or its error, is `first`), so it is not repeated.
 */
async function runLive(steps: Step[], out: Output, first: { error: unknown }): Promise<StepOutcome[]> {
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  const outcomes: StepOutcome[] = [];
  const processOutput = new ProcessOutput(out.stream, out.stream);
  const logger = new ListrLogger({ processOutput, useIcons: true });
  const list = new Listr(
    steps.map((step, i) => ({
      title: step.title,
      task: async (_ctx: unknown, task: { title: string; output: string }) => {
        if (i === 0 && first.error !== undefined) throw first.error;
        if (i > 0) {
          await testPoint(step.title);
          const already = await step.check();
          if (already) {
            task.title = presentTitle(step, already, out);
            outcomes.push({ title: step.title, status: 'present', detail: already });
            return;
          }
        }
        const done = await runStep(step, (message) => {
          task.output = message;
        });
        task.title = done.title;
        outcomes.push(done.outcome);
      },
    })),
    {
      renderer: 'default',
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
