/**
 * Digest auth (RFC 7616) against a loopback server that checks it independently: the server here
 * issues nonces and recomputes the expected response from the RFC's formulas (its own parser,
 * its own hashing), so a wrong client computation is a 401. Also: the RFC's own example vectors,
 * and (when python3 with requests is installed) the header requests' HTTPDigestAuth computes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { chooseDigest, digestAuthorization, parseChallenges } from '../../src/client/digest.js';
import { Session } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

const USER = 'Mufasa';
const PASS = 'Circle of Life';
const REALM = 'http-auth@example.org';

/** What the next request to the server gets challenged with. */
interface ServerMode {
  /** The algorithms offered, one challenge each, in order (undefined: no algorithm parameter). */
  algorithms: (string | undefined)[];
  qop: boolean;
  opaque: string | undefined;
  /** Answer the first correct response with stale=true and a fresh nonce. */
  staleOnce: boolean;
  /** A Basic challenge before the Digest ones. */
  basicFirst: boolean;
}

let mode: ServerMode;
let staleDone = false;
const nonces = new Set<string>();
const log: { authorization: string | undefined; body: string; status: number }[] = [];

function hashOf(algorithm: string): (s: string) => string {
  const name = algorithm.replace(/-sess$/i, '').toUpperCase();
  const node = name === 'MD5' ? 'md5' : name === 'SHA-256' ? 'sha256' : 'sha512-256';
  return (s) => createHash(node).update(s).digest('hex');
}

/** The server's own reading of an Authorization: Digest header. */
function parseAuthorization(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of value.slice('Digest '.length).matchAll(/([\w*]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g)) {
    out[m[1] as string] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] as string);
  }
  return out;
}

function challenge(res: ServerResponse, stale = false): void {
  const headers: string[] = [];
  if (mode.basicFirst) headers.push(`Basic realm="${REALM}"`);
  const nonce = randomBytes(12).toString('base64');
  nonces.add(nonce);
  for (const algorithm of mode.algorithms) {
    const parts = [`realm="${REALM}"`, `nonce="${nonce}"`];
    if (mode.qop) parts.push('qop="auth, auth-int"');
    if (algorithm) parts.push(`algorithm=${algorithm}`);
    if (mode.opaque) parts.push(`opaque="${mode.opaque}"`);
    if (stale) parts.push('stale=true');
    headers.push(`Digest ${parts.join(', ')}`);
  }
  res.writeHead(401, { 'www-authenticate': headers, 'content-type': 'text/plain' });
  res.end('who are you?'.repeat(100));
}

