import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { test } from 'node:test';
import { type ConnectionOptions, connect, type TLSSocket } from 'node:tls';
import { createRoot, type Issued, issue, standardPki } from '../support/pki.js';
import { RECENT_RECORDS, startHttpServer, startRawTlsServer, startTlsServer } from '../support/servers.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** The subjects of the certificates the server sent, in the order sent (openssl s_client -showcerts). */
function sentSubjects(port: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-showcerts'],
      (err, stdout) => {
        // s_client exits non-zero when it cannot verify, which is expected here (no CA given).
        if (err && !stdout) return reject(err);
        resolve([...stdout.matchAll(/^ *\d+ s:(.*)$/gm)].map((m) => m[1]!));
      },
    );
    child.stdin?.end();
  });
}

const cnOf = (c: Issued) =>
  c.x509.subject
    .split('\n')
    .find((l) => l.startsWith('CN='))!
    .slice(3);

/** tls.connect that resolves on secureConnect and rejects on error. */
async function tlsConnect(opts: ConnectionOptions): Promise<TLSSocket> {
  const s = connect(opts);
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => {
      s.off('secureConnect', onConnect);
      reject(e);
    };
    const onConnect = () => {
      s.off('error', onError);
      resolve(s);
    };
    s.once('error', onError);
    s.once('secureConnect', onConnect);
  });
}

/** Reads everything until the other side closes (or errors); returns the text and the error, if any. */
async function readAll(s: TLSSocket): Promise<{ text: string; error?: Error }> {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  let error: Error | undefined;
  s.on('error', (e) => {
    error = e;
  });
  // Not events.once(): it rejects when 'error' comes first, and the error is a result here.
  await new Promise((resolve) => s.on('close', resolve));
  return { text: Buffer.concat(chunks).toString(), ...(error ? { error } : {}) };
}

