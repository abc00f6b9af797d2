import { describe, expect, test } from 'vitest';
import { checkName, quoteIdent, quoteLiteral, sanitizeName } from '../../src/db/ident.js';
import { scramVerifier } from '../../src/db/scram.js';
import { buildUrl, maskUrl, parseUrl } from '../../src/db/url.js';
import { appendGitignore, gitignoreCovers } from '../../src/files/gitignore.js';

describe('names', () => {
  test.each([
    ['blog', undefined],
    ['1blog', /starts with a digit/],
    ['', /empty/],
    ['a'.repeat(64), /64 bytes/],
    ['é'.repeat(32), /64 bytes/],
    ['Blog', /lowercase/],
    ['x;drop', /lowercase/],
    ['select', /reserved/],
    ['pg_app', /reserved/],
  ])('checkName(%j)', (name, error) => {
    const e = checkName('database', '--db-name', name);
    if (error) expect(e?.message).toMatch(error);
    else expect(e).toBeUndefined();
    if (e) expect(e.exitCode).toBe(2);
  });

  test('folder names become valid defaults', () => {
    expect(sanitizeName('My Blog-2')).toBe('my_blog_2');
    expect(sanitizeName('1blog')).toBe('db_1blog');
    expect(sanitizeName('Café')).toBe('cafe');
    expect(sanitizeName('---')).toBe('app');
    expect(checkName('database', '--db-name', sanitizeName('x'.repeat(100)))).toBeUndefined();
  });

  test('quoting doubles quotes and never lets a value end the literal', () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteLiteral('a\\b')).toBe("E'a\\\\b'");
    expect(() => quoteLiteral('a\0b')).toThrow();
  });
});

describe('urls', () => {
  test('a password with URL metacharacters round-trips', () => {
    const password = 'p@ss:w/rd %41#frag?q=1&x y';
    const url = buildUrl({ driver: 'psycopg', user: 'u', password, host: 'localhost', port: 5432, database: 'db' });
    expect(url).not.toContain(' ');
    expect(parseUrl(url)).toEqual({ driver: 'psycopg', user: 'u', password, host: 'localhost', port: 5432, database: 'db' });
    expect(maskUrl(url)).toBe('postgresql+psycopg://u:****@localhost:5432/db');
  });
  test('asyncpg scheme and IPv6 hosts', () => {
    const url = buildUrl({ driver: 'asyncpg', user: 'u', password: 'p', host: '::1', port: 5433, database: 'd' });
    expect(url).toBe('postgresql+asyncpg://u:p@[::1]:5433/d');
    expect(parseUrl(url)?.host).toBe('::1');
  });
  test('non-postgres URLs are not parsed', () => {
    expect(parseUrl('sqlite+aiosqlite:///./blog.db')).toBeUndefined();
  });
});

test('the SCRAM verifier has the shape PostgreSQL stores and differs per salt', () => {
  const v = scramVerifier('secret');
  expect(v).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
  expect(scramVerifier('secret')).not.toBe(v);
  expect(scramVerifier('secret', 4096, Buffer.alloc(16))).toBe(scramVerifier('secret', 4096, Buffer.alloc(16)));
});

test('.gitignore: existing patterns count, nothing is duplicated', () => {
  expect(gitignoreCovers('node_modules\n/.env\n', '.env')).toBe(true);
  expect(gitignoreCovers('.env.local\n', '.env')).toBe(false);
  expect(gitignoreCovers('.env*\n!.env\n', '.env')).toBe(false);
  expect(appendGitignore('a\r\nb', ['.env', '.pg-setup/'])).toBe('a\r\nb\r\n.env\r\n.pg-setup/\r\n');
  expect(appendGitignore('.env\n.pg-setup/\n', ['.env', '.pg-setup/'])).toBe('.env\n.pg-setup/\n');
});
