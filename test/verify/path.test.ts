/**
 * Path building: order, extras and duplicates, cross-signing, loops, depth and pathLen limits,
 * the budget (a mesh of cross-signed intermediates), error choice and positions.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { SSLError, VerifyCode } from '../../src/errors.js';
import { CachingVerifier, nodeVerifier, type SignatureVerifier } from '../../src/verify/crypto.js';
import { anchorsFrom, type VerifyServerOptions, verifyServer } from '../../src/verify/index.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import type { Certificate } from '../../src/x509/types.js';
import {
  createRoot,
  crossSignedMesh,
  generateKey,
  type Issued,
  intermediate,
  issue,
  reissue,
  selfSigned,
  standardPki,
} from '../support/pki.js';
import { failure } from './_helpers.js';

const parsed = new WeakMap<Issued, Certificate>();
function cert(i: Issued): Certificate {
  let c = parsed.get(i);
  if (!c) {
    c = parseCertificate(i.der);
    parsed.set(i, c);
  }
  return c;
}

function verify(chain: Issued[], roots: Issued[], opts: Partial<VerifyServerOptions> = {}) {
  return verifyServer({ chain: chain.map(cert), trust: anchorsFrom(roots.map(cert), 'inline'), ...opts });
}

function expectCode(fn: () => unknown, code: VerifyCode, position?: number): SSLError {
  const err = failure(fn);
  assert.equal(err.code, code, `${err.code}: ${err.message}`);
  if (position !== undefined) assert.equal(err.position, position, err.message);
  assert.ok(err.message.length > 20 && !err.message.includes('undefined'), err.message);
  return err;
}

const subjects = (p: { path: Certificate[] }) => p.path.map((c) => c.subject.text);

describe('path building', () => {
  const { root, intermediate: inter, leaf } = standardPki();

  it('builds leaf -> intermediate -> root', () => {
    const r = verify([leaf, inter], [root], { name: 'localhost' });
    assert.deepEqual(subjects(r), [cert(leaf).subject.text, cert(inter).subject.text]);
    assert.equal(r.anchor.cert.fingerprintSha256, cert(root).fingerprintSha256);
    assert.deepEqual(r.anchor.sources, ['inline']);
    assert.deepEqual(r.notes, []);
  });

  it('accepts the chain in any order, with duplicates, extras and the root itself', () => {
    const stranger = standardPki();
    const r = verify(
      [leaf, stranger.intermediate, root, inter, inter, stranger.leaf, leaf],
      [root, stranger.root],
    );
    assert.equal(r.path.length, 2);
    assert.equal(r.anchor.cert.subject.text, cert(root).subject.text);
  });

  it('reports positions in the chain as sent', () => {
    const expired = intermediate(root, {
      notAfter: new Date(Date.now() - 60_000),
      notBefore: new Date(Date.now() - 3_600_000),
    });
    const l2 = issue(expired);
    const err = expectCode(() => verify([l2, root, expired], [root]), 'CERT_EXPIRED', 2);
    assert.equal(err.certificate?.subject, cert(expired).subject.text);
    assert.equal(err.chain?.length, 3);
  });

  it('finds the other path when one cross-signed intermediate is expired (chain of pain)', () => {
    const oldRoot = createRoot();
    const newRoot = createRoot();
    const ica = intermediate(newRoot);
    const hour = 3_600_000;
    // The server sends the new root cross-signed by the old one, which has expired.
    const bridge = reissue(oldRoot, newRoot, {
      notBefore: new Date(Date.now() - 2 * hour),
      notAfter: new Date(Date.now() - hour),
    });
    const l = issue(ica);
    const r = verify([l, ica, bridge], [oldRoot, newRoot]);
    assert.equal(r.anchor.cert.subject.text, cert(newRoot).subject.text);
    assert.equal(r.path.length, 2);
    // Only the old root trusted: the expired bridge is the only way, and that is the error.
    expectCode(() => verify([l, ica, bridge], [oldRoot]), 'CERT_EXPIRED', 2);
  });

  it('uses a cross-signed intermediate to reach the root it trusts', () => {
    const rootA = createRoot();
    const rootB = createRoot();
    const ica = intermediate(rootB);
    const icaByA = reissue(rootA, ica);
    const l = issue(ica);
    const r = verify([l, ica, icaByA], [rootA]);
    assert.equal(r.anchor.cert.subject.text, cert(rootA).subject.text);
    assert.equal(r.path[1]!.fingerprintSha256, cert(icaByA).fingerprintSha256);
  });

  it('prefers the candidate whose key identifier matches: no error from a same-name impostor', () => {
    const real = createRoot({ subject: 'CN=Same Name Root' });
    const impostor = createRoot({ subject: 'CN=Same Name Root' });
    const l = issue(real);
    const counted = countingVerifier();
    const r = verify([l], [impostor, real], { verifier: counted });
    assert.equal(r.anchor.cert.fingerprintSha256, cert(real).fingerprintSha256);
    assert.equal(counted.calls, 1, 'the matching key identifier is tried first');
    // Only the impostor trusted: unknown issuer (the key identifiers differ), not a bad signature.
    const err = expectCode(() => verify([l], [impostor]), 'UNKNOWN_ISSUER', 0);
    assert.match(err.message, /key identifiers differ/);
  });

  it('reports a bad signature from the identified issuer', () => {
    const forged = issue(inter, { signWith: createRoot().key });
    expectCode(() => verify([forged, inter], [root]), 'BAD_SIGNATURE', 0);
  });

  it('names a missing intermediate, an unknown root and a self-signed leaf', () => {
    const withAia = issue(inter, { aia: { caIssuers: ['http://ca.example/inter.der'] } });
    const incomplete = expectCode(() => verify([withAia], [root]), 'INCOMPLETE_CHAIN', 0);
    assert.match(incomplete.hint ?? '', /intermediate.*http:\/\/ca\.example\/inter\.der/);
    // Without AIA the same shape may be a private CA that issued the leaf directly: say both.
    const err = expectCode(() => verify([leaf], [root]), 'UNKNOWN_ISSUER', 0);
    assert.match(err.hint ?? '', /private CA.*intermediate/);
    const unknown = expectCode(() => verify([leaf, inter], [createRoot()]), 'UNKNOWN_ISSUER', 1);
    assert.match(unknown.message, /not a trusted root/);
    expectCode(() => verify([leaf, inter, root], [createRoot()]), 'UNKNOWN_ISSUER', 2);
    const self = selfSigned();
    expectCode(() => verify([self], [root]), 'SELF_SIGNED', 0);
  });

  it('accepts a self-signed server certificate that is itself trusted', () => {
    const self = selfSigned();
    const r = verify([self], [self], { name: 'localhost' });
    assert.equal(r.path.length, 1);
    assert.equal(r.anchor.cert.fingerprintSha256, cert(self).fingerprintSha256);
    assert.match(r.notes.join('\n'), /itself a trust anchor/);
  });

  it('accepts a trusted self-signed CA certificate as its own anchor only from a user file', () => {
    // What `openssl req -x509 -addext subjectAltName=DNS:localhost` makes: cA TRUE, self-signed.
    const reqX509 = createRoot({ sans: ['DNS:localhost'] });
    const c = cert(reqX509);
    const r = verifyServer({
      chain: [c],
      name: 'localhost',
      trust: anchorsFrom([c], 'file:/home/me/server.pem'),
    });
    assert.equal(r.path.length, 1);
    assert.match(r.notes.join('\n'), /CA certificate .*presented as the server certificate/);
    expectCode(() => verify([reqX509], [reqX509], { name: 'localhost' }), 'CA_USED_AS_LEAF', 0);
  });

  it('cuts loops: two CAs that sign each other, and a self-signed intermediate', () => {
    const keyA = generateKey('p256');
    const keyB = generateKey('p256');
    const seedA = createRoot({ subject: 'CN=Loop A', key: keyA });
    const seedB = createRoot({ subject: 'CN=Loop B', key: keyB });
    const aByB = intermediate(seedB, { subject: 'CN=Loop A', key: keyA });
    const bByA = intermediate(seedA, { subject: 'CN=Loop B', key: keyB });
    const l = issue(aByB);
    const err = expectCode(() => verify([l, aByB, bByA], [createRoot()]), 'UNKNOWN_ISSUER');
    assert.ok(err.position === 1 || err.position === 2);
  });

  it('enforces maxDepth, not counting self-issued intermediates', () => {
    const i1 = intermediate(root);
    const i2 = intermediate(i1);
    const l = issue(i2);
    assert.equal(verify([l, i2, i1], [root], { maxDepth: 2 }).path.length, 3);
    expectCode(() => verify([l, i2, i1], [root], { maxDepth: 1 }), 'PATH_TOO_LONG');
    // A key rollover: i1' has i1's name and a new key, issued by i1 (self-issued).
    const rolled = intermediate(i1, { subjectDer: i1.subjectDer });
    const l2 = issue(rolled);
    assert.equal(verify([l2, rolled, i1], [root], { maxDepth: 1 }).path.length, 3);
  });

  it('enforces pathLenConstraint, naming the constraining CA', () => {
    const i0 = intermediate(root, { pathLen: 0 });
    const i1 = intermediate(i0);
    const l = issue(i1);
    const err = expectCode(() => verify([l, i1, i0], [root]), 'PATH_TOO_LONG', 2);
    assert.match(err.message, /allows 0 intermediate certificates below it/);
    // The root's own constraint counts too; a leaf directly below a pathLen 0 root is fine.
    const rootLen0 = createRoot({ pathLen: 0 });
    const under = intermediate(rootLen0);
    expectCode(() => verify([issue(under), under], [rootLen0]), 'PATH_TOO_LONG');
    assert.equal(verify([issue(rootLen0)], [rootLen0]).path.length, 1);
    const rootLen1 = createRoot({ pathLen: 1 });
    const one = intermediate(rootLen1);
    assert.equal(verify([issue(one), one], [rootLen1]).path.length, 2);
  });

  it('ends a 50-certificate mesh of cross-signed intermediates with BUDGET_EXCEEDED, quickly', () => {
    const mesh = crossSignedMesh(50);
    assert.equal(mesh.length, 50);
    const l = issue(mesh[0]!);
    const chain = [l, ...mesh];
    const started = performance.now();
    const err = expectCode(() => verify(chain, [root]), 'BUDGET_EXCEEDED');
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 2000, `took ${elapsed} ms`);
    assert.match(err.message, /100 signature checks/);
    // A smaller budget ends sooner; a build-call budget applies too.
    expectCode(() => verify(chain, [root], { budget: { signatures: 5 } }), 'BUDGET_EXCEEDED');
    const calls = expectCode(() => verify(chain, [root], { budget: { buildCalls: 20 } }), 'BUDGET_EXCEEDED');
    assert.match(calls.message, /20 candidate issuers tried/);
  });

  it('ends quickly on hundreds of same-name candidates that are not CAs', () => {
    const key = generateKey('p256');
    const fakes = Array.from({ length: 300 }, () =>
      intermediate(root, { key, subjectDer: inter.subjectDer, basicConstraints: false }),
    );
    const started = performance.now();
    const err = expectCode(() => verify([leaf, ...fakes], [root]), 'NOT_A_CA');
    assert.ok(performance.now() - started < 1000);
    assert.ok((err.candidates?.length ?? 0) <= 8);
    // The real intermediate among them is still found.
    assert.equal(verify([leaf, ...fakes, inter], [root]).path.length, 2);
  });

  it('keeps the most specific error and lists the other candidates', () => {
    // Two intermediates with the same name and key: one expired, one not a CA for serverAuth.
    const key = generateKey('p256');
    const hour = 3_600_000;
    const expired = intermediate(root, {
      key,
      subjectDer: inter.subjectDer,
      notBefore: new Date(Date.now() - 2 * hour),
      notAfter: new Date(Date.now() - hour),
    });
    const emailOnly = intermediate(root, { key, subjectDer: inter.subjectDer, eku: ['emailProtection'] });
    const l = issue(emailOnly);
    const err = expectCode(() => verify([l, expired, emailOnly], [root]), 'CERT_EXPIRED', 1);
    assert.ok(
      err.candidates?.some((c) => c.code === 'WRONG_PURPOSE' && c.position === 2),
      JSON.stringify(err.candidates),
    );
  });

  it('checks the path first, then the name; a failing path also lists the name mismatch', () => {
    expectCode(() => verify([leaf, inter], [root], { name: 'example.org' }), 'HOSTNAME_MISMATCH', 0);
    const err = expectCode(() => verify([leaf], [root], { name: 'example.org' }), 'UNKNOWN_ISSUER', 0);
    assert.ok(
      err.candidates?.some((c) => c.code === 'HOSTNAME_MISMATCH'),
      JSON.stringify(err.candidates),
    );
  });

  it('signature checks go through the verifier; the cache makes a warm verification free', () => {
    const counting = countingVerifier();
    const cache = new CachingVerifier(counting);
    verify([leaf, inter], [root], { verifier: cache });
    assert.equal(counting.calls, 2);
    verify([leaf, inter], [root], { verifier: cache });
    assert.equal(counting.calls, 2, 'no public-key operation the second time');
    // A verifier that refuses everything makes the path fail with BAD_SIGNATURE.
    const refuse: SignatureVerifier = { verifySignedBy: () => false };
    expectCode(() => verify([leaf, inter], [root], { verifier: refuse }), 'BAD_SIGNATURE', 0);
  });

  it('verifies signatures of every accepted algorithm end to end', () => {
    const cases: [string, Parameters<typeof createRoot>[0], Parameters<typeof issue>[1]][] = [
      ['P-256 / ECDSA-SHA256', { keyType: 'p256' }, { keyType: 'p256' }],
      ['P-384 / ECDSA-SHA384', { keyType: 'p384', hash: 'sha384' }, { keyType: 'p384', hash: 'sha384' }],
      ['RSA-2048 / PKCS#1 SHA-256', { keyType: 'rsa2048' }, { keyType: 'rsa2048' }],
      [
        'RSA-4096 / PKCS#1 SHA-512',
        { keyType: 'rsa4096', hash: 'sha512' },
        { keyType: 'p256', hash: 'sha512' },
      ],
      [
        'RSA-2048 / RSASSA-PSS SHA-256',
        { keyType: 'rsa2048', rsaPss: true },
        { keyType: 'rsa2048', rsaPss: true },
      ],
      ['Ed25519', { keyType: 'ed25519' }, { keyType: 'ed25519' }],
    ];
    for (const [label, caOpts, leafOpts] of cases) {
      const r0 = createRoot(caOpts);
      const i0 = intermediate(r0, caOpts);
      const l0 = issue(i0, leafOpts);
      assert.equal(verify([l0, i0], [r0], { name: 'localhost' }).path.length, 2, label);
      const forged = issue(i0, { ...leafOpts, corruptSignature: true });
      expectCode(() => verify([forged, i0], [r0]), 'BAD_SIGNATURE', 0);
    }
  });

  it('rejects an empty chain with NO_CERTIFICATE', () => {
    expectCode(() => verifyServer({ chain: [], trust: anchorsFrom([cert(root)]) }), 'NO_CERTIFICATE');
  });
});

function countingVerifier(): SignatureVerifier & { calls: number } {
  const v = {
    calls: 0,
    verifySignedBy(child: Certificate, issuer: Certificate) {
      v.calls++;
      return nodeVerifier.verifySignedBy(child, issuer);
    },
  };
  return v;
}

describe('path building: x509-limbo pathological cases', () => {
  const limbo = new URL('../../../../shared/conformance/limbo/limbo.json.gz', import.meta.url);
  if (!existsSync(limbo)) {
    it('needs ../shared/conformance', (t) =>
      t.skip(`${limbo.pathname} not found: run with ../shared/conformance present`));
    return;
  }
  it('every pathological:: case fails, within the budget, in bounded time', async () => {
    const { runLimbo } = await import('../../scripts/limbo.js');
    const started = performance.now();
    const summary = runLimbo({ only: 'pathological::', expectations: {} });
    assert.equal(summary.total, 11);
    for (const r of summary.results) {
      assert.equal(r.actual_result, summary.byId.get(r.id)!.expected, `${r.id}: ${r.context}`);
    }
    const budgetErrors = summary.results.filter((r) => r.context?.startsWith('BUDGET_EXCEEDED'));
    assert.ok(budgetErrors.length >= 3, 'the name-constraint and same-subject cases end on the budget');
    assert.ok(performance.now() - started < 10_000);
  });
});
