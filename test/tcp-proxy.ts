import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Takes the database away: open connections are reset, new ones refused. */
  cut(): Promise<void>;
  /** Brings it back on the same port (after `cut`): new connections reach the database again. */
  restore(): Promise<void>;
}

/**
 * A TCP proxy in front of the test's PostgreSQL. `watch` sees what each client sends before it is
 * passed on, so a test can cut the database at a chosen statement.
 */
export async function startProxy(
  target: URL,
  options: { watch?: (data: Buffer) => void } = {},
): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    // Before the pipe's own listener: a cut here stops this data from reaching the server.
    if (options.watch) client.on('data', options.watch);
    client.pipe(upstream).pipe(client);
  });
  // A port the system picks: nothing else on the machine can hold it.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cut: async () => {
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
