/**
 * Security review of the cookie jar in a Session: a connection that verify: false left
 * unverified is, for the jar, no more secure than plain http (RFC 6265bis §5.8.3 and §5.7: Secure
 * cookies go only over, and come only from, what the client considers a secure channel). So a
 * Secure session cookie won on a verified connection is not handed to whoever answers an
 * unverified one, and an unverified answer cannot plant Secure or __Host- cookies that later
 * verified requests would send.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Session } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let server: TestServer;

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'https://x');
  const set = url.searchParams.getAll('set');
  res.writeHead(200, { 'content-type': 'application/json', ...(set.length ? { 'set-cookie': set } : {}) });
  res.end(JSON.stringify({ cookie: req.headers.cookie ?? null }));
}

const q = (set: string) => `/?set=${encodeURIComponent(set)}`;
type Echo = { cookie: string | null };

before(async () => {
  root = createRoot({ cn: 'review cookies root' });
  server = await startTlsServer({ cert: issue(root), handler });
});

after(async () => {
  await server.close();
});

describe('cookies and verify: false', () => {
  test('a Secure cookie from a verified connection is not sent over an unverified one', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      await (await s.get(server.url(q('sid=secret; Secure; Path=/')))).text();
      await (await s.get(server.url(q('theme=dark; Path=/')))).text();
      const verified = await (await s.get(server.url('/'))).json<Echo>();
      assert.equal(verified.cookie, 'sid=secret; theme=dark');
      const unverified = await (await s.get(server.url('/'), { verify: false })).json<Echo>();
      assert.equal(unverified.cookie, 'theme=dark', 'the Secure cookie went over an unverified connection');
    } finally {
      await s.close();
    }
  });

  test('an unverified response cannot set Secure or __Host- cookies; plain ones it can, as over http', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      await (await s.get(server.url(q('planted=1; Secure; Path=/')), { verify: false })).text();
      await (await s.get(server.url(q('__Host-id=1; Secure; Path=/')), { verify: false })).text();
      await (await s.get(server.url(q('plain=1; Path=/')), { verify: false })).text();
      assert.equal(s.cookies?.get('planted'), undefined);
      assert.equal(s.cookies?.get('__Host-id'), undefined);
      assert.equal(s.cookies?.get('plain'), '1');
      const verified = await (await s.get(server.url('/'))).json<Echo>();
      assert.equal(verified.cookie, 'plain=1');
    } finally {
      await s.close();
    }
  });
});
