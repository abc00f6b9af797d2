import type { TestCluster } from '../test/helpers/cluster.js';

/** Scenarios (d) and (e) live here; they need the providers and the Alembic phase. */
export async function extraScenarios(_ctx: { work: string; clusters: TestCluster[] }): Promise<never[]> {
  return [];
}
