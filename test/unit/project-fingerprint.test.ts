import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { projectFingerprint } from '../../src/project/fingerprint.js';

const project = () => {
  const dir = mkdtempSync(join(process.env.PGSETUP_TEST_TMP ?? tmpdir(), 'pgsetup-unit-fingerprint-'));
  writeFileSync(join(dir, 'main.py'), 'app = 1\n');
  writeFileSync(join(dir, 'pyproject.toml'), '[project]\nname = "x"\n');
  mkdirSync(join(dir, '.venv', 'lib', 'python3.11', 'site-packages'), { recursive: true });
  writeFileSync(join(dir, '.venv', 'pyvenv.cfg'), 'home = /usr/bin\n');
  return dir;
};

/** pg-setup writes files as the atomic writer does: a new file renamed over the old one. */
const rewrite = (path: string, text: string) => {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
};

describe('when the project must be read again', () => {
  test('an unchanged project has the same fingerprint', async () => {
    const dir = project();
    expect(await projectFingerprint(dir)).toBe(await projectFingerprint(dir));
  });

  test('a rewritten .py file, even with the same size, a new file or a new lock file changes it', async () => {
    const dir = project();
    const before = await projectFingerprint(dir);
    rewrite(join(dir, 'main.py'), 'app = 2\n');
    const afterEdit = await projectFingerprint(dir);
    expect(afterEdit).not.toBe(before);
    mkdirSync(join(dir, 'alembic', 'versions'), { recursive: true });
    writeFileSync(join(dir, 'alembic', 'versions', '0001_initial.py'), 'revision = "0001"\n');
    const afterRevision = await projectFingerprint(dir);
    expect(afterRevision).not.toBe(afterEdit);
    writeFileSync(join(dir, 'uv.lock'), '');
    expect(await projectFingerprint(dir)).not.toBe(afterRevision);
  });

  test('a package added to the virtual environment changes it, without walking the packages', async () => {
    const dir = project();
    const before = await projectFingerprint(dir);
    mkdirSync(join(dir, '.venv', 'lib', 'python3.11', 'site-packages', 'alembic'));
    const after = await projectFingerprint(dir);
    expect(after).not.toBe(before);
    writeFileSync(join(dir, '.venv', 'lib', 'python3.11', 'site-packages', 'alembic', 'command.py'), '');
    expect(await projectFingerprint(dir)).toBe(after);
  });

  test('the env file, .gitignore and pg-setup\'s own folder do not count (the analyzer never reads them)', async () => {
    const dir = project();
    const before = await projectFingerprint(dir);
    writeFileSync(join(dir, '.env'), 'DATABASE_URL="postgresql+psycopg://u:p@h/d"\n');
    writeFileSync(join(dir, '.env.example'), 'DATABASE_URL=""\n');
    writeFileSync(join(dir, '.gitignore'), '.env\n');
    mkdirSync(join(dir, '.pg-setup'));
    writeFileSync(join(dir, '.pg-setup', 'state.json'), '{}');
    expect(await projectFingerprint(dir)).toBe(before);
  });
});
