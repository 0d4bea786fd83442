import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { darwinKeychains, loadDarwinSystem, parseSecurityOutput } from '../../src/trust/system/darwin.js';
import { loadSystem, resetSystemCache } from '../../src/trust/system/index.js';
import { LINUX_CA_FILES, loadLinuxSystem } from '../../src/trust/system/linux.js';
import type { ToolRunner } from '../../src/trust/system/tool.js';
import {
  loadWindowsSystem,
  POWERSHELL_SCRIPT,
  parsePowerShellOutput,
} from '../../src/trust/system/windows.js';
import { createRoot, intermediate, issue, pemOf, selfSigned, tempDir } from '../support/index.js';

const tmp = tempDir('certainly-trust-system-');
after(() => tmp.cleanup());

const corp = createRoot({ subject: 'CN=Corp Root CA, O=Example Corp' });
const other = createRoot({ subject: 'CN=Other Root, O=Example Corp' });
const added = createRoot({ subject: 'CN=Dropped In Root, O=Example Corp' });
const names = (certs: { subject: { commonName?: string } }[]) => certs.map((c) => c.subject.commonName);

describe('Linux system store', () => {
  it('reads the Debian layout: the bundle, plus certificates only in /etc/ssl/certs', () => {
    const root = join(tmp.path, 'debian');
    const bundle = tmp.write('debian/etc/ssl/certs/ca-certificates.crt', pemOf(corp, other));
    tmp.write('debian/usr/share/ca-certificates/corp.crt', corp.pem);
    symlinkSync(join(root, 'usr/share/ca-certificates/corp.crt'), join(root, 'etc/ssl/certs/Corp_Root.pem'));
    symlinkSync('Corp_Root.pem', join(root, 'etc/ssl/certs/0a1b2c3d.0'));
    tmp.write('debian/etc/ssl/certs/Dropped_In.pem', added.pem); // not (yet) in the bundle
    const load = loadLinuxSystem({ root });
    assert.deepEqual(
      load.sources.map((s) => s.source),
      [`system:${bundle}`, `system:${join(root, 'etc/ssl/certs')}`],
    );
    assert.deepEqual(names(load.sources[0]!.certs), ['Corp Root CA', 'Other Root']);
    // The bundle itself is not read twice; the dropped-in file is found.
    assert.ok(names(load.sources[1]!.certs).includes('Dropped In Root'));
    assert.deepEqual(load.warnings, []);
  });

  it('takes the first bundle that exists (RHEL layout)', () => {
    const root = join(tmp.path, 'rhel');
    const tls = tmp.write('rhel/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', other.pem);
    tmp.write('rhel/etc/ssl/cert.pem', corp.pem); // later in the list: not read
    const load = loadLinuxSystem({ root });
    assert.deepEqual(
      load.sources.map((s) => s.source),
      [`system:${tls}`],
    );
    assert.deepEqual(names(load.sources[0]!.certs), ['Other Root']);
  });

  it('skips a bundle that holds no certificate and goes on to the next', () => {
    const root = join(tmp.path, 'suse');
    tmp.write('suse/etc/ssl/certs/ca-certificates.crt', '');
    const suse = tmp.write('suse/etc/ssl/ca-bundle.pem', corp.pem);
    const load = loadLinuxSystem({ root });
    assert.deepEqual(
      load.sources.map((s) => s.source),
      [`system:${suse}`],
    );
    assert.match(load.warnings.join(' '), /ca-certificates\.crt .* is empty/);
  });

  it('reports a root without any store as a warning, never an error', () => {
    const root = join(tmp.path, 'bare');
    mkdirSync(root);
    const load = loadLinuxSystem({ root });
    assert.deepEqual(load.sources, []);
    assert.match(load.warnings[0]!, /no system CA store found under .*bare/);
    assert.ok(LINUX_CA_FILES.some((f) => load.warnings[0]!.includes(f.path)));
  });

  it('loadSystem reads a root once per process', () => {
    const root = join(tmp.path, 'cached');
    tmp.write('cached/etc/ssl/cert.pem', corp.pem);
    const first = loadSystem({ root });
    tmp.write('cached/etc/ssl/cert.pem', pemOf(corp, other));
    assert.equal(loadSystem({ root }), first);
    resetSystemCache();
    assert.equal(loadSystem({ root }).sources[0]!.certs.length, 2);
  });
});

