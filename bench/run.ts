/**
 * `npm run bench`: certainly side by side with undici, node:https, axios, got and node-fetch, in
 * one run, against one HTTPS server in its own process on loopback (test PKI; every client
 * trusts the same private root). Prints a table of absolute figures and ratios, and writes
 * bench/results.json, bench/chart.svg and the README's "Performance" table from the same figures.
 *
 *   node build/bench/run.js            the full run (a few minutes)
 *   node build/bench/run.js --quick    shorter runs; writes nothing unless --write is given too
 *   node build/bench/run.js --no-write the full run, printed only (to check run-to-run spread)
 *   node build/bench/run.js --h2-only  only the HTTP/2 rows (printed; with --write, merged into
 *                                      bench/results.json and the README table)
 *
 * Each client runs in a process of its own (bench/client-process.ts, forked once and kept for the
 * whole throughput run), so that one client's JIT feedback and garbage do not slow the next.
 * Throughput runs are interleaved: the parent asks each client process in turn, in a rotated
 * order, to run a slice of the scenario, and takes medians over slices, so that drift of a shared
 * machine spreads over all clients.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRoot, intermediate, issue, pemOf } from '../src/testing/pki.js';
import { renderChart } from './chart.js';
import type { ClientReply, ClientRequest } from './client-process.js';
import {
  CLIENT_NAMES,
  type ClientConfig,
  type ClientName,
  H2_CLIENT_NAMES,
  type H2ClientName,
} from './clients.js';
import { benchVerify, type VerifyFigures } from './verify.js';

const ROOT = new URL('../../', import.meta.url); // build/bench/run.js -> the repository root
const HERE = fileURLToPath(new URL('.', import.meta.url)); // build/bench/
const QUICK = process.argv.includes('--quick');
const H2_ONLY = process.argv.includes('--h2-only');
const WRITE =
  process.argv.includes('--write') || (!QUICK && !H2_ONLY && !process.argv.includes('--no-write'));
// Measured time per client per scenario per round, and rounds: enough for run-to-run spread
// of a few per cent on the 2-core machine this project runs on (checked by repeating runs).
// Each client is measured in short slices, all clients one after another, again and again; ratios
// are taken slice by slice (neighbours in time share the machine's load, which on a shared
// 2-core machine swings by several times within a minute) and their median is reported.
const SLICE_MS = QUICK ? 150 : 250;
const SLICES = QUICK ? 4 : 12;
const WARMUP_MS = QUICK ? 300 : 1000;
const COLD_RUNS = QUICK ? 3 : 7;
// The brief's figure for the memory benchmark.
const IDLE_CONNECTIONS = 1000;

/** The targets (issue 7), as ratios within one run. */
const TARGETS = {
  keepAliveVsUndiciRequest: 0.95,
  keepAliveVsAxios: 2.5,
  handshakeVsNodeHttps: 0.9,
  warmVerifyUs: 100,
  // Issue 15: a 3-certificate RSA-2048 chain, parsed from DER and verified, cold and warm.
  coldRsaVerifyUs: 150,
  warmRsaVerifyUs: 20,
};

interface Scenario {
  id: 'keepalive-c1' | 'keepalive-c16' | 'handshake-c8';
  title: string;
  path: string;
  concurrency: number;
}

const SCENARIOS: Scenario[] = [
  { id: 'keepalive-c1', title: 'keep-alive GET, concurrency 1', path: '/', concurrency: 1 },
  { id: 'keepalive-c16', title: 'keep-alive GET, concurrency 16', path: '/', concurrency: 16 },
  {
    id: 'handshake-c8',
    title: 'new TLS connection per request (full handshake + verification), concurrency 8',
    path: '/close',
    concurrency: 8,
  },
];

interface H2Scenario {
  id: 'h2-c1' | 'h2-c64';
  title: string;
  path: string;
  concurrency: number;
}

