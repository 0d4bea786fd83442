/**
 * Online OCSP (`revocation: { online }`): with no staple, certainly asks the OCSP responder the
 * leaf's AIA extension names. The responder here is a loopback HTTP server that hands each POSTed
 * request, as received, to the real `openssl ocsp -reqin` (so OpenSSL reads the OCSPRequest we
 * build) and returns the response it signs. Checked: good, revoked, unknown, a dead and a slow
 * responder (soft-fail under 'soft', REVOCATION_UNKNOWN under 'hard'), the cache until nextUpdate,
 * the private-address guard (as for AIA: loopback only with allowPrivate), no fetch when a staple
 * is present, and the option's validation.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { runCheck } from '../../src/cli/check.js';
import { runGet } from '../../src/cli/get.js';
import { ConfigError, get, Session, SSLError } from '../../src/index.js';
import { clearOcspCache } from '../../src/tls/ocsp-fetch.js';
import { ocspRequestFor } from '../../src/verify/ocsp.js';
import { parseCertificate } from '../../src/x509/index.js';
import { validate } from '../diagnose/json-schema.js';
import { hasOpenssl, type IndexEntry, opensslOcspResponse } from '../support/ocsp.js';
import { createRoot, type Issued, intermediate, issue, tempDir } from '../support/pki.js';
import { startProxy } from '../support/proxy.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

const schema = JSON.parse(
  readFileSync(new URL('../../../schema/check-report.schema.json', import.meta.url), 'utf8'),
);
const skip = hasOpenssl ? false : 'the openssl command is not installed (apt-get install openssl)';

let responder: Server;
let base = '';
const hits: Record<string, number> = {};
let root: Issued;
let inter: Issued;
const index: IndexEntry[] = [];
const servers: TestServer[] = [];

/** A leaf whose AIA names `path` on the responder, served by its own TLS server (no staple). */
async function site(path: string, entry?: Omit<IndexEntry, 'cert'>, staple = false) {
  const cert = issue(inter, { aia: { ocsp: [`${base}${path}`] } });
  if (entry) index.push({ cert, ...entry });
  const srv = await startTlsServer({
    cert,
    chain: [inter],
    ...(staple ? { staple: opensslOcspResponse({ issuer: inter, cert, index }) } : {}),
  });
  servers.push(srv);
  return { cert, srv };
}

