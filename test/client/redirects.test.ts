/**
 * Security review of redirects: a Location with credentials in it (https://user:pass@host/) is
 * refused, as RFC 9110 §4.2.4 asks of a URI from an untrusted source ("likely being used to
 * obscure the authority for the sake of phishing attacks"), and as the Session refuses them in
 * the URL it is given. Before, it was followed with the credentials silently dropped, and they
 * showed in Response.url and history.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { InvalidURL, Session } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let server: TestServer;
const paths: string[] = [];

function handler(req: IncomingMessage, res: ServerResponse): void {
  paths.push(req.url ?? '');
  const to = new URL(req.url ?? '/', 'https://x').searchParams.get('to');
  res.writeHead(to ? 302 : 200, to ? { location: to } : {});
  res.end('ok');
}

before(async () => {
  root = createRoot({ cn: 'review redirects root' });
  server = await startTlsServer({ cert: issue(root), handler });
});

after(async () => {
  await server.close();
});

describe('redirects', () => {
  test('to a URL with credentials in it: InvalidURL, not followed, the password not echoed', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      const location = server.url('/landed').replace('https://', 'https://admin:hunter2@');
      const before = paths.length;
      await assert.rejects(s.get(server.url(`/?to=${encodeURIComponent(location)}`)), (e: unknown) => {
        assert.ok(e instanceof InvalidURL, String(e));
        assert.equal(e.code, 'ERR_URL_CREDENTIALS');
        assert.match(e.message, /credentials/);
        assert.doesNotMatch(e.message, /hunter2/);
        return true;
      });
      assert.deepEqual(paths.slice(before), [`/?to=${encodeURIComponent(location)}`], 'not followed');
    } finally {
      await s.close();
    }
  });

  test('allowRedirects: false returns such a redirect as it is', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      const location = server.url('/x').replace('https://', 'https://u:p@');
      const r = await s.get(server.url(`/?to=${encodeURIComponent(location)}`), { allowRedirects: false });
      assert.equal(r.status, 302);
      assert.equal(r.headers.get('location'), location);
    } finally {
      await s.close();
    }
  });
});

describe('the body of a redirect', () => {
  test('an endless one does not hold the request: read up to a bound, then the connection is dropped', async () => {
    const timers = new Set<NodeJS.Timeout>();
    const endless = await startTlsServer({
      cert: issue(root),
      handler: (req, res) => {
        if (req.url === '/landed') {
          res.end('landed');
          return;
        }
        res.writeHead(302, { location: '/landed' });
        // A body that never ends: 16 KiB every 5 ms.
        const t = setInterval(() => res.write(Buffer.alloc(16 * 1024, 0x61)), 5);
        timers.add(t);
        res.on('close', () => clearInterval(t));
      },
    });
    const s = new Session({ verify: root.pem, trustEnv: false, timeout: { connect: 5000, read: 5000 } });
    try {
      const started = performance.now();
      const r = await Promise.race([
        s.get(endless.url('/start')),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('still draining after 3 s')), 3000),
        ),
      ]);
      assert.equal(await r.text(), 'landed');
      assert.ok(performance.now() - started < 3000);
    } finally {
      for (const t of timers) clearInterval(t);
      await s.close();
      await endless.close();
    }
  });
});
