/** Per-file e2e scaffolding: one throwaway cluster, temp projects removed afterwards. */
import { afterAll, beforeAll } from 'vitest';
import { startCluster, type TestCluster } from './cluster.js';
import { tempProject } from './cli.js';

export interface ClusterSuite {
  cluster(): TestCluster;
  /** A fresh temp project folder named `name` (the name feeds the default database name). */
  project(name: string): string;
  /** Flags for setup against the suite's cluster with the existing provider. */
  base(): string[];
}

/** Register beforeAll/afterAll hooks that start one cluster for the file and clean up after it. */
export function useClusterSuite(): ClusterSuite {
  let cluster: TestCluster | undefined;
  const cleanups: (() => void)[] = [];
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(() => {
    cleanups.forEach((c) => c());
    cluster?.stop();
  });
  const get = () => {
    if (!cluster) throw new Error('cluster not started yet');
    return cluster;
  };
  return {
    cluster: get,
    project(name) {
      const p = tempProject(name);
      cleanups.push(p.cleanup);
      return p.dir;
    },
    base: () => ['--provider', 'existing', '--admin-url', get().adminUrl, '--host', '127.0.0.1', '--port', String(get().port)],
  };
}
