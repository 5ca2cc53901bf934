import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Takes the database away: open connections are reset, new ones refused. */
  cut(): Promise<void>;
  /** Brings it back on the same port (after `cut`): new connections reach the database again. */
  restore(): Promise<void>;
  /**
   * The database stops answering without closing anything (a frozen server, a partition): open
   * connections stay open and pass nothing either way; new ones are accepted and left silent.
   * `cut` ends it.
   */
  freeze(): void;
}

/**
 * A TCP proxy in front of the test's PostgreSQL. `watch` sees what each client sends before it is
 * passed on, so a test can cut the database at a chosen statement; `watchReply` sees what the
 * server answers before it is passed on (a cut there loses the answer), and may return a callback
 * run once the answer has been handed to the client (a cut there loses what follows). Both are
 * told which connection (numbered from 1 in the order they were opened).
 */
export async function startProxy(
  target: URL,
  options: {
    watch?: (data: Buffer, connection: number) => void;
    watchReply?: (data: Buffer, connection: number) => (() => void) | void;
  } = {},
): Promise<TcpProxy> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const pairs = new Set<[net.Socket, net.Socket]>();
  let frozen = false;
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (frozen) return;
    const connection = ++connections;
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => undefined);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    upstream.on('close', () => pairs.delete(pair));
    // Before the forwarding listener: a cut here stops this data from reaching the server.
    const { watch, watchReply } = options;
    if (watch) client.on('data', (data: Buffer) => watch(data, connection));
    // Written by hand (not piped) so that a freeze in `watch` holds back the data that caused it.
    client.on('data', (data: Buffer) => {
      if (frozen || upstream.destroyed) return;
      if (upstream.write(data)) return;
      client.pause();
      upstream.once('drain', () => {
        if (!frozen) client.resume();
      });
    });
    client.on('end', () => upstream.end());
    if (!watchReply) {
      upstream.pipe(client);
      return;
    }
    upstream.on('data', (data: Buffer) => {
      const then = watchReply(data, connection);
      if (frozen || client.destroyed) return;
      client.write(data, () => then?.());
    });
    upstream.on('end', () => client.end());
  });
  // A port the system picks: nothing else on the machine can hold it.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    freeze: () => {
      frozen = true;
      for (const [client, upstream] of pairs) {
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    cut: async () => {
      frozen = false;
      const closed = server.listening
        ? new Promise<void>((resolve) => server.close(() => resolve()))
        : Promise.resolve();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    restore: async () => {
      if (server.listening) return;
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
  };
}
