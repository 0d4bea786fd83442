/**
 * Keep-alive throughput, certainly's Session.get next to undici's request, side by side in one
 * process (the server in another: bench/server.ts, forked). Both go through one Agent-level setup
 * each (the same CA, no TLS resumption), on loopback HTTPS, each on connections it keeps alive.
 *
 * Rounds are paired and alternate which client goes first, so that drift of a shared machine hits
 * both alike; per pair the ratio certainly / undici is taken, and the medians reported, with the
 * spread (min–max) of each. `npm run bench:keepalive [-- --rounds 15 --n 2000 --only certainly]`.
 * --only runs one client's loop (for node --cpu-prof on build/bench/keepalive.js). --headers adds
 * a third client, undici's request sending the request headers certainly sends by default
 * (user-agent, accept, accept-encoding), to tell their cost (on both ends) from certainly's own.
 * --trust-env makes certainly's Session the way most code writes it, `new Session({ verify })`
 * with trustEnv on (the proxy and CA variables read per request, as requests does); the default
 * is bench/clients.ts's (trustEnv: false, as in npm run bench).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_HEADERS } from '../src/client/options.js';
import { createRoot, intermediate, issue, pemOf } from '../src/testing/pki.js';
import { type BenchClient, type ClientConfig, createClient } from './clients.js';

const HERE = fileURLToPath(new URL('.', import.meta.url)); // build/bench/

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const ROUNDS = Number(arg('rounds', '11'));
const N = Number(arg('n', '2000'));
const ONLY = arg('only', '');
const HEADERS = process.argv.includes('--headers');
const TRUST_ENV = process.argv.includes('--trust-env');
const SAME_HEADERS = 'undici + headers';
const CONCURRENCY = arg('c', '1,16')
  .split(',')
  .map((s) => Number(s));

async function startServer(key: string, cert: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(join(HERE, 'server.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.on('message', function onMsg(m: { type: string; port?: number }) {
      if (m.type !== 'listening') return;
      child.off('message', onMsg);
      resolve(m.port!);
    });
    child.send({ type: 'start', key, cert });
  });
  return { child, port };
}

/** n GETs of '/', `c` at a time; requests per second. */
async function round(client: BenchClient, n: number, c: number): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      await client.get('/');
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, worker));
  return n / ((performance.now() - t0) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const f0 = (x: number) => Math.round(x).toLocaleString('en-US');
const f2 = (x: number) => x.toFixed(2);

/** undici's request with certainly's default request headers (same Agent settings as clients.ts). */
async function withHeaders(c: ClientConfig): Promise<BenchClient> {
  const { Agent, request } = await import('undici');
  const agent = new Agent({ connect: { ca: c.caPem, maxCachedSessions: 0 } });
  const headers = { ...DEFAULT_HEADERS } as Record<string, string>;
  return {
    async get(path) {
      const r = await request(c.origin + path, { dispatcher: agent, headers });
      await r.body.arrayBuffer();
    },
    close: () => agent.close(),
  };
}

/** certainly with trustEnv on (the default): verify given in code, the environment consulted. */
async function certainlyWithEnv(c: ClientConfig): Promise<BenchClient> {
  const { Session } = await import('../src/client/session.js');
  const s = new Session({ verify: c.caPath });
  return {
    async get(path) {
      const r = await s.get(c.origin + path);
      await r.arrayBuffer();
    },
    close: () => s.close(),
  };
}

async function main(): Promise<void> {
  const root = createRoot({ cn: 'certainly keepalive bench root' });
  const inter = intermediate(root, { cn: 'certainly keepalive bench intermediate' });
  const leaf = issue(inter, { sans: ['DNS:localhost', 'IP:127.0.0.1'] });
  const dir = mkdtempSync(join(tmpdir(), 'certainly-keepalive-'));
  const caPath = join(dir, 'ca.pem');
  writeFileSync(caPath, root.pem);
  const server = await startServer(leaf.keyPem, pemOf(leaf, inter));
  const cfg: ClientConfig = { origin: `https://127.0.0.1:${server.port}`, caPem: root.pem, caPath };
  const names = ONLY ? [ONLY] : ['certainly', 'undici request', ...(HEADERS ? [SAME_HEADERS] : [])];
  const clients = Object.fromEntries(
    await Promise.all(
      names.map(
        async (n) =>
          [
            n,
            n === SAME_HEADERS
              ? await withHeaders(cfg)
              : n === 'certainly' && TRUST_ENV
                ? await certainlyWithEnv(cfg)
                : await createClient(n as 'certainly', cfg),
          ] as const,
      ),
    ),
  ) as Record<string, BenchClient>;
  try {
    console.log(
      `keep-alive: ${ROUNDS} paired rounds of ${N} GETs per client, node ${process.version}${TRUST_ENV ? ', certainly with trustEnv on' : ''}`,
    );
    for (const c of CONCURRENCY) {
      // Warm-up: connections opened and verified, code optimised, for each client.
      for (const n of names) await round(clients[n]!, Math.min(N, 1000), c);
      const rps: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
      const ratios: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const order = r % 2 === 0 ? names : [...names].reverse();
        const got: Record<string, number> = {};
        for (const n of order) got[n] = await round(clients[n]!, N, c);
        for (const n of names) rps[n]!.push(got[n]!);
        if (got.certainly !== undefined && got['undici request'] !== undefined)
          ratios.push(got.certainly / got['undici request']);
      }
      for (const n of names) {
        const xs = rps[n]!;
        console.log(
          `c=${c} ${n.padEnd(15)} median ${f0(median(xs))} req/s (min ${f0(Math.min(...xs))}, max ${f0(Math.max(...xs))})`,
        );
      }
      if (ratios.length > 0) {
        console.log(
          `c=${c} certainly / undici request: median ${f2(median(ratios))}× (min ${f2(Math.min(...ratios))}, max ${f2(Math.max(...ratios))}, per pair)`,
        );
      }
    }
  } finally {
    await Promise.all(Object.values(clients).map((c) => c.close()));
    server.child.send({ type: 'stop' });
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
