/**
 * Security review (keys): an RSA public key costs its verifier time in proportion to its modulus
 * size and to the bit length of its public exponent. A server controls the keys of the
 * intermediates it sends, and every candidate issuer's key is used for a signature check, so
 * without bounds one handshake could cost 100 (the signature budget) full-size exponentiations.
 */
import assert from 'node:assert/strict';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { describe, it } from 'node:test';
import { bitString, integer, nul, oid, sequence } from '../../src/testing/der-writer.js';
import { MAX_RSA_BITS, MAX_RSA_EXPONENT, verifySignature } from '../../src/verify/crypto.js';
import { anchorsFrom, verifyServer } from '../../src/verify/index.js';
import { checkPublicKey } from '../../src/verify/policy.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { createRoot, type Issued, intermediate, issue, type KeyPair } from '../support/pki.js';
import { failure } from './_helpers.js';

const b64u = (n: bigint) => {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url');
};
const fromB64u = (s: string) => BigInt(`0x${Buffer.from(s, 'base64url').toString('hex')}`);

function modInverse(a: bigint, m: bigint): bigint | undefined {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return r0 === 1n ? ((s0 % m) + m) % m : undefined;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/**
 * A real 2048-bit RSA key pair whose public exponent is a random odd number of `exponentBits`
 * bits (node:crypto only generates exponents below 2^32; the private exponent is computed here).
 */
function rsaKeyWithExponent(exponentBits: number): KeyPair {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const j = privateKey.export({ format: 'jwk' }) as Record<string, string>;
  const p = fromB64u(j.p!);
  const q = fromB64u(j.q!);
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  for (;;) {
    const random = BigInt(`0x${randomBytes(Math.ceil(exponentBits / 8)).toString('hex')}`);
    const e =
      (random >> BigInt(Math.ceil(exponentBits / 8) * 8 - exponentBits)) |
      (1n << BigInt(exponentBits - 1)) |
      1n;
    const d = modInverse(e, lambda);
    if (d === undefined) continue;
    const jwk = {
      kty: 'RSA',
      n: j.n!,
      e: b64u(e),
      d: b64u(d),
      p: j.p!,
      q: j.q!,
      dp: b64u(d % (p - 1n)),
      dq: b64u(d % (q - 1n)),
      qi: j.qi!,
    };
    const priv: KeyObject = createPrivateKey({ key: jwk, format: 'jwk' });
    return { privateKey: priv, publicKey: createPublicKey(priv), type: 'rsa2048' };
  }
}

/** A SubjectPublicKeyInfo for rsaEncryption with the given modulus and exponent (not a usable key). */
function rsaSpki(modulus: bigint, exponent: bigint): Buffer {
  const rsaPublicKey = sequence(integer(modulus), integer(exponent));
  return sequence(sequence(oid('1.2.840.113549.1.1.1'), nul()), bitString(rsaPublicKey));
}

/** An odd modulus of exactly `bits` bits. */
function modulusOf(bits: number): bigint {
  return (1n << BigInt(bits - 1)) | BigInt(`0x${randomBytes(bits / 8 - 1).toString('hex')}`) | 1n;
}

const publicKeyOf = (spki: Buffer) => parseCertificate(createRoot({ spkiDer: spki }).der).publicKey;

const verify = (chain: Issued[], root: Issued) =>
  verifyServer({
    chain: chain.map((i) => parseCertificate(i.der)),
    trust: anchorsFrom([parseCertificate(root.der)], 'inline'),
    name: 'localhost',
  });

describe('RSA keys: bounded modulus and public exponent', () => {
  const bigE = rsaKeyWithExponent(1500);

  it('an intermediate whose RSA public exponent has 1500 bits is refused (WEAK_KEY), though its signatures are valid', () => {
    const root = createRoot();
    const inter = intermediate(root, { key: bigE });
    const leaf = issue(inter);
    const err = failure(() => verify([leaf, inter], root));
    assert.equal(err.code, 'WEAK_KEY', err.message);
    assert.equal(err.position, 1);
    assert.match(err.message, /public exponent/);
    assert.match(err.message, /2\^33/);
  });

  it('the signature layer itself refuses such a key, so AIA and CRL checks cannot be made to spend on it', () => {
    const root = createRoot();
    const inter = intermediate(root, { key: bigE });
    const leaf = parseCertificate(issue(inter).der);
    const issuer = parseCertificate(inter.der);
    // A valid signature, refused for the key alone.
    assert.equal(verifySignature(leaf.signatureAlgorithm, leaf.tbsDer, leaf.signature, issuer), false);
  });

  it('usual exponents pass: 3, 65537 and the bound 2^33 - 1; above, even, or below 3 do not', () => {
    const n = modulusOf(2048);
    for (const e of [3n, 65537n, MAX_RSA_EXPONENT]) {
      assert.equal(checkPublicKey(publicKeyOf(rsaSpki(n, e))), undefined, `e = ${e}`);
    }
    for (const e of [MAX_RSA_EXPONENT + 2n, 1n, 65536n, 2n ** 1500n + 1n]) {
      const p = checkPublicKey(publicKeyOf(rsaSpki(n, e)));
      assert.equal(p?.code, 'WEAK_KEY', `e = ${e}`);
      assert.equal(p?.hygiene, false);
      assert.match(p!.message, /public exponent/);
    }
  });

  it(`moduli up to ${MAX_RSA_BITS} bits pass; one bit more is refused`, () => {
    assert.equal(checkPublicKey(publicKeyOf(rsaSpki(modulusOf(MAX_RSA_BITS), 65537n))), undefined);
    const p = checkPublicKey(publicKeyOf(rsaSpki(modulusOf(MAX_RSA_BITS + 8), 65537n)));
    assert.equal(p?.code, 'WEAK_KEY');
    assert.match(p!.message, new RegExp(`${MAX_RSA_BITS + 8} bits.*at most ${MAX_RSA_BITS}`));
  });
});
