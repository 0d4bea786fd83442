/**
 * Real servers users run, on loopback, for the interop suite: Debian's nginx (package
 * nginx-light) serving the test PKI, and tinyproxy as a forward proxy (CONNECT). Each runs in the
 * foreground as a child of the test process, from a config written to a temporary directory, and
 * is killed (by its own pid) when the suite ends.
 *
 * Without the binaries, `missing()` says what to install; the suite then skips with that message.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { delimiter, join } from 'node:path';
import { type Issued, pemOf, tempDir } from '../support/pki.js';

const INSTALL_HINT =
  'install them with `apt-get install -y nginx-light tinyproxy` (Debian/Ubuntu; .ci/run does this) to run the interop suite';

/** The full path of an executable, looking in PATH and the sbin directories (nginx lives there). */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why the suite cannot run here, or undefined when nginx and tinyproxy are both installed. */
export function missing(): string | undefined {
  const absent = ['nginx', 'tinyproxy'].filter((b) => findBinary(b) === undefined);
  return absent.length ? `${absent.join(' and ')} not found: ${INSTALL_HINT}` : undefined;
}

/** A free TCP port on 127.0.0.1 (asked of the OS; a small race with other processes remains). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on port, or rejects with the daemon's output. */
export async function waitForPort(
  port: number,
  child: ChildProcess,
  output: () => string,
  name: string,
): Promise<void> {
  // Both daemons listen within milliseconds; 10 s covers a loaded CI machine with 2 cores.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before listening: ${output()}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${name} did not listen on ${port} within 10 s: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Daemon {
  port: number;
  /** The daemon's log so far (nginx: access log; tinyproxy: its log file). */
  log(): string;
  stop(): Promise<void>;
}

function run(binary: string, args: string[], name: string): { child: ChildProcess; output: () => string } {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.on('error', (e) => {
    out += `\n${name}: ${e.message}`;
  });
  // Never leave a daemon behind, even when a test run is interrupted.
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.removeListener('exit', kill));
  return { child, output: () => out.trim().slice(-2000) };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

export interface NginxSite {
  /** Served certificate, and the chain sent after it. */
  cert: Issued;
  chain?: Issued[];
  /** Serve HTTP/2 too (ALPN h2, http/1.1): `http2 on;` on nginx 1.25.1+, `listen … ssl http2` before. */
  http2?: boolean;
  /** Require a client certificate from this CA (`ssl_verify_client on`: nginx refuses at the HTTP level, 400). */
  clientCa?: Issued;
}

/** nginx's version, as [major, minor, patch] (from `nginx -v`, which prints on stderr). */
function nginxVersion(binary: string): [number, number, number] {
  const out = spawnSync(binary, ['-v'], { encoding: 'utf8' });
  const m = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(`${out.stderr ?? ''}${out.stdout ?? ''}`);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
}

export interface Nginx extends Daemon {
  /** Port of each TLS site, by name. */
  sites: Record<string, number>;
  /** A plain HTTP port. */
  plainPort: number;
}

/**
 * nginx in the foreground (`daemon off; master_process off;`, so it never switches user) with one
 * TLS server per site and one plain HTTP server. Locations: `/` answers "nginx <site> <uri>",
 * `/headers` echoes the Proxy-Authorization and Authorization it received.
 */
export async function startNginx(sites: Record<string, NginxSite>): Promise<Nginx> {
  const binary = findBinary('nginx');
  if (!binary) throw new Error(missing());
  const dir = tempDir('certainly-nginx-');
  const [major, minor, patch] = nginxVersion(binary);
  // The `http2` directive arrived in 1.25.1; Debian 12's nginx (1.22) takes it on `listen`.
  const http2Directive = major > 1 || (major === 1 && (minor > 25 || (minor === 25 && patch >= 1)));
  const ports: Record<string, number> = {};
  const blocks: string[] = [];
  const locations = (label: string) => `
    location = /headers { default_type text/plain; return 200 "proxy-authorization=[$http_proxy_authorization] authorization=[$http_authorization]\\n"; }
    location / { default_type text/plain; return 200 "nginx ${label} $request_uri\\n"; }`;
  for (const [name, site] of Object.entries(sites)) {
    const port = await freePort();
    ports[name] = port;
    const certFile = dir.write(`${name}.pem`, pemOf(site.cert, ...(site.chain ?? [])));
    const keyFile = dir.write(`${name}.key`, site.cert.keyPem);
    const clientAuth = site.clientCa
      ? `\n    ssl_client_certificate ${dir.write(`${name}-client-ca.pem`, site.clientCa.pem)};\n    ssl_verify_client on;`
      : '';
    blocks.push(`
  server {
    listen 127.0.0.1:${port} ssl${site.http2 && !http2Directive ? ' http2' : ''};${site.http2 && http2Directive ? '\n    http2 on;' : ''}
    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};${clientAuth}${locations(name)}
  }`);
  }
  const plainPort = await freePort();
  blocks.push(`
  server {
    listen 127.0.0.1:${plainPort};${locations('plain')}
  }`);
  const p = dir.path;
  const conf = dir.write(
    'nginx.conf',
    `daemon off;
master_process off;
worker_processes 1;
pid ${p}/nginx.pid;
error_log ${p}/error.log warn;
events { worker_connections 128; }
http {
  # The connection's serial number and protocol: the HTTP/2 tests count connections by it.
  log_format certainly '$remote_addr conn=$connection $server_protocol "$request" $status';
  access_log ${p}/access.log certainly;
  client_body_temp_path ${p}/body;
  proxy_temp_path ${p}/proxy;
  fastcgi_temp_path ${p}/fastcgi;
  uwsgi_temp_path ${p}/uwsgi;
  scgi_temp_path ${p}/scgi;
${blocks.join('\n')}
}
`,
  );
  // -e: the error log before the config is read (else /var/log/nginx/error.log, maybe not writable).
  const { child, output } = run(binary, ['-p', p, '-c', conf, '-e', `${p}/error.log`], 'nginx');
  const errorLog = () =>
    `${output()} ${existsSync(`${p}/error.log`) ? readFileSync(`${p}/error.log`, 'utf8').slice(-2000) : ''}`;
  try {
    await waitForPort(plainPort, child, errorLog, 'nginx');
  } catch (err) {
    await stop(child);
    dir.cleanup();
    throw err;
  }
  return {
    port: plainPort,
    plainPort,
    sites: ports,
    log: () => (existsSync(`${p}/access.log`) ? readFileSync(`${p}/access.log`, 'utf8') : ''),
    stop: async () => {
      await stop(child);
      dir.cleanup();
    },
  };
}

