import { usageError, type UserError } from '../errors.js';

/** PostgreSQL truncates identifiers longer than NAMEDATALEN-1 bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

const SAFE_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * Validate a role or database name. pg-setup accepts only names that need no quoting in
 * the tools people use afterwards (psql, URLs, shells): lowercase letters, digits and `_`,
 * not starting with a digit, at most 63 bytes, not `postgres` or a `pg_` name.
 * Returns an error value, or undefined when the name is fine.
 */
export function checkName(kind: 'database' | 'role', flag: string, name: string): UserError | undefined {
  const what = kind === 'database' ? 'Database name' : 'Role name';
  if (name.length === 0) return usageError(`${what} is empty.`, `Pass ${flag} <name>.`);
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) {
    return usageError(
      `${what} "${printable(name)}" is ${Buffer.byteLength(name, 'utf8')} bytes; PostgreSQL allows at most ${MAX_IDENTIFIER_BYTES}.`,
      `Pass a shorter ${flag}.`,
    );
  }
  if (/^[0-9]/.test(name)) {
    return usageError(`${what} "${printable(name)}" starts with a digit.`, `Pass ${flag} with a name that starts with a letter, e.g. ${flag} db_${sanitizeName(name)}.`);
  }
  if (!SAFE_NAME.test(name)) {
    return usageError(
      `${what} "${printable(name)}" may only contain lowercase letters, digits and underscores.`,
      `Pass ${flag} ${sanitizeName(name) || 'app'}.`,
    );
  }
  if (name.startsWith('pg_') || name === 'postgres' || name === 'public' || RESERVED.has(name)) {
    return usageError(`${what} "${name}" is reserved.`, `Pass ${flag} with another name, e.g. ${flag} ${name}_app.`);
  }
  return undefined;
}

/** Turn any folder name into a valid default name: `My Blog-2` -> `my_blog_2`, `1blog` -> `db_1blog`. */
export function sanitizeName(raw: string): string {
  let s = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (s === '') s = 'app';
  if (/^[0-9]/.test(s)) s = `db_${s}`;
  if (s.startsWith('pg_') || s === 'postgres' || RESERVED.has(s)) s = `${s}_app`;
  return s.slice(0, 50);
}

/** Quote an identifier for SQL: always quoted, embedded quotes doubled. */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new Error('identifier contains a NUL byte');
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Quote a string literal for SQL. Uses the standard form with doubled quotes; backslashes
 * are literal because standard_conforming_strings is on (the default since 9.1), and an
 * E'' literal is used when the value contains a backslash so it is safe either way.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('literal contains a NUL byte');
  const body = value.replace(/'/g, "''");
  if (value.includes('\\')) return `E'${body.replace(/\\/g, '\\\\')}'`;
  return `'${body}'`;
}

function printable(s: string): string {
  return s.length > 70 ? `${s.slice(0, 67)}...` : s;
}

// Keywords PostgreSQL reserves (cannot be used as names without quoting).
const RESERVED = new Set(
  (
    'all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create ' +
    'current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc ' +
    'distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral ' +
    'leading limit localtime localtimestamp not null offset on only or order placing primary references returning ' +
    'select session_user some symmetric system_user table then to trailing true union unique user using variadic when where window with'
  ).split(' '),
);
