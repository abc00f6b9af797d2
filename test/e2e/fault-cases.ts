/**
 * The robustness table: every bad input, injected fault and interrupt point the e2e suite
 * tries. Tests are driven from (or titled by) these cases; docs/robustness.md is generated from
 * this table plus the test results (npm run report), and a unit test checks it is in sync.
 */
export type CaseGroup = 'names' | 'env-file' | 'fault' | 'interrupt' | 'concurrency' | 'secrets' | 'idempotency' | 'teardown' | 'doctor';

export interface RobustnessCase {
  id: string;
  group: CaseGroup;
  /** What was tried. */
  what: string;
  /** Exit code the test expects; 'pending' when not testable in this branch. */
  exit: number | 'pending';
  /** What the user gets, as the test asserts it. */
  outcome: string;
  /** Why a pending case is pending. */
  pending?: string;
}

/** Hostile names: each must exit 2 with a clear message, and no SQL must run. */
export const NAME_CASES: (RobustnessCase & { flag: '--db-name' | '--db-user'; value: string; message: RegExp })[] = [
  ['N01', '--db-name', 'blog"; DROP DATABASE postgres; --', /may only contain/, 'double quote and semicolon'],
  ['N02', '--db-user', "bob'); DROP ROLE postgres;--", /may only contain/, 'single quote, parenthesis, semicolon'],
  ['N03', '--db-name', 'back\\slash', /may only contain/, 'backslash'],
  ['N04', '--db-name', 'café', /may only contain/, 'unicode letter'],
  ['N05', '--db-user', 'user_😀', /may only contain/, 'emoji'],
  ['N06', '--db-name', 'select', /is reserved/, 'reserved word select'],
  ['N07', '--db-user', 'user', /is reserved/, 'reserved word user'],
  ['N08', '--db-name', 'pg_catalog2', /is reserved/, 'pg_ prefix'],
  ['N09', '--db-name', 'a'.repeat(64), /64 bytes; PostgreSQL allows at most 63/, '64 bytes'],
  ['N10', '--db-user', 'é'.repeat(32), /64 bytes|may only contain/, '64 bytes of 2-byte characters'],
  ['N11', '--db-name', '1blog', /starts with a digit/, 'leading digit'],
  ['N12', '--db-name', 'Blog', /may only contain/, 'uppercase (would need quoting everywhere)'],
  ['N13', '--db-user', 'a b', /may only contain/, 'space'],
  ['N14', '--db-name', '', /is empty/, 'empty'],
  ['N15', '--db-user', 'x$$; SELECT 1; $$', /may only contain/, 'dollar quoting'],
].map(([id, flag, value, message, what]) => ({
  id: id as string,
  group: 'names' as const,
  flag: flag as '--db-name' | '--db-user',
  value: value as string,
  message: message as RegExp,
  what: `${flag as string} ${what as string}`,
  exit: 2,
  outcome: 'refused with a message naming the flag; no role or database created',
}));

/** .env shapes: preserved exactly (the key added or replaced on its own line) or a clear error. */
export const ENV_CASES: (RobustnessCase & { content?: string; args?: string[] })[] = [
  { id: 'E01', group: 'env-file', what: 'CRLF line endings, no final newline', content: 'A=1\r\nB=2', exit: 0, outcome: 'bytes kept; key appended with CRLF' },
  { id: 'E02', group: 'env-file', what: '`export` prefix on the key', content: 'export DATABASE_URL=sqlite:///./app.db\nOTHER=1\n', args: ['--overwrite-env'], exit: 0, outcome: 'value replaced, `export ` kept, backup kept' },
  { id: 'E03', group: 'env-file', what: "quoted values ('x y', \"z\", `#` inside quotes)", content: "A='x y'\nB=\"z # not a comment\"\n", exit: 0, outcome: 'bytes kept; key appended' },
  { id: 'E04', group: 'env-file', what: 'comments and blank lines', content: '# top\n\nA=1 # inline\n\n# end\n', exit: 0, outcome: 'bytes kept; key appended' },
  { id: 'E05', group: 'env-file', what: 'duplicate keys', content: 'DATABASE_URL=sqlite:///a.db\nX=1\nDATABASE_URL=sqlite:///b.db\n', args: ['--overwrite-env'], exit: 0, outcome: 'the last (winning) line replaced, the first kept; warning' },
  { id: 'E06', group: 'env-file', what: '.env is a symlink', exit: 0, outcome: 'the link stays a link; its target gets the key' },
  { id: 'E07', group: 'env-file', what: '.env is read-only', content: 'A=1\n', exit: 6, outcome: 'refused before any role or database is created; file unchanged' },
  { id: 'E08', group: 'env-file', what: 'a directory named .env', exit: 6, outcome: 'clear error; nothing created' },
  { id: 'E09', group: 'env-file', what: 'disk full while writing .env (real 64 KiB tmpfs)', content: 'KEEP=me\n', exit: 6, outcome: '"The disk is full" with the next step; file unchanged; no temp file; re-run completes' },
];

