/** The plan tier for teardown: what it drops and keeps, from the state record and what exists (pure). */
import { describe, expect, test } from 'vitest';
import { parseFlags } from '../../src/options/parse.js';
import { resolveOptions } from '../../src/options/resolve.js';
import { decideTeardown, type TeardownFacts } from '../../src/plan/decide.js';

const c = Object.freeze(resolveOptions({ flags: parseFlags(['teardown', '--db-name', 'blog', '--project-dir', process.cwd()]), env: { CI: 'true' }, cwd: process.cwd(), stdinIsTTY: false }).options);
const here = 'postgresql+psycopg://blog_user:pw@localhost:5432/blog';

function facts(over: Partial<TeardownFacts>): TeardownFacts {
  return { serverKey: 'localhost:5432', endpoint: { host: 'localhost', port: 5432 }, recorded: undefined, databaseExists: true, roleExists: true, envValue: here, statePath: `${process.cwd()}/.pg-setup/state.json`, ...over };
}

describe('teardown decides from the record, never from what merely exists', () => {
  test('nothing recorded: refuses to drop anything, saying which file does not list them', () => {
    expect(() => decideTeardown(c, facts({}))).toThrow('pg-setup did not create database "blog" or role "blog_user" on localhost:5432 (.pg-setup/state.json does not list them), so it will not drop them.');
  });

  test('both recorded: drops both and removes the env key that points at them', () => {
    const plan = decideTeardown(c, facts({ recorded: { databases: ['blog'], roles: ['blog_user'] } }));
    expect(plan).toMatchObject({ dropping: ['database blog', 'role blog_user'], kept: [], dropDatabase: true, dropRole: true, env: { present: undefined } });
  });

  test('a role that existed before pg-setup is kept, and said so', () => {
    const plan = decideTeardown(c, facts({ recorded: { databases: ['blog'], roles: [] } }));
    expect(plan.dropping).toEqual(['database blog']);
    expect(plan.kept).toEqual(['role blog_user']);
    expect(plan.notes[0]!.text).toBe('Keeping role blog_user: it existed before pg-setup, which never drops what it did not create.');
  });

  test('an env key that points elsewhere (or is not set) is left alone', () => {
    const recorded = { databases: ['blog'], roles: ['blog_user'] };
    expect(decideTeardown(c, facts({ recorded, envValue: 'postgresql+psycopg://blog_user:pw@db.example:5432/blog' })).env.present).toBe('left alone: it points somewhere else');
    expect(decideTeardown(c, facts({ recorded, envValue: undefined })).env.present).toBe('not set');
  });
});
