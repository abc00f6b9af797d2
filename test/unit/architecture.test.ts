/**
 * docs/architecture.md stays true: every folder of src/ is described there, every src/ path it
 * names exists, and no module imports a folder that the layering puts above it (nor a folder of
 * its own layer), so data flows down the way the folders read.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');
const DOC = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');

/** Top to bottom, as the document's diagram draws them; a module may import only lower layers (and its own folder). */
const LAYERS: string[][] = [
  ['cli.ts'],
  ['commands'],
  ['steps', 'doctor'],
  ['providers', 'project'],
  ['plan'],
  ['options', 'state'],
  ['db', 'files'],
  ['net', 'io'],
  ['detect', 'errors.ts', 'package-dir.ts'],
];

function layerOf(top: string): number {
  const i = LAYERS.findIndex((l) => l.includes(top));
  if (i < 0) throw new Error(`src/${top} is in no layer: add it to LAYERS and to docs/architecture.md`);
  return i;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const top = (file: string) => relative(SRC, file).split('/')[0]!.replace(/\.js$/, '.ts');

describe('docs/architecture.md', () => {
  test('describes every folder of src/, and every src/ path it names exists', () => {
    const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
    for (const f of folders) expect(DOC, `src/${f}/`).toContain(`src/${f}/`);
    for (const [path] of DOC.matchAll(/src\/[\w./-]+[\w/]/g)) expect(existsSync(join(ROOT, path)), path).toBe(true);
  });

  test('no module imports a folder above its own layer, or beside it', () => {
    const wrong: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const from = top(file);
      const text = readFileSync(file, 'utf8');
      for (const [, spec] of text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = resolve(dirname(file), spec!);
        const to = top(target);
        if (to === from) continue;
        if (layerOf(to) <= layerOf(from)) wrong.push(`${relative(ROOT, file)} imports ${relative(ROOT, target)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
