/**
 * The codes of the ConfigErrors that trust/ throws, in one table. Each is a `ConfigError`
 * (errors.ts) whose message names the path (or option) and the problem and says what to do.
 */
import { ConfigError } from '../errors.js';

export const CA_ERROR_CODES = {
  /** A CA path does not exist, cannot be read, or is neither a file nor a directory. */
  ERR_CA_PATH: 'a CA path does not exist, cannot be read, or is neither a file nor a directory',
  /** A CA file, directory or PEM text holds no certificate (an empty directory included). */
  ERR_CA_EMPTY: 'a CA file, directory or PEM text contains no certificate',
  /** A certificate in a CA file or PEM text given by the user cannot be parsed. */
  ERR_CA_INVALID: 'a certificate in a CA file or PEM text is malformed',
  /** The system store was the only source asked for and it could not be read. */
  ERR_CA_SYSTEM: 'the operating system trust store was the only source asked for and could not be read',
  /** The `verify` option has a value of the wrong kind or selects no anchors at all. */
  ERR_CA_OPTION: 'the verify option is malformed or selects no trust anchors',
} as const;

export type CaErrorCode = keyof typeof CA_ERROR_CODES;

/** A ConfigError with one of the codes above. `message` says what and where; `hint` what to do. */
export function caError(code: CaErrorCode, message: string, hint: string, cause?: unknown): ConfigError {
  return new ConfigError(`${message} ${hint}`, { code, hint, ...(cause === undefined ? {} : { cause }) });
}
