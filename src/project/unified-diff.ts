/**
 * Render a unified diff (`diff -u` style, 3 lines of context) of two texts, for showing a
 * change before it is applied. Returns '' when the texts are equal.
 */
export function renderUnifiedDiff(path: string, before: string, after: string, context = 3): string {
  if (before === after) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = diffLines(a, b);
  const hunks: string[] = [];
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.kind === ' ') {
      i++;
      continue;
    }
    // Grow the hunk while changes are closer than 2*context lines apart.
    let start = Math.max(0, i - context);
    let end = i;
    while (end < ops.length) {
      let j = end;
      while (j < ops.length && ops[j]!.kind !== ' ') j++;
      let k = j;
      while (k < ops.length && ops[k]!.kind === ' ') k++;
      if (k < ops.length && k - j <= 2 * context) end = k;
      else {
        end = Math.min(ops.length, j + context);
        break;
      }
    }
    const slice = ops.slice(start, end);
    const first = ops[start]!;
    const aCount = slice.filter((o) => o.kind !== '+').length;
    const bCount = slice.filter((o) => o.kind !== '-').length;
    const aStart = aCount ? first.aLine : first.aLine - 1;
    const bStart = bCount ? first.bLine : first.bLine - 1;
    hunks.push(`@@ -${aStart},${aCount} +${bStart},${bCount} @@`);
    for (const o of slice) hunks.push(`${o.kind}${o.text}`);
    i = end;
    start = end;
  }
  return [`--- a/${path}`, `+++ b/${path}`, ...hunks].join('\n') + '\n';
}

interface Op {
  kind: ' ' | '-' | '+';
  text: string;
  /** 1-based line in the old text where this op sits (for hunk headers). */
  aLine: number;
  bLine: number;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Line diff: common prefix/suffix trimmed, then an LCS table over the (small) middle. */
function diffLines(a: string[], b: string[]): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);
  const n = am.length;
  const m = bm.length;
  const middle: ('=' | '-' | '+')[] = [];
  if (n * m > 4_000_000) {
    // Too big to align line by line: show the middle as replaced.
    middle.push(...Array<'-'>(n).fill('-'), ...Array<'+'>(m).fill('+'));
  } else {
    const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i]![j] = am[i] === bm[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) {
        middle.push('=');
        i++;
        j++;
      } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
        // Removals before additions, as diff -u prints them.
        middle.push('-');
        i++;
      } else {
        middle.push('+');
        j++;
      }
    }
  }
  const ops: Op[] = [];
  let ai = 0;
  let bi = 0;
  const push = (kind: Op['kind']) => {
    const text = kind === '+' ? b[bi]! : a[ai]!;
    ops.push({ kind, text, aLine: ai + 1, bLine: bi + 1 });
    if (kind !== '+') ai++;
    if (kind !== '-') bi++;
  };
  for (let k = 0; k < pre; k++) push(' ');
  for (const k of middle) push(k === '=' ? ' ' : k);
  for (let k = 0; k < suf; k++) push(' ');
  return ops;
}
