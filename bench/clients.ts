/**
 * The clients compared, each configured the way its documentation says to trust a private CA,
 * and none allowed to resume TLS sessions (so that the new-connection runs measure full
 * handshakes with verification for every client alike).
 *
 * Each library is imported when its client is created, so that a process running one client
 * (bench/client-process.ts) loads that library and nothing of the others.
 */
import https from 'node:https';
import type { Agent } from 'undici';

export interface BenchClient {
  get(path: string): Promise<void>;
  close(): Promise<void>;
}

export interface ClientConfig {
  origin: string;
  caPem: string;
  caPath: string;
}

export type ClientName =
  | 'certainly'
  | 'undici request'
  | 'undici fetch'
  | 'node:https'
  | 'axios'
  | 'got'
  | 'node-fetch'
  | H2ClientName;

/** The HTTP/2 rows: each client with HTTP/2 on as its documentation says, and certainly without it. */
export type H2ClientName = 'certainly http2' | 'undici request allowH2' | 'got http2' | 'certainly (h1)';

export const H2_CLIENT_NAMES: readonly H2ClientName[] = [
  'certainly http2',
  'undici request allowH2',
  'got http2',
  'certainly (h1)',
];

export const CLIENT_NAMES: readonly ClientName[] = [
  'certainly',
  'undici request',
  'undici fetch',
  'node:https',
  'axios',
  'got',
  'node-fetch',
];

function httpsAgent(c: ClientConfig): https.Agent {
  // maxCachedSessions: 0 — no TLS resumption, as for every other client here; maxFreeSockets:
  // Infinity — keep every idle connection (the default 256 would close most of the memory run's).
  return new https.Agent({
    keepAlive: true,
    ca: c.caPem,
    maxCachedSessions: 0,
    maxSockets: Infinity,
    maxFreeSockets: Infinity,
  });
}

async function undiciAgent(c: ClientConfig, allowH2 = false): Promise<Agent> {
  const { Agent } = await import('undici');
  return new Agent({ connect: { ca: c.caPem, maxCachedSessions: 0 }, ...(allowH2 ? { allowH2 } : {}) });
}

export async function createClient(name: ClientName, c: ClientConfig): Promise<BenchClient> {
  switch (name) {
    case 'certainly':
    case 'certainly (h1)':
    case 'certainly http2': {
      const { Session } = await import('../src/client/session.js');
      const s = new Session({ verify: c.caPath, trustEnv: false, http2: name === 'certainly http2' });
      return {
        async get(path) {
          const r = await s.get(c.origin + path);
          await r.arrayBuffer();
        },
        close: () => s.close(),
      };
    }
    case 'undici request': {
      const agent = await undiciAgent(c);
      const { request: undiciRequest } = await import('undici');
      return {
        async get(path) {
          const r = await undiciRequest(c.origin + path, { dispatcher: agent });
          await r.body.arrayBuffer();
        },
        close: () => agent.close(),
      };
    }
    case 'undici request allowH2': {
      const agent = await undiciAgent(c, true);
      const { request: undiciRequest } = await import('undici');
      return {
        async get(path) {
          const r = await undiciRequest(c.origin + path, { dispatcher: agent });
          await r.body.arrayBuffer();
        },
        close: () => agent.close(),
      };
    }
    case 'got http2': {
      // got's own HTTP/2 (http2-wrapper, which pools sessions per origin), trusting the CA. Its TLS
      // session cache cannot be 0; these rows reuse connections, so resumption hardly shows.
      const { default: got } = await import('got');
      const http2wrapper = (await import('http2-wrapper')).default;
      const h2agent = new http2wrapper.Agent();
      const g = got.extend({
        http2: true,
        agent: { http2: h2agent },
        https: { certificateAuthority: c.caPem },
        retry: { limit: 0 },
      });
      return {
        async get(path) {
          try {
            await g.get(c.origin + path).buffer();
          } catch (err) {
            // Against node:http2's server, got's session ends with ERR_HTTP2_SESSION_ERROR ("error
            // code 2") every ~1,100 requests here (a raw node:http2 client does 5,000 without it;
            // cause not established). The request is sent again once, on the new session
            // http2-wrapper opens, so the row measures got and not that one failure.
            if ((err as { code?: string }).code !== 'ERR_HTTP2_SESSION_ERROR') throw err;
            await g.get(c.origin + path).buffer();
          }
        },
        close: async () => h2agent.destroy(),
      };
    }
    case 'undici fetch': {
      const agent = await undiciAgent(c);
      const { fetch: undiciFetch } = await import('undici');
      return {
        async get(path) {
          const r = await undiciFetch(c.origin + path, { dispatcher: agent });
          await r.arrayBuffer();
        },
        close: () => agent.close(),
      };
    }
    case 'node:https': {
      const agent = httpsAgent(c);
      return {
        get: (path) =>
          new Promise<void>((resolve, reject) => {
            https
              .get(c.origin + path, { agent }, (res) => {
                res.on('data', () => {});
                res.on('end', resolve);
                res.on('error', reject);
              })
              .on('error', reject);
          }),
        close: async () => agent.destroy(),
      };
    }
    case 'axios': {
      const { default: axios } = await import('axios');
      const agent = httpsAgent(c);
      const ax = axios.create({ httpsAgent: agent, responseType: 'arraybuffer' });
      return {
        async get(path) {
          await ax.get(c.origin + path);
        },
        close: async () => agent.destroy(),
      };
    }
    case 'got': {
      const { default: got } = await import('got');
      const agent = httpsAgent(c);
      const g = got.extend({
        agent: { https: agent },
        https: { certificateAuthority: c.caPem },
        retry: { limit: 0 },
      });
      return {
        async get(path) {
          await g.get(c.origin + path).buffer();
        },
        close: async () => agent.destroy(),
      };
    }
    case 'node-fetch': {
      const { default: nodeFetch } = await import('node-fetch');
      const agent = httpsAgent(c);
      return {
        async get(path) {
          const r = await nodeFetch(c.origin + path, { agent });
          await r.arrayBuffer();
        },
        close: async () => agent.destroy(),
      };
    }
  }
}
