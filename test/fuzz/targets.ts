/**
 * What is fuzzed, and the contract each target must keep: any input gives a result or the
 * target's typed error (a CertainlyError subclass with a code and a message), never another
 * exception; plus a few properties of the results (round trips, normal forms).
 *
 * Corpora are built at run time by the certificate factory (no committed certificates).
 */
import { sign } from 'node:crypto';
import { parseUrl } from '../../src/client/session.js';
import {
  bitStringValue,
  booleanValue,
  checkInteger,
  DerReader,
  decodeOid,
  isStringTag,
  stringValue,
  TAG,
  type Tlv,
  timeValue,
} from '../../src/der/reader.js';
import { CertainlyError, ConfigError, InvalidURL, ParseError, SSLError } from '../../src/errors.js';
import {
  bitString,
  children,
  contextPrimitive,
  explicit,
  implicit,
  sequence,
} from '../../src/testing/der-writer.js';
import { parseConnectTo } from '../../src/tls/target.js';
import { anchorsFrom } from '../../src/verify/anchors.js';
import { crlProblem, crlScopeProblem, crlSignedBy, parseCrl } from '../../src/verify/crl.js';
import { parseReferenceName } from '../../src/verify/identity.js';
import { verifyServer } from '../../src/verify/index.js';
import { checkOcspResponse } from '../../src/verify/ocsp.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { parsePem, readCertificates, toPem } from '../../src/x509/index.js';
import { ipToString, parseIp } from '../../src/x509/ip.js';
import { parseOcspResponse } from '../../src/x509/ocsp.js';
import { makeOcspResponse } from '../support/ocsp-writer.js';
import { createRoot, intermediate, issue, selfSigned } from '../support/pki.js';
import { makeCrl } from '../verify/crl-writer.js';
import {
  type FuzzTarget,
  FuzzViolation,
  mutateBytes,
  mutateText,
  type Rng,
  showBytes,
  showText,
} from './engine.js';

/** The typed error a target may throw: the class, and that it carries a code and a sentence. */
function expectTyped(
  err: unknown,
  cls: abstract new (...args: never[]) => CertainlyError,
  what: string,
): 'error' {
  if (!(err instanceof cls)) throw err;
  if (!(err instanceof CertainlyError) || typeof err.code !== 'string' || err.code === '') {
    throw new FuzzViolation(`${what}: ${cls.name} without a code`);
  }
  if (typeof err.message !== 'string' || err.message.length < 10) {
    throw new FuzzViolation(`${what}: ${cls.name} with no usable message: ${JSON.stringify(err.message)}`);
  }
  return 'error';
}

const equalBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/** A sample PKI with the certificate features the parsers must read, built once per process. */
let pkiCache: ReturnType<typeof buildPki> | undefined;
function buildPki() {
  const root = createRoot({ cn: 'fuzz root' });
  const ca = intermediate(root, {
    nameConstraints: { permitted: ['DNS:example.com', 'IP:10.0.0.0/8'], excluded: ['DN:C=US, O=Evil'] },
    aia: { caIssuers: ['http://ca.example/ca.der'], ocsp: ['http://ocsp.example/'] },
  });
  const leaf = issue(ca, {
    subject: 'C=US, O=Example + OU=Web, CN=www.example.com',
    sans: [
      'DNS:www.example.com',
      'DNS:*.example.com',
      'IP:10.1.2.3',
      'email:a@example.com',
      'URI:https://example.com/',
    ],
    policies: ['2.23.140.1.2.1'],
  });
  const rsaLeaf = issue(root, { keyType: 'rsa2048', sans: ['DNS:rsa.example'] });
  const edLeaf = issue(root, { keyType: 'ed25519', sans: ['DNS:ed.example'] });
  const pssLeaf = issue(root, { keyType: 'rsa2048', rsaPss: true, sans: ['DNS:pss.example'] });
  const v1 = selfSigned({ version: 1, sans: [] });
  const sigAlgDer = children(leaf.der)[1]!;
  const caCert = parseCertificate(ca.der);
  return {
    root,
    ca,
    caCert,
    leaf,
    sigAlgDer,
    certs: [leaf, ca, root, rsaLeaf, edLeaf, pssLeaf, v1],
    trust: anchorsFrom([parseCertificate(root.der)]),
  };
}
function pki() {
  pkiCache ??= buildPki();
  return pkiCache;
}

