/**
 * A small OCSP response writer for unit and fuzz tests (the integration tests use the real
 * `openssl ocsp`): a BasicOCSPResponse about one certificate, signed with ECDSA-SHA256 by a P-256
 * key (the issuer's, or a delegated responder's), with the knobs the parser tests need.
 */
import { createHash, sign } from 'node:crypto';
import {
  bitString,
  children,
  contextPrimitive,
  explicit,
  generalizedTime,
  nul,
  octetString,
  oid,
  readTlv,
  sequence,
  tlv,
} from '../../src/testing/der-writer.js';
import type { Issued } from './pki.js';

export interface OcspWriterOptions {
  status?: 'good' | 'revoked' | 'unknown';
  revokedAt?: Date;
  /** CRLReason value (RFC 5280 §5.3.1). */
  reason?: number;
  thisUpdate?: Date;
  /** null: no nextUpdate. */
  nextUpdate?: Date | null;
  producedAt?: Date;
  /** Signer (default the issuer); included in certs when it is not the issuer. */
  signer?: Issued;
  /** ResponderID by key hash instead of by name. */
  byKey?: boolean;
  /** CertID hash: 'sha1' (default) or 'sha256'. */
  hash?: 'sha1' | 'sha256';
  /** A non-zero OCSPResponseStatus (e.g. 3, tryLater): no responseBytes. */
  responseStatus?: number;
}

const HASH_OIDS = { sha1: '1.3.14.3.2.26', sha256: '2.16.840.1.101.3.4.2.1' };

/** The subjectPublicKey bytes of an SPKI (the BIT STRING's content after its unused-bits octet). */
function keyBits(spkiDer: Buffer): Buffer {
  const bits = children(spkiDer)[1]!;
  return bits.subarray(readTlv(bits).start + 1);
}

export function makeOcspResponse(issuer: Issued, cert: Issued, o: OcspWriterOptions = {}): Buffer {
  const enumerated = (n: number) => tlv(0x0a, Buffer.from([n]));
  if (o.responseStatus) return sequence(enumerated(o.responseStatus));
  const now = Date.now();
  const h = o.hash ?? 'sha1';
  const digest = (b: Buffer) => createHash(h).update(b).digest();
  const certId = sequence(
    sequence(oid(HASH_OIDS[h]), nul()),
    octetString(digest(issuer.subjectDer)),
    octetString(digest(keyBits(issuer.spkiDer))),
    tlv(0x02, cert.serial),
  );
  const status = o.status ?? 'good';
  const certStatus =
    status === 'good'
      ? contextPrimitive(0, Buffer.alloc(0))
      : status === 'unknown'
        ? contextPrimitive(2, Buffer.alloc(0))
        : tlv(
            0xa1,
            Buffer.concat([
              generalizedTime(o.revokedAt ?? new Date(now - 3_600_000)),
              ...(o.reason !== undefined ? [explicit(0, enumerated(o.reason))] : []),
            ]),
          );
  const next = o.nextUpdate === undefined ? new Date(now + 86_400_000) : o.nextUpdate;
  const single = sequence(
    certId,
    certStatus,
    generalizedTime(o.thisUpdate ?? new Date(now - 60_000)),
    ...(next ? [explicit(0, generalizedTime(next))] : []),
  );
  const signer = o.signer ?? issuer;
  const responderId = o.byKey
    ? explicit(2, octetString(createHash('sha1').update(keyBits(signer.spkiDer)).digest()))
    : explicit(1, signer.subjectDer);
  const tbs = sequence(
    responderId,
    generalizedTime(o.producedAt ?? new Date(now - 60_000)),
    sequence(single),
  );
  const alg = sequence(oid('1.2.840.10045.4.3.2'));
  const sig = sign('sha256', tbs, signer.key.privateKey);
  const basic = sequence(tbs, alg, bitString(sig), ...(o.signer ? [explicit(0, sequence(signer.der))] : []));
  return sequence(enumerated(0), explicit(0, sequence(oid('1.3.6.1.5.5.7.48.1.1'), octetString(basic))));
}
