/** A position from the analyzer: 1-based line, 0-based column in code points. */
export interface Pos {
  line: number;
  col: number;
}

/** Replace [start, end) with `text`. An insertion has start equal to end. */
export interface TextEdit {
  start: Pos;
  end: Pos;
  text: string;
  /** Why, for the change list shown before applying. */
  reason: string;
}

/**
 * Apply edits to a source text, leaving every other byte as it was (line endings, comments,
 * formatting). Overlapping edits are a bug in the caller and throw.
 */
export function applyEdits(source: string, edits: TextEdit[]): string {
  const located = edits
    .map((e) => ({ e, from: toOffset(source, e.start), to: toOffset(source, e.end) }))
    .sort((a, b) => b.from - a.from || b.to - a.to);
  let out = source;
  let limit = Infinity;
  for (const { e, from, to } of located) {
    if (to > limit) throw new Error(`overlapping edits near line ${e.start.line}`);
    out = out.slice(0, from) + e.text + out.slice(to);
    limit = from;
  }
  return out;
}

/** Offset in the JS string (UTF-16 units) of a line/code-point column. Past the end = length. */
export function toOffset(source: string, pos: Pos): number {
  let offset = 0;
  for (let line = 1; line < pos.line; line++) {
    const nl = source.indexOf('\n', offset);
    if (nl < 0) return source.length;
    offset = nl + 1;
  }
  let units = 0;
  let points = 0;
  for (const ch of source.slice(offset)) {
    if (points === pos.col || ch === '\n') break;
    units += ch.length;
    points++;
  }
  return offset + units;
}

/** An edit that removes whole lines first..last (inclusive) with their newlines. */
export function removeLines(first: number, last: number, reason: string, replacement = ''): TextEdit {
  return { start: { line: first, col: 0 }, end: { line: last + 1, col: 0 }, text: replacement, reason };
}

/** An edit that inserts `text` (one or more full lines, ending in a newline) after line `after`. */
export function insertAfterLine(after: number, text: string, reason: string): TextEdit {
  return { start: { line: after + 1, col: 0 }, end: { line: after + 1, col: 0 }, text, reason };
}

/**
 * Remove the i-th item of a comma-separated list (call arguments, dict entries) with the
 * right comma: up to the next item when there is one, else from the end of the previous one.
 */
export function removeListItem(items: { line: number; col: number; endLine: number; endCol: number }[], i: number, reason: string): TextEdit {
  const item = items[i]!;
  const next = items[i + 1];
  const prev = items[i - 1];
  if (next) return { start: { line: item.line, col: item.col }, end: { line: next.line, col: next.col }, text: '', reason };
  if (prev) return { start: { line: prev.endLine, col: prev.endCol }, end: { line: item.endLine, col: item.endCol }, text: '', reason };
  return { start: { line: item.line, col: item.col }, end: { line: item.endLine, col: item.endCol }, text: '', reason };
}
