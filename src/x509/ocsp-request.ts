/**
 * OCSP requests (RFC 6960 §4.1.1), the one shape certainly sends: one CertID, unsigned, no
 * extensions, no nonce. That is RFC 5019's lightweight profile (§2.1): responders for the Web PKI
 * serve pre-signed responses and may ignore or refuse a nonce, and a response without one can be
 * cached by every party until its nextUpdate. Freshness comes from the response's own times,
 * which verify/ocsp.ts checks.
 *
 *   OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT … OPTIONAL }
 *   TBSRequest  ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, requestorName [1] OPTIONAL,
 *                              requestList SEQUENCE OF Request, requestExtensions [2] OPTIONAL }
 *   Request     ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] OPTIONAL }
 *   CertID      ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
 *                              issuerKeyHash OCTET STRING, serialNumber INTEGER }
 *
 * DER: definite lengths, minimal length octets; DEFAULT and absent OPTIONAL fields are left out.
 */
import { TAG } from '../der/reader.js';

/** One TLV with a definite, minimal length (X.690 §8.1.3, §10.1). */
function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  const len =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(1 + len.length + n);
  out[0] = tag;
  out.set(len, 1);
  out.set(content, 1 + len.length);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const SEQUENCE = 0x30;

/** An OBJECT IDENTIFIER's content octets (X.690 §8.19), from dotted text. */
function oidContent(oid: string): Uint8Array {
  const arcs = oid.split('.').map(Number);
  const out: number[] = [];
  const base128 = (v: number) => {
    const bytes = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift((v & 0x7f) | 0x80);
    out.push(...bytes);
  };
  base128(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) base128(a);
  return Uint8Array.from(out);
}

export interface OcspRequestCertId {
  /** The hash algorithm's OID (SHA-1, RFC 5019 §2.1.1, is what every responder knows). */
  hashAlgorithm: string;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  /** The serial's INTEGER content octets, as in the certificate. */
  serial: Uint8Array;
}

/** The DER of an OCSPRequest for one certificate. */
export function encodeOcspRequest(id: OcspRequestCertId): Uint8Array {
  // AlgorithmIdentifier with NULL parameters, as OpenSSL and browsers write it for SHA-1.
  const algorithm = tlv(
    SEQUENCE,
    concat(tlv(TAG.OID, oidContent(id.hashAlgorithm)), tlv(TAG.NULL, new Uint8Array(0))),
  );
  const certId = tlv(
    SEQUENCE,
    concat(
      algorithm,
      tlv(TAG.OCTET_STRING, id.issuerNameHash),
      tlv(TAG.OCTET_STRING, id.issuerKeyHash),
      tlv(TAG.INTEGER, id.serial),
    ),
  );
  const request = tlv(SEQUENCE, certId);
  const requestList = tlv(SEQUENCE, request);
  const tbsRequest = tlv(SEQUENCE, requestList);
  return tlv(SEQUENCE, tbsRequest);
}
