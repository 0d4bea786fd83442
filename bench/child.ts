/**
 * Measurements that need a fresh process: cold start, the default trust store's first build, and
 * the memory held by idle connections. run.ts spawns `node build/bench/child.js MODE …` and reads
 * one JSON line from stdout. Modules are imported dynamically, inside the measured time.
 */

const [mode, ...args] = process.argv.slice(2);

function print(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v)}\n`);
}

const gc = (globalThis as { gc?: () => void }).gc;
const rssMb = () => {
  gc?.();
  gc?.();
  return process.memoryUsage().rss / 1e6;
};

async function main(): Promise<void> {
  switch (mode) {
    // Time from process start (performance.timeOrigin) to the first verified response body, with
    // certainly loaded as users load it: the package's own entry (dist/, through package.json
    // "exports"; `npm run bench` builds it first), not the per-file build/ tree the other modes use.
    case 'cold-certainly': {
      const [url, caPath] = args as [string, string];
      const { get } = (await import('certainly' as string)) as typeof import('../src/index.js');
      const r = await get(url, { verify: caPath, trustEnv: false });
      await r.text();
      print({ ms: performance.now(), verified: r.tls?.verified === true });
      process.exit(0);
      break;
    }
    // The same with the default anchors (bundled + system) and the CA added by NODE_EXTRA_CA_CERTS.
    case 'cold-certainly-defaults': {
      const [url] = args as [string];
      const { get } = (await import('certainly' as string)) as typeof import('../src/index.js');
      const r = await get(url);
      await r.text();
      print({ ms: performance.now(), verified: r.tls?.verified === true });
      process.exit(0);
      break;
    }
    // Node's own fetch, trusting the CA through NODE_EXTRA_CA_CERTS (the way Node documents).
    case 'cold-fetch': {
      const [url] = args as [string];
      const r = await fetch(url);
      await r.text();
      print({ ms: performance.now(), verified: r.ok });
      process.exit(0);
      break;
    }
    // The default store (bundled Mozilla roots + the OS store) built cold, then the per-request lookup.
    case 'trust': {
      const t0 = performance.now();
      const { resolveTrust } = await import('../src/trust/resolve.js');
      const loaded = performance.now();
      const first = resolveTrust({ verify: true, trustEnv: false });
      const built = performance.now();
      if (first.insecure) throw new Error('unexpected insecure trust');
      const n = 200_000;
      const w0 = performance.now();
      for (let i = 0; i < n; i++) resolveTrust({ verify: true, trustEnv: false });
      const perCallUs = ((performance.now() - w0) * 1000) / n;
      print({
        moduleLoadMs: loaded - t0,
        coldBuildMs: built - loaded,
        anchors: first.store.anchors.length,
        sources: first.explanation.sources.map((s) => `${s.source} (${s.count})`),
        warmPerRequestUs: perCallUs,
      });
      process.exit(0);
      break;
    }
    // RSS held by `count` idle keep-alive connections, opened all at once and then left idle.
    case 'memory': {
      const [client, url, caPath, countText] = args as [string, string, string, string];
      const count = Number(countText);
      const { readFileSync } = await import('node:fs');
      const caPem = readFileSync(caPath, 'utf8');
      const { createClient } = await import('./clients.js');
      const c = await createClient(client as never, { origin: new URL(url).origin, caPem, caPath });
      await c.get('/');
      const before = rssMb();
      await Promise.all(Array.from({ length: count }, () => c.get('/')));
      const after = rssMb();
      print({ beforeMb: before, afterMb: after });
      // Stay alive (connections open) until the parent has read the server's count.
      process.stdin.resume();
      process.stdin.on('end', () => process.exit(0));
      break;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

main().catch((err) => {
  print({ error: String(err?.stack ?? err) });
  process.exit(1);
});
