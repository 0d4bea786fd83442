/**
 * The soak: many requests at high concurrency through one Session to a mix of healthy and broken
 * loopback servers, then checks that every request ended with a response or the typed error its
 * server deserves, that sockets and handles are back to the baseline, and that memory stayed
 * flat. Used by test/reliability/soak.test.ts (short) and scripts/soak.ts (100,000 requests).
 */

import { CertainlyError, Session } from '../../src/index.js';
import { Rng } from '../fuzz/engine.js';
import { createRoot, intermediate, issue } from '../support/pki.js';
import { startRawTlsServer, startTlsServer } from '../support/servers.js';

const DAY = 86_400_000;

export interface SoakOptions {
  requests: number;
  concurrency: number;
  seed?: number;
  /** Called every `progressEvery` requests. */
  onProgress?: (done: number, heapMb: number) => void;
  progressEvery?: number;
}

export interface SoakReport {
  requests: number;
  elapsedMs: number;
  /** Per target: how many requests, and outcome counts ('200', 'SSLError:UNKNOWN_ISSUER', …). */
  outcomes: Record<string, Record<string, number>>;
  /** Requests whose outcome was not one their target allows. */
  unexpected: { target: string; outcome: string; message: string }[];
  /**
   * Heap after GC, MB: after the first tenth, at the end of the run (the test servers' records
   * included), and once the run's Session and servers are closed and unreachable.
   */
  heapMb: { early: number; end: number; afterRelease: number };
  /** Handshake errors and SNI names the test servers hold (bounded; their memory, not the client's). */
  serverRecords: number;
  rssMb: { start: number; end: number };
  /** Active resources (process.getActiveResourcesInfo()) by type. */
  resources: { baseline: Record<string, number>; after: Record<string, number> };
}

interface Target {
  name: string;
  weight: number;
  url: string;
  options: Record<string, unknown>;
  /** Outcomes allowed: '200', or 'Class:code' of the typed error. */
  allowed: (outcome: string) => boolean;
}

const gc = (globalThis as { gc?: () => void }).gc;
function heapMb(): number {
  gc?.();
  return process.memoryUsage().heapUsed / 1e6;
}

function countResources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/** Sockets, servers and timers the soak could leak (what getActiveResourcesInfo names them). */
export const WATCHED_RESOURCES = ['TCPSocketWrap', 'TLSWrap', 'TCPServerWrap', 'Timeout'];

function outcomeOf(value: unknown): { outcome: string; message: string } {
  if (value instanceof CertainlyError)
    return { outcome: `${value.name}:${value.code}`, message: value.message };
  if (value instanceof Error) return { outcome: `untyped:${value.name}`, message: value.message };
  return { outcome: String(value), message: '' };
}

export async function soak(opts: SoakOptions): Promise<SoakReport> {
  const baseline = countResources();
  const rssStart = process.memoryUsage().rss / 1e6;
  // The run in its own function, so that once it returns its Session, servers and certificates
  // are unreachable and the heap measured after it shows what the client kept, if anything.
  const run = await runSoak(opts);
  // Let closes, destroyed sockets and undici's timers settle: poll until back to the baseline.
  let after = countResources();
  for (let i = 0; i < 50 && !backToBaseline(baseline, after); i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = countResources();
  }
  return {
    ...run,
    heapMb: { ...run.heapMb, afterRelease: heapMb() },
    rssMb: { start: rssStart, end: run.rssEnd },
    resources: { baseline, after },
  };
}

