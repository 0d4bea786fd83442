/** The DER reader: strict, bounded, DER only. */
export * from './reader.js';
