/**
 * What the adapter tests (adapters-https for agent(), adapters-undici for dispatcher()) share:
 * the servers both run against, and how to find our SSLError inside a library's error.
 */
import { INSECURE_WARNING, SSLError } from '../../src/index.js';
import { createRoot, type Issued, issue, selfSigned, tempDir } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

/** The codes of a server whose root is not trusted (which one depends on what it sends). */
export const UNTRUSTED = ['UNKNOWN_ISSUER', 'INCOMPLETE_CHAIN', 'SELF_SIGNED'];

export interface AdapterServers {
  root: Issued;
  /** root.pem, written to a temporary file. */
  caPath: string;
  /** A leaf from root for localhost, 127.0.0.1 and ::1. */
  good: TestServer;
  /** A leaf from root for api.example.test only. */
  wrongName: TestServer;
  /** A self-signed leaf for 127.0.0.1. */
  selfSignedServer: TestServer;
  close(): Promise<void>;
}

/** Starts the servers; `name` prefixes the temporary directory, `rootCn` names the root. */
export async function startAdapterServers(name: string, rootCn: string): Promise<AdapterServers> {
  const dir = tempDir(`${name}-`);
  const root = createRoot({ cn: rootCn });
  const caPath = dir.write('root.pem', root.pem);
  const good = await startTlsServer({
    cert: issue(root, { sans: ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'] }),
  });
  const wrongName = await startTlsServer({ cert: issue(root, { sans: ['DNS:api.example.test'] }) });
  const selfSignedServer = await startTlsServer({ cert: selfSigned({ sans: ['IP:127.0.0.1'] }) });
  return {
    root,
    caPath,
    good,
    wrongName,
    selfSignedServer,
    async close() {
      for (const s of [good, wrongName, selfSignedServer]) await s.close();
      dir.cleanup();
    },
  };
}

/** Collects the messages of InsecureRequestWarning (verify: false) until stop(). */
export function collectInsecureWarnings(): { messages: string[]; stop(): void } {
  const messages: string[] = [];
  const onWarning = (w: Error) => {
    if (w.name === INSECURE_WARNING) messages.push(w.message);
  };
  process.on('warning', onWarning);
  return { messages, stop: () => process.off('warning', onWarning) };
}

/** Our SSLError inside whatever the library threw: itself, or a cause of it. */
export function sslErrorOf(err: unknown): SSLError | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    if (e instanceof SSLError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
