/**
 * The only module that imports @inquirer/prompts (loaded lazily: --help and CI runs never pay
 * for it). Every question has its default pre-filled; Ctrl-C becomes exit 130.
 */
import { InterruptedError } from '../errors.js';
import { checkName } from '../db/ident.js';
import { parseUrl } from '../db/url.js';
import { importOutside } from '../io/import-outside.js';

type Inquirer = typeof import('@inquirer/prompts');
let inquirer: Inquirer | undefined;
async function load(): Promise<Inquirer> {
  inquirer ??= await importOutside<Inquirer>('@inquirer/prompts');
  return inquirer;
}

async function guard<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if ((e as Error).name === 'ExitPromptError' || (e as Error).name === 'AbortPromptError') throw new InterruptedError();
    throw e;
  }
}

const out = () => ({ output: process.stderr });

/** Ask for a role or database name, validated as the flags are. */
export async function askName(kind: 'database' | 'role', flag: string, message: string, def: string): Promise<string> {
  const { input } = await load();
  return guard(
    input(
      {
        message,
        default: def,
        validate: (v: string) => {
          const err = checkName(kind, flag, v.trim());
          return err ? `${err.message} ${err.hint ?? ''}`.trim() : true;
        },
      },
      out(),
    ).then((v) => v.trim()),
  );
}

/** Ask for a password; empty means "generate one". */
export async function askPassword(message: string): Promise<string | undefined> {
  const { password } = await load();
  const v = await guard(password({ message, mask: '*' }, out()));
  return v === '' ? undefined : v;
}

/** Yes/no with a default. */
export async function askConfirm(message: string, def: boolean): Promise<boolean> {
  const { confirm } = await load();
  return guard(confirm({ message, default: def }, out()));
}

/** Pick one of several choices. */
export async function askSelect<T extends string>(message: string, choices: { value: T; name: string; description?: string }[], def?: T): Promise<T> {
  const { select } = await load();
  return guard(select<T>({ message, choices, default: def }, out()));
}

/** Typed confirmation for a destructive action: true only when the answer is exactly `expected`. */
export async function askTyped(message: string, expected: string): Promise<boolean> {
  const { input } = await load();
  const v = await guard(input({ message }, out()));
  return v.trim() === expected;
}

/**
 * A pasted server URL (as managed services show it: postgres://user:pw@host:5432/db?sslmode=...),
 * shown with its password masked while typed and after. Empty means "none".
 */
export async function askServerUrl(message: string): Promise<string | undefined> {
  const { input } = await load();
  const v = await guard(
    input(
      {
        message,
        // Masked while typed too: everything after "user:" up to the "@" (or the end, not typed yet).
        transformer: (value: string) => value.trim().replace(/^([a-z0-9+]+:\/\/[^:/@]*:)([^@]*)(@|$)/i, (_m, a: string, pw: string, end: string) => (pw ? `${a}****${end}` : `${a}${end}`)),
        validate: (value: string) => {
          if (value.trim() === '') return true;
          try {
            return parseUrl(value) ? true : 'Paste a postgres:// or postgresql:// URL (or leave it empty).';
          } catch (e) {
            return (e as Error).message;
          }
        },
      },
      out(),
    ),
  );
  return v.trim() === '' ? undefined : v.trim();
}

/** A file path; empty means none. Validated to exist. */
export async function askFilePath(message: string, exists: (p: string) => boolean): Promise<string | undefined> {
  const { input } = await load();
  const v = await guard(input({ message, validate: (p: string) => p.trim() === '' || exists(p.trim()) || `No file at ${p.trim()}.` }, out()));
  return v.trim() === '' ? undefined : v.trim();
}
