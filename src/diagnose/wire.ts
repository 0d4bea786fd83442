/**
 * The certificate chain exactly as the server sent it, read from the handshake bytes.
 *
 * node:tls's `getPeerCertificate(true)` links each certificate to its issuer and loses some
 * (a server sending [leaf, I1, I2] where I2 issued the leaf yields [leaf, I2] on Node 20 and 24);
 * `getPeerX509Certificate()`, which the connector walks (tls/connector.ts peerCertificatesDer),
 * keeps the order received. What only the handshake bytes give diagnosis is the position of a
 * certificate OpenSSL accepted and our parser refuses, and every certificate after it. So the
 * connection runs through a tap that keeps the bytes the server sends, and this module finds the
 * Certificate handshake message in them:
 *  - TLS 1.2 (RFC 5246 §7.4.2): the message is in the clear;
 *  - TLS 1.3 (RFC 8446 §4.4.2): it is encrypted with the server handshake traffic keys, which
 *    come from the secret node:tls reports on its 'keylog' event (NSS key log format) and the
 *    key schedule of RFC 8446 §7.1 and §7.3. Only the server's handshake flight is decrypted,
 *    in this process, and the secret is dropped with the connection.
 * Anything unexpected (an unknown cipher suite, a compressed certificate in an unknown
 * algorithm, a malformed record) returns undefined, and the caller falls back to node's view.
 */
import { createDecipheriv, createHmac } from 'node:crypto';
import { brotliDecompressSync, inflateSync } from 'node:zlib';
import { MAX_CAPTURE_BYTES } from '../tls/tap.js';

/**
 * Certificates read from one Certificate message at most. Web PKI chains have 2-4; servers that
 * send their whole bundle may send a few dozen. 64 bounds the work on a hostile message.
 */
export const MAX_WIRE_CERTIFICATES = 64;

/** TLS 1.3 cipher suites: AEAD, key length and hash (RFC 8446 Appendix B.4). */
const TLS13_SUITES: Record<string, { aead: string; keyLength: number; hash: string; tagLength: number }> = {
  TLS_AES_128_GCM_SHA256: { aead: 'aes-128-gcm', keyLength: 16, hash: 'sha256', tagLength: 16 },
  TLS_AES_256_GCM_SHA384: { aead: 'aes-256-gcm', keyLength: 32, hash: 'sha384', tagLength: 16 },
  TLS_CHACHA20_POLY1305_SHA256: { aead: 'chacha20-poly1305', keyLength: 32, hash: 'sha256', tagLength: 16 },
  // The CCM suites are not offered by node:tls clients by default, so they are not read here.
};

const HASH_LENGTH: Record<string, number> = { sha256: 32, sha384: 48 };