/**
 * HTTP/2 rows (issue 12): a node:http2 server (allowHTTP1) in its own process; certainly with
 * http2: true beside undici's allowH2 and got's http2: true, and certainly over HTTP/1.1 to the
 * same server. Ratios are certainly http2 ÷ each.
 */
const H2_SCENARIOS: H2Scenario[] = [
  { id: 'h2-c1', title: 'HTTP/2 keep-alive GET, concurrency 1', path: '/', concurrency: 1 },
  { id: 'h2-c64', title: 'HTTP/2 keep-alive GET, concurrency 64', path: '/', concurrency: 64 },
];

interface H2Figures {
  server: string;
  scenarios: Record<
    H2Scenario['id'],
    {
      title: string;
      concurrency: number;
      reqPerSec: Record<H2ClientName, number>;
      certainlyHttp2Vs: Record<H2ClientName, number>;
    }
  >;
  /** What each client spoke in its warm-up, counted by the server. */
  protocols: Record<H2ClientName, string>;
  /** TCP connections each client opened in its c=64 warm-up (a multiplexing client opens one). */
  connectionsAtC64: Record<H2ClientName, number>;
}

interface ServerHandle {
  child: ChildProcess;
  port: number;
  stats(): Promise<{
    connections: number;
    open: number;
    resumed: number;
    requests: number;
    h2Requests: number;
    h1Requests: number;
  }>;
  stop(): void;
}

async function startServer(key: string, cert: string, h2 = false): Promise<ServerHandle> {
  const child = fork(join(HERE, 'server.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.on('message', function onMsg(m: { type: string; port?: number }) {
      if (m.type === 'listening') {
        child.off('message', onMsg);
        resolve(m.port!);
      }
    });
    child.send({ type: 'start', key, cert, h2 });
  });
  return {
    child,
    port,
    stats: () =>
      new Promise((resolve) => {
        child.on('message', function onMsg(m: { type: string }) {
          if (m.type !== 'stats') return;
          child.off('message', onMsg);
          resolve(m as never);
        });
        child.send({ type: 'stats' });
      }),
    stop: () => {
      child.send({ type: 'stop' });
    },
  };
}

/** A client in its own process (bench/client-process.ts), asked one thing at a time over IPC. */
interface ClientProcess {
  name: ClientName;
  ask(msg: ClientRequest): Promise<{ count?: number; elapsedMs?: number }>;
  stop(): Promise<void>;
}

// --no-memory-reducer: an idle client process (waiting for its next slice) would otherwise start
// V8's memory reducer, garbage collection that runs while another client is measured and that a
// process under steady load never does (V8 starts it only when the mutator has gone quiet).
const CLIENT_EXEC_ARGV = ['--no-memory-reducer'];

function startClientProcess(name: ClientName): ClientProcess {
  const child = fork(join(HERE, 'client-process.js'), [name], {
    execArgv: CLIENT_EXEC_ARGV,
    env: cleanEnv(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let pending: { resolve: (r: ClientReply) => void; reject: (e: Error) => void } | undefined;
  let exited: Error | undefined;
  child.on('message', (m: ClientReply) => {
    const p = pending;
    pending = undefined;
    p?.resolve(m);
  });
  child.once('exit', (code, signal) => {
    exited = new Error(`the ${name} process exited (${signal ?? code})`);
    pending?.reject(exited);
    pending = undefined;
  });
  return {
    name,
    async ask(msg) {
      if (exited) throw exited;
      if (pending) throw new Error(`the ${name} process is busy`);
      const reply = await new Promise<ClientReply>((resolve, reject) => {
        pending = { resolve, reject };
        child.send(msg);
      });
      if (reply.type === 'error') throw new Error(reply.message);
      return reply;
    },
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.disconnect();
      await gone;
    },
  };
}

/** Requests per second of one slice of `scenario` in the client's own process. */
async function measure(
  client: ClientProcess,
  path: string,
  concurrency: number,
  ms: number,
): Promise<number> {
  const r = await client.ask({ type: 'run', path, concurrency, ms });
  return (r.count! * 1000) / r.elapsedMs!;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Runs `node build/bench/child.js …` and returns its JSON line. */
function runChild(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  keepOpen?: (out: unknown, finish: () => void) => void,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', join(HERE, 'child.js'), ...args], {
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    let done = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0 || done) return;
      done = true;
      const parsed = JSON.parse(out.slice(0, nl)) as Record<string, unknown>;
      if (parsed.error) {
        reject(new Error(`child ${args[0]}: ${parsed.error}`));
        child.kill();
        return;
      }
      const finish = () => {
        child.stdin.end();
        child.once('exit', () => resolve(parsed));
      };
      if (keepOpen) keepOpen(parsed, finish);
      else finish();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!done) reject(new Error(`child ${args[0]} exited with ${code} and no result`));
    });
  });
}

