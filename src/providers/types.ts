import type { SqlSession } from '../db/admin.js';
import type { ProviderName, RunConfig } from '../options/types.js';
import type { Step } from '../plan/step.js';

export type ProviderState = 'running' | 'stopped' | 'installed' | 'can-install' | 'unavailable';

/** What one provider found on this machine. Detection has no side effects. */
export interface ProviderStatus {
  name: ProviderName;
  state: ProviderState;
  /** One line for the detection table, e.g. "PostgreSQL 16.4 on localhost:5432". */
  detail: string;
  version?: string | undefined;
  /** The TCP port a running server answers on, so two rows for one server can be merged. */
  port?: number | undefined;
}

export interface Endpoint {
  host: string;
  port: number;
}

/**
 * One way to get a PostgreSQL server (existing, apt, brew, docker, local).
 * Providers are created per run with the resolved options.
 */
export interface Provider {
  readonly name: ProviderName;
  detect(): Promise<ProviderStatus>;
  /** Steps that install and start the server and wait until an authenticated query works. */
  steps(): Step[];
  /** Where the app connects (TCP). Valid after the steps ran (a port may be chosen then). */
  endpoint(): Endpoint;
  /** A superuser session on the ready server. */
  admin(): Promise<SqlSession>;
  /** Teardown's steps for what the provider itself started (a container, its volume), beyond the database and role. */
  teardownSteps?(): Step[];
}

export type ProviderFactory = (opts: RunConfig) => Provider;