/** HKDF-Expand (RFC 5869 §2.3). */
function hkdfExpand(hash: string, prk: Buffer, info: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  let prev = Buffer.alloc(0);
  let total = 0;
  for (let i = 1; total < length; i++) {
    prev = createHmac(hash, prk)
      .update(Buffer.concat([prev, info, Buffer.from([i])]))
      .digest();
    out.push(prev);
    total += prev.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** HKDF-Expand-Label with an empty context (RFC 8446 §7.1). */
function expandLabel(hash: string, secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'ascii');
  const info = Buffer.concat([
    Buffer.from([length >> 8, length & 0xff, full.length]),
    full,
    Buffer.from([0]),
  ]);
  return hkdfExpand(hash, secret, info, length);
}

/** A handshake message: type and body. */
interface HandshakeMessage {
  type: number;
  body: Buffer;
}

/** Splits a stream of handshake bytes into messages; the incomplete tail is left out. */
function handshakeMessages(stream: Buffer): HandshakeMessage[] {
  const out: HandshakeMessage[] = [];
  let p = 0;
  while (p + 4 <= stream.length) {
    const len = stream.readUIntBE(p + 1, 3);
    if (p + 4 + len > stream.length) break;
    out.push({ type: stream[p]!, body: stream.subarray(p + 4, p + 4 + len) });
    p += 4 + len;
  }
  return out;
}

// Handshake types (RFC 8446 §4, RFC 5246 §7.4, RFC 8879 §4).
const HS_SERVER_HELLO = 2;
const HS_CERTIFICATE = 11;
const HS_CERTIFICATE_REQUEST = 13;
const HS_SERVER_HELLO_DONE = 14;
const HS_FINISHED = 20;
const HS_COMPRESSED_CERTIFICATE = 25;
// Record content types (RFC 8446 §5.1).
const CT_HANDSHAKE = 22;
const CT_APPLICATION_DATA = 23;

/** RFC 8446 §4.1.3: the Random of a HelloRetryRequest. */
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

/** The certificates of a Certificate message body, in the order sent. */
function certificateList(body: Buffer, tls13: boolean): Uint8Array[] | undefined {
  let p = 0;
  if (tls13) {
    const ctxLen = body[0];
    if (ctxLen === undefined) return undefined;
    p = 1 + ctxLen;
  }
  if (p + 3 > body.length) return undefined;
  const listLen = body.readUIntBE(p, 3);
  p += 3;
  const end = p + listLen;
  if (end > body.length) return undefined;
  const certs: Uint8Array[] = [];
  while (p < end) {
    if (p + 3 > end || certs.length >= MAX_WIRE_CERTIFICATES) return certs.length > 0 ? certs : undefined;
    const len = body.readUIntBE(p, 3);
    p += 3;
    if (len === 0 || p + len > end) return undefined;
    certs.push(new Uint8Array(body.subarray(p, p + len)));
    p += len;
    if (tls13) {
      if (p + 2 > end) return undefined;
      p += 2 + body.readUInt16BE(p); // CertificateEntry extensions (OCSP, SCT): not needed here
    }
  }
  return certs;
}

/** RFC 8879 §4: a CompressedCertificate, decompressed into a Certificate body. */
function decompressCertificate(body: Buffer): Buffer | undefined {
  if (body.length < 5) return undefined;
  const algorithm = body.readUInt16BE(0);
  const length = body.readUIntBE(2, 3);
  if (length > MAX_CAPTURE_BYTES) return undefined;
  const data = body.subarray(5);
  try {
    const out =
      algorithm === 1
        ? inflateSync(data, { maxOutputLength: length })
        : algorithm === 2
          ? brotliDecompressSync(data, { maxOutputLength: length })
          : undefined; // zstd (3): not in node:zlib on Node 20
    return out && out.length === length ? out : undefined;
  } catch {
    return undefined;
  }
}

export interface FlightInput {
  /** The bytes the server sent, from the start of the connection. */
  bytes: Buffer;
  /** socket.getProtocol(): 'TLSv1.3', 'TLSv1.2', … */
  protocol: string | null;
  /** The negotiated suite's standard name (socket.getCipher().standardName). */
  cipher: string | null;
  /** For TLS 1.3: the SERVER_HANDSHAKE_TRAFFIC_SECRET from the key log. */
  serverHandshakeSecret?: Buffer;
}

/** What the server's handshake flight says, as far as it could be read. */
export interface ServerFlight {
  /** The certificates of its Certificate message, in the order sent; undefined: not readable. */
  certificates?: Uint8Array[];
  /**
   * Whether it sent a CertificateRequest (it asks for a client certificate: RFC 8446 §4.3.2,
   * RFC 5246 §7.4.4); undefined when the flight could not be read to its end.
   */
  certificateRequest?: boolean;
}

/**
 * The certificates of the server's Certificate message, in the order sent; undefined when they
 * cannot be read (unknown suite or compression, malformed or truncated records).
 */
export function certificatesFromFlight(input: FlightInput): Uint8Array[] | undefined {
  return readServerFlight(input).certificates;
}

/**
 * Reads the server's flight: its Certificate message and whether a CertificateRequest came with
 * it. TLS 1.2 sends both in the clear (the request after the certificate, before
 * ServerHelloDone); TLS 1.3 encrypts both (the request before the certificate, all before the
 * server's Finished). Anything unexpected leaves the fields it concerns undefined.
 */
export function readServerFlight(input: FlightInput): ServerFlight {
  const tls13 = input.protocol === 'TLSv1.3';
  let suite: (typeof TLS13_SUITES)[string] | undefined;
  let key: Buffer | undefined;
  let iv: Buffer | undefined;
  if (tls13) {
    suite = input.cipher ? TLS13_SUITES[input.cipher] : undefined;
    const secret = input.serverHandshakeSecret;
    if (!suite || !secret || secret.length !== HASH_LENGTH[suite.hash]) return {};
    key = expandLabel(suite.hash, secret, 'key', suite.keyLength);
    iv = expandLabel(suite.hash, secret, 'iv', 12);
  }

  const bytes = input.bytes;
  let plain = Buffer.alloc(0); // handshake messages in the clear
  let encrypted = Buffer.alloc(0); // TLS 1.3: decrypted handshake messages
  let serverHelloSeen = false;
  let seq = 0n;
  let p = 0;
  // The messages of the flight, up to its last one (ServerHelloDone, or Finished in TLS 1.3).
  let messages: HandshakeMessage[] = [];
  let complete = false;
  while (p + 5 <= bytes.length && !complete) {
    const type = bytes[p]!;
    const len = bytes.readUInt16BE(p + 3);
    if (p + 5 + len > bytes.length) break;
    const header = bytes.subarray(p, p + 5);
    const fragment = bytes.subarray(p + 5, p + 5 + len);
    p += 5 + len;
    if (type === CT_HANDSHAKE) {
      plain = Buffer.concat([plain, fragment]);
      const msgs = handshakeMessages(plain);
      if (!tls13) {
        messages = msgs;
        complete = msgs.some((m) => m.type === HS_SERVER_HELLO_DONE);
      } else {
        // The real ServerHello (not a HelloRetryRequest) switches the server to encryption.
        serverHelloSeen = msgs.some(
          (m) => m.type === HS_SERVER_HELLO && !m.body.subarray(2, 34).equals(HRR_RANDOM),
        );
      }
    } else if (type === CT_APPLICATION_DATA && tls13 && serverHelloSeen && suite && key && iv) {
      const inner = decryptRecord(suite, key, iv, seq++, header, fragment);
      if (!inner) break;
      if (inner.type !== CT_HANDSHAKE) continue;
      encrypted = Buffer.concat([encrypted, inner.content]);
      messages = handshakeMessages(encrypted);
      complete = messages.some((m) => m.type === HS_FINISHED);
    }
    // Other records (ChangeCipherSpec, alerts) carry no certificates.
  }
  const out: ServerFlight = {};
  for (const m of messages) {
    if (m.type === HS_CERTIFICATE) {
      const list = certificateList(m.body, tls13);
      if (list) out.certificates = list;
      break;
    }
    if (m.type === HS_COMPRESSED_CERTIFICATE && tls13) {
      const body = decompressCertificate(m.body);
      const list = body ? certificateList(body, true) : undefined;
      if (list) out.certificates = list;
      break;
    }
  }
  if (complete) out.certificateRequest = messages.some((m) => m.type === HS_CERTIFICATE_REQUEST);
  return out;
}

/** Decrypts one TLS 1.3 record (RFC 8446 §5.2-§5.3); undefined when it does not authenticate. */
function decryptRecord(
  suite: (typeof TLS13_SUITES)[string],
  key: Buffer,
  iv: Buffer,
  seq: bigint,
  header: Buffer,
  fragment: Buffer,
): { type: number; content: Buffer } | undefined {
  if (fragment.length < suite.tagLength + 1) return undefined;
  const nonce = Buffer.from(iv);
  for (let i = 0; i < 8; i++) nonce[11 - i]! ^= Number((seq >> BigInt(8 * i)) & 0xffn);
  const ciphertext = fragment.subarray(0, fragment.length - suite.tagLength);
  const tag = fragment.subarray(fragment.length - suite.tagLength);
  try {
    const decipher = createDecipheriv(suite.aead as 'aes-128-gcm', key, nonce, {
      authTagLength: suite.tagLength,
    });
    decipher.setAAD(header);
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    // TLSInnerPlaintext: content, then the real content type, then zero padding.
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    if (end < 0) return undefined;
    return { type: plain[end]!, content: plain.subarray(0, end) };
  } catch {
    return undefined;
  }
}

export { serverHandshakeSecretOf } from '../tls/handshake.js';
export { MAX_CAPTURE_BYTES };
