/**
 * A small SOCKS5 server (RFC 1928, username/password RFC 1929) for tests: it records what each
 * client asked for, can demand credentials, can refuse every CONNECT with a reply code, and
 * relays bytes otherwise. Loopback only.
 */
import net from 'node:net';

export interface Socks5Request {
  /** 1 IPv4, 3 domain name, 4 IPv6 (RFC 1928 §5). */
  addressType: number;
  host: string;
  port: number;
}

export interface Socks5Server {
  port: number;
  /** 'socks5://127.0.0.1:PORT' or 'socks5://[::1]:PORT' (add credentials or use socks5h:// as the test needs). */
  url(scheme?: 'socks5' | 'socks5h', credentials?: string): string;
  /** The methods each greeting offered. */
  readonly greetings: readonly number[][];
  /** Username/password pairs tried (RFC 1929). */
  readonly authAttempts: readonly { username: string; password: string }[];
  /** The CONNECT requests, in order. */
  readonly requests: readonly Socks5Request[];
  close(): Promise<void>;
}

export interface Socks5Options {
  /** Demand these credentials (method 2); without, only "no authentication" (method 0). */
  credentials?: { username: string; password: string };
  /** Refuse every CONNECT with this reply code (2 not allowed, 5 refused, …). */
  refuse?: number;
  /** Where it listens: '127.0.0.1' (default) or '::1'. */
  host?: '127.0.0.1' | '::1';
}

/** Reads exactly `n` bytes from a paused-mode socket. */
function reader(socket: net.Socket): (n: number) => Promise<Buffer> {
  let buffered = Buffer.alloc(0);
  let waiting: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  const pump = () => {
    if (waiting && buffered.length >= waiting.n) {
      const w = waiting;
      waiting = undefined;
      const out = buffered.subarray(0, w.n);
      buffered = buffered.subarray(w.n);
      w.resolve(out);
    }
  };
  socket.on('data', (d: Buffer) => {
    buffered = Buffer.concat([buffered, d]);
    pump();
  });
  socket.on('close', () => waiting?.reject(new Error('closed')));
  return (n) =>
    new Promise((resolve, reject) => {
      waiting = { n, resolve, reject };
      pump();
    });
}

export async function startSocks5Server(opts: Socks5Options = {}): Promise<Socks5Server> {
  const greetings: number[][] = [];
  const authAttempts: { username: string; password: string }[] = [];
  const requests: Socks5Request[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    void serve(client).catch(() => client.destroy());
  });
  async function serve(client: net.Socket): Promise<void> {
    const read = reader(client);
    const [version, count] = await read(2);
    if (version !== 5) return void client.destroy();
    const methods = [...(await read(count!))];
    greetings.push(methods);
    const want = opts.credentials ? 2 : 0;
    if (!methods.includes(want)) {
      client.end(Buffer.from([5, 0xff]));
      return;
    }
    client.write(Buffer.from([5, want]));
    if (want === 2) {
      const [, ulen] = await read(2);
      const username = (await read(ulen!)).toString('utf8');
      const [plen] = await read(1);
      const password = (await read(plen!)).toString('utf8');
      authAttempts.push({ username, password });
      const ok = username === opts.credentials!.username && password === opts.credentials!.password;
      if (!ok) {
        client.end(Buffer.from([1, 1]));
        return;
      }
      client.write(Buffer.from([1, 0]));
    }
    const [, cmd, , atyp] = await read(4);
    let host: string;
    if (atyp === 1) host = [...(await read(4))].join('.');
    else if (atyp === 4) {
      const b = await read(16);
      host = (b.toString('hex').match(/..../g) ?? []).join(':');
    } else {
      const [len] = await read(1);
      host = (await read(len!)).toString('ascii');
    }
    const port = (await read(2)).readUInt16BE(0);
    requests.push({ addressType: atyp!, host, port });
    const reply = (code: number) => Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
    if (cmd !== 1) return void client.end(reply(7));
    if (opts.refuse !== undefined) return void client.end(reply(opts.refuse));
    const upstream = net.connect({ host, port });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.once('error', () => client.end(reply(5)));
    upstream.once('connect', () => {
      upstream.removeAllListeners('error');
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.removeAllListeners('data');
      client.write(reply(0));
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  const hostInUrl = host === '::1' ? '[::1]' : host;
  return {
    port,
    url: (scheme = 'socks5', credentials) =>
      `${scheme}://${credentials ? `${credentials}@` : ''}${hostInUrl}:${port}`,
    greetings,
    authAttempts,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
