import { connect, type Socket } from 'node:net';

export type PortState =
  | { kind: 'free' }
  | { kind: 'postgres'; version?: string | undefined }
  | { kind: 'other' };

const SSL_REQUEST_CODE = 80877103;
const PROTOCOL_3 = 196608;

/** The protocol's SSLRequest: a server answers it with one byte, 'S' (TLS offered) or 'N'. */
function sslRequest(): Buffer {
  const req = Buffer.alloc(8);
  req.writeInt32BE(8, 0);
  req.writeInt32BE(SSL_REQUEST_CODE, 4);
  return req;
}

/**
 * What listens on host:port: nothing, a PostgreSQL server (it answers the protocol's
 * SSLRequest with 'S' or 'N'), or something else. An open TCP port alone proves nothing,
 * so we speak the protocol. The version is read from server_version when the server lets
 * the `postgres` role in without a password (trust); otherwise it stays unknown.
 */
export async function probePort(host: string, port: number, timeoutMs = 1500): Promise<PortState> {
  return new Promise((resolve) => {
    let settled = false;
    let phase: 'ssl' | 'startup' = 'ssl';
    let buf = Buffer.alloc(0);
    let version: string | undefined;
    const sock: Socket = connect({ host, port });
    const done = (state: PortState): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(state);
    };
    // A listener that never answers 8 bytes of PostgreSQL is not PostgreSQL.
    const timer = setTimeout(() => done(phase === 'ssl' ? { kind: 'other' } : { kind: 'postgres', version }), timeoutMs);
    sock.on('connect', () => {
      sock.write(sslRequest());
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (phase === 'startup') return done({ kind: 'postgres', version });
      done(e.code === 'ECONNREFUSED' || e.code === 'EADDRNOTAVAIL' ? { kind: 'free' } : { kind: 'other' });
    });
    sock.on('close', () => done(phase === 'ssl' ? { kind: 'other' } : { kind: 'postgres', version }));
    sock.on('data', (chunk) => {
      if (phase === 'ssl') {
        // The server answers with exactly one byte and then waits for us; a banner is not that.
        const c = chunk.length === 1 ? chunk.toString('latin1') : '';
        if (c !== 'S' && c !== 'N') return done({ kind: 'other' });
        phase = 'startup';
        // 'S' would need a TLS handshake before anything else; the answer alone is proof enough.
        if (c === 'S') return done({ kind: 'postgres' });
        sock.write(startupMessage({ user: 'postgres', database: 'postgres', application_name: 'pg-setup-probe' }));
        return;
      }
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 5) {
        const type = buf.toString('latin1', 0, 1);
        const len = buf.readInt32BE(1);
        if (buf.length < 1 + len) break;
        const body = buf.subarray(5, 1 + len);
        buf = buf.subarray(1 + len);
        if (type === 'R' && body.readInt32BE(0) !== 0) return done({ kind: 'postgres' });
        if (type === 'E') return done({ kind: 'postgres' });
        if (type === 'S') {
          const [name, value] = body.toString('utf8').split('\0');
          if (name === 'server_version') version = value?.split(' ')[0];
        }
        if (type === 'Z') {
          sock.write(Buffer.from([0x58, 0, 0, 0, 4]));
          return done({ kind: 'postgres', version });
        }
      }
    });
  });
}

function startupMessage(params: Record<string, string>): Buffer {
  const pairs = Object.entries(params).flatMap(([k, v]) => [k, v]);
  const body = Buffer.from(pairs.join('\0') + '\0\0', 'utf8');
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(PROTOCOL_3, 4);
  return Buffer.concat([head, body]);
}

/** "PostgreSQL 16.4", "PostgreSQL", "another program": for messages about a taken port. */
export function describePortState(state: PortState): string {
  if (state.kind === 'postgres') return state.version ? `PostgreSQL ${state.version}` : 'PostgreSQL';
  if (state.kind === 'other') return 'a program that is not PostgreSQL';
  return 'nothing';
}

/** Does the PostgreSQL server on host:port offer TLS (it answers the SSLRequest with 'S')? Undefined when it cannot tell. */
export async function offersTls(host: string, port: number, timeoutMs = 1500): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    const sock: Socket = connect({ host, port });
    const done = (v: boolean | undefined): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('connect', () => {
      sock.write(sslRequest());
    });
    sock.on('error', () => done(undefined));
    sock.on('data', (chunk) => done(chunk.length === 1 && chunk[0] === 0x53 ? true : chunk.length === 1 && chunk[0] === 0x4e ? false : undefined));
  });
}