function handler(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    const entry = { authorization: req.headers.authorization, body, status: 401 };
    log.push(entry);
    const header = req.headers.authorization;
    if (!header?.startsWith('Digest ')) return challenge(res);
    const p = parseAuthorization(header);
    const algorithm = p.algorithm ?? 'MD5';
    if (!mode.algorithms.map((a) => a ?? 'MD5').includes(algorithm)) return challenge(res);
    const H = hashOf(algorithm);
    const nonce = p.nonce ?? '';
    if (p.username !== USER || p.realm !== REALM || p.uri !== req.url || !nonces.has(nonce))
      return challenge(res);
    if (mode.opaque !== undefined && p.opaque !== mode.opaque) return challenge(res);
    let ha1 = H(`${USER}:${REALM}:${PASS}`);
    if (/-sess$/i.test(algorithm)) ha1 = H(`${ha1}:${nonce}:${p.cnonce}`);
    const ha2 = H(`${req.method}:${req.url}`);
    let expected: string;
    if (mode.qop) {
      if (p.qop !== 'auth' || !/^[0-9a-f]{8}$/.test(p.nc ?? '') || !p.cnonce) return challenge(res);
      expected = H(`${ha1}:${nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
    } else expected = H(`${ha1}:${nonce}:${ha2}`);
    if (p.response !== expected) return challenge(res);
    if (mode.staleOnce && !staleDone) {
      staleDone = true;
      nonces.delete(nonce);
      return challenge(res, true);
    }
    entry.status = 200;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, body }));
  });
}

let root: Issued;
let server: TestServer;
let session: Session;

before(async () => {
  root = createRoot({ cn: 'digest tests root' });
  server = await startTlsServer({ cert: issue(root), handler });
  session = new Session({ verify: root.pem, trustEnv: false });
});

after(async () => {
  for (const s of spent) await s.close();
  await session.close();
  await server.close();
});

const spent: Session[] = [];

/** The server's next challenges, and a fresh Session (one that has answered no challenge yet). */
function setMode(m: Partial<ServerMode> = {}): void {
  spent.push(session);
  session = new Session({ verify: root.pem, trustEnv: false });
  mode = {
    algorithms: ['MD5'],
    qop: true,
    opaque: 'FQhe/qaU925k',
    staleOnce: false,
    basicFirst: false,
    ...m,
  };
  staleDone = false;
  log.length = 0;
}

const digest = { digest: [USER, PASS] } as const;

describe('Digest against an independent server', () => {
  for (const algorithm of ['MD5', 'SHA-256', 'MD5-sess', 'SHA-256-sess', 'SHA-512-256', undefined]) {
    test(`algorithm ${algorithm ?? '(none: MD5)'}, qop=auth, opaque`, async () => {
      setMode({ algorithms: [algorithm] });
      const r = await session.get(server.url('/dir/index.html?a=1'), { auth: digest });
      assert.equal(r.status, 200);
      assert.deepEqual(
        log.map((e) => e.status),
        [401, 200],
      );
      assert.equal(log[0]?.authorization, undefined); // nothing sent before the challenge
      const sent = r.request.headers.get('authorization') ?? '';
      assert.match(sent, /^Digest username="Mufasa", realm="http-auth@example.org", nonce="/);
      assert.match(sent, /qop=auth, nc=00000001, cnonce="[0-9a-f]{32}"/);
      if (algorithm) assert.match(sent, new RegExp(`algorithm=${algorithm}[,$]`));
    });
  }

  test('{ digest: { username, password } } and a challenge without qop (RFC 2069)', async () => {
    setMode({ qop: false, opaque: undefined });
    const r = await session.get(server.url('/'), { auth: { digest: { username: USER, password: PASS } } });
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.request.headers.get('authorization') ?? '', /qop|opaque/);
  });

  test('several challenges: the first Digest one we can answer (after Basic; SHA-256 listed first)', async () => {
    setMode({ algorithms: ['SHA-256', 'MD5'], basicFirst: true });
    const r = await session.get(server.url('/'), { auth: digest });
    assert.equal(r.status, 200);
    assert.match(r.request.headers.get('authorization') ?? '', /algorithm=SHA-256,/);
  });

  test('a POST body is sent again with the credentials', async () => {
    setMode();
    const r = await session.post(server.url('/submit'), { auth: digest, json: { a: 1 } });
    assert.equal(r.status, 200);
    assert.deepEqual(
      log.map((e) => e.body),
      ['{"a":1}', '{"a":1}'],
    );
    assert.deepEqual(await r.json(), { ok: true, body: '{"a":1}' });
  });

  test('a Session answers the challenge it met up front next time, the nonce count raised', async () => {
    setMode();
    assert.equal((await session.get(server.url('/a'), { auth: digest })).status, 200);
    const second = await session.get(server.url('/b?x=1'), { auth: digest });
    assert.equal(second.status, 200);
    const third = await session.post(server.url('/c'), { auth: digest, data: 'x' });
    assert.equal(third.status, 200);
    assert.deepEqual(
      log.map((e) => e.status),
      [401, 200, 200, 200],
    );
    assert.match(second.request.headers.get('authorization') ?? '', /uri="\/b\?x=1".*nc=00000002/);
    assert.match(third.request.headers.get('authorization') ?? '', /nc=00000003/);
    // The nonce expires: the server's new challenge is answered, once.
    nonces.clear();
    const fourth = await session.get(server.url('/d'), { auth: digest });
    assert.equal(fourth.status, 200);
    assert.deepEqual(
      log.slice(4).map((e) => e.status),
      [401, 200],
    );
    // An Authorization header of the caller's own is left alone.
    const own = await session.get(server.url('/e'), { auth: digest, headers: { authorization: 'Custom x' } });
    assert.equal(own.status, 401);
    await own.text();
  });

  test('stale=true: one more try with the new nonce', async () => {
    setMode({ staleOnce: true });
    const r = await session.get(server.url('/'), { auth: digest });
    assert.equal(r.status, 200);
    assert.deepEqual(
      log.map((e) => e.status),
      [401, 401, 200],
    );
  });

  test('a wrong password: the 401 is the answer after one try (no loop)', async () => {
    setMode();
    const r = await session.get(server.url('/'), { auth: { digest: [USER, 'wrong'] } });
    assert.equal(r.status, 401);
    assert.equal(log.length, 2);
    assert.match(await r.text(), /who are you/);
  });

  test('a stream body cannot be sent twice: the 401 comes back, nothing is resent', async () => {
    setMode();
    const r = await session.post(server.url('/'), {
      auth: digest,
      data: Readable.from([Buffer.from('once')]),
    });
    assert.equal(r.status, 401);
    assert.equal(log.length, 1);
    await r.text();
  });

  test('no Digest challenge we can answer (auth-int only, unknown algorithm): the 401 as is', async () => {
    setMode({ algorithms: ['SHA-1024'] });
    const r = await session.get(server.url('/'), { auth: digest });
    assert.equal(r.status, 401);
    assert.equal(log.length, 1);
    await r.text();
    const only = chooseDigest(parseChallenges('Digest realm="r", nonce="n", qop="auth-int"'));
    assert.equal(only, null);
  });
});

describe('Digest computation', () => {
  // RFC 7616 §3.9.1: the example request and its responses for MD5 and SHA-256.
  const example = (algorithm: string) =>
    chooseDigest(
      parseChallenges(
        `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, ` +
          'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
      ),
    );
  const cnonce = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';

  test('RFC 7616 §3.9.1 example, MD5 and SHA-256', () => {
    for (const [algorithm, response] of [
      ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
      ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
    ] as const) {
      const c = example(algorithm);
      assert.ok(c);
      const header = digestAuthorization({
        username: USER,
        password: PASS,
        method: 'GET',
        uri: '/dir/index.html',
        challenge: c,
        cnonce,
      });
      assert.match(header, new RegExp(`response="${response}"`));
    }
  });

  test('parsing: quoted strings with escapes and commas, token68 schemes, several fields', () => {
    const cs = parseChallenges([
      'Negotiate abc123==, Basic realm="a, \\"quoted\\" realm"',
      'Digest realm="r", nonce="n,1", algorithm=SHA-256',
    ]);
    assert.deepEqual(
      cs.map((c) => c.scheme),
      ['negotiate', 'basic', 'digest'],
    );
    assert.equal(cs[1]?.params.realm, 'a, "quoted" realm');
    assert.equal(cs[2]?.params.nonce, 'n,1');
  });

  test("the same response as python requests' HTTPDigestAuth for a fixed nonce and cnonce", (t) => {
    // requests derives its cnonce from time.ctime() and os.urandom(8): both fixed here, and the
    // cnonce it chose is read back from its header.
    const script = `
import sys, requests.auth as a
a.os.urandom = lambda n: b'\\x01' * n
a.time.ctime = lambda: 'Mon Dec  7 00:00:00 2026'
for alg in ('MD5', 'SHA-256', 'MD5-SESS'):
    d = a.HTTPDigestAuth('Mufasa', 'Circle of Life')
    d.init_per_thread_state()
    d._thread_local.chal = {'realm': 'http-auth@example.org', 'nonce': '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
                            'qop': 'auth', 'algorithm': alg, 'opaque': 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS'}
    print(d.build_digest_header('GET', 'https://example.org/dir/index.html?x=1'))
`;
    const py = spawnSync('python3', ['-c', script], { encoding: 'utf8', timeout: 30_000 });
    if (py.status !== 0) {
      t.skip(`python3 with requests is not available: ${(py.stderr || String(py.error)).slice(0, 200)}`);
      return;
    }
    const lines = py.stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    for (const [i, algorithm] of ['MD5', 'SHA-256', 'MD5-sess'].entries()) {
      const theirs = lines[i] as string;
      const their = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(theirs)?.[1];
      const c = example(algorithm);
      assert.ok(c);
      const ours = digestAuthorization({
        username: USER,
        password: PASS,
        method: 'GET',
        uri: '/dir/index.html?x=1',
        challenge: c,
        cnonce: their('cnonce') ?? '',
      });
      assert.equal(/response="([^"]*)"/.exec(ours)?.[1], their('response'), `${algorithm}: ${theirs}`);
      assert.equal(/uri="([^"]*)"/.exec(ours)?.[1], their('uri'));
    }
  });
});