// ---------------------------------------------------------------------------------------------
// DER reader

/** Walks every TLV, entering constructed ones, and decodes primitives by their tag. */
function walkDer(r: DerReader, budget: { n: number }): void {
  while (!r.atEnd()) {
    if (--budget.n < 0) return;
    const tlv = r.next('value');
    if (tlv.constructed) {
      walkDer(r.enter(tlv, 'constructed'), budget);
      continue;
    }
    decodePrimitive(r, tlv, budget);
  }
}

function decodePrimitive(r: DerReader, tlv: Tlv, budget: { n: number }): void {
  switch (tlv.tag) {
    case TAG.INTEGER:
      checkInteger(tlv, 'integer');
      return;
    case TAG.BOOLEAN:
      booleanValue(tlv, 'boolean');
      return;
    case TAG.BIT_STRING: {
      const bits = bitStringValue(tlv, 'bit string');
      if (bits.unusedBits === 0 && bits.bytes.length > 0 && bits.bytes[0] === 0x30) {
        tryInner(r, tlv.contentStart + 1, tlv.end, budget);
      }
      return;
    }
    case TAG.OCTET_STRING:
      if (tlv.content[0] === 0x30) tryInner(r, tlv.contentStart, tlv.end, budget);
      return;
    case TAG.OID:
      decodeOid(tlv.content, 'oid', tlv.contentStart);
      return;
    case TAG.UTC_TIME:
    case TAG.GENERALIZED_TIME:
      timeValue(tlv, 'time');
      return;
    default:
      if (isStringTag(tlv.tag)) stringValue(tlv, 'string');
  }
}

/** Encapsulated DER (extension values, keys): walked too, but its errors are the same ParseError. */
function tryInner(r: DerReader, start: number, end: number, budget: { n: number }): void {
  walkDer(r.inner(start, end, 'encapsulated'), budget);
}

export const derTarget: FuzzTarget<Uint8Array> = {
  name: 'der',
  corpus: () => [
    ...pki().certs.map((c) => c.der),
    Uint8Array.of(0x30, 0x00),
    Uint8Array.of(0x02, 0x01, 0x00),
    Uint8Array.of(0x06, 0x03, 0x55, 0x1d, 0x11),
    Uint8Array.of(0x17, 0x0d, ...Buffer.from('250101000000Z')),
    Uint8Array.of(0x18, 0x0f, ...Buffer.from('20500101000000Z')),
    Uint8Array.of(0x03, 0x02, 0x07, 0x80),
    Uint8Array.of(0x0c, 0x02, 0xc3, 0xbc),
    Uint8Array.of(0x1e, 0x02, 0x00, 0x41),
    Uint8Array.of(0x1c, 0x04, 0x00, 0x00, 0x00, 0x41),
  ],
  mutate: mutateBytes,
  run(input) {
    try {
      walkDer(new DerReader(input), { n: 100_000 });
      return 'ok';
    } catch (err) {
      return expectTyped(err, ParseError, 'der');
    }
  },
  show: showBytes,
};

// ---------------------------------------------------------------------------------------------
// Certificates (and, for those that still parse, the whole verifier)

function touch(cert: ReturnType<typeof parseCertificate>): void {
  const s = cert.summary();
  JSON.stringify(s);
  cert.toPEM();
  void cert.subject.key;
  void cert.issuer.key;
  void cert.selfIssued;
}

