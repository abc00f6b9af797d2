/**
 * A process-wide registry of secret strings. Everything that prints (logger, errors, JSON)
 * passes through `redact`, so a password that leaks into an error thrown by `pg` or a child
 * process never reaches the terminal.
 */
const secrets = new Set<string>();

/** Remember a secret so it is masked wherever it would be printed. */
export function addSecret(value: string | undefined): void {
  if (value && value.length >= 4) {
    secrets.add(value);
    secrets.add(encodeURIComponent(value));
  }
}

/** Replace every known secret in `text` with `****`. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('****');
  }
  return out;
}
