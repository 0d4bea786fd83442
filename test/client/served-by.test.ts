/**
 * Response.tls describes the connection that carried the response (client/served-by.ts), not the
 * origin's latest one. The server here presents a different certificate on each connection (as
 * the backends of a balancer may): the first request is held until a second connection has been
 * made, then both answer with the name of the certificate their own connection used.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import tls, { type TLSSocket } from 'node:tls';
import { Session } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';

let root: Issued;
let server: Server;
let port: number;
let connections = 0;
let secondConnected: () => void;
const second = new Promise<void>((r) => {
  secondConnected = r;
});

before(async () => {
  root = createRoot({ cn: 'served-by root' });
  const contexts = ['backend-a', 'backend-b'].map((cn) => {
    const leaf = issue(root, { cn, sans: ['DNS:localhost'] });
    return tls.createSecureContext({ cert: leaf.pem, key: leaf.keyPem });
  });
  let next = 0;
  server = createServer(
    {
      // Each new connection gets the next certificate in turn.
      SNICallback: (_name, cb) => cb(null, contexts[next++ % contexts.length]!),
    },
    (req, res) => {
      const own = (req.socket as TLSSocket).getCertificate() as tls.PeerCertificate | null;
      const cn = String(own?.subject?.CN);
      const answer = () => res.end(cn);
      if (req.url === '/first') void second.then(answer);
      else answer();
    },
  );
  server.on('secureConnection', () => {
    if (++connections === 2) secondConnected();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(() => new Promise<void>((r) => server.close(() => r())));

test('each response reports the certificate of its own connection', async () => {
  const s = new Session({ verify: root.pem, trustEnv: false });
  try {
    // The first request holds its connection until the second request has opened another; the
    // second connection is the origin's latest when the first response arrives.
    const first = s.get(`https://localhost:${port}/first`);
    await new Promise((r) => setTimeout(r, 50));
    const later = s.get(`https://localhost:${port}/second`);
    const responses = await Promise.all([first, later]);
    const served = await Promise.all(responses.map((r) => r.text()));
    assert.deepEqual([...served].sort(), ['backend-a', 'backend-b'], 'two connections, two certificates');
    responses.forEach((r, i) => {
      assert.equal(r.tls?.chain[0]?.commonName, served[i], `${r.url}: r.tls is its own connection's`);
    });
  } finally {
    await s.close();
  }
});
