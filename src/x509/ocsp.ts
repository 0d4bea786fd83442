/**
 * OCSP responses (RFC 6960 §4.2): a strict, bounded DER parser, in the style of certificate.ts.
 * Only the basic response type (id-pkix-ocsp-basic) is understood; anything else is a ParseError.
 * What the response means for a certificate is decided in verify/ocsp.ts.
 */
import { contextTag, DerReader, derError, TAG } from '../der/reader.js';
import { ParseError } from '../errors.js';
import { parseCertificate, readSignatureAlgorithm } from './certificate.js';
import { readExtensionList } from './extensions.js';
import { readName } from './name.js';
import type { Certificate, Extension, Name, SignatureAlgorithm } from './types.js';

/**
 * Largest OCSP response read, in bytes. A stapled response is a few hundred bytes (Let's
 * Encrypt's: ~500), a few KB with a delegated responder's certificate; TLS allows 16 MB
 * (RFC 6066 §8, a uint24 length). 64 KiB is far above any real one and bounds the work.
 */
export const MAX_OCSP_RESPONSE_BYTES = 64 * 1024;
/** SingleResponses read (RFC 6960 allows many per response; a staple covers one certificate). */
export const MAX_OCSP_SINGLE_RESPONSES = 64;
/** Certificates a response may carry (the delegated responder's, perhaps with its issuer). */
export const MAX_OCSP_CERTS = 8;

/** RFC 6960 §4.2.1 OCSPResponseStatus names, by value (4 is unused). */
export const OCSP_RESPONSE_STATUS: Readonly<Record<number, string>> = {
  0: 'successful',
  1: 'malformedRequest',
  2: 'internalError',
  3: 'tryLater',
  5: 'sigRequired',
  6: 'unauthorized',
};

/** The universal ENUMERATED tag (X.690 §8.4). */
const ENUMERATED = 0x0a;

export const ID_PKIX_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';

/** CertID (RFC 6960 §4.1.1): which certificate a SingleResponse is about. */
export interface OcspCertId {
  /** The hash algorithm's OID (SHA-1 in most responses, RFC 5019 §2.1.1). */
  hashAlgorithm: string;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  /** The serial's content octets, as in Certificate.serial. */
  serial: Uint8Array;
}

export interface OcspSingleResponse {
  certId: OcspCertId;
  status: 'good' | 'revoked' | 'unknown';
  /** For 'revoked'. */
  revocationTime?: Date;
  /** For 'revoked': the CRLReason value (RFC 5280 §5.3.1), if given. */
  revocationReason?: number;
  thisUpdate: Date;
  nextUpdate?: Date;
  extensions: Extension[];
}

export interface OcspResponse {
  der: Uint8Array;
  /** 'successful', or the responder's error ('tryLater', …); only 'successful' has the rest. */
  responseStatus: string;
  /** The signed part (ResponseData), DER. */
  tbsDer?: Uint8Array;
  signatureAlgorithm?: SignatureAlgorithm;
  signature?: Uint8Array;
  /** ResponderID: by name, or by the SHA-1 hash of the responder's public key. */
  responderName?: Name;
  responderKeyHash?: Uint8Array;
  producedAt?: Date;
  responses: OcspSingleResponse[];
  extensions: Extension[];
  /** Certificates sent with the response (a delegated responder's). */
  certs: Certificate[];
}

function ocspError(problem: string): ParseError {
  return new ParseError(`OCSP response: ${problem}`, { code: 'ERR_OCSP' });
}

/** GeneralizedTime only (RFC 6960 §4.2.1 uses it for every time). */
function generalizedTime(r: DerReader, what: string): Date {
  if (r.peekTag() !== TAG.GENERALIZED_TIME) r.expect(TAG.GENERALIZED_TIME, what);
  return r.time(what);
}

/** AlgorithmIdentifier of a hash: its OID; parameters absent or NULL (RFC 5754 §2). */
function readHashAlgorithm(r: DerReader, what: string): string {
  const seq = r.sequence(what);
  const oid = seq.oid(`${what} algorithm`);
  if (!seq.atEnd()) seq.null(`${what} parameters`);
  seq.end(what);
  return oid;
}

