/** The test support kit: the PKI factory, the DER writer and the loopback servers. */
export * as der from '../../src/testing/der-writer.js';
export * from './pki.js';
export * from './servers.js';
