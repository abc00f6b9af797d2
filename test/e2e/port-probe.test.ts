import { createServer, type Server } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { nextFreePort } from '../../src/net/free-port.js';
import { probePort } from '../../src/net/probe.js';

const servers: Server[] = [];
const sockets = new Set<import('node:net').Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(onConnect: (sock: import('node:net').Socket) => void): Promise<number> {
  const srv = createServer((sock) => {
    sockets.add(sock);
    onConnect(sock);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as { port: number }).port;
}

/** A PostgreSQL-like listener: 'N' to SSLRequest, then an auth request or trust + server_version. */
function fakePostgres(trust: boolean) {
  return (sock: import('node:net').Socket) => {
    let first = true;
    sock.on('data', () => {
      if (first) {
        first = false;
        return void sock.write('N');
      }
      const msg = (type: string, body: Buffer) => {
        const head = Buffer.alloc(5);
        head.write(type, 0, 'latin1');
        head.writeInt32BE(body.length + 4, 1);
        return Buffer.concat([head, body]);
      };
      const int = (n: number) => {
        const b = Buffer.alloc(4);
        b.writeInt32BE(n);
        return b;
      };
      if (!trust) return void sock.write(msg('R', int(10)));
      sock.write(Buffer.concat([msg('R', int(0)), msg('S', Buffer.from('server_version\u000016.4 (Debian)\u0000')), msg('Z', Buffer.from('I'))]));
    });
    sock.on('error', () => undefined);
  };
}

test('a closed port is free', async () => {
  const port = await listen(() => undefined);
  await new Promise((r) => servers.pop()!.close(r));
  expect(await probePort('127.0.0.1', port)).toEqual({ kind: 'free' });
});

test('a server that answers the protocol is PostgreSQL, with its version when trust lets us in', async () => {
  expect(await probePort('127.0.0.1', await listen(fakePostgres(false)))).toEqual({ kind: 'postgres' });
  expect(await probePort('127.0.0.1', await listen(fakePostgres(true)))).toEqual({ kind: 'postgres', version: '16.4' });
});

test('a listener that is not PostgreSQL is told apart, whether it talks or stays silent', async () => {
  const chatty = await listen((s) => s.end('SSH-2.0-OpenSSH_9.2\r\n'));
  const silent = await listen(() => undefined);
  expect(await probePort('127.0.0.1', chatty)).toEqual({ kind: 'other' });
  expect(await probePort('127.0.0.1', silent, 300)).toEqual({ kind: 'other' });
});

test('nextFreePort skips a taken port', async () => {
  const taken = await listen(() => undefined);
  const next = await nextFreePort('127.0.0.1', taken);
  expect(next).toBeGreaterThan(taken);
});
