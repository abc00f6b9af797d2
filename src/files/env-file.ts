/**
 * dotenv's line pattern (dotenv 17, BSD-2-Clause), so every value reads exactly as it did when
 * pg-setup called dotenv. Kept in-house because loading dotenv cost a re-run 10-20 ms for these
 * few lines (bench/RESULTS.md); test/unit/env-file.test.ts holds the two side by side.
 */
const LINE = /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/gm;

/** Every key of an env file and its value, the last assignment winning. */
export function parseEnv(content: string): Record<string, string> {
  const values: Record<string, string> = {};
  const text = content.replace(/\r\n?/g, '\n');
  for (const m of text.matchAll(LINE)) {
    const raw = (m[2] ?? '').trim();
    let value = raw.replace(/^(['"`])([\s\S]*)\1$/gm, '$2');
    // Only double quotes expand \n and \r.
    if (raw.startsWith('"')) value = value.replace(/\\n/g, '\n').replace(/\\r/g, '\r');
    values[m[1] as string] = value;
  }
  return values;
}

/** What merging a key into an env file would do. */
export type EnvMerge =
  | { action: 'unchanged'; content: string }
  | { action: 'append'; content: string }
  | { action: 'replace'; content: string; previous: string };

/** The line ending a file already uses (CRLF if any line has one), LF for a new file. */
export function detectEol(content: string): '\n' | '\r\n' {
  return content.includes('\r\n') ? '\r\n' : '\n';
}

/** The value of `key` as python-dotenv / pydantic-settings would read it (last assignment wins). */
export function readEnvValue(content: string, key: string): string | undefined {
  return parseEnv(content)[key];
}

/** How many lines assign `key` (duplicates are legal but worth a warning). */
export function countAssignments(content: string, key: string): number {
  return content.split(/\r?\n/).filter((l) => assignmentRegex(key).test(l)).length;
}

/**
 * Merge `key=value` into an env file's text. Pure: returns the new text and what changed.
 * Every other byte stays as it was: other lines, comments, order, line endings, `export`
 * prefixes. A replaced value keeps its line's prefix and quote style; a new key is appended
 * with the file's own line ending.
 */
export function mergeEnvKey(content: string, key: string, value: string): EnvMerge {
  const current = readEnvValue(content, key);
  if (current === value) return { action: 'unchanged', content };
  const line = `${key}=${quoteEnvValue(value)}`;
  if (current === undefined) {
    const eol = detectEol(content);
    const sep = content === '' || content.endsWith('\n') ? '' : eol;
    return { action: 'append', content: `${content}${sep}${line}${eol}` };
  }
  // Replace the value on the last line that assigns the key (the one that wins).
  const lines = content.split('\n');
  const re = assignmentRegex(key);
  for (let i = lines.length - 1; i >= 0; i--) {
    const raw = lines[i] as string;
    const cr = raw.endsWith('\r') ? '\r' : '';
    const m = re.exec(cr ? raw.slice(0, -1) : raw);
    if (!m) continue;
    lines[i] = `${m[1]}${quoteEnvValue(value)}${cr}`;
    return { action: 'replace', content: lines.join('\n'), previous: current };
  }
  // dotenv saw a value we could not locate line-wise (a multi-line value): append instead.
  const eol = detectEol(content);
  const sep = content.endsWith('\n') ? '' : eol;
  return { action: 'replace', content: `${content}${sep}${line}${eol}`, previous: current };
}

/**
 * Remove every assignment of `key` (for teardown). Pure.
 */
export function removeEnvKey(content: string, key: string): string {
  const re = assignmentRegex(key);
  return content
    .split('\n')
    .filter((l) => !re.test(l.replace(/\r$/, '')))
    .join('\n');
}

/** `.env.example` gets the key with a placeholder: teammates learn it exists, no secret leaks. */
export function mergeEnvExample(content: string, key: string, placeholder: string): EnvMerge {
  if (readEnvValue(content, key) !== undefined) return { action: 'unchanged', content };
  return mergeEnvKey(content, key, placeholder);
}

/** The `.env.example` placeholder for a URL: same shape, no secret. */
export function placeholderUrl(driver: string): string {
  return `postgresql+${driver}://USER:PASSWORD@localhost:5432/DBNAME`;
}

function quoteEnvValue(value: string): string {
  // Double quotes, as the tutorial writes it; our URLs never contain quotes, `$` or backslashes
  // (the password is percent-encoded), so python-dotenv reads them back verbatim.
  if (/["\\$\n]/.test(value)) return `'${value.replace(/'/g, "\\'")}'`;
  return `"${value}"`;
}

function assignmentRegex(key: string): RegExp {
  const k = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^(\\s*(?:export\\s+)?${k}\\s*=\\s*)(.*)$`);
}
