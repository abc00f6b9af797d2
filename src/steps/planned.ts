import type { PlannedStep } from '../plan/decide.js';
import type { Step } from '../plan/step.js';

/** A step as the plan decided it: found in place or not, described as planned; `run` does the planned work. */
export function plannedStep(p: PlannedStep, run: Step['run']): Step {
  return { title: p.title, check: async () => p.present, run, describe: () => p.shown, ...(p.readOnly ? { readOnly: true } : {}) };
}