async function runSoak(opts: SoakOptions) {
  const root = createRoot({ cn: 'soak root' });
  const inter = intermediate(root, { cn: 'soak intermediate' });
  const other = createRoot({ cn: 'soak untrusted root' });
  const good = issue(inter);
  const servers = {
    healthy: await startTlsServer({ cert: good, chain: [inter] }),
    healthyLocalhost: await startTlsServer({ cert: good, chain: [inter], host: 'localhost' }),
    unknownIssuer: await startTlsServer({ cert: issue(other), chain: [other] }),
    expired: await startTlsServer({
      cert: issue(inter, { notBefore: new Date(Date.now() - 2 * DAY), notAfter: new Date(Date.now() - DAY) }),
      chain: [inter],
    }),
    mismatch: await startTlsServer({ cert: issue(inter, { sans: ['DNS:other.example'] }), chain: [inter] }),
    resetInHandshake: await startRawTlsServer({ mode: 'reset' }),
    closeInHandshake: await startRawTlsServer({ mode: 'close' }),
    stallInHandshake: await startRawTlsServer({ mode: 'stall' }),
    stallAfterHandshake: await startRawTlsServer({ mode: 'stallAfterHandshake', cert: good, chain: [inter] }),
    closeAfterHandshake: await startRawTlsServer({ mode: 'closeAfterHandshake', cert: good, chain: [inter] }),
    resetAfterHandshake: await startRawTlsServer({ mode: 'resetAfterHandshake', cert: good, chain: [inter] }),
  };
  const verify = root.pem;
  // The stalling servers: give up quickly on the phase that stalls, and leave the other phase
  // the default, so that a handshake slowed by 200 concurrent ones is not mistaken for a stall.
  const stallConnect = { connect: 300, read: 10_000 };
  const stallRead = { connect: 10_000, read: 300 };
  const is =
    (...ok: string[]) =>
    (o: string) =>
      ok.includes(o);
  const conn = (o: string) => o.startsWith('ConnectionError:');
  const targets: Target[] = [
    { name: 'healthy', weight: 40, url: servers.healthy.url('/'), options: { verify }, allowed: is('200') },
    {
      name: 'healthy, keep-alive closed by the server',
      weight: 5,
      url: servers.healthy.url('/'),
      options: { verify, headers: { connection: 'close' } },
      allowed: is('200'),
    },
    {
      name: 'slow (50 ms)',
      weight: 8,
      url: servers.healthy.url('/delay/50'),
      options: { verify },
      allowed: is('200'),
    },
    {
      name: 'localhost (::1 or 127.0.0.1)',
      weight: 8,
      url: servers.healthyLocalhost.url('/'),
      options: { verify },
      allowed: is('200'),
    },
    {
      name: 'unknown issuer',
      weight: 5,
      url: servers.unknownIssuer.url('/'),
      options: { verify },
      allowed: is('SSLError:UNKNOWN_ISSUER', 'SSLError:SELF_SIGNED'),
    },
    {
      name: 'expired',
      weight: 5,
      url: servers.expired.url('/'),
      options: { verify },
      allowed: is('SSLError:CERT_EXPIRED'),
    },
    {
      name: 'name mismatch',
      weight: 5,
      url: servers.mismatch.url('/'),
      options: { verify },
      allowed: is('SSLError:HOSTNAME_MISMATCH'),
    },
    {
      name: 'reset in handshake',
      weight: 4,
      url: servers.resetInHandshake.url('/'),
      options: { verify },
      allowed: conn,
    },
    {
      name: 'close in handshake',
      weight: 4,
      url: servers.closeInHandshake.url('/'),
      options: { verify },
      allowed: conn,
    },
    {
      name: 'stall in handshake',
      weight: 3,
      url: servers.stallInHandshake.url('/'),
      options: { verify, timeout: stallConnect },
      allowed: is('ConnectTimeout:ERR_CONNECT_TIMEOUT'),
    },
    {
      name: 'stall after handshake',
      weight: 3,
      url: servers.stallAfterHandshake.url('/'),
      options: { verify, timeout: stallRead },
      allowed: is('ReadTimeout:ERR_READ_TIMEOUT'),
    },
    {
      name: 'close after handshake',
      weight: 5,
      url: servers.closeAfterHandshake.url('/'),
      options: { verify },
      allowed: conn,
    },
    {
      name: 'reset after handshake',
      weight: 5,
      url: servers.resetAfterHandshake.url('/'),
      options: { verify },
      allowed: conn,
    },
  ];
  const totalWeight = targets.reduce((n, t) => n + t.weight, 0);
  const pick = (rng: Rng): Target => {
    let x = rng.int(totalWeight);
    for (const t of targets) {
      x -= t.weight;
      if (x < 0) return t;
    }
    return targets[0]!;
  };

  const session = new Session({ trustEnv: false, timeout: { connect: 10_000, read: 10_000 } });
  const outcomes: SoakReport['outcomes'] = {};
  const unexpected: SoakReport['unexpected'] = [];
  const rng = new Rng(opts.seed ?? 1);
  let next = 0;
  let done = 0;
  let early = Number.NaN;
  const every = opts.progressEvery ?? Math.max(1, Math.floor(opts.requests / 10));
  const started = performance.now();
  const worker = async () => {
    while (next < opts.requests) {
      next++;
      const t = pick(rng);
      const result = await session.get(t.url, t.options).then(
        async (r) => {
          await r.arrayBuffer();
          return String(r.status);
        },
        (err: unknown) => err,
      );
      const { outcome, message } = outcomeOf(result);
      const row = outcomes[t.name] ?? {};
      outcomes[t.name] = row;
      row[outcome] = (row[outcome] ?? 0) + 1;
      if (!t.allowed(outcome) && unexpected.length < 50)
        unexpected.push({ target: t.name, outcome, message });
      done++;
      if (done === Math.floor(opts.requests / 10)) early = heapMb();
      if (done % every === 0) opts.onProgress?.(done, process.memoryUsage().heapUsed / 1e6);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const elapsedMs = performance.now() - started;
  const end = heapMb();
  const rssEnd = process.memoryUsage().rss / 1e6;
  // The test servers keep their latest handshake errors and SNI names (test/support, at most
  // RECENT_RECORDS each); counted here to tell their memory apart from the client's.
  const serverRecords = Object.values(servers).reduce(
    (n, s) => n + ('handshakeErrors' in s ? s.handshakeErrors.length + s.serverNames.length : 0),
    0,
  );
  await session.close();
  await Promise.all(Object.values(servers).map((s) => s.close()));
  return {
    requests: done,
    elapsedMs,
    outcomes,
    unexpected,
    serverRecords,
    heapMb: { early, end },
    rssEnd,
  };
}

export function backToBaseline(baseline: Record<string, number>, after: Record<string, number>): boolean {
  return WATCHED_RESOURCES.every((k) => (after[k] ?? 0) <= (baseline[k] ?? 0));
}
