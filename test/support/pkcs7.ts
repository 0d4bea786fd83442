/** A certs-only PKCS#7 SignedData (RFC 5652 §5.1), as `openssl crl2pkcs7 -nocrl` writes it: what AIA URLs serve as .p7c. */
import {
  explicit,
  implicit,
  integer,
  oid,
  sequence,
  set,
  setUnsorted,
} from '../../src/testing/der-writer.js';
import type { Issued } from './pki.js';

export function pkcs7Of(...certs: Issued[]): Buffer {
  return sequence(
    oid('1.2.840.113549.1.7.2'),
    explicit(
      0,
      sequence(
        integer(1),
        set(),
        sequence(oid('1.2.840.113549.1.7.1')),
        // In the order given, as openssl writes them (not sorted as a DER SET OF would be).
        implicit(0, setUnsorted(...certs.map((c) => c.der))),
        set(),
      ),
    ),
  );
}