before(async () => {
  if (skip) return;
  root = createRoot({ cn: 'online ocsp root' });
  inter = intermediate(root, { cn: 'online ocsp intermediate' });
  responder = createServer((req, res) => {
    const path = req.url ?? '/';
    hits[path] = (hits[path] ?? 0) + 1;
    if (path.startsWith('/slow')) return; // never answers
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/ocsp-request') {
        res.writeHead(405).end();
        return;
      }
      try {
        const body = opensslOcspResponse({
          issuer: inter,
          cert: inter,
          index,
          request: Buffer.concat(chunks),
        });
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(body);
      } catch {
        res.writeHead(500).end();
      }
    });
  });
  await new Promise<void>((r) => responder.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(responder.address() as { port: number }).port}`;
});

after(async () => {
  for (const s of servers) await s.close();
  responder?.closeAllConnections();
  await new Promise<void>((r) => (responder ? responder.close(() => r()) : r()));
});

const ONLINE = { online: { allowPrivate: true } } as const;

async function tlsOf(srv: TestServer, revocation: unknown) {
  const s = new Session({ trustEnv: false, verify: root.pem });
  try {
    const r = await s.get(srv.url('/'), { revocation: revocation as 'soft' });
    await r.text();
    return r.tls!.revocation!;
  } finally {
    await s.close();
  }
}

const fails = (code: string, re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof SSLError, String(e));
  assert.equal(e.code, code, e.message);
  assert.match(e.message, re);
  return true;
};

describe('online OCSP through a loopback responder running openssl ocsp', { skip }, () => {
  test('our OCSPRequest is read by openssl ocsp -reqin (serial and hashes)', () => {
    const cert = issue(inter);
    const req = ocspRequestFor(parseCertificate(cert.der), parseCertificate(inter.der));
    const dir = tempDir();
    try {
      const f = join(dir.path, 'req.der');
      writeFileSync(f, req);
      const text = execFileSync('openssl', ['ocsp', '-reqin', f, '-req_text'], { encoding: 'utf8' });
      assert.match(text, /Hash Algorithm: sha1/);
      assert.match(text, new RegExp(`Serial Number: ${cert.serial.toString('hex').toUpperCase()}`));
    } finally {
      dir.cleanup();
    }
  });

  test('good: status from the responder (source online, its URL), then from the cache until nextUpdate', async () => {
    clearOcspCache();
    const { srv } = await site('/good', {});
    const rev = await tlsOf(srv, ONLINE);
    const leaf = rev.certificates[0]!;
    assert.equal(leaf.status, 'good');
    assert.equal(leaf.source, 'online');
    assert.equal(leaf.url, `${base}/good`);
    assert.equal(leaf.responder, 'the issuer');
    assert.ok(leaf.nextUpdate && leaf.nextUpdate.getTime() > Date.now());
    assert.equal(hits['/good'], 1);
    // A new connection (new Session): the cached response, verified again; the responder is not asked.
    const again = (await tlsOf(srv, { mode: 'hard', ...ONLINE })).certificates[0]!;
    assert.equal(again.status, 'good');
    assert.equal(again.cached, true);
    assert.equal(hits['/good'], 1);
  });

  test('revoked: CERT_REVOKED with the reason and where the answer came from, under soft; no request byte', async () => {
    const { srv } = await site('/revoked', {
      revoked: { at: new Date(Date.now() - 3_600_000), reason: 'keyCompromise' },
    });
    await assert.rejects(
      tlsOf(srv, ONLINE),
      fails(
        'CERT_REVOKED',
        /revoked on .*keyCompromise.*OCSP response from the issuer, fetched from http:\/\/127\.0\.0\.1:\d+\/revoked/,
      ),
    );
    assert.equal(srv.bytesReceived, 0);
  });

  test('unknown to the responder: recorded under soft, REVOCATION_UNKNOWN under hard', async () => {
    const { srv } = await site('/unknown'); // not in the index
    const leaf = (await tlsOf(srv, ONLINE)).certificates[0]!;
    assert.equal(leaf.status, 'unknown');
    assert.match(leaf.reasons!.join(' '), /does not know this certificate/);
    await assert.rejects(
      tlsOf(srv, { mode: 'hard', ...ONLINE }),
      fails('REVOCATION_UNKNOWN', /does not know this certificate.*online OCSP was tried/),
    );
  });

  test('a dead responder and a slow one: soft-fail (unknown, the request goes on); hard: REVOCATION_UNKNOWN', async () => {
    // A port nothing listens on: a server bound and closed at once.
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as { port: number }).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const cert = issue(inter, { aia: { ocsp: [`http://127.0.0.1:${deadPort}/`] } });
    index.push({ cert });
    const srv = await startTlsServer({ cert, chain: [inter] });
    servers.push(srv);
    const leaf = (await tlsOf(srv, ONLINE)).certificates[0]!;
    assert.equal(leaf.status, 'unknown');
    assert.match(
      leaf.reasons!.join(' '),
      /OCSP responder at http:\/\/127\.0\.0\.1:\d+\/ gave no usable answer/,
    );
    // The failure is remembered for a minute: hard fails at once with the same reason.
    await assert.rejects(
      tlsOf(srv, { mode: 'hard', ...ONLINE }),
      fails('REVOCATION_UNKNOWN', /gave no usable answer/),
    );

    const slow = await site('/slow', {});
    const timeout = { online: { allowPrivate: true, timeout: 300 } };
    const s = (await tlsOf(slow.srv, timeout)).certificates[0]!;
    assert.equal(s.status, 'unknown');
    assert.match(s.reasons!.join(' '), /no complete answer within 300 ms/);
  });

  test('the private-address guard: a loopback responder is not asked without allowPrivate', async () => {
    const { srv } = await site('/guarded', {});
    const leaf = (await tlsOf(srv, { online: true })).certificates[0]!;
    assert.equal(leaf.status, 'unknown');
    assert.match(leaf.reasons!.join(' '), /127\.0\.0\.1 is a loopback .*allowPrivate: true/);
    assert.equal(hits['/guarded'], undefined);
    await assert.rejects(
      tlsOf(srv, { mode: 'hard', online: true }),
      fails('REVOCATION_UNKNOWN', /allowPrivate/),
    );
  });

  test('a leaf that names no responder: unknown with that reason under soft, REVOCATION_UNKNOWN under hard', async () => {
    const cert = issue(inter);
    const srv = await startTlsServer({ cert, chain: [inter] });
    servers.push(srv);
    const leaf = (await tlsOf(srv, ONLINE)).certificates[0]!;
    assert.equal(leaf.status, 'unknown');
    assert.match(leaf.reasons!.join(' '), /names no OCSP responder/);
    await assert.rejects(
      tlsOf(srv, { mode: 'hard', ...ONLINE }),
      fails('REVOCATION_UNKNOWN', /names no OCSP responder/),
    );
  });

  test('a staple present: the responder is not asked', async () => {
    const { srv } = await site('/stapled', {}, true);
    const leaf = (await tlsOf(srv, ONLINE)).certificates[0]!;
    assert.equal(leaf.status, 'good');
    assert.equal(leaf.source, 'staple');
    assert.equal(hits['/stapled'], undefined);
  });

  test('through the proxy the connection takes: the POST is forwarded by it, in absolute form', async () => {
    const proxy = await startProxy();
    try {
      const { srv } = await site('/proxied', {});
      const s = new Session({ trustEnv: false, verify: root.pem, proxy: proxy.url });
      try {
        const r = await s.get(srv.url('/'), { revocation: ONLINE });
        await r.text();
        assert.equal(r.tls!.revocation!.certificates[0]!.status, 'good');
      } finally {
        await s.close();
      }
      assert.equal(proxy.connects.length, 1);
      assert.deepEqual(
        proxy.forwarded.map((f) => [f.method, f.url, f.headers['content-type']]),
        [['POST', `${base}/proxied`, 'application/ocsp-request']],
      );
      assert.equal(hits['/proxied'], 1);
    } finally {
      await proxy.close();
    }
  });

  test('certainly get --ocsp-online: the status in --json and -v, CERT_REVOKED exit 1, contradictions refused', async () => {
    const dir = tempDir();
    try {
      const ca = dir.write('root.pem', root.pem);
      const good = await site('/cli-good', {});
      const g = await cli([
        good.srv.url('/'),
        '--verify',
        ca,
        '--ocsp-online',
        '--revocation',
        'hard',
        '--json',
      ]);
      assert.equal(g.code, 0, g.stdout + g.stderr);
      const leaf = JSON.parse(g.stdout).tls.revocation.certificates[0];
      assert.equal(leaf.status, 'good');
      assert.equal(leaf.source, 'online');
      const v = await cli([good.srv.url('/'), '--verify', ca, '--ocsp-online', '-v']);
      assert.match(
        v.stderr,
        /revocation: good \(OCSP response from http:\/\/127\.0\.0\.1:\d+\/cli-good, cached\)/,
      );
      const revoked = await site('/cli-revoked', { revoked: { at: new Date(Date.now() - 60_000) } });
      const r = await cli([revoked.srv.url('/'), '--verify', ca, '--ocsp-online', '--json']);
      assert.equal(r.code, 1, r.stdout);
      assert.equal(JSON.parse(r.stdout).code, 'CERT_REVOKED');
      const off = await cli([good.srv.url('/'), '--verify', ca, '--ocsp-online', '--revocation', 'off']);
      assert.equal(off.code, 2);
      assert.match(off.stderr, /--ocsp-online and --revocation off contradict each other/);
    } finally {
      dir.cleanup();
    }
  });

  test('certainly check --ocsp-online: the status and the responder in the report (schema-valid) and the text', async () => {
    const dir = tempDir();
    try {
      const ca = dir.write('root.pem', root.pem);
      const good = await site('/check-good', {});
      const c = await checkCli([
        good.srv.origin,
        '--ca',
        ca,
        '--ocsp-online',
        '--revocation',
        'hard',
        '--json',
      ]);
      assert.equal(c.code, 0, c.stdout + c.stderr);
      const out = JSON.parse(c.stdout);
      assert.deepEqual(validate(schema, out), []);
      const leaf = out.revocation.certificates[0];
      assert.equal(leaf.status, 'good');
      assert.equal(leaf.source, 'online');
      assert.equal(leaf.url, `${base}/check-good`);
      const v = await checkCli([good.srv.origin, '--ca', ca, '--ocsp-online', '-v']);
      assert.match(
        v.stdout,
        /revocation {2}good \(OCSP response from the issuer, asked of http:\/\/127\.0\.0\.1:\d+\/check-good, cached/,
      );
      const revoked = await site('/check-revoked', { revoked: { at: new Date(Date.now() - 60_000) } });
      const r = await checkCli([revoked.srv.origin, '--ca', ca, '--ocsp-online', '--json']);
      assert.equal(r.code, 1, r.stdout);
      assert.equal(JSON.parse(r.stdout).verification.code, 'CERT_REVOKED');
      // Without the flag, check asks no responder.
      const plain = await site('/check-plain', {});
      const p = await checkCli([plain.srv.origin, '--ca', ca, '--json']);
      assert.equal(JSON.parse(p.stdout).revocation.certificates[0].status, 'unchecked');
      assert.equal(hits['/check-plain'], undefined);
    } finally {
      dir.cleanup();
    }
  });

  test('off by default: nothing is fetched, the status stays unchecked', async () => {
    const { srv } = await site('/default', {});
    const leaf = (await tlsOf(srv, undefined)).certificates[0]!;
    assert.equal(leaf.status, 'unchecked');
    assert.equal(hits['/default'], undefined);
  });
});

describe('the revocation option', () => {
  for (const bad of [
    { online: 'yes' },
    { mode: 'off', online: true },
    { mode: 'hard', onlien: true },
    { online: { timeout: -1 } },
  ]) {
    test(`${JSON.stringify(bad)}: ConfigError ERR_REVOCATION_OPTION`, async () => {
      await assert.rejects(get('https://127.0.0.1:1/', { revocation: bad as never }), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.equal(e.code, 'ERR_REVOCATION_OPTION', e.message);
        return true;
      });
    });
  }
});

class Out extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function cli(argv: string[]) {
  const stdout = new Out();
  const stderr = new Out();
  const code = await runGet(argv, { stdout, stderr, env: {} } as unknown as Parameters<typeof runGet>[1]);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

async function checkCli(argv: string[]) {
  const stdout = new Out();
  const stderr = new Out();
  const code = await runCheck(argv, { stdout, stderr, env: {} } as unknown as Parameters<typeof runCheck>[1]);
  return { code, stdout: stdout.text, stderr: stderr.text };
}
