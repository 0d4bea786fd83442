/**
 * The Windows system store: the machine's and the current user's Root stores (where Group
 * Policy and administrators install corporate roots). On Node with
 * `tls.getCACertificates('system')` Node's own reader is used; otherwise PowerShell lists both
 * stores, one certificate per line as `<store><TAB><base64 DER>`.
 *
 * Caveats: Windows fills its Root store lazily (a Microsoft root appears after first use), which
 * is one reason the default is bundled ∪ system; the Disallowed store is not consulted.
 * PowerShell 5.1 ships with every supported Windows, so certutil (whose output is meant for
 * people, not parsers) is not needed.
 */
import { extractCertificates, type SourceResult, type SystemLoad } from '../load.js';
import { renderSource } from '../source.js';
import { fromNodeReader, type NodeSystemReader, nodeSystemReader, runTool, type ToolRunner } from './tool.js';

export const WINDOWS_STORES = ['LocalMachine\\Root', 'CurrentUser\\Root'] as const;

/** The PowerShell script: for each store, one line per certificate, `<store>\t<base64 DER>`. */
export const POWERSHELL_SCRIPT =
  `foreach ($s in @(${WINDOWS_STORES.map((s) => `'${s}'`).join(', ')})) { ` +
  'Get-ChildItem -Path ("Cert:\\" + $s) | ForEach-Object { $s + "`t" + [Convert]::ToBase64String($_.RawData) } }';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses the script's output into one source per store ('system:Cert:\LocalMachine\Root'). */
export function parsePowerShellOutput(output: string): SourceResult[] {
  const byStore = new Map<string, SourceResult>();
  const bad: string[] = [];
  const lines = output.split(/\r?\n/);
  lines.forEach((line, i) => {
    const text = line.trim();
    if (text === '') return;
    const tab = text.indexOf('\t');
    const store = tab > 0 ? text.slice(0, tab) : '';
    const b64 = tab > 0 ? text.slice(tab + 1).trim() : '';
    if (!store || !BASE64.test(b64) || b64.length % 4 !== 0) {
      bad.push(`line ${i + 1} is not "<store><TAB><base64>"`);
      return;
    }
    let r = byStore.get(store);
    if (!r) {
      r = {
        source: renderSource({ kind: 'system', path: `Cert:\\${store}` }),
        certs: [],
        warnings: [],
        stamps: [],
      };
      byStore.set(store, r);
    }
    const got = extractCertificates(Buffer.from(b64, 'base64'));
    if (got.certs.length === 0) r.warnings.push(`Cert:\\${store}: line ${i + 1} is not a certificate.`);
    r.certs.push(...got.certs);
  });
  const results = [...byStore.values()];
  if (bad.length > 0) {
    const first = results[0] ?? { source: 'system:Cert:\\', certs: [], warnings: [], stamps: [] };
    first.warnings.push(
      `PowerShell output: skipped ${bad.slice(0, 5).join('; ')}${bad.length > 5 ? ', …' : ''}.`,
    );
    if (results.length === 0) results.push(first);
  }
  return results;
}

export interface WindowsOptions {
  run?: ToolRunner;
  nodeReader?: NodeSystemReader;
}

/** Reads the Windows Root stores. Never throws: a store that cannot be read is a warning. */
export function loadWindowsSystem(opts: WindowsOptions = {}): SystemLoad {
  const out: SystemLoad = { sources: [], warnings: [] };
  const viaNode = (opts.nodeReader ?? nodeSystemReader)();
  if (viaNode !== undefined) {
    const r = fromNodeReader(viaNode, 'system:Cert:\\Root');
    out.warnings.push(...r.warnings);
    if (r.certs.length > 0) {
      out.sources.push(r);
      return out;
    }
  }
  const run = opts.run ?? runTool;
  // -EncodedCommand (base64 of UTF-16LE) spares the script's quotes from Windows argument quoting.
  const encoded = Buffer.from(POWERSHELL_SCRIPT, 'utf16le').toString('base64');
  const res = run('powershell.exe', ['-NoProfile', '-NonInteractive', '-EncodedCommand', encoded]);
  if (!res.ok) {
    out.warnings.push(`the Windows Root stores could not be read: ${res.error}.`);
    return out;
  }
  for (const r of parsePowerShellOutput(res.stdout)) {
    out.warnings.push(...r.warnings);
    if (r.certs.length > 0) out.sources.push(r);
  }
  if (out.sources.length === 0)
    out.warnings.push('no certificate could be read from the Windows Root stores.');
  return out;
}
