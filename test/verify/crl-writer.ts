/**
 * A small CRL writer for tests (the test PKI makes certificates only): v2 CRLs signed with
 * ECDSA-SHA256 by a P-256 CA, with the knobs the CRL tests need.
 */
import { sign } from 'node:crypto';
import {
  bitString,
  boolean,
  explicit,
  integer,
  octetString,
  oid,
  sequence,
  time,
} from '../../src/testing/der-writer.js';
import type { Issued } from '../support/pki.js';

export const DAY = 86_400_000;

export interface CrlOptions {
  revoked?: Issued[];
  thisUpdate?: Date;
  nextUpdate?: Date;
  /** false: no CRLNumber; 'critical': a critical one. */
  crlNumber?: false | 'critical';
  extraExtensions?: { oid: string; critical?: boolean; value: Uint8Array }[];
  /** Sign with this certificate's key instead of the issuer's. */
  signWith?: Issued;
}

/** A v2 CRL issued by `issuer` (a P-256 CA), signed with ECDSA-SHA256. */
export function makeCrl(issuer: Issued, o: CrlOptions = {}): Buffer {
  const alg = sequence(oid('1.2.840.10045.4.3.2'));
  const now = Date.now();
  const ext = (id: string, critical: boolean, value: Uint8Array) =>
    sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
  const exts: Buffer[] = [];
  if (o.crlNumber !== false) exts.push(ext('2.5.29.20', o.crlNumber === 'critical', integer(7)));
  for (const e of o.extraExtensions ?? []) exts.push(ext(e.oid, e.critical ?? false, e.value));
  const revoked = (o.revoked ?? []).map((c) => sequence(integer(c.serial), time(new Date(now - DAY))));
  const tbs = sequence(
    integer(1),
    alg,
    issuer.subjectDer,
    time(o.thisUpdate ?? new Date(now - DAY)),
    time(o.nextUpdate ?? new Date(now + 7 * DAY)),
    ...(revoked.length ? [sequence(...revoked)] : []),
    ...(exts.length ? [explicit(0, sequence(...exts))] : []),
  );
  const signature = sign('sha256', tbs, (o.signWith ?? issuer).key.privateKey);
  return sequence(tbs, alg, bitString(signature));
}
