/** trust/: the anchors a connection is verified against, where they came from, and why. */
export { BUNDLED_SOURCE, bundledFingerprints, bundledNodeVersion, loadBundled } from './bundled.js';
export { type AnchorClass, classifyAnchor, describeAnchor } from './classify.js';
export { CA_ERROR_CODES, type CaErrorCode } from './codes.js';
export { loadCaDir } from './dir.js';
export { ENV_ADDING, ENV_REPLACING, ENV_VARS, type EnvConsidered, planEnv } from './env.js';
export { loadCaFile, loadCaPath } from './file.js';
export { INLINE_SOURCE, loadInline } from './inline.js';
export type { SourceResult, SystemLoad } from './load.js';
export {
  RELOAD_CHECK_MS,
  type ResolvedTrust,
  type ResolveTrustOptions,
  resetTrustCache,
  resolveTrust,
  type TrustExplanation,
  type VerifyOption,
} from './resolve.js';
export {
  type AnchorSourceInfo,
  type AnchorSourceKind,
  isSystemSource,
  isUserFileSource,
  parseSource,
  renderSource,
} from './source.js';
export { type SourceCertificates, TrustStore } from './store.js';
export { loadSystem, resetSystemCache } from './system/index.js';
export type { AnchorSource, TrustAnchor, TrustAnchors } from './types.js';
