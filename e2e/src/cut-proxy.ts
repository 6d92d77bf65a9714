import { connect, createServer, type Socket } from 'node:net';

export interface CutProxy {
  /** http://127.0.0.1:<port>: open this instead of the frontend's own URL. */
  url: string;
  /** Drops every open connection at once and refuses new ones for `ms`, as a lost network does. */
  cut(ms: number): void;
  close(): Promise<void>;
}

/**
 * A TCP relay in front of the frontend whose connections a test can cut. (Chromium's offline
 * emulation fails new requests only: a response already streaming goes on.) Cookies are
 * per host, not per port, so a session made through the relay is the frontend's too.
 */
export async function startCutProxy(targetPort: number): Promise<CutProxy> {
  const sockets = new Set<Socket>();
  let downUntil = 0;
  const server = createServer((client) => {
    if (Date.now() < downUntil) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    const drop = () => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', drop);
      socket.on('close', drop);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no proxy address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut(ms) {
      downUntil = Date.now() + ms;
      for (const socket of sockets) socket.resetAndDestroy();
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
