/**
 * AIA in the library: a server that sends its leaf without the intermediate is completed from
 * the leaf's caIssuers URL (served here on loopback, hence allowPrivate), within size, time and
 * scheme limits; what is fetched is only a candidate intermediate, never an anchor. The fetcher's
 * own pieces (addresses, formats, cache) are tested in test/verify/aia.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, afterEach, before, describe, test } from 'node:test';
import { ConfigError, Session, SSLError } from '../../src/index.js';
import { aiaCacheSize, clearAiaCache } from '../../src/tls/aia.js';
import { AIA_DEFAULTS, resolveAia } from '../../src/verify/aia.js';
import { pkcs7Of } from '../support/pkcs7.js';
import { createRoot, type Issued, intermediate, issue } from '../support/pki.js';
import { startProxy } from '../support/proxy.js';
import { type PlainServer, startHttpServer, startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let inter: Issued;
let inter2: Issued;
let http: PlainServer;
let https: TestServer;
const hits = new Map<string, number>();
let served: Record<string, { body: Buffer | string; type?: string; chunked?: boolean }> = {};

function aiaHandler(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  hits.set(path, (hits.get(path) ?? 0) + 1);
  if (path === '/stall') return; // never answers
  if (path === '/redirect') {
    res.writeHead(302, { location: '/inter.der' });
    res.end();
    return;
  }
  const item = served[path];
  if (!item) {
    res.writeHead(404);
    res.end('not here');
    return;
  }
  const body = Buffer.from(item.body);
  res.writeHead(200, {
    'content-type': item.type ?? 'application/pkix-cert',
    ...(item.chunked ? {} : { 'content-length': body.length }),
  });
  if (item.chunked) {
    for (let i = 0; i < body.length; i += 8192) res.write(body.subarray(i, i + 8192));
    res.end();
  } else {
    res.end(body);
  }
}

/** A server sending only a leaf issued by `issuer` whose caIssuers is `urls`. */
async function leafOnlyServer(issuer: Issued, urls: string[]): Promise<TestServer> {
  return startTlsServer({ cert: issue(issuer, { aia: { caIssuers: urls } }) });
}

/**
 * The failure of a path that lacks an issuer. For a leaf whose issuer is missing the verifier says
 * INCOMPLETE_CHAIN today; UNKNOWN_ISSUER is accepted too, since which of the two it gives is the
 * verifier's choice (both trigger AIA), not what these tests are about.
 */
function expectChainError(code: 'INCOMPLETE_CHAIN' | 'UNKNOWN_ISSUER', hint?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof SSLError, String(err));
    if (code === 'INCOMPLETE_CHAIN')
      assert.ok(err.code === code || err.code === 'UNKNOWN_ISSUER', err.message);
    else assert.equal(err.code, code, err.message);
    if (hint) assert.match(err.hint ?? '', hint);
    return true;
  };
}

const allowPrivate = { aia: { allowPrivate: true } } as const;
let session: Session;

before(async () => {
  root = createRoot({ cn: 'aia tests root' });
  http = await startHttpServer(aiaHandler);
  https = await startTlsServer({ cert: issue(root), handler: aiaHandler });
  inter = intermediate(root, { cn: 'aia tests intermediate' });
  // Two missing levels: inter2 is issued by inter and says where inter is.
  inter2 = intermediate(inter, {
    cn: 'aia tests second intermediate',
    aia: { caIssuers: [http.url('/inter.der')] },
  });
  served = {
    '/inter.der': { body: inter.der },
    '/inter.pem': { body: inter.pem, type: 'application/x-pem-file' },
    '/inter.p7c': { body: pkcs7Of(inter), type: 'application/pkcs7-mime' },
    '/inter2.der': { body: inter2.der },
    '/big': { body: Buffer.alloc(100 * 1024, 0x30) },
    '/big-chunked': { body: Buffer.alloc(100 * 1024, 0x30), chunked: true },
    '/garbage': { body: 'hello, this is not a certificate' },
    '/other': { body: intermediate(root, { cn: 'someone else entirely' }).der },
  };
  session = new Session({ verify: root.pem, trustEnv: false });
});

afterEach(() => {
  clearAiaCache();
});

after(async () => {
  await session.close();
  await http.close();
  await https.close();
});