export const certificateTarget: FuzzTarget<Uint8Array> = {
  name: 'certificate',
  corpus: () => pki().certs.map((c) => c.der),
  mutate: mutateBytes,
  run(input) {
    let cert: ReturnType<typeof parseCertificate>;
    try {
      cert = parseCertificate(input);
    } catch (err) {
      return expectTyped(err, ParseError, 'parseCertificate');
    }
    touch(cert);
    if (!equalBytes(cert.der, input)) throw new FuzzViolation('parsed certificate.der is not the input');
    // A certificate that parses goes through the whole verifier, as a server's would.
    const { trust, ca } = pki();
    try {
      verifyServer({ chain: [cert, parseCertificate(ca.der)], name: 'www.example.com', trust });
    } catch (err) {
      expectTyped(err, SSLError, 'verifyServer');
    }
    return 'ok';
  },
  show: showBytes,
};

/**
 * The verifier behind valid signatures: the input is a leaf's TBSCertificate, mutated, then signed
 * by the intermediate's key, so that mutations reach the policy, name and path checks instead of
 * stopping at a broken signature.
 */
export const verifyTarget: FuzzTarget<Uint8Array> = {
  name: 'verify',
  corpus: () => {
    const { ca } = pki();
    return [
      pki().leaf.tbsDer,
      issue(ca, { sans: ['IP:10.9.8.7', 'DNS:a.example.com'] }).tbsDer,
      issue(ca, { sans: ['DNS:www.example.com'], eku: false, keyUsage: false }).tbsDer,
      issue(ca, { ca: true, sans: ['DNS:www.example.com'] }).tbsDer,
      issue(ca, { sans: ['DNS:www.example.com'], notAfter: new Date(Date.now() - 1000) }).tbsDer,
    ];
  },
  mutate: mutateBytes,
  run(tbs) {
    const { ca, trust, sigAlgDer, caCert } = pki();
    const der = sequence(tbs, sigAlgDer, bitString(sign('sha256', tbs, ca.key.privateKey)));
    let cert: ReturnType<typeof parseCertificate>;
    try {
      cert = parseCertificate(der);
    } catch (err) {
      return expectTyped(err, ParseError, 'parseCertificate');
    }
    touch(cert);
    for (const name of ['www.example.com', '10.1.2.3']) {
      try {
        verifyServer({ chain: [cert, caCert], name, trust });
      } catch (err) {
        expectTyped(err, SSLError, 'verifyServer');
      }
    }
    return 'ok';
  },
  show: showBytes,
};

// ---------------------------------------------------------------------------------------------
// PEM and readCertificates

export const pemTarget: FuzzTarget<string> = {
  name: 'pem',
  corpus: () => {
    const { certs } = pki();
    const one = certs[0]!.pem;
    return [
      one,
      certs.map((c) => c.pem).join(''),
      `# a bundle\nsubject=CN=x\n${one}\nexplanatory text\n${certs[1]!.pem}`,
      one.replace(/\n/g, '\r\n'),
      `-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n${one}`,
      '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n',
      '',
    ];
  },
  mutate: mutateText,
  run(input) {
    let ders: Uint8Array[];
    try {
      ders = parsePem(input, 'CERTIFICATE');
    } catch (err) {
      return expectTyped(err, ParseError, 'parsePem');
    }
    for (const der of ders) {
      const again = parsePem(toPem(der));
      if (again.length !== 1 || !equalBytes(again[0]!, der))
        throw new FuzzViolation('toPem/parsePem round trip');
    }
    try {
      for (const c of readCertificates(input, 'fuzz.pem')) touch(c);
      for (const c of readCertificates(Buffer.from(input, 'utf8'), 'fuzz.pem')) touch(c);
    } catch (err) {
      return expectTyped(err, ParseError, 'readCertificates');
    }
    return 'ok';
  },
  show: showText,
};

// ---------------------------------------------------------------------------------------------
// Hosts: IP text, reference names

