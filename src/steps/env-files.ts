import { join, relative } from 'node:path';
import { usageError } from '../errors.js';
import { makePrivate, readTextIfExists, writeFileAtomic } from '../files/writer.js';
import type { RunConfig } from '../options/types.js';
import type { SetupFacts, SetupPlan } from '../plan/decide.js';
import type { Step } from '../plan/step.js';
import { plannedStep } from './planned.js';

/**
 * The env file, .env.example and .gitignore steps, as decided: each writes the content the plan
 * computed from the text it inspected, and refuses when the file changed meanwhile.
 */
export function envFileSteps(c: RunConfig, plan: SetupPlan, facts: SetupFacts): Step[] {
  const exampleFile = join(c.projectDir, '.env.example');
  const gitignoreFile = join(c.projectDir, '.gitignore');
  const envStep = plannedStep(plan.env, async () => {
    const text = await readTextIfExists(c.envFile);
    if ((text ?? '') !== facts.envText || (text !== undefined) !== facts.envExists) throw changedMeanwhile(c.envFile);
    // Others could read the password once it is in: tighten the mode first.
    const was = text === undefined ? undefined : await makePrivate(c.envFile);
    const tightened = was === undefined ? '' : `; mode tightened from ${was.toString(8)} to ${(was & 0o700).toString(8)} (it holds the password)`;
    const backup = await writeFileAtomic(c.envFile, plan.env.content, {
      mode: 0o600,
      backupRoot: plan.env.action === 'replace' ? c.projectDir : undefined,
    });
    if (plan.env.action === 'create') return 'created (mode 600)';
    return (plan.env.action === 'replace' ? `replaced (backup: ${relative(c.projectDir, backup ?? '')})` : 'added') + tightened;
  });
  const exampleStep = plannedStep(plan.example, async () => {
    await writeInspected(exampleFile, facts.exampleText, plan.example.content);
    return 'placeholder added (no secret)';
  });
  const gitignoreStep = plannedStep(plan.gitignore, async () => {
    await writeInspected(gitignoreFile, facts.gitignoreText, plan.gitignore.content);
    return `added ${plan.gitignore.missing.join(', ')} to .gitignore`;
  });
  return [envStep, exampleStep, gitignoreStep];
}

/** Write the planned content, unless the file no longer holds what was inspected. */
async function writeInspected(file: string, inspected: string, content: string): Promise<void> {
  if (((await readTextIfExists(file)) ?? '') !== inspected) throw changedMeanwhile(file);
  await writeFileAtomic(file, content, { mode: 0o644 });
}

function changedMeanwhile(file: string): Error {
  return usageError(`${file} changed while pg-setup ran.`, 'Run pg-setup again.');
}
