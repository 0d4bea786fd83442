/**
 * r.tls.anchor.sources names the trust that verified *this* connection (issue 12 item 4). The
 * same root in two files, or in a file and in code, is the same anchor set (one trust key), but
 * not the same trust: a connection verified with one must not serve a request that asked for
 * the other, or the response would name a source the request never gave. Pool keys therefore
 * hold the anchors' sources too; and every source is one structured value ({ kind, path?,
 * variable? }, trust/source.ts) rendered to its string form in one place.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dispatcher, Session } from '../../src/index.js';
import { parseSource, renderSource } from '../../src/trust/source.js';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

const dir = tempDir('anchor-sources-');
const base = { trustEnv: false, timeout: { connect: 5000, read: 5000 } } as const;
let root: Issued;
let aPath: string;
let bPath: string;
let server: TestServer;

before(async () => {
  root = createRoot({ cn: 'anchor sources root' });
  aPath = dir.write('a/ca.pem', root.pem);
  bPath = dir.write('b/ca.pem', root.pem);
  server = await startTlsServer({ cert: issue(root) });
});

after(async () => {
  await server.close();
  dir.cleanup();
});

describe('r.tls.anchor.sources is the trust that verified this connection', () => {
  test('one Session, the same root from two files and inline: each response names its own source', async () => {
    const s = new Session(base);
    try {
      const connections = server.connections;
      const a = await s.get(server.url('/a'), { verify: aPath });
      await a.text();
      await new Promise((r) => setImmediate(r)); // the connection is idle and reusable
      const b = await s.get(server.url('/b'), { verify: bPath });
      await b.text();
      const c = await s.get(server.url('/c'), { verify: root.pem });
      await c.text();
      const again = await s.get(server.url('/a2'), { verify: aPath });
      await again.text();
      assert.deepEqual(a.tls?.anchor?.sources, [`file:${aPath}`]);
      assert.deepEqual(b.tls?.anchor?.sources, [`file:${bPath}`]);
      assert.deepEqual(c.tls?.anchor?.sources, ['inline']);
      assert.deepEqual(again.tls?.anchor?.sources, [`file:${aPath}`]);
      // Three trusts, three connections; the fourth request reused the first.
      assert.equal(server.connections - connections, 3);
    } finally {
      await s.close();
    }
  });

  test('two Sessions with different trust share nothing; each names its own source', async () => {
    const s1 = new Session({ ...base, verify: aPath });
    const s2 = new Session({ ...base, verify: bPath });
    try {
      const [r1, r2] = await Promise.all([s1.get(server.url('/s1')), s2.get(server.url('/s2'))]);
      await Promise.all([r1.text(), r2.text()]);
      assert.deepEqual(r1.tls?.anchor?.sources, [`file:${aPath}`]);
      assert.deepEqual(r2.tls?.anchor?.sources, [`file:${bPath}`]);
    } finally {
      await Promise.all([s1.close(), s2.close()]);
    }
  });

  test('dispatcher(): onConnection reports the source of the trust it was made with', async () => {
    const seen: string[][] = [];
    const d = dispatcher({
      verify: bPath,
      trustEnv: false,
      onConnection: (info) => seen.push(info.anchor?.sources ?? []),
    });
    try {
      const r = await fetch(server.url('/d'), { dispatcher: d } as unknown as RequestInit);
      await r.text();
      assert.deepEqual(seen, [[`file:${bPath}`]]);
    } finally {
      await d.close();
    }
  });
});

describe('anchor sources: one structured value, one string form', () => {
  const cases: [string, ReturnType<typeof parseSource>][] = [
    ['bundled', { kind: 'bundled' }],
    ['inline', { kind: 'inline' }],
    ['file:/etc/corp/ca.pem', { kind: 'file', path: '/etc/corp/ca.pem' }],
    ['dir:/etc/ssl/certs', { kind: 'dir', path: '/etc/ssl/certs' }],
    [
      'system:/etc/ssl/certs/ca-certificates.crt',
      { kind: 'system', path: '/etc/ssl/certs/ca-certificates.crt' },
    ],
    ['system:Cert:\\LocalMachine\\Root', { kind: 'system', path: 'Cert:\\LocalMachine\\Root' }],
    [
      'env:REQUESTS_CA_BUNDLE:/tmp/x:y.pem',
      { kind: 'env', variable: 'REQUESTS_CA_BUNDLE', path: '/tmp/x:y.pem' },
    ],
    [
      'env:SSL_CERT_FILE:C:\\certs\\ca.pem',
      { kind: 'env', variable: 'SSL_CERT_FILE', path: 'C:\\certs\\ca.pem' },
    ],
  ];
  for (const [text, info] of cases) {
    test(`${text} <-> ${JSON.stringify(info)}`, () => {
      assert.deepEqual(parseSource(text), info);
      assert.equal(renderSource(info), text);
    });
  }
  test('a string of no known kind is refused, not guessed', () => {
    assert.throws(() => parseSource('ftp:/x'), TypeError);
    assert.throws(() => parseSource('env:NOPATH'), TypeError);
  });
});