/** The environment without the CA variables this machine sets, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of [
    'REQUESTS_CA_BUNDLE',
    'CURL_CA_BUNDLE',
    'SSL_CERT_FILE',
    'SSL_CERT_DIR',
    'NODE_EXTRA_CA_CERTS',
  ]) {
    delete env[k];
  }
  return { ...env, ...extra };
}

function versionOf(pkg: string): string {
  try {
    const p = JSON.parse(readFileSync(new URL(`node_modules/${pkg}/package.json`, ROOT), 'utf8')) as {
      version: string;
    };
    return p.version;
  } catch {
    return 'unknown';
  }
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);

/** The HTTP/2 rows: interleaved slices as for the others, on a node:http2 server of their own. */
async function runH2(
  key: string,
  cert: string,
  cfgFor: (origin: string) => ClientConfig,
  log: (s: string) => void,
): Promise<H2Figures> {
  const server = await startServer(key, cert, true);
  const cfg = cfgFor(`https://127.0.0.1:${server.port}`);
  const names = H2_CLIENT_NAMES;
  const procs = new Map<H2ClientName, ClientProcess>(names.map((n) => [n, startClientProcess(n)]));
  const scenarios = {} as H2Figures['scenarios'];
  const protocols = {} as Record<H2ClientName, string>;
  const connectionsAtC64 = {} as Record<H2ClientName, number>;
  try {
    for (const sc of H2_SCENARIOS) {
      for (const [name, p] of procs) {
        const before = await server.stats();
        await p.ask({ type: 'open', cfg });
        await measure(p, sc.path, sc.concurrency, WARMUP_MS);
        const after = await server.stats();
        const h2 = after.h2Requests - before.h2Requests;
        const h1 = after.h1Requests - before.h1Requests;
        protocols[name] =
          h2 > 0 && h1 === 0 ? 'HTTP/2' : h1 > 0 && h2 === 0 ? 'HTTP/1.1' : `mixed (${h2} h2, ${h1} h1)`;
        if (sc.concurrency === 64) connectionsAtC64[name] = after.connections - before.connections;
      }
      const slices: Record<H2ClientName, number>[] = [];
      try {
        for (let i = 0; i < SLICES; i++) {
          const slice = {} as Record<H2ClientName, number>;
          const order = names.map((_, k) => names[(k + i) % names.length]!);
          for (const name of order)
            slice[name] = await measure(procs.get(name)!, sc.path, sc.concurrency, SLICE_MS);
          slices.push(slice);
        }
      } finally {
        for (const p of procs.values()) await p.ask({ type: 'close' }).catch(() => {});
      }
      const reqPerSec = Object.fromEntries(names.map((n) => [n, median(slices.map((x) => x[n]))])) as Record<
        H2ClientName,
        number
      >;
      const certainlyHttp2Vs = Object.fromEntries(
        names.map((n) => [n, median(slices.map((x) => ratio(x['certainly http2'], x[n])))]),
      ) as Record<H2ClientName, number>;
      scenarios[sc.id] = { title: sc.title, concurrency: sc.concurrency, reqPerSec, certainlyHttp2Vs };
      log(`  ${sc.id.padEnd(14)} ${names.map((n) => `${n} ${fmt(reqPerSec[n])}`).join(', ')} req/s`);
    }
  } finally {
    await Promise.all([...procs.values()].map((p) => p.stop()));
    server.stop();
  }
  for (const n of names) {
    const want = n === 'certainly (h1)' ? 'HTTP/1.1' : 'HTTP/2';
    if (protocols[n] !== want)
      throw new Error(`bench: ${n} spoke ${protocols[n]} to the HTTP/2 server, not ${want}`);
  }
  return {
    server: 'node:http2 createSecureServer (allowHTTP1) in a separate process on 127.0.0.1, 12-byte body',
    scenarios,
    protocols,
    connectionsAtC64,
  };
}