function readCertId(r: DerReader): OcspCertId {
  const seq = r.sequence('CertID');
  const hashAlgorithm = readHashAlgorithm(seq, 'CertID hashAlgorithm');
  const issuerNameHash = seq.octetString('CertID issuerNameHash');
  const issuerKeyHash = seq.octetString('CertID issuerKeyHash');
  const serial = seq.integer('CertID serialNumber');
  seq.end('CertID');
  return { hashAlgorithm, issuerNameHash, issuerKeyHash, serial };
}

function readSingleResponse(r: DerReader): OcspSingleResponse {
  const seq = r.sequence('SingleResponse');
  const certId = readCertId(seq);
  // CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL }
  const tag = seq.peekTag();
  let status: OcspSingleResponse['status'];
  let revocationTime: Date | undefined;
  let revocationReason: number | undefined;
  if (tag === contextTag(0, false) || tag === contextTag(2, false)) {
    const tlv = seq.next('CertStatus');
    if (tlv.content.length !== 0) derError('CertStatus', 'NULL has contents', tlv.start);
    status = tag === contextTag(0, false) ? 'good' : 'unknown';
  } else if (tag === contextTag(1, true)) {
    const info = seq.enter(seq.next('CertStatus revoked'), 'RevokedInfo');
    revocationTime = generalizedTime(info, 'RevokedInfo revocationTime');
    const reason = info.optionalExplicit(0, 'RevokedInfo revocationReason');
    if (reason) {
      const e = reason.expect(ENUMERATED, 'RevokedInfo revocationReason');
      if (e.content.length !== 1 || e.content[0]! > 10)
        derError('RevokedInfo revocationReason', 'not a CRLReason value (0 to 10)', e.start);
      revocationReason = e.content[0]!;
      reason.end('RevokedInfo revocationReason');
    }
    info.end('RevokedInfo');
    status = 'revoked';
  } else {
    throw ocspError(`CertStatus has an unexpected tag${tag === undefined ? '' : ` 0x${tag.toString(16)}`}`);
  }
  const thisUpdate = generalizedTime(seq, 'SingleResponse thisUpdate');
  let nextUpdate: Date | undefined;
  const next = seq.optionalExplicit(0, 'SingleResponse nextUpdate');
  if (next) {
    nextUpdate = generalizedTime(next, 'SingleResponse nextUpdate');
    next.end('SingleResponse nextUpdate');
  }
  let extensions: Extension[] = [];
  const exts = seq.optionalExplicit(1, 'SingleResponse singleExtensions');
  if (exts) {
    extensions = readExtensionList(exts, 'SingleResponse singleExtensions');
    exts.end('SingleResponse singleExtensions');
  }
  seq.end('SingleResponse');
  return {
    certId,
    status,
    ...(revocationTime ? { revocationTime } : {}),
    ...(revocationReason !== undefined ? { revocationReason } : {}),
    thisUpdate,
    ...(nextUpdate ? { nextUpdate } : {}),
    extensions,
  };
}

