import { createServer } from 'node:net';
import { ExitCode, UserError } from '../errors.js';
import { probePort } from './probe.js';

/** The only address a server pg-setup starts listens on. */
export const LOOPBACK = '127.0.0.1';

/**
 * The first port from `from` (up to 100 tried) that `isFree` accepts; by default nothing
 * answers there. A server of our own passes `canBind`, the question postgres will ask.
 */
export async function nextFreePort(host: string, from: number, isFree: (port: number) => Promise<boolean> = async (p) => (await probePort(host, p, 500)).kind === 'free'): Promise<number> {
  for (let port = from; port < from + 100 && port <= 65535; port++) {
    if (await isFree(port)) return port;
  }
  throw new UserError(`No free port between ${from} and ${Math.min(from + 99, 65535)} on ${host}.`, { hint: 'Pass --port with a free port.', exitCode: ExitCode.server });
}

/** Can a server listen on host:port right now? (A bind attempt.) */
export function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => done(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => done(true)));
  });
}

/** Can a server listen on 127.0.0.1:port right now? (A bind attempt, the question postgres will ask.) */
export function isPortFree(port: number, host = LOOPBACK): Promise<boolean> {
  return canBind(host, port);
}

/** The first port from `from` for which `isFree` says yes (up to 100 tried). */
export function firstFreePort(from: number, isFree: (port: number) => Promise<boolean> = isPortFree): Promise<number> {
  return nextFreePort(LOOPBACK, from, isFree);
}

/**
 * The port for a new cluster: the one passed with --port, or the first free from 5432 when
 * the port is "auto" or the default (5432 then only means "start looking here").
 * `claimed` holds ports that other projects' stopped clusters still own.
 */
export async function chooseLocalPort(
  requested: number | 'auto',
  isFree: (port: number) => Promise<boolean> = isPortFree,
  claimed: Map<number, string> = new Map(),
): Promise<number> {
  if (requested === 'auto' || requested === 5432) return firstFreePort(5432, isFree);
  const owner = claimed.get(requested);
  if (owner)
    throw new UserError(`Port ${requested} belongs to another project's local cluster (${owner}), even while it is stopped.`, {
      hint: 'Pass --port auto to take the first free port from 5432, or another --port.',
      exitCode: ExitCode.server,
    });
  if (await isFree(requested)) return requested;
  throw new UserError(`Port ${requested} on ${LOOPBACK} is already taken.`, { hint: 'Pass --port auto to take the first free port from 5432, or another --port.', exitCode: ExitCode.server });
}

/** Did a server fail to start because its port is taken? (From pg_ctl's error and log, as startLocalCluster words them.) */
export function isPortTakenError(e: unknown): boolean {
  return e instanceof UserError && /could not bind|address already in use/i.test(e.message);
}