const HOSTS = [
  'example.com',
  'WWW.Example.COM.',
  'a.b-c.d_e.example',
  'localhost',
  '127.0.0.1',
  '10.0.0.6',
  '::1',
  '[::1]',
  '[2001:db8::1]',
  '2001:DB8:0:0:0:0:0:1',
  '::ffff:10.0.0.6',
  '[::ffff:1.2.3.4]',
  'fe80::1%eth0',
  '[fe80::1%25en0]',
  'bücher.de',
  'xn--bcher-kva.de',
  'ＡＢＣ.example',
  '１２７．０．０．１',
  '*.example.com',
  '127.1',
  '0x7f.0.0.1',
  '010.0.0.1',
  'host:443',
  'https://example.com',
  `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`,
];

export const ipTarget: FuzzTarget<string> = {
  name: 'ip',
  corpus: () => HOSTS,
  mutate: mutateText,
  run(input) {
    // parseIp has no error: undefined means "not exactly one address". It must never throw.
    const bytes = parseIp(input);
    if (bytes === undefined) return 'error';
    if (bytes.length !== 4 && bytes.length !== 16)
      throw new FuzzViolation(`parseIp gave ${bytes.length} bytes`);
    const text = ipToString(bytes);
    const back = parseIp(text);
    if (!back || !equalBytes(back, bytes)) throw new FuzzViolation(`ipToString/parseIp round trip: ${text}`);
    return 'ok';
  },
  show: showText,
};

export const referenceNameTarget: FuzzTarget<string> = {
  name: 'reference-name',
  corpus: () => HOSTS,
  mutate: mutateText,
  run(input) {
    let ref: ReturnType<typeof parseReferenceName>;
    try {
      ref = parseReferenceName(input);
    } catch (err) {
      return expectTyped(err, InvalidURL, 'parseReferenceName');
    }
    // Normal forms are fixed points: the connector may normalise twice (serverName, then SNI).
    if (ref.kind === 'dns') {
      if (ref.value !== ref.value.toLowerCase() || ref.value.endsWith('.') || ref.value === '') {
        throw new FuzzViolation(`DNS reference not normal: ${JSON.stringify(ref.value)}`);
      }
      const again = parseReferenceName(ref.value);
      if (again.kind !== 'dns' || again.value !== ref.value)
        throw new FuzzViolation('DNS reference not idempotent');
    } else {
      const again = parseReferenceName(ref.text);
      if (again.kind !== 'ip' || !equalBytes(again.bytes, ref.bytes))
        throw new FuzzViolation('IP reference not idempotent');
    }
    return 'ok';
  },
  show: showText,
};

// ---------------------------------------------------------------------------------------------
// connectTo and URLs

export const connectToTarget: FuzzTarget<string> = {
  name: 'connect-to',
  corpus: () => [
    '10.0.0.6:8443',
    '127.0.0.1',
    '[::1]:443',
    '::1',
    'example.com:1',
    'host:65535',
    'a:b:c',
    '[fe80::1%eth0]:80',
  ],
  mutate: mutateText,
  run(input) {
    let t: ReturnType<typeof parseConnectTo>;
    try {
      t = parseConnectTo(input);
    } catch (err) {
      return expectTyped(err, ConfigError, 'parseConnectTo');
    }
    if (t.host === '') throw new FuzzViolation('empty host accepted');
    if (t.port !== undefined && !(Number.isInteger(t.port) && t.port >= 1 && t.port <= 65535)) {
      throw new FuzzViolation(`port ${t.port} accepted`);
    }
    return 'ok';
  },
  show: showText,
};

