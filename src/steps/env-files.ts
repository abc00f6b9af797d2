import { join, relative } from 'node:path';
import { usageError } from '../errors.js';
import { makePrivate, readTextIfExists, writeFileAtomic } from '../files/writer.js';
import type { RunConfig } from '../options/types.js';
import type { SetupFacts, SetupPlan } from '../plan/decide.js';
import type { Step } from '../plan/step.js';

/**
 * The env file, .env.example and .gitignore steps, as decided: each writes the content the plan
 * computed from the text it inspected, and refuses when the file changed meanwhile.
 */
export function envFileSteps(c: RunConfig, plan: SetupPlan, facts: SetupFacts): Step[] {
  const exampleFile = join(c.projectDir, '.env.example');
  const gitignoreFile = join(c.projectDir, '.gitignore');
  const envStep: Step = {
    title: plan.env.title,
    check: async () => plan.env.present,
    async run() {
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
    },
    describe: () => plan.env.shown,
  };
  const exampleStep: Step = {
    title: plan.example.title,
    check: async () => plan.example.present,
    async run() {
      if (((await readTextIfExists(exampleFile)) ?? '') !== facts.exampleText) throw changedMeanwhile(exampleFile);
      await writeFileAtomic(exampleFile, plan.example.content, { mode: 0o644 });
      return 'placeholder added (no secret)';
    },
    describe: () => plan.example.shown,
  };
  const gitignoreStep: Step = {
    title: plan.gitignore.title,
    check: async () => plan.gitignore.present,
    async run() {
      if (((await readTextIfExists(gitignoreFile)) ?? '') !== facts.gitignoreText) throw changedMeanwhile(gitignoreFile);
      await writeFileAtomic(gitignoreFile, plan.gitignore.content, { mode: 0o644 });
      return `added ${plan.gitignore.missing.join(', ')} to .gitignore`;
    },
    describe: () => plan.gitignore.shown,
  };
  return [envStep, exampleStep, gitignoreStep];
}

function changedMeanwhile(file: string): Error {
  return usageError(`${file} changed while pg-setup ran.`, 'Run pg-setup again.');
}
