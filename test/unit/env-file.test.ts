import { describe, expect, test } from 'vitest';
import { countAssignments, mergeEnvExample, mergeEnvKey, readEnvValue, removeEnvKey } from '../../src/files/env-file.js';

const URL1 = 'postgresql+psycopg://u:p%40ss@localhost:5432/db';

describe('mergeEnvKey', () => {
  test('a new file gets the key with LF', () => {
    expect(mergeEnvKey('', 'DATABASE_URL', URL1)).toEqual({ action: 'append', content: `DATABASE_URL="${URL1}"\n` });
  });

  test('appending keeps every existing byte, CRLF endings and adds the missing final newline once', () => {
    const original = '# c\r\nA=1\r\n\r\nexport B="two"\r\n# end';
    const r = mergeEnvKey(original, 'DATABASE_URL', URL1);
    expect(r.action).toBe('append');
    expect(r.content).toBe(`${original}\r\nDATABASE_URL="${URL1}"\r\n`);
  });

  test('the same value is left untouched, whatever the quoting', () => {
    for (const text of [`DATABASE_URL=${URL1}\n`, `DATABASE_URL='${URL1}'`, `export DATABASE_URL="${URL1}"\r\n`]) {
      expect(mergeEnvKey(text, 'DATABASE_URL', URL1)).toEqual({ action: 'unchanged', content: text });
    }
  });

  test('a different value is replaced on its own line only, keeping export and CR', () => {
    const text = 'A=1\r\nexport DATABASE_URL=sqlite:///x.db\r\nB=2';
    const r = mergeEnvKey(text, 'DATABASE_URL', URL1);
    expect(r).toEqual({ action: 'replace', previous: 'sqlite:///x.db', content: `A=1\r\nexport DATABASE_URL="${URL1}"\r\nB=2` });
  });

  test('with duplicate keys the last (winning) one is replaced', () => {
    const text = 'DATABASE_URL=a\nDATABASE_URL=b\n';
    expect(countAssignments(text, 'DATABASE_URL')).toBe(2);
    const r = mergeEnvKey(text, 'DATABASE_URL', URL1);
    expect(r.content).toBe(`DATABASE_URL=a\nDATABASE_URL="${URL1}"\n`);
    expect(readEnvValue(r.content, 'DATABASE_URL')).toBe(URL1);
  });

  test('a key that only shares a prefix is not touched', () => {
    const r = mergeEnvKey('DATABASE_URL_TEST=x\n', 'DATABASE_URL', URL1);
    expect(r.content).toBe(`DATABASE_URL_TEST=x\nDATABASE_URL="${URL1}"\n`);
  });

  test('removeEnvKey drops only that key', () => {
    expect(removeEnvKey(`A=1\nDATABASE_URL="${URL1}"\nB=2\n`, 'DATABASE_URL')).toBe('A=1\nB=2\n');
  });
});

test('.env.example gets a placeholder once and no secret', () => {
  const r = mergeEnvExample('', 'DATABASE_URL', 'postgresql+psycopg://USER:PASSWORD@localhost:5432/DBNAME');
  expect(r.content).toBe('DATABASE_URL="postgresql+psycopg://USER:PASSWORD@localhost:5432/DBNAME"\n');
  expect(mergeEnvExample(r.content, 'DATABASE_URL', 'other').action).toBe('unchanged');
});

describe('parseEnv reads every file as dotenv does', () => {
  const files = [
    '',
    'A=1\nB=two\n',
    'export DATABASE_URL="postgresql+psycopg://u:p%40ss@localhost:5432/db"\n',
    "Q='single # not a comment'\nD=\"double\\nnewline\"\nS='no\\nexpansion'\nBT=`back tick`\n",
    'C=value # a comment\nH=#starts-with-hash\nE=\nSP =  spaced  \n',
    'COLON: yaml-ish\nDOTS.AND-DASH=ok\n',
    'M="multi\nline\nvalue"\nAFTER=1\n',
    'DUP=first\nDUP=second\n',
    'CR=1\r\nLF=2\nOLDMAC=3\r',
    '# only a comment\n\n\n   \nX=last-line-without-newline',
    'U="unterminated\nNEXT=1\n',
    "ESC=\"quote \\\" inside\"\nESC2='it\\'s'\n",
    'K= leading-space\n  INDENTED=yes\n\tTAB=\ttabbed\n',
  ];
  test.each(files.map((f) => [JSON.stringify(f).slice(0, 40), f]))('%s', async (_name, text) => {
    const { parse } = await import('dotenv');
    const { parseEnv } = await import('../../src/files/env-file.js');
    expect(parseEnv(text)).toEqual(parse(text));
  });
});