/** The HTTP/2 table (README and terminal). */
function renderH2Table(h: H2Figures): string {
  const c1 = h.scenarios['h2-c1'];
  const c64 = h.scenarios['h2-c64'];
  const cell = (sc: typeof c1, n: H2ClientName) =>
    n === 'certainly http2'
      ? `**${fmt(sc.reqPerSec[n])}**`
      : `${fmt(sc.reqPerSec[n])} (${fmt(sc.certainlyHttp2Vs[n], 2)}×)`;
  const lines = [
    'HTTP/2: the same GET against a node:http2 server (allowHTTP1); in brackets certainly http2 ÷ that client. The server counted what each client spoke and how many connections it opened at c=64.',
    '',
    '| client | protocol | keep-alive, c=1 | keep-alive, c=64 | connections at c=64 |',
    '| --- | --- | ---: | ---: | ---: |',
  ];
  for (const n of H2_CLIENT_NAMES) {
    const label =
      n === 'certainly http2'
        ? '**certainly** `http2: true`'
        : n === 'certainly (h1)'
          ? 'certainly, http2 off'
          : n === 'undici request allowH2'
            ? 'undici request, `allowH2: true`'
            : 'got, `http2: true`';
    lines.push(
      `| ${label} | ${h.protocols[n]} | ${cell(c1, n)} | ${cell(c64, n)} | ${h.connectionsAtC64[n] ?? '?'} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const root = createRoot({ cn: 'certainly bench root' });
  const inter = intermediate(root, { cn: 'certainly bench intermediate' });
  const leaf = issue(inter, { sans: ['DNS:localhost', 'IP:127.0.0.1'] });
  const dir = mkdtempSync(join(tmpdir(), 'certainly-bench-'));
  const caPath = join(dir, 'ca.pem');
  writeFileSync(caPath, root.pem);
  const server = await startServer(leaf.keyPem, pemOf(leaf, inter));
  const origin = `https://127.0.0.1:${server.port}`;
  const cfg: ClientConfig = { origin, caPem: root.pem, caPath };
  log(
    `bench: server pid ${server.child.pid} at ${origin}; ${SLICES} slices of ${SLICE_MS} ms per client per scenario`,
  );
  const h2Args = [leaf.keyPem, pemOf(leaf, inter), (o: string) => ({ ...cfg, origin: o }), log] as const;
  if (H2_ONLY) {
    try {
      log('bench: HTTP/2 rows only');
      const h2 = await runH2(...h2Args);
      process.stdout.write(`${renderH2Table(h2)}\n`);
      if (WRITE) {
        // Merged into the last full run's figures; the README table is rendered from them again.
        const file = new URL('bench/results.json', ROOT);
        const previous = JSON.parse(readFileSync(file, 'utf8')) as Results & Record<string, unknown>;
        const merged = { ...previous, http2: { ...h2, date: new Date(started).toISOString() } };
        writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
        updateReadme(renderTables(merged), merged.date.slice(0, 10));
        log('bench: merged the HTTP/2 rows into bench/results.json and the README table');
      }
    } finally {
      server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    return;
  }

  try {
    // ---- throughput, interleaved slices
    const loadBefore = loadavg()[0]!;
    const throughput: Record<string, Record<ClientName, number>> = {};
    const pairedRatios: Record<string, Record<ClientName, number>> = {};
    let resumed = 0;
    const procs = new Map<ClientName, ClientProcess>(CLIENT_NAMES.map((n) => [n, startClientProcess(n)]));
    try {
      for (const sc of SCENARIOS) {
        const before = await server.stats();
        // A fresh client per scenario (as a fresh program would make), in the long-lived process.
        for (const p of procs.values()) {
          await p.ask({ type: 'open', cfg });
          await measure(p, sc.path, sc.concurrency, WARMUP_MS);
        }
        const slices: Record<ClientName, number>[] = [];
        try {
          for (let i = 0; i < SLICES; i++) {
            const slice = {} as Record<ClientName, number>;
            const order = CLIENT_NAMES.map((_, k) => CLIENT_NAMES[(k + i) % CLIENT_NAMES.length]!);
            for (const name of order)
              slice[name] = await measure(procs.get(name)!, sc.path, sc.concurrency, SLICE_MS);
            slices.push(slice);
          }
        } finally {
          // Not measured; a failure here must not hide the one that ended the slices.
          for (const p of procs.values()) await p.ask({ type: 'close' }).catch(() => {});
        }
        if (sc.path === '/close') resumed += (await server.stats()).resumed - before.resumed;
        throughput[sc.id] = Object.fromEntries(
          CLIENT_NAMES.map((n) => [n, median(slices.map((s) => s[n]))]),
        ) as Record<ClientName, number>;
        // certainly / other, slice by slice, then the median.
        pairedRatios[sc.id] = Object.fromEntries(
          CLIENT_NAMES.map((n) => [n, median(slices.map((s) => ratio(s.certainly, s[n])))]),
        ) as Record<ClientName, number>;
        log(
          `  ${sc.id.padEnd(14)} ${CLIENT_NAMES.map((n) => `${n} ${fmt(throughput[sc.id]![n])}`).join(', ')} req/s`,
        );
      }
    } finally {
      await Promise.all([...procs.values()].map((p) => p.stop()));
    }
    // ---- HTTP/2 rows, on a server of their own
    log('bench: HTTP/2');
    const http2 = await runH2(...h2Args);
    const loadAfter = loadavg()[0]!;

    // ---- verification alone (bench/verify.ts): 3-certificate chains, cold and warm
    log('bench: verification (cold, warm)');
    const verify: VerifyFigures[] = benchVerify(QUICK ? { coldRuns: 50, warmMs: 300 } : {});

    // ---- the whole x509-limbo run
    let limbo: { testcases: number; pass: number; seconds: number } | { skipped: string };
    const limboFile = new URL('../shared/conformance/limbo/limbo.json.gz', ROOT);
    if (existsSync(limboFile)) {
      log('bench: x509-limbo');
      const { runLimbo } = await import('../scripts/limbo.js');
      const s = runLimbo();
      limbo = { testcases: s.total, pass: s.pass, seconds: s.elapsedMs / 1000 };
    } else {
      limbo = { skipped: `${fileURLToPath(limboFile)} not found` };
    }

    // ---- trust store: cold build and per-request cost
    log('bench: default trust store');
    const trust = await runChild(['trust'], cleanEnv());

    // ---- cold start
    log('bench: cold start');
    const cold: Record<string, number> = {};
    const coldModes: [string, string[], NodeJS.ProcessEnv][] = [
      ['certainly (verify: ca.pem)', ['cold-certainly', `${origin}/`, caPath], cleanEnv()],
      [
        'certainly (defaults + NODE_EXTRA_CA_CERTS)',
        ['cold-certainly-defaults', `${origin}/`],
        cleanEnv({ NODE_EXTRA_CA_CERTS: caPath }),
      ],
      [
        'native fetch (NODE_EXTRA_CA_CERTS)',
        ['cold-fetch', `${origin}/`],
        cleanEnv({ NODE_EXTRA_CA_CERTS: caPath }),
      ],
    ];
    for (const [label, args, env] of coldModes) {
      const runs: number[] = [];
      for (let i = 0; i < COLD_RUNS; i++) {
        const r = await runChild(args, env);
        if (r.verified !== true) throw new Error(`${label}: the response was not verified`);
        runs.push(r.ms as number);
      }
      cold[label] = median(runs);
    }

    // ---- memory with 1,000 idle keep-alive connections
    log(`bench: memory with ${IDLE_CONNECTIONS} idle connections`);
    const memory: Record<string, { rssMb: number; kbPerConnection: number; connections: number }> = {};
    for (const name of ['certainly', 'undici request', 'node:https'] as const) {
      const base = (await server.stats()).open;
      await runChild(
        ['memory', name, `${origin}/`, caPath, String(IDLE_CONNECTIONS)],
        cleanEnv(),
        (out, finish) => {
          void server.stats().then((s) => {
            const o = out as { beforeMb: number; afterMb: number };
            // The child's first request opened one connection before its 'before' RSS reading.
            const connections = s.open - base - 1;
            memory[name] = {
              rssMb: o.afterMb - o.beforeMb,
              kbPerConnection: ((o.afterMb - o.beforeMb) * 1000) / Math.max(1, connections),
              connections,
            };
            finish();
          });
        },
      );
      // Let the server see the closes before the next client counts from its baseline.
      await new Promise((r) => setTimeout(r, 300));
    }

    // ---- figures, ratios, targets
    // benchVerify() lists the all-P-256 chain (the loopback server's shape) first.
    const warmUs = verify[0]!.warmUs;
    const rsa = verify.find((v) => v.chain.includes('all RSA-2048'))!;
    const pr = (id: Scenario['id'], other: ClientName) => pairedRatios[id]![other];
    const ratios = {
      keepAliveC16VsUndiciRequest: pr('keepalive-c16', 'undici request'),
      keepAliveC1VsUndiciRequest: pr('keepalive-c1', 'undici request'),
      keepAliveC16VsAxios: pr('keepalive-c16', 'axios'),
      keepAliveC1VsAxios: pr('keepalive-c1', 'axios'),
      handshakeVsNodeHttps: pr('handshake-c8', 'node:https'),
    };
    const targets = {
      'keep-alive >= 0.95x undici request (c=16)':
        ratios.keepAliveC16VsUndiciRequest >= TARGETS.keepAliveVsUndiciRequest,
      'keep-alive >= 0.95x undici request (c=1)':
        ratios.keepAliveC1VsUndiciRequest >= TARGETS.keepAliveVsUndiciRequest,
      'keep-alive >= 2.5x axios (c=16)': ratios.keepAliveC16VsAxios >= TARGETS.keepAliveVsAxios,
      'handshake rate >= 0.9x node:https': ratios.handshakeVsNodeHttps >= TARGETS.handshakeVsNodeHttps,
      'warm 3-certificate verification < 100 µs': warmUs < TARGETS.warmVerifyUs,
      'cold RSA-2048 3-certificate verification <= 150 µs': rsa.coldUs <= TARGETS.coldRsaVerifyUs,
      'warm RSA-2048 3-certificate verification <= 20 µs': rsa.warmUs <= TARGETS.warmRsaVerifyUs,
    };
    const results = {
      date: new Date(started).toISOString(),
      quick: QUICK,
      environment: {
        node: process.version,
        platform: `${process.platform} ${arch()}`,
        cpu: `${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}`,
        versions: Object.fromEntries(['undici', 'axios', 'got', 'node-fetch'].map((p) => [p, versionOf(p)])),
      },
      method: {
        server: 'node:https in a separate process on 127.0.0.1, 12-byte body, P-256 leaf + intermediate',
        trust: 'every client trusts the same private root; TLS session resumption off for every client',
        isolation:
          'throughput: each client in its own long-lived node process (bench/client-process.ts, forked once for the whole throughput run, loading only its own library; --no-memory-reducer), asked over IPC to run one slice at a time, so only one client runs at any moment; the server in another process',
        sliceMs: SLICE_MS,
        slices: SLICES,
        warmupMs: WARMUP_MS,
        aggregate:
          'req/s: median over slices; ratios: certainly / other per slice (measured next to each other), median over slices',
        loadAverage1m: { before: loadBefore, after: loadAfter },
        resumedHandshakesInNewConnectionRuns: resumed,
      },
      throughput: Object.fromEntries(
        SCENARIOS.map((sc) => [
          sc.id,
          {
            title: sc.title,
            concurrency: sc.concurrency,
            reqPerSec: throughput[sc.id]!,
            certainlyVs: pairedRatios[sc.id]!,
          },
        ]),
      ),
      ratios,
      verification: verify,
      warmVerifyUs: warmUs,
      rsaVerifyUs: { cold: rsa.coldUs, warm: rsa.warmUs },
      limbo,
      trustStore: trust,
      coldStartMs: cold,
      memoryIdle1000: memory,
      http2,
      targets,
      elapsedSeconds: (Date.now() - started) / 1000,
    };

    const table = renderTables(results);
    process.stdout.write(`${table}\n`);
    if (WRITE) {
      writeFileSync(new URL('bench/results.json', ROOT), `${JSON.stringify(results, null, 2)}\n`);
      writeFileSync(
        new URL('bench/chart.svg', ROOT),
        renderChart(
          SCENARIOS.map((sc) => ({
            title: sc.title,
            unit: 'req/s',
            rows: CLIENT_NAMES.map((n) => ({ label: n, value: throughput[sc.id]![n] })),
          })),
          `npm run bench, ${results.date.slice(0, 10)}, Node ${process.version}, ${results.environment.cpu}; loopback; server and each client in its own process`,
        ),
      );
      updateReadme(table, results.date.slice(0, 10));
      log('bench: wrote bench/results.json, bench/chart.svg and the README table');
    }
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Results = {
  date: string;
  environment: { node: string; cpu: string };
  throughput: Record<
    string,
    { title: string; reqPerSec: Record<ClientName, number>; certainlyVs: Record<ClientName, number> }
  >;
  ratios: Record<string, number>;
  verification: VerifyFigures[];
  warmVerifyUs: number;
  rsaVerifyUs?: { cold: number; warm: number };
  limbo: { testcases: number; pass: number; seconds: number } | { skipped: string };
  trustStore: Record<string, unknown>;
  coldStartMs: Record<string, number>;
  memoryIdle1000: Record<string, { rssMb: number; kbPerConnection: number; connections: number }>;
  targets: Record<string, boolean>;
  http2?: H2Figures;
};

/** The Markdown tables printed to the terminal and written into the README. */
function renderTables(r: Results): string {
  const lines: string[] = [];
  const ka1 = r.throughput['keepalive-c1']!.reqPerSec;
  const ka16 = r.throughput['keepalive-c16']!.reqPerSec;
  const hs = r.throughput['handshake-c8']!.reqPerSec;
  const v1 = r.throughput['keepalive-c1']!.certainlyVs;
  const v16 = r.throughput['keepalive-c16']!.certainlyVs;
  const vh = r.throughput['handshake-c8']!.certainlyVs;
  const cell = (rps: number, vs: number, n: ClientName) =>
    n === 'certainly' ? `**${fmt(rps)}**` : `${fmt(rps)} (${fmt(vs, 2)}×)`;
  lines.push(
    'req/s; in brackets: certainly ÷ that client, measured in neighbouring slices (above 1: certainly is faster)',
    '',
    '| client | keep-alive, c=1 | keep-alive, c=16 | new TLS connection per request, c=8 |',
    '| --- | ---: | ---: | ---: |',
  );
  for (const n of CLIENT_NAMES) {
    lines.push(
      `| ${n === 'certainly' ? '**certainly**' : n} | ${cell(ka1[n], v1[n], n)} | ${cell(ka16[n], v16[n], n)} | ${cell(hs[n], vh[n], n)} |`,
    );
  }
  if (r.http2) lines.push('', renderH2Table(r.http2));
  lines.push('', '| verification alone | cold | warm |', '| --- | ---: | ---: |');
  for (const v of r.verification) lines.push(`| ${v.chain} | ${fmt(v.coldUs)} µs | ${fmt(v.warmUs, 1)} µs |`);
  const l = r.limbo;
  lines.push(
    '',
    '| other | figure |',
    '| --- | ---: |',
    'skipped' in l
      ? `| x509-limbo, whole run | skipped (${l.skipped}) |`
      : `| x509-limbo, whole run (${fmt(l.testcases)} testcases, ${fmt(l.pass)} pass) | ${fmt(l.seconds, 1)} s |`,
    `| default trust store (${r.trustStore.anchors} anchors), first build | ${fmt(r.trustStore.coldBuildMs as number, 1)} ms |`,
    `| default trust store, per request once built | ${fmt((r.trustStore.warmPerRequestUs as number) * 1000)} ns |`,
  );
  for (const [k, v] of Object.entries(r.coldStartMs))
    lines.push(`| cold start to first verified response: ${k} | ${fmt(v)} ms |`);
  for (const [k, v] of Object.entries(r.memoryIdle1000)) {
    lines.push(
      `| RSS for ${fmt(v.connections)} idle keep-alive connections: ${k} | ${fmt(v.rssMb, 1)} MB (${fmt(v.kbPerConnection, 1)} KB each) |`,
    );
  }
  lines.push('', '| target (ratios in this run) | measured | met |', '| --- | ---: | :---: |');
  const ratioRows: [string, string][] = [
    ['keep-alive >= 0.95x undici request (c=16)', `${fmt(r.ratios.keepAliveC16VsUndiciRequest!, 2)}×`],
    ['keep-alive >= 0.95x undici request (c=1)', `${fmt(r.ratios.keepAliveC1VsUndiciRequest!, 2)}×`],
    ['keep-alive >= 2.5x axios (c=16)', `${fmt(r.ratios.keepAliveC16VsAxios!, 2)}×`],
    ['handshake rate >= 0.9x node:https', `${fmt(r.ratios.handshakeVsNodeHttps!, 2)}×`],
    ['warm 3-certificate verification < 100 µs', `${fmt(r.warmVerifyUs, 1)} µs`],
  ];
  if (r.rsaVerifyUs !== undefined) {
    ratioRows.push(
      ['cold RSA-2048 3-certificate verification <= 150 µs', `${fmt(r.rsaVerifyUs.cold)} µs`],
      ['warm RSA-2048 3-certificate verification <= 20 µs', `${fmt(r.rsaVerifyUs.warm, 1)} µs`],
    );
  }
  for (const [k, v] of ratioRows) lines.push(`| ${k} | ${v} | ${r.targets[k] ? 'yes' : '**no**'} |`);
  return lines.join('\n');
}

const START = '<!-- bench:start (generated by npm run bench; edit bench/run.ts, not this table) -->';
const END = '<!-- bench:end -->';

function updateReadme(table: string, date: string): void {
  const file = new URL('README.md', ROOT);
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) {
    process.stderr.write('bench: README.md has no bench markers; the table was not written there\n');
    return;
  }
  const body = `${START}\n\nMeasured ${date} by \`npm run bench\` (figures from bench/results.json):\n\n${table}\n\n${END}`;
  writeFileSync(file, text.slice(0, a) + body + text.slice(b + END.length));
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