function get(
  url: string,
  opts: { ca?: string; agent?: Agent; cert?: string; key?: string } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const fn = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = fn(url, { ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

test('the server sends exactly the chain asked for, in order (openssl s_client)', async (t) => {
  if (!hasOpenssl) return t.skip('openssl not found on PATH: apt-get install -y openssl');
  const { root, intermediate, leaf } = standardPki();
  const extra = createRoot();
  const cases: Issued[][] = [[], [intermediate], [root, extra, intermediate]];
  for (const chain of cases) {
    const srv = await startTlsServer({ cert: leaf, chain });
    try {
      const subjects = await sentSubjects(srv.port);
      assert.deepEqual(
        subjects.map((s) => /CN = ([^,]+)/.exec(s)?.[1]),
        [leaf, ...chain].map(cnOf),
      );
      assert.equal(srv.certChainPem, [leaf, ...chain].map((c) => c.pem).join(''));
    } finally {
      await srv.close();
    }
  }
});

test('tls.connect with ca = the root and servername verifies; the chain links leaf → intermediate → root', async () => {
  const { root, intermediate, leaf } = standardPki({ leaf: { sans: ['DNS:api.example'] } });
  const srv = await startTlsServer({ cert: leaf, chain: [intermediate] });
  try {
    const s = await tlsConnect({ host: srv.host, port: srv.port, ca: root.pem, servername: 'api.example' });
    assert.equal(s.authorized, true, String(s.authorizationError));
    const peer = s.getPeerCertificate(true);
    assert.equal(peer.subject.CN, 'api.example');
    assert.equal(peer.issuerCertificate.subject.CN, cnOf(intermediate));
    assert.equal(peer.issuerCertificate.issuerCertificate.subject.CN, cnOf(root));
    s.destroy();
    // Without the intermediate the same client cannot verify.
    const bare = await startTlsServer({ cert: leaf });
    try {
      const s2 = await tlsConnect({
        host: bare.host,
        port: bare.port,
        ca: root.pem,
        servername: 'api.example',
        rejectUnauthorized: false,
      });
      assert.equal(s2.authorized, false);
      assert.equal(s2.authorizationError, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      s2.destroy();
    } finally {
      await bare.close();
    }
  } finally {
    await srv.close();
  }
});

test('bytesReceived is 0 when the client stops after the handshake, and counts every request byte', async () => {
  const { root, intermediate, leaf } = standardPki();
  const srv = await startTlsServer({ cert: leaf, chain: [intermediate] });
  try {
    const s = await tlsConnect({ host: srv.host, port: srv.port, ca: root.pem, servername: 'localhost' });
    s.end();
    await once(s, 'close');
    // Let the server see the close.
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(srv.connections, 1);
    assert.equal(srv.handshakes, 1);
    assert.equal(srv.bytesReceived, 0);
    assert.equal(srv.requests, 0);

    const req = 'GET /x?y=1 HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n';
    const s2 = await tlsConnect({ host: srv.host, port: srv.port, ca: root.pem, servername: 'localhost' });
    s2.write(req);
    const { text } = await readAll(s2);
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
    assert.equal(body.message, 'hello');
    assert.equal(body.method, 'GET');
    assert.equal(body.url, '/x?y=1');
    assert.equal(body.headers.host, 'localhost');
    assert.equal(body.tls.protocol, 'TLSv1.3');
    assert.equal(srv.bytesReceived, Buffer.byteLength(req));
    assert.equal(srv.requests, 1);
    assert.equal(srv.connections, 2);
    assert.equal(srv.handshakes, 2);
  } finally {
    await srv.close();
  }
});

test('a client that rejects the certificate leaves a handshake error and no bytes', async () => {
  const { leaf, intermediate } = standardPki();
  const srv = await startTlsServer({ cert: leaf, chain: [intermediate] });
  try {
    await assert.rejects(
      tlsConnect({ host: srv.host, port: srv.port, ca: createRoot().pem, servername: 'localhost' }),
      /unable to get local issuer certificate/,
    );
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(srv.bytesReceived, 0);
    assert.equal(srv.handshakeErrors.length, 1);
    assert.equal(srv.connections, 1);
  } finally {
    await srv.close();
  }
});

test('hosts: ::1 and localhost', async () => {
  const { root, leaf } = standardPki();
  const v6 = await startTlsServer({ cert: leaf, host: '::1' });
  try {
    assert.equal(v6.origin, `https://[::1]:${v6.port}`);
    assert.equal(v6.url('a'), `https://[::1]:${v6.port}/a`);
    const s = await tlsConnect({ host: '::1', port: v6.port, ca: root.pem, rejectUnauthorized: false });
    // The leaf chains through an intermediate not sent here, so only the connection is checked.
    assert.equal(s.remoteAddress, '::1');
    s.destroy();
  } finally {
    await v6.close();
  }
  const { root: r2, intermediate: i2, leaf: l2 } = standardPki();
  const local = await startTlsServer({ cert: l2, chain: [i2], host: 'localhost' });
  try {
    assert.equal(local.origin, `https://localhost:${local.port}`);
    for (const address of ['127.0.0.1', '::1']) {
      const s = await tlsConnect({ host: address, port: local.port, ca: r2.pem, servername: 'localhost' });
      assert.equal(s.authorized, true, `${address}: ${s.authorizationError}`);
      s.destroy();
    }
    const r = await get(local.url('/status/201'), { ca: r2.pem });
    assert.equal(r.status, 201);
    assert.equal(local.connections, 3);
  } finally {
    await local.close();
  }
});

test('client certificates: requestCert + clientCa accepts a good client and refuses others', async () => {
  const { root, intermediate, leaf } = standardPki();
  const clientRoot = createRoot({ cn: 'client CA' });
  const client = issue(clientRoot, { cn: 'alice', eku: ['clientAuth'], sans: [] });
  const srv = await startTlsServer({
    cert: leaf,
    chain: [intermediate],
    requestCert: true,
    clientCa: clientRoot.pem,
  });
  try {
    const ok = await get(srv.url('/who'), { ca: root.pem, cert: client.pem, key: client.keyPem });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).tls.clientCert, 'alice');
    // No client certificate: TLS 1.3 reports the refusal after the client's handshake is done.
    await assert.rejects(get(srv.url('/who'), { ca: root.pem }));
    // A client certificate from another CA.
    const stranger = issue(createRoot(), { cn: 'mallory', sans: [] });
    await assert.rejects(get(srv.url('/who'), { ca: root.pem, cert: stranger.pem, key: stranger.keyPem }));
    assert.equal(srv.requests, 1);
  } finally {
    await srv.close();
  }
  // requestCert without clientCa: asks, accepts anything, reports what it got.
  const open = await startTlsServer({ cert: leaf, chain: [intermediate], requestCert: true });
  try {
    const anyone = issue(createRoot(), { cn: 'bob', sans: [] });
    const r = await get(open.url(), { ca: root.pem, cert: anyone.pem, key: anyone.keyPem });
    assert.equal(JSON.parse(r.body).tls.clientCert, 'bob');
    const none = await get(open.url(), { ca: root.pem });
    assert.equal(JSON.parse(none.body).tls.clientCert, null);
  } finally {
    await open.close();
  }
});

test('close() does not wait for kept-alive connections; default routes; ALPN; TLS versions', async () => {
  const { root, intermediate, leaf } = standardPki();
  const srv = await startTlsServer({
    cert: leaf,
    chain: [intermediate],
    alpn: ['h2', 'http/1.1'],
    maxVersion: 'TLSv1.2',
  });
  const agent = new Agent({ keepAlive: true, ca: root.pem, ALPNProtocols: ['http/1.1'] });
  try {
    const a = await get(srv.url('/redirect/302?to=/elsewhere'), { agent });
    assert.equal(a.status, 302);
    assert.equal(a.headers.location, '/elsewhere');
    const started = Date.now();
    const b = await get(srv.url('/delay/50'), { agent });
    assert.ok(Date.now() - started >= 45);
    const echo = JSON.parse(b.body);
    assert.equal(echo.tls.alpn, 'http/1.1');
    assert.equal(echo.tls.protocol, 'TLSv1.2');
    assert.equal(srv.connections, 1, 'keep-alive reused the connection');
    assert.equal(srv.openConnections, 1);
  } finally {
    const t0 = Date.now();
    await srv.close();
    assert.ok(Date.now() - t0 < 1000, `close() took ${Date.now() - t0} ms`);
    agent.destroy();
  }
  // A request stalled on /stall does not stop close() either.
  const stall = await startTlsServer({ cert: leaf, chain: [intermediate] });
  const pending = get(stall.url('/stall'), { ca: root.pem }).catch((e: Error) => e);
  while (stall.requests === 0) await new Promise((r) => setTimeout(r, 5));
  await stall.close();
  assert.ok((await pending) instanceof Error);
});

test('startHttpServer: plain HTTP with the same routes and a custom handler', async () => {
  const plain = await startHttpServer();
  try {
    assert.match(plain.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await get(plain.url('/status/404'));
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.body).tls, null);
    assert.equal(plain.requests, 1);
  } finally {
    await plain.close();
  }
  const custom = await startHttpServer((_req, res) => res.end('custom'));
  try {
    assert.equal((await get(custom.url())).body, 'custom');
  } finally {
    await custom.close();
  }
});

test('raw servers misbehave as asked', async () => {
  const { root, intermediate, leaf } = standardPki();
  const connectOpts = (port: number) => ({ host: '127.0.0.1', port, ca: root.pem, servername: 'localhost' });

  const stall = await startRawTlsServer({ mode: 'stall' });
  try {
    const s = connect(connectOpts(stall.port));
    s.on('error', () => {});
    s.setTimeout(100);
    await once(s, 'timeout');
    s.destroy();
    assert.equal(stall.connections, 1);
    assert.ok(stall.bytesReceived > 0, 'the ClientHello arrived');
  } finally {
    await stall.close();
  }

  for (const [mode, pattern] of [
    ['close', /ECONNRESET|socket disconnected/],
    ['reset', /ECONNRESET/],
    ['garbage', /wrong version number|WRONG_VERSION_NUMBER|packet length too long/i],
  ] as const) {
    const srv = await startRawTlsServer({ mode });
    try {
      await assert.rejects(tlsConnect(connectOpts(srv.port)), (e: Error & { code?: string }) => {
        assert.match(`${e.code} ${e.message}`, pattern, mode);
        return true;
      });
    } finally {
      await srv.close();
    }
  }

  const chain = [intermediate];
  const stallAfter = await startRawTlsServer({ mode: 'stallAfterHandshake', cert: leaf, chain });
  try {
    const s = await tlsConnect(connectOpts(stallAfter.port));
    assert.equal(s.authorized, true);
    s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    s.setTimeout(100);
    let got = 0;
    s.on('data', (c: Buffer) => {
      got += c.length;
    });
    await once(s, 'timeout');
    assert.equal(got, 0);
    s.destroy();
    assert.equal(stallAfter.bytesReceived, 27);
  } finally {
    await stallAfter.close();
  }

  const closeAfter = await startRawTlsServer({ mode: 'closeAfterHandshake', cert: leaf, chain });
  try {
    const s = await tlsConnect(connectOpts(closeAfter.port));
    const { text, error } = await readAll(s);
    assert.equal(text, '');
    assert.equal(error, undefined);
  } finally {
    await closeAfter.close();
  }

  const resetAfter = await startRawTlsServer({ mode: 'resetAfterHandshake', cert: leaf, chain });
  try {
    const s = await tlsConnect(connectOpts(resetAfter.port));
    s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    const { text, error } = await readAll(s);
    assert.equal(text, '');
    assert.equal((error as NodeJS.ErrnoException | undefined)?.code, 'ECONNRESET');
  } finally {
    await resetAfter.close();
  }
  await assert.rejects(startRawTlsServer({ mode: 'closeAfterHandshake' }), /needs cert/);
});

test('SNI: serverNames records what each client sent; sni serves another certificate by name', async () => {
  const { root, intermediate, leaf } = standardPki();
  const other = issue(intermediate, { sans: ['DNS:other.example'] });
  const srv = await startTlsServer({
    cert: leaf,
    chain: [intermediate],
    sni: { 'Other.Example': { cert: other, chain: [intermediate] } },
  });
  try {
    const a = await tlsConnect({
      host: '127.0.0.1',
      port: srv.port,
      ca: root.pem,
      servername: 'other.example',
    });
    assert.equal(a.authorized, true, String(a.authorizationError));
    assert.equal(a.getPeerCertificate().subject.CN, 'other.example');
    a.end();
    const b = await tlsConnect({ host: '127.0.0.1', port: srv.port, ca: root.pem, servername: 'localhost' });
    assert.equal(b.getPeerCertificate().subject.CN, 'localhost');
    b.end();
    // An IP literal as host: Node sends no SNI (RFC 6066 §3 forbids literal addresses).
    const c = await tlsConnect({ host: '127.0.0.1', port: srv.port, ca: root.pem });
    assert.equal(c.getPeerCertificate().subject.CN, 'localhost');
    c.end();
    // The server completes its side after the client's secureConnect (TLS 1.3): wait for it.
    // (end(), not destroy(): destroy() right after secureConnect can drop the client's Finished.)
    for (let i = 0; i < 100 && srv.handshakes < 3; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(srv.serverNames, ['other.example', 'localhost', false]);
  } finally {
    await srv.close();
  }
});

test(`records are bounded: the last ${RECENT_RECORDS} handshake errors and SNI names, counts of all`, async () => {
  const { root, intermediate, leaf } = standardPki();
  const srv = await startTlsServer({ cert: leaf, chain: [intermediate] });
  const wrongRoot = createRoot().pem;
  const extra = 5;
  try {
    // Failed handshakes: the client refuses the certificate (an alert), the server records an error.
    for (let i = 0; i < RECENT_RECORDS + extra; i++) {
      await assert.rejects(
        tlsConnect({ host: srv.host, port: srv.port, ca: wrongRoot, servername: 'localhost' }),
      );
    }
    for (let i = 0; i < 100 && srv.handshakeErrorCount < RECENT_RECORDS + extra; i++)
      await new Promise((r) => setTimeout(r, 5));
    assert.equal(srv.handshakeErrorCount, RECENT_RECORDS + extra);
    assert.equal(srv.handshakeErrors.length, RECENT_RECORDS);

    // Completed handshakes, each with its own SNI name: the latest ones are kept, in order.
    const total = RECENT_RECORDS + extra;
    for (let i = 0; i < total; i++) {
      const s = await tlsConnect({
        host: srv.host,
        port: srv.port,
        ca: root.pem,
        servername: `n${i}.example`,
        checkServerIdentity: () => undefined, // the names are not the certificate's: only SNI matters here
      });
      s.end();
    }
    for (let i = 0; i < 100 && srv.handshakes < total; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(srv.handshakes, total);
    assert.equal(srv.serverNames.length, RECENT_RECORDS);
    assert.equal(srv.serverNames[0], `n${extra}.example`);
    assert.equal(srv.serverNames.at(-1), `n${total - 1}.example`);
  } finally {
    await srv.close();
  }
});
