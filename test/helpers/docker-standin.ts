/**
 * A local stand-in for the Docker Engine API on a unix socket, for contract tests of the
 * docker provider. It answers the endpoints dockerode calls with the engine's response
 * shapes; starting a container starts a real throwaway PostgreSQL (startCluster) on the
 * published host port, with the container's POSTGRES_PASSWORD, and `exec psql` runs the
 * real psql against it over its unix socket (trusted, like the official image's local line).
 * A named volume owns its cluster's data dir, so a later container on the same volume keeps
 * the password it was first initialised with, exactly as the real image does.
 *
 * The docker provider's own tests run against a real engine (docker-engine.ts); this stand-in
 * remains for the port-conflict and wizard tests, and startSilentSocket for "the engine
 * accepts a connection and never answers", which a real engine cannot be made to do.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgBinDir, startCluster, type TestCluster } from './cluster.js';

export interface StandinContainer {
  id: string;
  name: string;
  image: string;
  env: string[];
  labels: Record<string, string>;
  hostPort: number | undefined;
  hostIp: string;
  volume: string | undefined;
  target: string | undefined;
  restartPolicy: string;
  healthcheck: unknown;
  running: boolean;
  created: string;
}

interface Volume {
  name: string;
  labels: Record<string, string>;
  cluster: TestCluster | undefined;
  created: string;
}

interface Exec {
  id: string;
  containerId: string;
  cmd: string[];
  exitCode: number | null;
  running: boolean;
}

export interface DockerStandin {
  socketPath: string;
  /** unix://<socketPath>, for DOCKER_HOST. */
  dockerHost: string;
  containers: Map<string, StandinContainer>;
  volumes: Map<string, Volume>;
  images: Set<string>;
  /** "METHOD /path" of every request, for asserting what the client did. */
  requests: string[];
  /** Add a container the way another tool would (no pg-setup labels, no server). */
  addForeignContainer(name: string, image?: string): void;
  /** `docker rm -f`: the container goes, its volume stays. */
  removeContainer(name: string): void;
  close(): Promise<void>;
}

const LAYERS = 4;