/** Parses one DER OCSPResponse (RFC 6960 §4.2.1). Throws ParseError (code ERR_OCSP or the DER reader's). */
export function parseOcspResponse(der: Uint8Array): OcspResponse {
  if (der.length > MAX_OCSP_RESPONSE_BYTES)
    throw ocspError(`${der.length} bytes, more than the ${MAX_OCSP_RESPONSE_BYTES} read`);
  const top = new DerReader(der);
  const outer = top.sequence('OCSPResponse');
  top.end('OCSPResponse');
  const st = outer.expect(ENUMERATED, 'OCSPResponse responseStatus');
  if (st.content.length !== 1 || OCSP_RESPONSE_STATUS[st.content[0]!] === undefined)
    derError('OCSPResponse responseStatus', 'not an OCSPResponseStatus value', st.start);
  const responseStatus = OCSP_RESPONSE_STATUS[st.content[0]!]!;
  const bytes = outer.optionalExplicit(0, 'OCSPResponse responseBytes');
  outer.end('OCSPResponse');
  const empty = { der, responseStatus, responses: [], extensions: [], certs: [] };
  if (responseStatus !== 'successful') {
    // RFC 6960 §4.2.1: only a successful response has responseBytes.
    if (bytes) throw ocspError(`a ${responseStatus} response carries responseBytes`);
    return empty;
  }
  if (!bytes) throw ocspError('a successful response has no responseBytes');
  const rb = bytes.sequence('ResponseBytes');
  bytes.end('OCSPResponse responseBytes');
  const type = rb.oid('ResponseBytes responseType');
  if (type !== ID_PKIX_OCSP_BASIC) throw ocspError(`response type ${type} is not id-pkix-ocsp-basic`);
  const inner = rb.expect(TAG.OCTET_STRING, 'ResponseBytes response');
  rb.end('ResponseBytes');

  const wrap = rb.inner(inner.contentStart, inner.end, 'BasicOCSPResponse');
  const basic = wrap.sequence('BasicOCSPResponse');
  wrap.end('BasicOCSPResponse');
  const tbsTlv = basic.expect(TAG.SEQUENCE, 'ResponseData');
  const tbs = basic.enter(tbsTlv, 'ResponseData');
  const signatureAlgorithm = readSignatureAlgorithm(basic, 'BasicOCSPResponse signatureAlgorithm');
  const sig = basic.bitString('BasicOCSPResponse signature');
  if (sig.unusedBits !== 0) throw ocspError('the signature has unused bits');
  const certs: Certificate[] = [];
  const certList = basic.optionalExplicit(0, 'BasicOCSPResponse certs');
  if (certList) {
    const seq = certList.sequence('BasicOCSPResponse certs');
    certList.end('BasicOCSPResponse certs');
    while (!seq.atEnd()) {
      if (certs.length >= MAX_OCSP_CERTS) throw ocspError(`more than ${MAX_OCSP_CERTS} certificates`);
      certs.push(parseCertificate(seq.expect(TAG.SEQUENCE, 'BasicOCSPResponse certificate').der));
    }
  }
  basic.end('BasicOCSPResponse');

  // ResponseData
  const version = tbs.optionalExplicit(0, 'ResponseData version');
  if (version) {
    // DEFAULT v1 (0): DER (X.690 §11.5) forbids encoding it, and no other version exists.
    throw ocspError('ResponseData carries a version; only v1 exists, and its default must not be encoded');
  }
  let responderName: Name | undefined;
  let responderKeyHash: Uint8Array | undefined;
  const byName = tbs.optionalExplicit(1, 'ResponderID byName');
  if (byName) {
    responderName = readName(byName, 'ResponderID byName');
    byName.end('ResponderID byName');
  } else {
    const byKey = tbs.optionalExplicit(2, 'ResponderID byKey');
    if (!byKey) throw ocspError('ResponderID is neither byName [1] nor byKey [2]');
    responderKeyHash = byKey.octetString('ResponderID byKey');
    byKey.end('ResponderID byKey');
    // KeyHash is the SHA-1 hash of the responder's public key (RFC 6960 §4.2.1).
    if (responderKeyHash.length !== 20) throw ocspError('ResponderID byKey is not a SHA-1 hash (20 bytes)');
  }
  const producedAt = generalizedTime(tbs, 'ResponseData producedAt');
  const list = tbs.sequence('ResponseData responses');
  const responses: OcspSingleResponse[] = [];
  while (!list.atEnd()) {
    if (responses.length >= MAX_OCSP_SINGLE_RESPONSES)
      throw ocspError(`more than ${MAX_OCSP_SINGLE_RESPONSES} SingleResponses`);
    responses.push(readSingleResponse(list));
  }
  let extensions: Extension[] = [];
  const exts = tbs.optionalExplicit(1, 'ResponseData responseExtensions');
  if (exts) {
    extensions = readExtensionList(exts, 'ResponseData responseExtensions');
    exts.end('ResponseData responseExtensions');
  }
  tbs.end('ResponseData');
  return {
    der,
    responseStatus,
    tbsDer: tbsTlv.der,
    signatureAlgorithm,
    signature: sig.bytes,
    ...(responderName ? { responderName } : {}),
    ...(responderKeyHash ? { responderKeyHash } : {}),
    producedAt,
    responses,
    extensions,
    certs,
  };
}
