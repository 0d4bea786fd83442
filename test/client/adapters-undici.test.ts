/**
 * dispatcher(): our verification inside Node's global fetch, undici's fetch and undici's
 * request, each with the real library against loopback servers. On failure the library's error
 * carries our SSLError (code, hint) and the server received no request byte.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fetch as undiciFetch, request as undiciRequest } from 'undici';
import { ConfigError, ConnectionError, dispatcher, type SSLError } from '../../src/index.js';
import { intermediate, issue } from '../support/pki.js';
import { startProxy } from '../support/proxy.js';
import { closedPort, type PlainServer, startHttpServer, startTlsServer } from '../support/servers.js';
import {
  type AdapterServers,
  collectInsecureWarnings,
  sslErrorOf,
  startAdapterServers,
  UNTRUSTED,
} from './_shared.js';

let servers: AdapterServers;
let plain: PlainServer;

before(async () => {
  servers = await startAdapterServers('adapters-undici', 'certainly adapter tests root');
  plain = await startHttpServer();
});

after(async () => {
  await servers.close();
  await plain.close();
});

const clients = {
  'global fetch': async (url: string, d: ReturnType<typeof dispatcher>) => {
    // Node's own fetch (its bundled undici) takes an undici 7 Agent as dispatcher.
    const r = await fetch(url, { dispatcher: d } as unknown as RequestInit);
    return { status: r.status, body: await r.text() };
  },
  'undici fetch': async (url: string, d: ReturnType<typeof dispatcher>) => {
    const r = await undiciFetch(url, { dispatcher: d });
    return { status: r.status, body: await r.text() };
  },
  'undici request': async (url: string, d: ReturnType<typeof dispatcher>) => {
    const r = await undiciRequest(url, { dispatcher: d });
    return { status: r.statusCode, body: await r.body.text() };
  },
};

for (const [name, send] of Object.entries(clients)) {
  describe(`dispatcher() with ${name}`, () => {
    test('a verified request succeeds', async () => {
      const d = dispatcher({ verify: servers.caPath, trustEnv: false });
      try {
        const r = await send(servers.good.url('/hello'), d);
        assert.equal(r.status, 200);
        assert.match(r.body, /hello/);
      } finally {
        await d.close();
      }
    });

    test('a name mismatch surfaces our SSLError (code, hint) and sends nothing', async () => {
      const d = dispatcher({ verify: servers.caPath, trustEnv: false });
      try {
        const before = servers.wrongName.bytesReceived;
        const err = await send(servers.wrongName.url('/'), d).then(
          () => assert.fail('expected a failure'),
          (e: unknown) => e,
        );
        const ssl = sslErrorOf(err);
        assert.ok(ssl, `no SSLError in ${String(err)}`);
        assert.equal(ssl.code, 'HOSTNAME_MISMATCH');
        assert.deepEqual(ssl.presented, ['api.example.test']);
        assert.ok(ssl.hint && ssl.hint.length > 0);
        if (name === 'undici request') assert.equal(err, ssl, 'undici request rejects with our error itself');
        else assert.equal((err as Error).cause, ssl, 'fetch wraps it as TypeError.cause');
        assert.equal(servers.wrongName.bytesReceived, before);
      } finally {
        await d.close();
      }
    });

    test('an untrusted server fails with the default trust (trustEnv: false)', async () => {
      const d = dispatcher({ trustEnv: false });
      try {
        const err = await send(servers.good.url('/'), d).then(
          () => assert.fail('expected a failure'),
          (e: unknown) => e,
        );
        assert.ok(UNTRUSTED.includes(sslErrorOf(err)?.code ?? ''), String(sslErrorOf(err)?.code));
      } finally {
        await d.close();
      }
    });

    test('serverName verifies a name while connecting to an IP', async () => {
      const d = dispatcher({ verify: servers.caPath, trustEnv: false, serverName: 'api.example.test' });
      try {
        assert.equal((await send(servers.wrongName.url('/'), d)).status, 200);
        assert.deepEqual(servers.wrongName.serverNames.at(-1), 'api.example.test');
      } finally {
        await d.close();
      }
    });
  });
}

describe('dispatcher(): verify: false stays in its own dispatcher', () => {
  test('an insecure dispatcher connects (and warns); a verified one never reuses its connection', async () => {
    const warnings = collectInsecureWarnings();
    const insecure = dispatcher({ verify: false });
    const verified = dispatcher({ verify: servers.caPath, trustEnv: false });
    try {
      const r = await undiciRequest(servers.selfSignedServer.url('/a'), { dispatcher: insecure });
      assert.equal(r.statusCode, 200);
      await r.body.text();
      const bytes = servers.selfSignedServer.bytesReceived;
      const connections = servers.selfSignedServer.connections;
      // The insecure connection is idle in its pool now; the verified dispatcher must not see it.
      await assert.rejects(
        undiciRequest(servers.selfSignedServer.url('/b'), { dispatcher: verified }),
        (e: unknown) => UNTRUSTED.includes((e as SSLError).code),
      );
      assert.equal(servers.selfSignedServer.bytesReceived, bytes, 'no byte of the verified request was sent');
      assert.equal(
        servers.selfSignedServer.connections,
        connections + 1,
        'the verified dispatcher opened its own',
      );
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(warnings.messages.some((m) => m.includes('127.0.0.1')));
    } finally {
      warnings.stop();
      await insecure.close();
      await verified.close();
    }
  });
});

describe('dispatcher() options', () => {
  test('pins: a wrong pin is PIN_MISMATCH after a valid path; the right one passes', async () => {
    const wrong = `sha256//${Buffer.alloc(32, 7).toString('base64')}`;
    const d = dispatcher({ verify: servers.caPath, trustEnv: false, pin: wrong });
    try {
      await assert.rejects(undiciRequest(servers.good.url('/'), { dispatcher: d }), (e: unknown) => {
        const ssl = e as SSLError;
        assert.equal(ssl.code, 'PIN_MISMATCH');
        assert.equal(ssl.presented?.length, 1);
        const right = ssl.presented![0]!;
        // The actual pin, as reported, is accepted per host.
        return right.startsWith('sha256//');
      });
    } finally {
      await d.close();
    }
  });

  test('pins per host apply to that host only', async () => {
    const wrong = `sha256//${Buffer.alloc(32, 7).toString('base64')}`;
    const d = dispatcher({ verify: servers.caPath, trustEnv: false, pins: { 'api.example.test': wrong } });
    try {
      assert.equal((await undiciRequest(servers.good.url('/'), { dispatcher: d })).statusCode, 200);
    } finally {
      await d.close();
    }
  });

  test('fingerprint: the certificate must match one of them (after a valid path)', async () => {
    const right = servers.good.certChainPem.split('-----END CERTIFICATE-----')[0]!;
    const { X509Certificate } = await import('node:crypto');
    const fp = new X509Certificate(`${right}-----END CERTIFICATE-----\n`).fingerprint256;
    const ok = dispatcher({ verify: servers.caPath, trustEnv: false, fingerprint: fp });
    const wrong = dispatcher({ verify: servers.caPath, trustEnv: false, fingerprint: 'ab'.repeat(32) });
    try {
      assert.equal((await undiciRequest(servers.good.url('/'), { dispatcher: ok })).statusCode, 200);
      await assert.rejects(
        undiciRequest(servers.good.url('/'), { dispatcher: wrong }),
        (e: unknown) => (e as SSLError).code === 'PIN_MISMATCH',
      );
    } finally {
      await ok.close();
      await wrong.close();
    }
  });

  test('aia: an intermediate the server did not send is fetched (loopback allowed explicitly)', async () => {
    const inter = intermediate(servers.root, { cn: 'adapter aia intermediate' });
    const caIssuers = await startHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/pkix-cert' }).end(inter.der);
    });
    const leafOnly = await startTlsServer({
      cert: issue(inter, { sans: ['IP:127.0.0.1'], aia: { caIssuers: [caIssuers.url('/inter.der')] } }),
    });
    const without = dispatcher({ verify: servers.caPath, trustEnv: false });
    const withAia = dispatcher({ verify: servers.caPath, trustEnv: false, aia: { allowPrivate: true } });
    try {
      await assert.rejects(undiciRequest(leafOnly.url('/'), { dispatcher: without }), (e: unknown) =>
        UNTRUSTED.includes((e as SSLError).code),
      );
      assert.equal((await undiciRequest(leafOnly.url('/'), { dispatcher: withAia })).statusCode, 200);
      assert.equal(caIssuers.requests, 1);
    } finally {
      await without.close();
      await withAia.close();
      await leafOnly.close();
      await caIssuers.close();
    }
  });

  test('bad options are ConfigErrors when the dispatcher is made', () => {
    assert.throws(() => dispatcher({ fingerprint: 'md5:00' }), ConfigError);
    assert.throws(() => dispatcher({ aia: 'yes' as never }), ConfigError);
    assert.throws(
      () => dispatcher({ verfy: false } as never),
      (e: unknown) => e instanceof ConfigError && /verfy/.test(e.message),
    );
    assert.throws(() => dispatcher({ verify: '/no/such/ca.pem' }), ConfigError);
    assert.throws(() => dispatcher({ connectTimeout: -1 }), ConfigError);
    assert.throws(() => dispatcher({ pin: 'sha1//abc' }), ConfigError);
    assert.throws(() => dispatcher({ proxy: 'socks4://p:1' }), ConfigError);
    assert.throws(() => dispatcher(null as never), ConfigError);
  });

  test("connection options in undici's Agent options are refused, not ignored", () => {
    // undici's own spelling of TLS options (connect: { ca, cert, key }) never reached our connector.
    assert.throws(
      () => dispatcher({ trustEnv: false }, { connect: { ca: servers.root.pem } } as never),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.code === 'ERR_UNKNOWN_OPTION' &&
        /'connect' would be ignored/.test(e.message),
    );
    assert.throws(
      () => dispatcher({ trustEnv: false }, { cert: 'client.pem' } as never),
      (e: unknown) =>
        e instanceof ConfigError && /'cert' .*cert: \{ cert, key, passphrase \}/.test(e.message),
    );
    assert.throws(() => dispatcher({ trustEnv: false }, null as never), ConfigError);
    // undici reads these only to build its own connector: given ours, it ignored them.
    for (const [pool, message] of [
      [{ connectTimeout: 500 }, /'connectTimeout' .*use connectTimeout there/],
      [{ autoSelectFamily: true }, /'autoSelectFamily' .*family: 4 or 6/],
      [{ maxCachedSessions: 0 }, /'maxCachedSessions' .*has no option for this/],
      [{ socketPath: '/tmp/x.sock' }, /'socketPath' .*has no option for this/],
    ] as const) {
      assert.throws(
        () => dispatcher({ trustEnv: false }, pool as never),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
        JSON.stringify(pool),
      );
    }
    // @ts-expect-error not one of the pool's options, at compile time too
    assert.throws(() => dispatcher({ trustEnv: false }, { connectTimeout: 500 }), ConfigError);
  });

  test("the first argument's connectTimeout (what to use instead) bounds the handshake", async () => {
    // A server that accepts TCP and never answers the ClientHello.
    const silent = net.createServer((s) => s.on('error', () => {}));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const d = dispatcher({ verify: servers.caPath, trustEnv: false, connectTimeout: 300 });
    try {
      const url = `https://127.0.0.1:${(silent.address() as net.AddressInfo).port}/`;
      await assert.rejects(undiciRequest(url, { dispatcher: d }), (e: unknown) => {
        assert.equal((e as { code?: string }).code, 'ERR_CONNECT_TIMEOUT', String(e));
        assert.match((e as Error).message, /300 ms/);
        return true;
      });
    } finally {
      await d.destroy();
      silent.close();
    }
  });

  test('onConnection reports what each connection proved', async () => {
    const seen: { name: string; verified: boolean; origin: string }[] = [];
    const d = dispatcher({
      verify: servers.caPath,
      trustEnv: false,
      onConnection: (info, origin) => seen.push({ name: info.verifiedName, verified: info.verified, origin }),
    });
    try {
      await (await undiciRequest(servers.good.url('/'), { dispatcher: d })).body.text();
      assert.deepEqual(seen, [{ name: '127.0.0.1', verified: true, origin: servers.good.origin }]);
    } finally {
      await d.close();
    }
  });
});

describe('dispatcher() through a proxy', () => {
  test('fetch: https through a CONNECT tunnel, verified; http in absolute form', async () => {
    const p = await startProxy({ auth: 'u:p' });
    const d = dispatcher({
      verify: servers.caPath,
      trustEnv: false,
      proxy: `http://u:p@127.0.0.1:${p.port}`,
    });
    try {
      const r = await undiciFetch(servers.good.url('/tunnelled'), { dispatcher: d });
      assert.equal(r.status, 200);
      await r.text();
      assert.deepEqual(
        p.connects.map((c) => c.target),
        [`127.0.0.1:${servers.good.port}`],
      );
      const h = await fetch(plain.url('/forwarded'), { dispatcher: d } as unknown as RequestInit);
      assert.equal(h.status, 200);
      await h.text();
      assert.equal(p.forwarded[0]?.url, plain.url('/forwarded'));
      assert.equal(p.forwarded[0]?.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
    } finally {
      await d.close();
      await p.close();
    }
  });

  test('a failed check through the tunnel is still our SSLError; noProxy goes direct', async () => {
    const p = await startProxy();
    const d = dispatcher({ verify: servers.caPath, trustEnv: false, proxy: p.url, noProxy: 'localhost' });
    try {
      await assert.rejects(
        undiciRequest(servers.wrongName.url('/'), { dispatcher: d }),
        (e: unknown) => (e as SSLError).code === 'HOSTNAME_MISMATCH',
      );
      assert.equal(p.connects.length, 1);
      const local = `https://localhost:${servers.good.port}/`;
      assert.equal((await undiciRequest(local, { dispatcher: d })).statusCode, 200);
      assert.equal(p.connects.length, 1, 'localhost went direct');
    } finally {
      await d.close();
      await p.close();
    }
  });
});

describe("dispatcher(): a connection failure keeps the system's code", () => {
  test('fetch: err.cause.code is ECONNREFUSED (as without the dispatcher), the cause our ConnectionError', async () => {
    const d = dispatcher({ verify: servers.caPath, trustEnv: false });
    try {
      const url = `https://127.0.0.1:${await closedPort()}/`;
      const err = await undiciFetch(url, { dispatcher: d }).then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      );
      const cause = (err as { cause?: unknown }).cause;
      assert.ok(cause instanceof ConnectionError, String(cause));
      assert.equal(cause.code, 'ECONNREFUSED');
      assert.match(cause.message, /nothing listens on that port/);
      await assert.rejects(
        undiciRequest(url, { dispatcher: d }),
        (e: unknown) => (e as { code?: string }).code === 'ECONNREFUSED',
      );
    } finally {
      await d.close();
    }
  });
});