/** Start the stand-in on a socket in a fresh temp dir. */
export async function startDockerStandin(opts: { images?: string[] } = {}): Promise<DockerStandin> {
  const dir = mkdtempSync(join(tmpdir(), 'pgsetup-docker-'));
  const socketPath = join(dir, 'docker.sock');
  const containers = new Map<string, StandinContainer>();
  const volumes = new Map<string, Volume>();
  const images = new Set(opts.images ?? []);
  const execs = new Map<string, Exec>();
  const requests: string[] = [];
  const starting = new Map<string, Promise<void>>();

  const newId = (): string => randomBytes(32).toString('hex');
  const find = (ref: string): StandinContainer | undefined =>
    containers.get(ref) ?? [...containers.values()].find((c) => c.id === ref || c.id.startsWith(ref));
  const norm = (img: string): string => (img.includes(':') ? img : `${img}:latest`);

  /**
   * Like the engine, answer "started" at once and let the server boot behind it, so clients
   * must wait for readiness. Initialisation errors surface in exec and the logs, as for real.
   */
  function startContainer(c: StandinContainer): void {
    c.running = true;
    if (c.volume === undefined || c.hostPort === undefined) return;
    const vol = volumes.get(c.volume)!;
    const hostPort = c.hostPort;
    setTimeout(() => {
      if (!c.running) return;
      if (vol.cluster) {
        // An initialised volume: the image skips initdb, so POSTGRES_PASSWORD is ignored.
        vol.cluster.port = hostPort;
        vol.cluster.start();
      } else {
        const pw = c.env.find((e) => e.startsWith('POSTGRES_PASSWORD='))?.slice('POSTGRES_PASSWORD='.length);
        if (!pw) return;
        starting.set(vol.name, startCluster({ superPassword: pw, port: hostPort, hbaPrepend: ['local all all trust'] }).then((cl) => {
          vol.cluster = cl;
        }));
      }
    }, 50);
  }
  function stopContainer(c: StandinContainer): void {
    if (c.volume) volumes.get(c.volume)?.cluster?.stopKeep();
    c.running = false;
  }

  function listShape(c: StandinContainer): Record<string, unknown> {
    return {
      Id: c.id,
      Names: [`/${c.name}`],
      Image: c.image,
      ImageID: `sha256:${'0'.repeat(64)}`,
      Command: 'docker-entrypoint.sh postgres',
      Created: Math.floor(Date.parse(c.created) / 1000),
      Ports: c.hostPort ? [{ IP: c.hostIp, PrivatePort: 5432, PublicPort: c.hostPort, Type: 'tcp' }] : [],
      Labels: c.labels,
      State: c.running ? 'running' : 'exited',
      Status: c.running ? 'Up 2 seconds (healthy)' : 'Exited (0) 3 seconds ago',
      HostConfig: { NetworkMode: 'default' },
      NetworkSettings: { Networks: {} },
      Mounts: c.volume ? [{ Type: 'volume', Name: c.volume, Destination: c.target, Driver: 'local', RW: true }] : [],
    };
  }
  function inspectShape(c: StandinContainer): Record<string, unknown> {
    const ports = c.hostPort ? { '5432/tcp': [{ HostIp: c.hostIp, HostPort: String(c.hostPort) }] } : {};
    return {
      Id: c.id,
      Created: c.created,
      Path: 'docker-entrypoint.sh',
      Args: ['postgres'],
      Name: `/${c.name}`,
      Image: `sha256:${'0'.repeat(64)}`,
      State: {
        Status: c.running ? 'running' : 'exited',
        Running: c.running,
        Paused: false,
        Restarting: false,
        ExitCode: 0,
        StartedAt: c.created,
        Health: c.healthcheck ? { Status: c.running ? 'healthy' : 'unhealthy', FailingStreak: 0, Log: [] } : undefined,
      },
      Config: { Image: c.image, Env: c.env, Labels: c.labels, Healthcheck: c.healthcheck, ExposedPorts: { '5432/tcp': {} } },
      HostConfig: {
        PortBindings: ports,
        RestartPolicy: { Name: c.restartPolicy, MaximumRetryCount: 0 },
        Mounts: c.volume ? [{ Type: 'volume', Source: c.volume, Target: c.target }] : [],
      },
      Mounts: c.volume
        ? [{ Type: 'volume', Name: c.volume, Source: `/var/lib/docker/volumes/${c.volume}/_data`, Destination: c.target, Driver: 'local', RW: true }]
        : [],
      NetworkSettings: { Ports: c.running ? ports : {} },
    };
  }
  function volumeShape(v: Volume): Record<string, unknown> {
    return {
      Name: v.name,
      Driver: 'local',
      Mountpoint: `/var/lib/docker/volumes/${v.name}/_data`,
      Labels: v.labels,
      Scope: 'local',
      CreatedAt: v.created,
      Options: null,
    };
  }

  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.47', Server: 'Docker/27.3.1 (linux)' });
    res.end(JSON.stringify(body) + '\n');
  };
  const notFound = (res: ServerResponse, what: string): void => json(res, 404, { message: what });

  async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }

  async function pullStream(res: ServerResponse, image: string): Promise<void> {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.47' });
    const [repo, tag] = image.split(':');
    const line = (o: unknown): boolean => res.write(JSON.stringify(o) + '\r\n');
    line({ status: `Pulling from library/${repo}`, id: tag });
    const ids = Array.from({ length: LAYERS }, (_, i) => `a${i}b2c3d4e5f6`.slice(0, 12));
    for (const id of ids) line({ status: 'Pulling fs layer', progressDetail: {}, id });
    for (const [i, id] of ids.entries()) {
      const total = 1_000_000 * (i + 1);
      for (const current of [total / 4, total / 2, total]) {
        line({ status: 'Downloading', progressDetail: { current, total }, progress: '[=>   ]', id });
        await new Promise((r) => setTimeout(r, 2));
      }
      line({ status: 'Download complete', progressDetail: {}, id });
      line({ status: 'Extracting', progressDetail: { current: total, total }, id });
      line({ status: 'Pull complete', progressDetail: {}, id });
    }
    line({ status: `Digest: sha256:${'1'.repeat(64)}` });
    line({ status: `Status: Downloaded newer image for ${image}` });
    images.add(image);
    res.end();
  }

  /** Run an exec's command: psql/pg_isready from the real PostgreSQL against the volume's cluster. */
  function runExec(ex: Exec, stdin: NodeJS.ReadableStream, write: (type: 1 | 2, data: Buffer) => void, done: () => void): void {
    const c = find(ex.containerId)!;
    const cluster = c.volume ? volumes.get(c.volume)?.cluster : undefined;
    const [cmd, ...args] = ex.cmd;
    if (cmd === 'psql' && !cluster) {
      write(2, Buffer.from('psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No such file or directory\n'));
      ex.exitCode = 2;
      ex.running = false;
      done();
      return;
    }
    if (!cluster || (cmd !== 'psql' && cmd !== 'pg_isready')) {
      write(2, Buffer.from(`OCI runtime exec failed: exec: "${cmd}": executable file not found in $PATH\n`));
      ex.exitCode = 127;
      ex.running = false;
      done();
      return;
    }
    const child = spawn(join(pgBinDir(), cmd), args, {
      env: { ...process.env, PGHOST: cluster.socketDir, PGPORT: String(cluster.port), PGPASSWORD: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    stdin.pipe(child.stdin);
    child.stdout.on('data', (d: Buffer) => write(1, d));
    child.stderr.on('data', (d: Buffer) => write(2, d));
    child.on('close', (code) => {
      ex.exitCode = code ?? 1;
      ex.running = false;
      done();
    });
  }

  const frame = (type: 1 | 2, data: Buffer): Buffer => {
    const h = Buffer.alloc(8);
    h[0] = type;
    h.writeUInt32BE(data.length, 4);
    return Buffer.concat([h, data]);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://docker');
    const path = url.pathname.replace(/^\/v\d+\.\d+/, '');
    const method = req.method ?? 'GET';
    requests.push(`${method} ${path}`);
    let m: RegExpExecArray | null;

    if (path === '/_ping') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Api-Version': '1.47', 'Docker-Experimental': 'false' });
      return void res.end(method === 'HEAD' ? undefined : 'OK');
    }
    if (path === '/version' && method === 'GET')
      return json(res, 200, { Version: '27.3.1', ApiVersion: '1.47', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64', KernelVersion: '6.1.0' });

    if (path === '/images/create' && method === 'POST') {
      const image = norm(`${url.searchParams.get('fromImage')}${url.searchParams.get('tag') ? `:${url.searchParams.get('tag')}` : ''}`);
      if (!/^postgres:\d+$/.test(image)) return notFound(res, `manifest for ${image} not found: manifest unknown`);
      return pullStream(res, image);
    }
    if ((m = /^\/images\/(.+)\/json$/.exec(path)) && method === 'GET') {
      const image = norm(decodeURIComponent(m[1]!));
      if (!images.has(image)) return notFound(res, `No such image: ${image}`);
      return json(res, 200, { Id: `sha256:${'2'.repeat(64)}`, RepoTags: [image], Os: 'linux', Architecture: 'amd64', Size: 1 });
    }

    if (path === '/containers/create' && method === 'POST') {
      const body = await readBody(req);
      const name = url.searchParams.get('name') ?? newId().slice(0, 12);
      const existing = containers.get(name);
      if (existing)
        return json(res, 409, { message: `Conflict. The container name "/${name}" is already in use by container "${existing.id}". You have to remove (or rename) that container to be able to reuse that name.` });
      const image = norm(String(body.Image));
      if (!images.has(image)) return notFound(res, `No such image: ${image}`);
      const host = (body.HostConfig ?? {}) as {
        PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[]>;
        Mounts?: { Type: string; Source: string; Target: string }[];
        RestartPolicy?: { Name?: string };
      };
      const binding = host.PortBindings?.['5432/tcp']?.[0];
      const mount = host.Mounts?.find((x) => x.Type === 'volume');
      if (mount && !volumes.has(mount.Source))
        volumes.set(mount.Source, { name: mount.Source, labels: {}, cluster: undefined, created: new Date().toISOString() });
      const c: StandinContainer = {
        id: newId(),
        name,
        image,
        env: (body.Env as string[]) ?? [],
        labels: (body.Labels as Record<string, string>) ?? {},
        hostPort: binding?.HostPort ? Number(binding.HostPort) : undefined,
        hostIp: binding?.HostIp || '0.0.0.0',
        volume: mount?.Source,
        target: mount?.Target,
        restartPolicy: host.RestartPolicy?.Name ?? 'no',
        healthcheck: body.Healthcheck,
        running: false,
        created: new Date().toISOString(),
      };
      containers.set(name, c);
      return json(res, 201, { Id: c.id, Warnings: [] });
    }
    if (path === '/containers/json' && method === 'GET') {
      const all = url.searchParams.get('all') === 'true' || url.searchParams.get('all') === '1';
      const filters = JSON.parse(url.searchParams.get('filters') ?? '{}') as Record<string, string[] | Record<string, boolean>>;
      const values = (k: string): string[] => {
        const f = filters[k];
        return Array.isArray(f) ? f : f ? Object.keys(f) : [];
      };
      const list = [...containers.values()].filter(
        (c) =>
          (all || c.running) &&
          values('name').every((n) => c.name.includes(n.replace(/^\//, ''))) &&
          values('label').every((l) => {
            const [k, v] = l.split('=');
            return v === undefined ? k! in c.labels : c.labels[k!] === v;
          }) &&
          values('publish').every((p) => String(c.hostPort) === p.split('/')[0]),
      );
      return json(res, 200, list.map(listShape));
    }
    if ((m = /^\/containers\/([^/]+)(\/[a-z]+)?$/.exec(path))) {
      const c = find(decodeURIComponent(m[1]!));
      const action = m[2] ?? '';
      if (!c) return notFound(res, `No such container: ${m[1]}`);
      if (action === '/json' && method === 'GET') return json(res, 200, inspectShape(c));
      if (action === '/start' && method === 'POST') {
        if (c.running) return void res.writeHead(304).end();
        if (!c.env.some((e) => e.startsWith('POSTGRES_PASSWORD=')) && c.volume && !volumes.get(c.volume)?.cluster)
          return json(res, 500, { message: 'Database is uninitialized and superuser password is not specified.' });
        startContainer(c);
        return void res.writeHead(204).end();
      }
      if (action === '/stop' && method === 'POST') {
        if (!c.running) return void res.writeHead(304).end();
        stopContainer(c);
        return void res.writeHead(204).end();
      }
      if (action === '' && method === 'DELETE') {
        if (c.running && url.searchParams.get('force') !== 'true')
          return json(res, 409, { message: `cannot remove container "/${c.name}": container is running: stop the container before removing or force remove` });
        stopContainer(c);
        containers.delete(c.name);
        return void res.writeHead(204).end();
      }
      if (action === '/logs' && method === 'GET') {
        const cluster = c.volume ? volumes.get(c.volume)?.cluster : undefined;
        let text = '';
        try {
          text = cluster ? readFileSync(join(cluster.dataDir, '..', 'log'), 'utf8') : '';
        } catch {
          /* no log yet */
        }
        const tail = Number(url.searchParams.get('tail') ?? 'all');
        const lines = text.split('\n').slice(Number.isFinite(tail) ? -tail : 0).join('\n');
        res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
        return void res.end(frame(2, Buffer.from(lines)));
      }
      if (action === '/exec' && method === 'POST') {
        const body = await readBody(req);
        if (!c.running) return json(res, 409, { message: `container ${c.id} is not running` });
        const ex: Exec = { id: newId(), containerId: c.id, cmd: body.Cmd as string[], exitCode: null, running: false };
        execs.set(ex.id, ex);
        return json(res, 201, { Id: ex.id });
      }
    }
    if ((m = /^\/exec\/([^/]+)\/json$/.exec(path)) && method === 'GET') {
      const ex = execs.get(m[1]!);
      if (!ex) return notFound(res, `No such exec instance: ${m[1]}`);
      return json(res, 200, {
        ID: ex.id,
        Running: ex.running,
        ExitCode: ex.exitCode,
        ProcessConfig: { tty: false, entrypoint: ex.cmd[0], arguments: ex.cmd.slice(1), privileged: false },
        OpenStdin: true,
        ContainerID: ex.containerId,
        Pid: 0,
      });
    }
    if (path === '/volumes/create' && method === 'POST') {
      const body = await readBody(req);
      const name = String(body.Name);
      const v = volumes.get(name) ?? { name, labels: (body.Labels as Record<string, string>) ?? {}, cluster: undefined, created: new Date().toISOString() };
      volumes.set(name, v);
      return json(res, 201, volumeShape(v));
    }
    if (path === '/volumes' && method === 'GET') return json(res, 200, { Volumes: [...volumes.values()].map(volumeShape), Warnings: [] });
    if ((m = /^\/volumes\/([^/]+)$/.exec(path)) && method === 'DELETE') {
      const vname = decodeURIComponent(m[1]!);
      if (!volumes.has(vname)) return notFound(res, `get ${vname}: no such volume`);
      if ([...containers.values()].some((c) => c.volume === vname))
        return json(res, 409, { message: `remove ${vname}: volume is in use - [${[...containers.values()].filter((c) => c.volume === vname).map((c) => c.id).join(', ')}]` });
      volumes.get(vname)?.cluster?.stop(); // the volume's data goes with it, as on a real engine
      volumes.delete(vname);
      return void res.writeHead(204).end();
    }
    if ((m = /^\/volumes\/([^/]+)$/.exec(path)) && method === 'GET') {
      const v = volumes.get(decodeURIComponent(m[1]!));
      return v ? json(res, 200, volumeShape(v)) : notFound(res, `get ${m[1]}: no such volume`);
    }
    return notFound(res, `page not found: ${method} ${path}`);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => json(res, 500, { message: e.message }));
  });
  // POST /exec/{id}/start with "Connection: Upgrade": the engine answers 101 and the socket
  // becomes the raw exec stream (client stdin in; multiplexed stdout/stderr frames out).
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://docker').pathname.replace(/^\/v\d+\.\d+/, '');
    requests.push(`${req.method} ${path} (upgrade)`);
    const m = /^\/exec\/([^/]+)\/start$/.exec(path);
    const ex = m ? execs.get(m[1]!) : undefined;
    if (!ex) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n{"message":"No such exec instance"}\n');
      return;
    }
    socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    // The JSON body ({"Detach":false,"Tty":false}) precedes stdin on the wire; drop it.
    let skip = Number(req.headers['content-length'] ?? 0);
    const stdin = new PassThrough();
    const feed = (d: Buffer): void => {
      if (skip > 0) {
        const n = Math.min(skip, d.length);
        skip -= n;
        d = d.subarray(n);
      }
      if (d.length) stdin.write(d);
    };
    if (head.length) feed(head);
    socket.on('data', feed);
    socket.on('end', () => stdin.end());
    socket.on('error', () => stdin.end());
    ex.running = true;
    runExec(ex, stdin, (type, data) => socket.write(frame(type, data)), () => socket.end());
  });

  await new Promise<void>((resolve) => server.listen(socketPath, resolve));

  return {
    socketPath,
    dockerHost: `unix://${socketPath}`,
    containers,
    volumes,
    images,
    requests,
    addForeignContainer(name, image = 'nginx:latest') {
      containers.set(name, {
        id: newId(),
        name,
        image,
        env: [],
        labels: {},
        hostPort: undefined,
        hostIp: '0.0.0.0',
        volume: undefined,
        target: undefined,
        restartPolicy: 'no',
        healthcheck: undefined,
        running: true,
        created: new Date().toISOString(),
      });
    },
    removeContainer(name) {
      const c = containers.get(name);
      if (c) stopContainer(c);
      containers.delete(name);
    },
    async close() {
      await Promise.all(starting.values());
      for (const c of containers.values()) stopContainer(c);
      for (const v of volumes.values()) v.cluster?.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A unix socket that accepts connections and never answers: an engine that hangs. */
export async function startSilentSocket(): Promise<{ socketPath: string; close(): Promise<void> }> {
  const { createServer: createNetServer } = await import('node:net');
  const dir = mkdtempSync(join(tmpdir(), 'pgsetup-silent-'));
  const socketPath = join(dir, 'docker.sock');
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
