/**
 * One benchmarked client in a process of its own. run.ts forks this file once per client
 * (`node build/bench/client-process.js <client name>`) and keeps it for the whole throughput run,
 * so that no client's JIT feedback, garbage or shared library internals (undici's are used by
 * three of the clients) land in another client's measurement. The child does nothing unless
 * asked; the parent asks one child at a time, over IPC:
 *
 *   { type: 'open', cfg }                     create the client (a fresh one per scenario)
 *   { type: 'run', path, concurrency, ms }    run GETs for `ms`; answers { count, elapsedMs }
 *   { type: 'close' }                         close the client and its connections
 *
 * Every request answers with { type: 'ok', … } or { type: 'error', message }.
 */
import { type BenchClient, type ClientConfig, type ClientName, createClient } from './clients.js';

export type ClientRequest =
  | { type: 'open'; cfg: ClientConfig }
  | { type: 'run'; path: string; concurrency: number; ms: number }
  | { type: 'close' };

export type ClientReply =
  | { type: 'ok'; count?: number; elapsedMs?: number }
  | { type: 'error'; message: string };

/** GETs `path` from `concurrency` loops for `ms`; throws on the first failed request. */
async function measure(
  client: BenchClient,
  path: string,
  concurrency: number,
  ms: number,
): Promise<{ count: number; elapsedMs: number }> {
  let count = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await client.get(path);
        count++;
      }
    }),
  );
  return { count, elapsedMs: performance.now() - t0 };
}

const name = process.argv[2] as ClientName;
let client: BenchClient | undefined;

async function handle(msg: ClientRequest): Promise<ClientReply> {
  switch (msg.type) {
    case 'open':
      if (client) await client.close();
      client = await createClient(name, msg.cfg);
      return { type: 'ok' };
    case 'run': {
      if (!client) throw new Error('run before open');
      return { type: 'ok', ...(await measure(client, msg.path, msg.concurrency, msg.ms)) };
    }
    case 'close':
      await client?.close();
      client = undefined;
      return { type: 'ok' };
  }
}

if (process.send) {
  process.on('message', (msg: ClientRequest) => {
    handle(msg).then(
      (reply) => process.send?.(reply),
      (err: unknown) =>
        process.send?.({
          type: 'error',
          message: `${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        } satisfies ClientReply),
    );
  });
  // The parent going away ends the client too.
  process.on('disconnect', () => process.exit(0));
}