describe('completing a chain from caIssuers', () => {
  test('without aia the chain stays incomplete, and the hint names the URL', async () => {
    const srv = await leafOnlyServer(inter, [http.url('/inter.der')]);
    try {
      await assert.rejects(session.get(srv.url('/')), expectChainError('INCOMPLETE_CHAIN', /inter\.der/));
      assert.equal(hits.get('/inter.der') ?? 0, 0);
    } finally {
      await srv.close();
    }
  });

  test('aia: true never fetches from a loopback address', async () => {
    const srv = await leafOnlyServer(inter, [http.url('/inter.der')]);
    const before = http.requests;
    try {
      await assert.rejects(
        session.get(srv.url('/'), { aia: true }),
        expectChainError('INCOMPLETE_CHAIN', /private or loopback address.*allowPrivate/),
      );
      assert.equal(http.requests, before);
      assert.equal(srv.bytesReceived, 0);
    } finally {
      await srv.close();
    }
  });

  test('nor from a host name that resolves only to loopback', async () => {
    const srv = await leafOnlyServer(inter, [`http://localhost:${http.port}/inter.der`]);
    const before = http.requests;
    try {
      await assert.rejects(
        session.get(srv.url('/'), { aia: true }),
        expectChainError('INCOMPLETE_CHAIN', /only at private or loopback/),
      );
      assert.equal(http.requests, before);
    } finally {
      await srv.close();
    }
  });

  for (const [what, path] of [
    ['DER', '/inter.der'],
    ['PEM', '/inter.pem'],
    ['a certs-only PKCS#7', '/inter.p7c'],
    ['a redirect to DER', '/redirect'],
  ] as const) {
    test(`with allowPrivate: the intermediate is fetched (${what}) and the request succeeds`, async () => {
      const srv = await leafOnlyServer(inter, [http.url(path)]);
      try {
        const r = await session.get(srv.url('/'), allowPrivate);
        assert.equal(r.status, 200);
        assert.equal(r.tls?.chain.length, 1, 'the chain as sent: the leaf alone');
        assert.deepEqual(
          r.tls?.fetched?.map((c) => c.commonName),
          ['aia tests intermediate'],
        );
        assert.match(r.tls?.anchor?.subject ?? '', /aia tests root/);
      } finally {
        await srv.close();
      }
    });
  }

  test('an https caIssuers URL is fetched too (what it serves is checked by its signature)', async () => {
    const srv = await leafOnlyServer(inter, [`${https.origin}/inter.der`]);
    try {
      assert.equal((await session.get(srv.url('/'), allowPrivate)).status, 200);
    } finally {
      await srv.close();
    }
  });

  test('two missing levels are fetched one after the other', async () => {
    const srv = await leafOnlyServer(inter2, [http.url('/inter2.der')]);
    try {
      const r = await session.get(srv.url('/'), allowPrivate);
      assert.deepEqual(
        r.tls?.fetched?.map((c) => c.commonName),
        ['aia tests second intermediate', 'aia tests intermediate'],
      );
    } finally {
      await srv.close();
    }
  });

  test('the next URL is tried when the first fails', async () => {
    const srv = await leafOnlyServer(inter, [
      http.url('/missing'),
      http.url('/garbage'),
      http.url('/inter.der'),
    ]);
    try {
      assert.equal((await session.get(srv.url('/'), allowPrivate)).status, 200);
    } finally {
      await srv.close();
    }
  });

  test('fetched once, then cached (across Sessions and connections)', async () => {
    const srv = await leafOnlyServer(inter, [http.url('/inter.der')]);
    const s2 = new Session({ verify: root.pem, trustEnv: false });
    try {
      const before = hits.get('/inter.der') ?? 0;
      await session.get(srv.url('/'), allowPrivate);
      await s2.get(srv.url('/'), allowPrivate);
      assert.equal((hits.get('/inter.der') ?? 0) - before, 1);
      assert.equal(aiaCacheSize(), 1);
      clearAiaCache();
      const s3 = new Session({ verify: root.pem, trustEnv: false });
      await s3.get(srv.url('/'), allowPrivate);
      await s3.close();
      assert.equal((hits.get('/inter.der') ?? 0) - before, 2);
    } finally {
      await s2.close();
      await srv.close();
    }
  });

  test('a failure is remembered for a while: no second fetch right away', async () => {
    const srv = await leafOnlyServer(inter, [http.url('/garbage')]);
    const s2 = new Session({ verify: root.pem, trustEnv: false });
    try {
      const before = hits.get('/garbage') ?? 0;
      await assert.rejects(
        session.get(srv.url('/'), allowPrivate),
        expectChainError('INCOMPLETE_CHAIN', /not a certificate/),
      );
      await assert.rejects(
        s2.get(srv.url('/'), allowPrivate),
        expectChainError('INCOMPLETE_CHAIN', /remembered from a recent attempt/),
      );
      assert.equal((hits.get('/garbage') ?? 0) - before, 1);
    } finally {
      await s2.close();
      await srv.close();
    }
  });
});

