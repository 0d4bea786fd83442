/**
 * `certainly verify CHAIN.pem --name HOST [--ca PATH] [--time ISO] [--json]`: verify a chain
 * offline, with the same verifier and the same default anchors a request would use, and print
 * the path (each certificate, the anchor and where it came from) or the failure (code, position,
 * message, hint). Exit codes: 0 verified, 1 verification failed, 2 usage or unreadable input.
 */
import { ConfigError, type SSLError } from '../errors.js';
import { FILE_LIMITS, readUserFile } from '../trust/load.js';
import { resolveTrust } from '../trust/resolve.js';
import { type VerifyChainOptions, verifyChain } from '../verify/index.js';
import type { CertificateSummary } from '../x509/types.js';
import { type CommandSpec, helpText, type Parsed, parseCommand, UsageError, usageFailure } from './args.js';
import { describeCertificate, errorToJson, type Io, renderError, styler } from './render.js';

/** `certainly verify` names the reference identity with --name (a hint's serverName is that). */
const asNameFlag = (flag: string) => flag.replace(/^--server-name /, '--name ');

import { esc, jsonText } from './safe.js';

export const VERIFY = {
  name: 'verify',
  synopsis: 'CHAIN.pem [options]',
  about:
    "Verifies a certificate chain (PEM or DER; the server's certificate first, then the rest in any\norder) as a connection would, and prints the path to a trusted root or why there is none.",
  args: { min: 1, max: 1, name: 'a chain file' },
  options: {
    name: {
      type: 'string',
      value: 'HOST',
      help: 'the host name or IP address to verify (default: no name check)',
    },
    ca: {
      type: 'string',
      value: 'PATH',
      multiple: true,
      alias: ['cacert', 'capath'],
      help: 'trust the CAs in this file or directory instead of the defaults (repeatable)',
    },
    time: {
      type: 'string',
      value: 'ISO',
      help: 'verify at this time (e.g. 2024-03-01T00:00:00Z) instead of now',
    },
    crl: {
      type: 'string',
      value: 'PATH',
      multiple: true,
      help: 'check revocation against this CRL (PEM or DER; repeatable; none fetched)',
    },
    revocation: {
      type: 'string',
      value: 'MODE',
      choices: ['soft', 'hard', 'off'],
      help: "soft (default: a CRL that cannot be used leaves the status unknown, a\nnote), hard (the server certificate's status is required; an unusable\nCRL fails), off",
    },
    purpose: {
      type: 'string',
      value: 'P',
      choices: ['server', 'client'],
      help: 'server (default) or client',
    },
    // 64: far past any real chain (the verifier's own default is 8); a bound on a typo.
    'max-depth': {
      type: 'number',
      value: 'N',
      integer: true,
      min: 0,
      max: 64,
      help: 'most intermediates allowed in a path (default 8)',
    },
    strict: { type: 'boolean', help: 'apply every rule of the profile, also for CAs from --ca files' },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
  footer: 'exit codes: 0 verified, 1 verification failed, 2 usage or unreadable input',
} as const satisfies CommandSpec;

export async function runVerify(argv: string[], io: Io): Promise<number> {
  let parsed: Parsed<typeof VERIFY.options>;
  try {
    parsed = parseCommand(VERIFY, argv);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(VERIFY, err, io.stderr);
    throw err;
  }
  const { values, args: positionals } = parsed;
  if (parsed.help) {
    io.stdout.write(helpText(VERIFY));
    return 0;
  }
  const file = positionals[0]!;
  const json = values.json === true;

  let opts: VerifyChainOptions;
  let input: Buffer;
  try {
    input = readUserFile(file, 'the chain file', FILE_LIMITS.certificates, 'ERR_OPTIONS');
    const purpose = values.purpose ?? 'server';
    const maxDepth = values['max-depth'];
    if (values.time !== undefined && Number.isNaN(new Date(values.time).getTime())) {
      throw new ConfigError(`--time '${values.time}' is not a date (use ISO 8601: 2024-03-01T00:00:00Z)`, {
        code: 'ERR_OPTIONS',
      });
    }
    const crls: Uint8Array[] = [];
    for (const path of values.crl ?? []) {
      crls.push(new Uint8Array(readUserFile(path, 'the CRL file', FILE_LIMITS.crl, 'ERR_OPTIONS')));
    }
    // The anchors a request would use: --ca replaces the defaults, as `verify: PATH` does.
    const resolved = resolveTrust({
      verify: values.ca && values.ca.length > 0 ? { ca: values.ca } : true,
      env: io.env,
    });
    if (resolved.insecure) throw new ConfigError('no trust anchors are configured', { code: 'ERR_OPTIONS' });
    opts = {
      chain: [new Uint8Array(input)],
      trust: resolved.store,
      purpose: purpose === 'client' ? 'clientAuth' : 'serverAuth',
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(values.time !== undefined ? { time: values.time } : {}),
      ...(maxDepth !== undefined ? { maxDepth } : {}),
      ...(values.strict ? { relaxPrivateAnchors: false } : {}),
      ...(crls.length > 0 ? { crls } : {}),
      ...(values.revocation !== undefined ? { revocation: revocationOption(values.revocation) } : {}),
    };
  } catch (err) {
    if (json) io.stdout.write(jsonText({ ok: false, ...errorToJson(err) }));
    else io.stderr.write(renderError(err, io, 'cli', asNameFlag));
    return 2;
  }

  let result: ReturnType<typeof verifyChain>;
  try {
    result = verifyChain(opts);
  } catch (err) {
    if (json) io.stdout.write(jsonText({ ok: false, ...errorToJson(err) }));
    else io.stderr.write(renderError(err, io, 'cli', asNameFlag));
    return 2;
  }
  const time = opts.time ?? new Date().toISOString();

  if (!result.ok) {
    const err = result.error;
    if (json) {
      io.stdout.write(jsonText({ ok: false, time, ...errorToJson(err), candidates: err.candidates ?? [] }));
    } else {
      io.stderr.write(renderError(err, io, 'cli', asNameFlag));
      io.stderr.write(renderCandidates(err));
    }
    return 1;
  }

  const { verified } = result;
  if (json) {
    io.stdout.write(
      jsonText({
        ok: true,
        name: opts.name ?? null,
        time,
        path: result.path,
        anchor: { ...result.anchor, certificate: verified.anchor.cert.summary() },
        notes: verified.notes,
        revocation: verified.revocation,
      }),
    );
    return 0;
  }
  const s = styler(io.stdout, io.env);
  const lines: string[] = [];
  lines.push(
    `${s.green(s.bold('verified'))}: ${opts.name !== undefined ? `valid for ${opts.name}` : 'chain valid (no name checked)'}, at ${time}`,
  );
  lines.push('path:');
  result.path.forEach((c: CertificateSummary, i: number) => {
    lines.push(`  ${i === 0 ? 'server certificate' : `intermediate ${i}`}`);
    lines.push(...describeCertificate(c, '    '));
  });
  lines.push(`anchor: ${esc(result.anchor.subject)}`);
  lines.push(`  from: ${result.anchor.sources.join(', ')}`);
  lines.push(...describeCertificate(verified.anchor.cert.summary(), '    '));
  for (const c of verified.revocation.certificates) {
    if (c.status === 'unchecked') continue;
    lines.push(
      `revocation: ${c.depth === 0 ? 'server certificate' : `intermediate ${c.depth}`}: ${c.status}${c.source ? ` (${c.source})` : ''}`,
    );
  }
  for (const n of verified.notes) lines.push(s.yellow(`note: ${esc(n)}`));
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function revocationOption(value: string): 'off' | 'soft' | 'hard' {
  if (value === 'off' || value === 'soft' || value === 'hard') return value;
  throw new ConfigError(`--revocation '${value}' is not one of off, soft, hard`, { code: 'ERR_OPTIONS' });
}

/** The other candidate paths' failures, after the main one: useful when the first is not the whole story. */
function renderCandidates(err: SSLError): string {
  const list = err.candidates ?? [];
  if (list.length === 0) return '';
  const lines = ['  other candidate paths failed too:'];
  for (const c of list)
    lines.push(`    [${c.code}]${c.position !== undefined ? ` #${c.position}` : ''} ${esc(c.message)}`);
  return `${lines.join('\n')}\n`;
}
