import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { ExitCode, UserError } from '../errors.js';
import { importOutside } from './import-outside.js';

/** A reachable Docker engine and where it was found, for messages. */
export interface DockerEngine {
  docker: Dockerode;
  /** "unix:///var/run/docker.sock" or "tcp://host:2375". */
  where: string;
}

/**
 * Where the engine should be: DOCKER_HOST, else the platform's default sockets
 * (system-wide, then Docker Desktop's per-user one).
 */
export function dockerEndpoint(dockerHost = process.env.DOCKER_HOST): { socketPath?: string; host?: string; port?: number; where: string } {
  if (dockerHost && !dockerHost.startsWith('unix://')) {
    const u = new URL(dockerHost.includes('//') ? dockerHost : `tcp://${dockerHost}`);
    return { host: u.hostname, port: Number(u.port || 2375), where: dockerHost };
  }
  const candidates = dockerHost
    ? [dockerHost.slice('unix://'.length)]
    : ['/var/run/docker.sock', join(homedir(), '.docker', 'run', 'docker.sock')];
  const socketPath = candidates.find((p) => existsSync(p)) ?? candidates[0]!;
  return { socketPath, where: `unix://${socketPath}` };
}

/**
 * Connect to the engine and ping it. dockerode is imported here, lazily, so commands that
 * never touch Docker (--help) do not pay for loading it. A missing or silent engine is one
 * UserError, so callers never see a cascade of socket errors.
 */
export async function connectDocker(opts: { dockerHost?: string | undefined; timeoutMs?: number } = {}): Promise<DockerEngine> {
  const ep = dockerEndpoint(opts.dockerHost ?? process.env.DOCKER_HOST);
  const hint =
    'Start Docker (Docker Desktop, or "sudo systemctl start docker"), set DOCKER_HOST, or choose another --provider (apt, brew, existing).';
  if (ep.socketPath && !existsSync(ep.socketPath))
    throw new UserError(`No Docker engine: nothing at ${ep.where}.`, { hint, exitCode: ExitCode.server });
  const { default: Docker } = await importOutside<{ default: typeof import('dockerode') }>('dockerode');
  const docker = new Docker({ socketPath: ep.socketPath, host: ep.host, port: ep.port, timeout: opts.timeoutMs ?? 5000 });
  try {
    await docker.ping();
  } catch (e) {
    throw new UserError(`The Docker engine at ${ep.where} is not answering (${(e as Error).message.trim()}).`, {
      hint,
      exitCode: ExitCode.server,
      cause: e,
    });
  }
  // The ping timeout must not cut off long calls (pulls, exec) later on.
  (docker.modem as unknown as { timeout?: number }).timeout = undefined;
  return { docker, where: ep.where };
}

/** True for dockerode's "(HTTP code 404) no such ..." errors. */
export function isNotFound(e: unknown): boolean {
  return (e as { statusCode?: number } | undefined)?.statusCode === 404;
}

/**
 * Split Docker's multiplexed stream format (8-byte header: stream type, 3 zero bytes,
 * big-endian length) into stdout and stderr. Used for logs and exec output.
 */
export function demuxBuffer(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i];
    const len = buf.readUInt32BE(i + 4);
    const chunk = buf.subarray(i + 8, i + 8 + len);
    (type === 2 ? err : out).push(chunk);
    i += 8 + len;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/**
 * Run a command in a running container with `input` on its stdin (never in argv: SQL may
 * carry passwords) and collect its output and exit code.
 */
export async function execInContainer(
  container: Dockerode.Container,
  cmd: string[],
  input: string,
  opts: { user?: string; timeoutMs?: number } = {},
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const exec = await container.exec({
    Cmd: cmd,
    User: opts.user,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  });
  const stream = (await exec.start({ hijack: true, stdin: true })) as NodeJS.ReadWriteStream & { destroy(): void };
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`${cmd[0]} in the container did not finish within ${(opts.timeoutMs ?? 30_000) / 1000} s`));
    }, opts.timeoutMs ?? 30_000);
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    stream.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.end(input);
  });
  const { stdout, stderr } = demuxBuffer(Buffer.concat(chunks));
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? 1, stdout, stderr };
}
