/**
 * The OCSP response parser (x509/ocsp.ts) and what a response means for a certificate
 * (verify/ocsp.ts), on responses from the test writer: every field read, the forms RFC 6960
 * allows (responder by key, no nextUpdate, SHA-256 CertID, delegated responder), and each reason
 * a response cannot be used. (The integration tests staple responses made by `openssl ocsp`.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ParseError } from '../../src/errors.js';
import { checkOcspResponse, OCSP_CLOCK_SKEW_MS } from '../../src/verify/ocsp.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { MAX_OCSP_RESPONSE_BYTES, parseOcspResponse } from '../../src/x509/ocsp.js';
import { makeOcspResponse, type OcspWriterOptions } from '../support/ocsp-writer.js';
import { createRoot, intermediate, issue } from '../support/pki.js';

const root = createRoot();
const inter = intermediate(root);
const leaf = issue(inter);
const other = issue(inter);
const responder = issue(inter, { sans: [], eku: ['OCSPSigning'] });
const leafCert = parseCertificate(leaf.der);
const interCert = parseCertificate(inter.der);
const HOUR = 3_600_000;

function verdict(o: OcspWriterOptions = {}, time = new Date(), about = leaf) {
  const res = parseOcspResponse(makeOcspResponse(inter, about, o));
  return checkOcspResponse(res, leafCert, interCert, time, () => {});
}

function problem(o: OcspWriterOptions, time?: Date, about = leaf): string {
  const v = verdict(o, time, about);
  assert.equal(v.ok, false);
  return v.ok ? '' : v.problem;
}

describe('OCSP responses', () => {
  test('parses every field of a basic response', () => {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 - HOUR);
    const res = parseOcspResponse(
      makeOcspResponse(inter, leaf, { status: 'revoked', revokedAt: at, reason: 1 }),
    );
    assert.equal(res.responseStatus, 'successful');
    assert.equal(res.responderName?.key, interCert.subject.key);
    assert.equal(res.responses.length, 1);
    const s = res.responses[0]!;
    assert.equal(s.status, 'revoked');
    assert.equal(s.revocationTime?.getTime(), at.getTime());
    assert.equal(s.revocationReason, 1);
    assert.equal(Buffer.from(s.certId.serial).toString('hex'), leafCert.serialHex);
    assert.ok(s.nextUpdate && s.nextUpdate > s.thisUpdate);
    assert.equal(
      parseOcspResponse(makeOcspResponse(inter, leaf, { responseStatus: 3 })).responseStatus,
      'tryLater',
    );
  });

  test('good, revoked and unknown; responder by key; SHA-256 CertID; a delegated responder', () => {
    for (const o of [
      {},
      { byKey: true },
      { hash: 'sha256' as const },
      { signer: responder },
      { signer: responder, byKey: true },
    ]) {
      const v = verdict(o);
      assert.ok(v.ok, JSON.stringify(o));
      if (v.ok) assert.equal(v.single.status, 'good');
    }
    const d = verdict({ signer: responder });
    assert.ok(d.ok && /delegated responder/.test(d.responder));
    const r = verdict({ status: 'revoked' });
    assert.ok(r.ok && r.single.status === 'revoked');
    const u = verdict({ status: 'unknown' });
    assert.ok(u.ok && u.single.status === 'unknown');
  });

  test('each reason a response cannot be used', () => {
    const now = Date.now();
    assert.match(problem({ responseStatus: 3 }), /answered "tryLater"/);
    assert.match(problem({}, undefined, other), /about another certificate/);
    // Signed by a certificate the issuer did not make an OCSP responder.
    assert.match(
      problem({ signer: issue(inter, { sans: [], eku: ['serverAuth'] }) }),
      /no id-kp-OCSPSigning/,
    );
    assert.match(
      problem({ signer: issue(createRoot(), { sans: [], eku: ['OCSPSigning'] }) }),
      /not issued by the certificate's issuer/,
    );
    // Signed by the root (a CA above the issuer is not the issuer).
    assert.match(problem({ signer: root }), /not issued by the certificate's issuer|neither/);
    // Times, with the skew allowed and not more.
    assert.ok(verdict({ nextUpdate: new Date(now - OCSP_CLOCK_SKEW_MS / 2) }).ok);
    assert.match(
      problem({
        thisUpdate: new Date(now - 9 * HOUR),
        nextUpdate: new Date(now - OCSP_CLOCK_SKEW_MS - 60_000),
      }),
      /out of date/,
    );
    assert.match(problem({ thisUpdate: new Date(now + OCSP_CLOCK_SKEW_MS + 60_000) }), /not valid until/);
    assert.match(
      problem({ producedAt: new Date(now + OCSP_CLOCK_SKEW_MS + 60_000) }),
      /produced in the future/,
    );
    assert.ok(verdict({ nextUpdate: null }).ok);
    assert.match(
      problem({ nextUpdate: null, thisUpdate: new Date(now - 25 * HOUR) }),
      /no nextUpdate .* more than 24 hours/,
    );
  });

  test('a signature made by another key fails', () => {
    const res = parseOcspResponse(makeOcspResponse(inter, leaf));
    const sig = Buffer.from(res.signature!);
    sig[sig.length - 1]! ^= 1;
    const v = checkOcspResponse({ ...res, signature: sig }, leafCert, interCert, new Date(), () => {});
    assert.ok(!v.ok && /signature does not verify/.test(v.problem));
  });

  test('malformed responses are ParseErrors, and the size is bounded', () => {
    const good = makeOcspResponse(inter, leaf);
    for (let i = 0; i < good.length; i += 7) {
      const bad = Buffer.from(good);
      bad[i]! ^= 0x55;
      try {
        parseOcspResponse(bad);
      } catch (err) {
        assert.ok(err instanceof ParseError, String(err));
      }
    }
    assert.throws(
      () => parseOcspResponse(Buffer.alloc(MAX_OCSP_RESPONSE_BYTES + 1, 0x30)),
      /more than the 65536 read/,
    );
    assert.throws(
      () => parseOcspResponse(Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x00])),
      /successful response has no responseBytes/,
    );
  });
});