describe('macOS system store (recorded `security` output)', () => {
  const keychains = darwinKeychains('/Users/ada');
  const intermediateCa = intermediate(corp, { subject: 'CN=Corp Issuing CA, O=Example Corp' });
  const personal = issue(intermediateCa, { subject: 'CN=ada@example.com', sans: ['email:ada@example.com'] });
  const devServer = selfSigned({ subject: 'CN=dev.local', sans: ['DNS:dev.local'] });
  // What `security find-certificate -a -p KEYCHAIN` prints: the keychain's certificates as PEM.
  const recorded: Record<string, string> = {
    [keychains[0]!.path]: pemOf(other, corp),
    [keychains[1]!.path]: pemOf(added),
    [keychains[2]!.path]: pemOf(personal, intermediateCa, devServer),
  };
  const runner: ToolRunner = (command, args) => {
    assert.equal(command, '/usr/bin/security');
    assert.deepEqual(args.slice(0, 3), ['find-certificate', '-a', '-p']);
    const out = recorded[args[3]!];
    return out === undefined
      ? { ok: false, error: 'security exited with status 50' }
      : { ok: true, stdout: out };
  };

  it('reads the three keychains, keeping only CAs and self-issued certificates from System and login', () => {
    const load = loadDarwinSystem({ run: runner, nodeReader: () => undefined, home: '/Users/ada' });
    assert.deepEqual(
      load.sources.map((s) => s.source),
      [
        'system:/System/Library/Keychains/SystemRootCertificates.keychain',
        'system:/Library/Keychains/System.keychain',
        'system:/Users/ada/Library/Keychains/login.keychain-db',
      ],
    );
    assert.deepEqual(names(load.sources[2]!.certs), ['Corp Issuing CA', 'dev.local']);
    assert.match(load.warnings.join(' '), /left out 1 certificate that is neither a CA nor self-issued/);
  });

  it('reports a keychain that cannot be read, and goes on', () => {
    const load = loadDarwinSystem({ run: runner, nodeReader: () => undefined, home: '/Users/nobody' });
    assert.equal(load.sources.length, 2);
    assert.match(
      load.warnings.join(' '),
      /keychain \/Users\/nobody\/.* could not be read: security exited with status 50/,
    );
  });

  it("prefers Node's own reader when it exists (it applies trust settings)", () => {
    const load = loadDarwinSystem({
      run: () => assert.fail('the tool must not run'),
      nodeReader: () => [corp.pem, other.pem],
    });
    assert.deepEqual(
      load.sources.map((s) => [s.source, s.certs.length]),
      [['system:keychains', 2]],
    );
  });

  it('parses output with noise between blocks and a broken block', () => {
    const broken = other.pem.replace(/\n[A-Za-z0-9+/]{4}/, '\n****');
    const r = parseSecurityOutput(`keychain: "x"\n${corp.pem}${broken}`, '/k', false);
    assert.deepEqual(names(r.certs), ['Corp Root CA']);
    assert.match(r.warnings[0]!, /\/k: skipped certificate 2/);
  });
});

describe('Windows system store (recorded PowerShell output)', () => {
  const b64 = (c: { der: Buffer }) => c.der.toString('base64');
  const recorded =
    `LocalMachine\\Root\t${b64(other)}\r\n` +
    `LocalMachine\\Root\t${b64(corp)}\r\n` +
    `CurrentUser\\Root\t${b64(corp)}\r\n` +
    `CurrentUser\\Root\t${b64(added)}\r\n\r\n`;

  it('parses one source per store', () => {
    const results = parsePowerShellOutput(recorded);
    assert.deepEqual(
      results.map((r) => [r.source, names(r.certs)]),
      [
        ['system:Cert:\\LocalMachine\\Root', ['Other Root', 'Corp Root CA']],
        ['system:Cert:\\CurrentUser\\Root', ['Corp Root CA', 'Dropped In Root']],
      ],
    );
  });

  it('skips lines that are not <store><TAB><base64>, saying which', () => {
    const results = parsePowerShellOutput(`WARNING: something\r\n${recorded}CurrentUser\\Root\tAAAA\r\n`);
    assert.equal(results.length, 2);
    const warnings = results.flatMap((r) => r.warnings).join(' ');
    assert.match(warnings, /line 1 is not "<store><TAB><base64>"/);
    assert.match(warnings, /line 7 is not a certificate/);
  });

  it('runs PowerShell with the script, and reports a failure without throwing', () => {
    let seen: readonly string[] = [];
    const ok = loadWindowsSystem({
      nodeReader: () => undefined,
      run: (command, args) => {
        seen = [command, ...args];
        return { ok: true, stdout: recorded };
      },
    });
    assert.equal(seen[0], 'powershell.exe');
    assert.equal(seen.at(-2), '-EncodedCommand');
    assert.equal(Buffer.from(seen.at(-1)!, 'base64').toString('utf16le'), POWERSHELL_SCRIPT);
    assert.match(POWERSHELL_SCRIPT, /Get-ChildItem -Path \("Cert:\\" \+ \$s\)/);
    assert.equal(ok.sources.length, 2);
    const failed = loadWindowsSystem({
      nodeReader: () => undefined,
      run: () => ({ ok: false, error: 'powershell.exe could not be run: spawn ENOENT' }),
    });
    assert.deepEqual(failed.sources, []);
    assert.match(
      failed.warnings[0]!,
      /Windows Root stores could not be read: powershell\.exe could not be run/,
    );
  });
});
