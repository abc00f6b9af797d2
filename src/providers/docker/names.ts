import { basename } from 'node:path';

/** Labels that mark a container or volume as created by pg-setup (and for which project). */
export const LABEL_MANAGED = 'dev.pg-setup.managed';
export const LABEL_PROJECT = 'dev.pg-setup.project';
export const LABEL_PG_VERSION = 'dev.pg-setup.pg-version';

/** `pg-setup-<project>`: the project folder's name, reduced to what Docker accepts. */
export function defaultContainerName(projectDir: string): string {
  const slug = basename(projectDir).toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '');
  return `pg-setup-${slug || 'app'}`;
}