describe('what is fetched is never trusted by itself', () => {
  test('an untrusted root served at the AIA URL does not make the chain valid', async () => {
    const rogueRoot = createRoot({ cn: 'rogue root' });
    served['/rogue.der'] = { body: rogueRoot.der };
    const srv = await leafOnlyServer(rogueRoot, [http.url('/rogue.der')]);
    try {
      await assert.rejects(session.get(srv.url('/'), allowPrivate), expectChainError('UNKNOWN_ISSUER'));
      assert.equal(srv.bytesReceived, 0);
    } finally {
      await srv.close();
    }
  });

  test('an impostor with the right name but another key fails its signature check', async () => {
    const impostor = intermediate(createRoot({ cn: 'aia tests root' }), { cn: 'aia tests intermediate' });
    served['/impostor.der'] = { body: impostor.der };
    const srv = await leafOnlyServer(inter, [http.url('/impostor.der')]);
    try {
      await assert.rejects(session.get(srv.url('/'), allowPrivate), (err: unknown) => {
        assert.ok(err instanceof SSLError);
        assert.notEqual(err.code, 'PIN_MISMATCH');
        return true;
      });
      assert.equal(srv.bytesReceived, 0);
    } finally {
      await srv.close();
    }
  });

  test('a certificate for another issuer name is ignored', async () => {
    const srv = await leafOnlyServer(inter, [http.url('/other')]);
    try {
      await assert.rejects(
        session.get(srv.url('/'), allowPrivate),
        expectChainError('INCOMPLETE_CHAIN', /holds no certificate for/),
      );
    } finally {
      await srv.close();
    }
  });

  test('with verify: false nothing is fetched', async () => {
    const srv = await leafOnlyServer(inter, [http.url('/inter.der')]);
    const s = new Session({ verify: false });
    const before = http.requests;
    try {
      assert.equal((await s.get(srv.url('/'), allowPrivate)).status, 200);
      assert.equal(http.requests, before);
    } finally {
      await s.close();
      await srv.close();
    }
  });
});

describe('limits', () => {
  test('a response larger than 64 KiB is refused, with or without Content-Length', async () => {
    for (const path of ['/big', '/big-chunked']) {
      const srv = await leafOnlyServer(inter, [http.url(path)]);
      try {
        await assert.rejects(
          session.get(srv.url('/'), allowPrivate),
          expectChainError('INCOMPLETE_CHAIN', /65536/),
        );
      } finally {
        await srv.close();
      }
    }
  });

  test('maxBytes lowers the limit', async () => {
    const srv = await leafOnlyServer(inter, [http.url('/inter.der')]);
    try {
      await assert.rejects(
        session.get(srv.url('/'), { aia: { allowPrivate: true, maxBytes: 100 } }),
        expectChainError('INCOMPLETE_CHAIN', /more than the 100 allowed/),
      );
    } finally {
      await srv.close();
    }
  });

  test('a stalled AIA server is given up after the time limit', async () => {
    const srv = await leafOnlyServer(inter, [http.url('/stall')]);
    try {
      const t0 = performance.now();
      await assert.rejects(
        session.get(srv.url('/'), { aia: { allowPrivate: true, timeout: 300 } }),
        expectChainError('INCOMPLETE_CHAIN', /within 300 ms/),
      );
      assert.ok(performance.now() - t0 < 3000);
    } finally {
      await srv.close();
    }
  });

  test('only http and https URLs are fetched', async () => {
    const srv = await leafOnlyServer(inter, ['ldap://ldap.example.com/cn=CA', 'file:///etc/passwd']);
    try {
      await assert.rejects(
        session.get(srv.url('/'), allowPrivate),
        expectChainError('INCOMPLETE_CHAIN', /http and https only/),
      );
    } finally {
      await srv.close();
    }
  });

  test('bad aia options are ConfigErrors', async () => {
    for (const aia of ['yes', { allowPrivate: 'yes' }, { timeout: 0 }, { maxBytes: -1 }, { size: 1 }]) {
      await assert.rejects(session.get(https.url('/'), { aia: aia as never }), (err: unknown) => {
        assert.ok(err instanceof ConfigError, JSON.stringify(aia));
        assert.equal(err.code, 'ERR_AIA_OPTION');
        return true;
      });
    }
    assert.equal(resolveAia(false), undefined);
    assert.deepEqual(resolveAia(true), AIA_DEFAULTS);
    assert.deepEqual(resolveAia({ timeout: 5 }), { ...AIA_DEFAULTS, timeout: 5 });
  });
});

describe('AIA fetches go through the connection’s proxy (one dial)', () => {
  test('an http caIssuers URL is asked of the proxy in absolute form; the target through a CONNECT tunnel', async () => {
    const proxy = await startProxy();
    const srv = await leafOnlyServer(inter, [http.url('/inter.der')]);
    const before = hits.get('/inter.der') ?? 0;
    try {
      const r = await session.get(srv.url('/'), { ...allowPrivate, proxy: proxy.url });
      assert.equal(r.status, 200);
      assert.deepEqual(
        r.tls?.fetched?.map((c) => c.commonName),
        ['aia tests intermediate'],
      );
      assert.deepEqual(
        proxy.connects.map((c) => c.target),
        [`127.0.0.1:${srv.port}`],
      );
      assert.deepEqual(
        proxy.forwarded.map((f) => `${f.method} ${f.url}`),
        [`GET ${http.url('/inter.der')}`],
        'the AIA fetch went to the proxy, not straight to the CA',
      );
      assert.equal((hits.get('/inter.der') ?? 0) - before, 1);
    } finally {
      await srv.close();
      await proxy.close();
    }
  });
});
