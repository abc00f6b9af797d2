import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

/**
 * A small tar reader for npm package tarballs, used instead of the system `tar` so that
 * extraction works the same on every platform (Windows has no GNU tar, macOS ships bsdtar)
 * and so pg-setup, not a tool's defaults, decides what may be written: regular files and
 * folders only, never an absolute path, a `..`, a link or a device from the archive.
 */

export interface TarEntry {
  /** Path inside the archive, after pax/GNU long-name headers were applied. */
  path: string;
  type: 'file' | 'directory' | 'other';
  mode: number;
  data: Buffer;
}

const BLOCK = 512;

/** Split an uncompressed tar archive into its entries (ustar, pax `path` records and GNU long names). */
export function parseTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    if (!hasValidChecksum(header)) throw new Error(`tar: bad header checksum at byte ${offset}`);
    const size = readOctal(header, 124, 12);
    const typeflag = String.fromCharCode(header[156] ?? 0);
    const dataStart = offset + BLOCK;
    if (dataStart + size > archive.length) throw new Error('tar: archive is truncated');
    const data = archive.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (typeflag === 'x') {
      longName = readPaxPath(data) ?? longName;
      continue;
    }
    if (typeflag === 'L') {
      longName = readString(data, 0, data.length);
      continue;
    }
    if (typeflag === 'g') continue; // global pax header: nothing we use
    const name = readString(header, 0, 100);
    const prefix = isUstar(header) ? readString(header, 345, 155) : '';
    const path = longName ?? (prefix ? `${prefix}/${name}` : name);
    longName = undefined;
    const type = typeflag === '0' || typeflag === '\0' || typeflag === '7' ? 'file' : typeflag === '5' ? 'directory' : 'other';
    entries.push({ path, type, mode: readOctal(header, 100, 8) & 0o7777, data });
  }
  return entries;
}

/**
 * The safe destination of `path` under `dest` after dropping `strip` leading components,
 * or undefined when the entry must not be written (absolute, escapes with `..`, or empty).
 */
export function safeEntryPath(dest: string, path: string, strip: number): string | undefined {
  const parts = path.replace(/\\/g, '/').split('/').filter((p) => p !== '' && p !== '.');
  if (isAbsolute(path) || parts.includes('..')) return undefined;
  const kept = parts.slice(strip);
  if (kept.length === 0) return undefined;
  const full = normalize(join(dest, ...kept));
  return full.startsWith(dest.endsWith(sep) ? dest : dest + sep) ? full : undefined;
}

export interface ExtractResult {
  files: number;
  /** Entries that were not regular files or folders (links, devices), skipped on purpose. */
  skipped: string[];
}

/**
 * Gunzip and extract a .tgz held in memory into `dest` (which must exist), dropping `strip`
 * leading path components (npm tarballs put everything under `package/`). File modes from the
 * archive are kept, without setuid/setgid/sticky bits.
 */
export async function extractTarGz(tgz: Buffer, dest: string, strip = 1): Promise<ExtractResult> {
  const archive = await promisify(gunzip)(tgz);
  const result: ExtractResult = { files: 0, skipped: [] };
  for (const entry of parseTar(archive)) {
    const target = safeEntryPath(dest, entry.path, strip);
    if (entry.type === 'other' || (target === undefined && entry.type === 'file')) {
      result.skipped.push(entry.path);
      continue;
    }
    if (target === undefined) continue;
    if (entry.type === 'directory') {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, entry.data, { mode: (entry.mode & 0o777) | 0o600, flag: 'wx' });
    result.files++;
  }
  return result;
}

function readString(buf: Buffer, start: number, length: number): string {
  const slice = buf.subarray(start, start + length);
  const nul = slice.indexOf(0);
  return slice.toString('utf8', 0, nul === -1 ? slice.length : nul);
}

function readOctal(buf: Buffer, start: number, length: number): number {
  if (((buf[start] ?? 0) & 0x80) !== 0) throw new Error('tar: base-256 sizes are not supported');
  const text = readString(buf, start, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function isUstar(header: Buffer): boolean {
  return header.toString('latin1', 257, 262) === 'ustar';
}

function hasValidChecksum(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  return sum === readOctal(header, 148, 8);
}

/** The `path` record of a pax extended header ("<len> path=<value>\n" records). */
function readPaxPath(data: Buffer): string | undefined {
  let pos = 0;
  let path: string | undefined;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const len = parseInt(data.toString('latin1', pos, space), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = data.toString('utf8', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    pos += len;
  }
  return path;
}
