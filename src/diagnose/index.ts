/** diagnose/: turns a connection attempt into a report — the chain, each check, the fix. */
export {
  AIA_MAX_BYTES,
  AIA_MAX_DEPTH,
  AIA_MAX_FETCHES,
  AIA_MAX_REDIRECTS,
  AIA_TIMEOUT_MS,
  type AiaFetch,
  type AiaOptions,
  certificatesInResponse,
  completeChain,
  fetchIssuer,
  privateAddressKind,
} from './aia.js';
export { FINDING_CODES, type FindingCode, type Severity, UNREACHABLE_CODES } from './codes.js';
export {
  DEFAULT_CHECK_TIMEOUT_MS,
  DEFAULT_WARN_DAYS,
  type DiagnoseOptions,
  diagnose,
  MANY_NAMES_THRESHOLD,
  parseTarget,
} from './diagnose.js';
export { type Finding, type FindingContext, findingFor } from './finding.js';
export { type CertificateReport, type CheckReport, REPORT_SCHEMA } from './report.js';
