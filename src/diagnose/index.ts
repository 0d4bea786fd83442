/** diagnose/: turns a connection attempt into a report — the chain, each check, the fix. */
export { FINDING_CODES, type FindingCode, type Severity, UNREACHABLE_CODES } from './codes.js';
export {
  DEFAULT_CHECK_TIMEOUT_MS,
  DEFAULT_WARN_DAYS,
  type DiagnoseOptions,
  diagnose,
  MANY_NAMES_THRESHOLD,
  parseTarget,
  sentChain,
} from './diagnose.js';
export { type Finding, type FindingContext, findingFor } from './finding.js';
export { type CertificateReport, type CheckReport, REPORT_SCHEMA } from './report.js';