export interface TinyproxyOptions {
  /** 'user:password' for BasicAuth. */
  auth?: string;
  /** Allow CONNECT to these ports only (tinyproxy allows every port when none is listed). */
  connectPorts?: number[];
}

/** tinyproxy in the foreground (-d), allowing 127.0.0.1 only. */
export async function startTinyproxy(opts: TinyproxyOptions = {}): Promise<Daemon & { url: string }> {
  const binary = findBinary('tinyproxy');
  if (!binary) throw new Error(missing());
  const dir = tempDir('certainly-tinyproxy-');
  const port = await freePort();
  const p = dir.path;
  const lines = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 30',
    'MaxClients 32',
    `LogFile "${p}/tinyproxy.log"`,
    'LogLevel Info',
    `PidFile "${p}/tinyproxy.pid"`,
    'Allow 127.0.0.1',
    'DisableViaHeader Yes',
  ];
  if (opts.auth) {
    const [user, pass] = opts.auth.split(':') as [string, string];
    lines.push(`BasicAuth ${user} ${pass}`);
  }
  for (const cp of opts.connectPorts ?? []) lines.push(`ConnectPort ${cp}`);
  const conf = dir.write('tinyproxy.conf', `${lines.join('\n')}\n`);
  const { child, output } = run(binary, ['-d', '-c', conf], 'tinyproxy');
  const log = () => (existsSync(`${p}/tinyproxy.log`) ? readFileSync(`${p}/tinyproxy.log`, 'utf8') : '');
  try {
    await waitForPort(port, child, () => `${output()} ${log().slice(-2000)}`, 'tinyproxy');
  } catch (err) {
    await stop(child);
    dir.cleanup();
    throw err;
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    log,
    stop: async () => {
      await stop(child);
      dir.cleanup();
    },
  };
}

export interface DanteOptions {
  /** 'none' (default) or 'username' (RFC 1929, checked by dante against the system's users). */
  method?: 'none' | 'username';
  /** Destinations dante refuses (its `socks block` rule): 'host/bits port = N'. */
  block?: { to: string; port: number }[];
}

/**
 * Debian's dante (`danted`, package dante-server) as a SOCKS5 server in the foreground, from a
 * config written to a temporary directory, listening on 127.0.0.1 and allowing clients from
 * loopback only. Running as root it switches to `nobody` for its unprivileged work, as its
 * Debian default does.
 */
export async function startDante(opts: DanteOptions = {}): Promise<Daemon & { url: string }> {
  const binary = findBinary('danted');
  if (!binary) throw new Error('danted not found: install it with `apt-get install -y dante-server`');
  const dir = tempDir('certainly-dante-');
  const port = await freePort();
  const p = dir.path;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const blocks = (opts.block ?? []).map(
    (b) => `socks block {\n  from: 127.0.0.0/8 to: ${b.to} port = ${b.port}\n  log: error connect\n}`,
  );
  const conf = dir.write(
    'danted.conf',
    [
      `logoutput: ${p}/danted.log`,
      `internal: 127.0.0.1 port = ${port}`,
      'external: 127.0.0.1',
      `socksmethod: ${opts.method ?? 'none'}`,
      'clientmethod: none',
      ...(root ? ['user.privileged: root', 'user.unprivileged: nobody'] : []),
      'client pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  log: error\n}',
      ...blocks,
      'socks pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  command: connect\n  log: error connect\n}',
      '',
    ].join('\n'),
  );
  const { child, output } = run(binary, ['-f', conf, '-p', `${p}/danted.pid`, '-N', '1'], 'danted');
  const log = () => (existsSync(`${p}/danted.log`) ? readFileSync(`${p}/danted.log`, 'utf8') : '');
  try {
    await waitForPort(port, child, () => `${output()} ${log().slice(-2000)}`, 'danted');
  } catch (err) {
    await stop(child);
    dir.cleanup();
    throw err;
  }
  return {
    port,
    url: `socks5://127.0.0.1:${port}`,
    log,
    stop: async () => {
      await stop(child);
      dir.cleanup();
    },
  };
}
