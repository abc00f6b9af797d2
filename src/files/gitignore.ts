/** Pure helpers for .gitignore text when the project is not a git repository. */

/** Does this .gitignore text already ignore `entry` at the top level? (Common forms only.) */
export function gitignoreCovers(content: string, entry: string): boolean {
  const want = new Set([entry, `/${entry}`, `${entry}/`, `/${entry}/`]);
  if (entry === '.env') want.add('.env*').add('*.env').add('.env.*');
  // The last matching line decides, as in git: a later `!.env` re-includes the file.
  let covered = false;
  for (const line of content.split(/\r?\n/).map((l) => l.trim())) {
    if (want.has(line)) covered = true;
    else if (line.startsWith('!') && want.has(line.slice(1))) covered = false;
  }
  return covered;
}

/** Append `entries` not already covered, keeping the file's line endings. */
export function appendGitignore(content: string, entries: string[]): string {
  const missing = entries.filter((e) => !gitignoreCovers(content, e));
  if (missing.length === 0) return content;
  const eol = content.includes('\r\n') ? '\r\n' : '\n';
  const sep = content === '' || content.endsWith('\n') ? '' : eol;
  return `${content}${sep}${missing.map((e) => e + eol).join('')}`;
}