export const FAULT_CASES: RobustnessCase[] = [
  { id: 'F01', group: 'fault', what: 'the server stops mid-run (before the database is created)', exit: 3, outcome: '"connection was lost" + start it and re-run; the re-run completes' },
  { id: 'F02', group: 'fault', what: 'wrong admin credentials', exit: 4, outcome: 'rejected, names --admin-url; the password is not printed' },
  { id: 'F03', group: 'fault', what: 'pg_hba.conf rejects the app role', exit: 4, outcome: 'names the pg_hba.conf line to add; .env not written' },
  { id: 'F04', group: 'fault', what: 'no server on the port', exit: 3, outcome: 'names host:port and --provider' },
  { id: 'F05', group: 'fault', what: '`uv` or Python missing', exit: 5, outcome: 'names the missing tool and how to install it before anything changes; no role, database or file created' },
  { id: 'F06', group: 'fault', what: 'Alembic fails because the models do not import', exit: 5, outcome: "shows Python's error and the fix; no revision file left; after fixing the models the re-run completes" },
];

/** SIGINT points: the run pauses there (PGSETUP_TEST_PAUSE_AT) and gets SIGINT. */
export const INTERRUPT_CASES: (RobustnessCase & { at: string; existingEnv?: string })[] = [
  ['I01', 'Check PostgreSQL', 'before the server check'],
  ['I02', 'Create role', 'before the role is created'],
  ['I03', 'Create database', 'after the role, before the database'],
  ['I04', 'Log in as', 'after the database, before the app login check'],
  ['I05', 'Write DATABASE_URL', 'before .env is written'],
  ['I06', 'write:.env', 'inside the atomic write of an existing .env (temp written, not renamed)'],
  ['I07', 'List DATABASE_URL', 'after .env, before .env.example'],
  ['I08', 'Keep .env out of git', 'before .gitignore'],
].map(([id, at, what]) => ({
  id: id as string,
  group: 'interrupt' as const,
  at: at as string,
  what: `SIGINT ${what as string}`,
  exit: 130,
  outcome: 'exit 130; no temp file, no lock, no half-written file; the re-run completes with one role and one database',
  ...(id === 'I06' ? { existingEnv: 'KEEP=1\n' } : {}),
}));

export const OTHER_CASES: RobustnessCase[] = [
  { id: 'C01', group: 'concurrency', what: 'a second run while the first holds the lock (short wait)', exit: 7, outcome: 'exits 7 naming the first run\'s pid; the first completes' },
  { id: 'C02', group: 'concurrency', what: 'two runs at once (the second waits)', exit: 0, outcome: 'the second waits, then finds everything in place; one role, one password' },
  { id: 'C03', group: 'concurrency', what: 'a stale lock left by a dead process', exit: 0, outcome: 'taken over; the run completes and removes it' },
  { id: 'S01', group: 'secrets', what: 'full run: every child argv (PGSETUP_TRACE_EXEC), stdout, stderr, --json', exit: 0, outcome: 'neither the superuser nor the app password appears' },
  { id: 'S02', group: 'secrets', what: '--dry-run --json with --db-password', exit: 0, outcome: 'no password in any output' },
  { id: 'S03', group: 'secrets', what: 'errors: wrong admin password, pg_hba rejection, lost connection', exit: 4, outcome: 'no password in the error output' },
  { id: 'Q01', group: 'idempotency', what: 'three runs in a row', exit: 0, outcome: 'identical bytes in every file, one role, one database, the same password' },
  { id: 'Q02', group: 'idempotency', what: 'one Alembic revision after three runs', exit: 0, outcome: 'one revision file, identical project files, alembic_version unchanged' },
  { id: 'T01', group: 'teardown', what: 'teardown --yes after setup', exit: 0, outcome: 'database and role dropped, env key removed (backup kept), other keys kept' },
  { id: 'T02', group: 'teardown', what: 'teardown without --yes, non-interactive', exit: 2, outcome: 'nothing dropped; names --yes' },
  { id: 'T03', group: 'teardown', what: 'teardown of a role and database pg-setup did not create', exit: 2, outcome: 'refused; both still exist' },
  { id: 'T04', group: 'teardown', what: 'teardown when the role existed before but the database was created', exit: 0, outcome: 'drops only the database; keeps the role and says why' },
  { id: 'T05', group: 'teardown', what: 'interactive teardown: wrong name typed, then the right one', exit: 2, outcome: 'wrong name: nothing dropped (exit 2); right name: dropped (exit 0)' },
  { id: 'D01', group: 'doctor', what: 'doctor after setup (and --json)', exit: 0, outcome: 'every check passes' },
  { id: 'D02', group: 'doctor', what: 'DATABASE_URL also set in the shell', exit: 1, outcome: 'fails "shadowed", fix: unset DATABASE_URL' },
  { id: 'D03', group: 'doctor', what: 'role made superuser, database owned by someone else', exit: 1, outcome: 'both fail with the ALTER statement to run' },
  { id: 'D04', group: 'doctor', what: 'wrong password in .env; server not reachable; no .env', exit: 1, outcome: 'fails with --reset-password / start the server / run pg-setup' },
  { id: 'D05', group: 'doctor', what: '.env tracked by git', exit: 1, outcome: 'fails with git rm --cached' },
];

export const ALL_CASES: RobustnessCase[] = [...NAME_CASES, ...ENV_CASES, ...FAULT_CASES, ...INTERRUPT_CASES, ...OTHER_CASES];

/** The test title for a case: its id first, so results map back to the table. */
export function caseTitle(c: RobustnessCase): string {
  return `${c.id} ${c.what}`;
}

/** Look a case up by id (tests titled from the table). */
export function byId(id: string): RobustnessCase {
  const c = ALL_CASES.find((x) => x.id === id);
  if (!c) throw new Error(`no case ${id}`);
  return c;
}