export const urlTarget: FuzzTarget<string> = {
  name: 'url',
  corpus: () => [
    'https://example.com/',
    'https://example.com:8443/a/b?c=d&e#f',
    'http://127.0.0.1:80/',
    'https://[::1]:443/x',
    'https://[fe80::1%25eth0]/',
    'https://bücher.de/straße?q=ü',
    'https://xn--bcher-kva.de./',
    'https://user:pass@example.com/',
    'https://127.1/',
    'https://0x7f000001/',
    'ftp://example.com/',
    'https:example.com',
    'https:\\\\example.com\\a',
    '//example.com/',
    'https://a..b/',
    'https://%65xample.com/',
  ],
  mutate: mutateText,
  run(input) {
    let url: URL;
    try {
      url = parseUrl(input);
    } catch (err) {
      return expectTyped(err, InvalidURL, 'parseUrl');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new FuzzViolation(`scheme ${url.protocol} accepted`);
    if (url.hostname === '') throw new FuzzViolation('empty host accepted');
    // What the connector does next with the host: a reference name, or InvalidURL.
    try {
      parseReferenceName(url.hostname);
    } catch (err) {
      return expectTyped(err, InvalidURL, 'parseReferenceName(url.hostname)');
    }
    return 'ok';
  },
  show: showText,
};

// ---------------------------------------------------------------------------------------------
// Revocation: OCSP responses and CRLs (parsed, then judged for the sample leaf)

let revocationCache: ReturnType<typeof buildRevocation> | undefined;
function buildRevocation() {
  const { ca, leaf } = pki();
  const responder = issue(ca, { sans: [], eku: ['OCSPSigning'] });
  return {
    leafCert: parseCertificate(leaf.der),
    ocsp: [
      makeOcspResponse(ca, leaf),
      makeOcspResponse(ca, leaf, { status: 'revoked', reason: 1, byKey: true }),
      makeOcspResponse(ca, leaf, { status: 'unknown', hash: 'sha256', nextUpdate: null }),
      makeOcspResponse(ca, leaf, { signer: responder }),
      makeOcspResponse(ca, leaf, { responseStatus: 3 }),
    ],
    crls: [
      makeCrl(ca),
      makeCrl(ca, { revoked: [leaf, responder] }),
      makeCrl(ca, {
        extraExtensions: [
          {
            oid: '2.5.29.28',
            critical: true,
            value: sequence(
              explicit(
                0,
                implicit(0, sequence(contextPrimitive(6, Buffer.from('http://crl.example/1.crl')))),
              ),
              contextPrimitive(1, Buffer.from([0xff])),
            ),
          },
          { oid: '2.5.29.35', value: sequence(contextPrimitive(0, Buffer.alloc(20, 1))) },
        ],
      }),
    ],
  };
}
function revocation() {
  revocationCache ??= buildRevocation();
  return revocationCache;
}

export const ocspTarget: FuzzTarget<Uint8Array> = {
  name: 'ocsp',
  corpus: () => revocation().ocsp,
  mutate: mutateBytes,
  run(input) {
    let res: ReturnType<typeof parseOcspResponse>;
    try {
      res = parseOcspResponse(input);
    } catch (err) {
      return expectTyped(err, ParseError, 'parseOcspResponse');
    }
    // What the verifier does with a stapled response: a verdict, never an exception.
    const v = checkOcspResponse(res, revocation().leafCert, pki().caCert, new Date(), () => {});
    if (!v.ok && v.problem.length < 10) throw new FuzzViolation(`verdict without a reason: ${v.problem}`);
    return 'ok';
  },
  show: showBytes,
};

export const crlTarget: FuzzTarget<Uint8Array> = {
  name: 'crl',
  corpus: () => revocation().crls,
  mutate: mutateBytes,
  run(input) {
    let crl: ReturnType<typeof parseCrl>;
    try {
      crl = parseCrl(input);
    } catch (err) {
      return expectTyped(err, ParseError, 'parseCrl');
    }
    const { leafCert } = revocation();
    crlProblem(crl, pki().caCert, new Date());
    crlScopeProblem(crl, leafCert);
    crlSignedBy(crl, pki().caCert);
    return 'ok';
  },
  show: showBytes,
};

/** Every target, in the order the runners use. */
export const TARGETS: readonly FuzzTarget<Uint8Array | string>[] = [
  derTarget,
  certificateTarget,
  verifyTarget,
  pemTarget,
  ipTarget,
  referenceNameTarget,
  connectToTarget,
  urlTarget,
  ocspTarget,
  crlTarget,
] as FuzzTarget<Uint8Array | string>[];

export type { Rng };
