/**
 * `certainly demo`: the seed scenario on loopback, step by step. A server at 127.0.0.1 whose
 * certificate is for *.example.com and example.com, issued by a private CA:
 *   1. default trust: unknown issuer;  2. with the CA: the name does not match the IP;
 *   3. with serverName: 'api.example.com': verified;  4. why verify: false is the wrong fix.
 * No network: everything is generated and served on 127.0.0.1 in this process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from '../client/session.js';
import { INSECURE_WARNING, SSLError } from '../errors.js';
import { createCA } from '../testing/index.js';
import { type CommandSpec, helpText, parseCommand, UsageError, usageFailure } from './args.js';
import { describeTls, type Io, renderError, styler } from './render.js';

interface DemoServer {
  port: number;
  bytesReceived: () => number;
  close: () => Promise<void>;
}

async function serve(cert: string, key: string, body: string): Promise<DemoServer> {
  let bytes = 0;
  const server = https.createServer({ cert, key }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  server.on('secureConnection', (socket) => socket.on('data', (d: Buffer) => (bytes += d.length)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    bytesReceived: () => bytes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const DEMO = {
  name: 'demo',
  synopsis: '',
  about: 'Runs the seed scenario on loopback and shows its fix. Needs no network.',
  args: { min: 0, max: 0, name: 'nothing' },
  options: {},
} as const satisfies CommandSpec;

export async function runDemo(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parseCommand<typeof DEMO.options>>;
  try {
    parsed = parseCommand(DEMO, argv);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(DEMO, err, io.stderr);
    throw err;
  }
  if (parsed.help) {
    io.stdout.write(helpText(DEMO));
    return 0;
  }
  const s = styler(io.stdout, io.env);
  const out = (line = '') => io.stdout.write(`${line}\n`);
  const step = (n: number, title: string) => out(`\n${s.bold(`Step ${n}.`)} ${title}`);
  const code = (text: string) => out(`    ${s.dim(text)}`);
  const indent = (text: string) =>
    out(
      text
        .trimEnd()
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n'),
    );

  // The insecure step below warns once; show it as part of the narrative, not on stderr.
  const warnings: string[] = [];
  const onWarning = (w: Error) => {
    if (w.name === INSECURE_WARNING) warnings.push(w.message);
  };
  process.on('warning', onWarning);
  const dir = mkdtempSync(join(tmpdir(), 'certainly-demo-'));
  const servers: DemoServer[] = [];
  const session = new Session({ trustEnv: false });
  let failures = 0;
  const expect = (ok: boolean, what: string) => {
    if (!ok) {
      failures++;
      out(s.red(`    !! unexpected: ${what}`));
    }
  };

  try {
    out(s.bold('certainly demo — "Certificate did not match expected hostname: 10.0.0.6", and its fix'));
    out();
    out('Setting up, on loopback only:');
    const ca = createCA({ subject: 'CN=Example Corp Private CA, O=Example Corp' });
    const leaf = ca.issue('*.example.com', 'example.com');
    const caPath = join(dir, 'example-corp-ca.pem');
    writeFileSync(caPath, ca.pem);
    const good = await serve(leaf.chainPem + ca.pem, leaf.keyPem, '{"hello":"from api.example.com"}\n');
    servers.push(good);
    const url = `https://127.0.0.1:${good.port}/`;
    out(`  - a private CA, "Example Corp Private CA", saved to ${caPath}`);
    out('  - a server certificate for *.example.com and example.com, issued by that CA');
    out(`  - a server at ${url} presenting it (think: https://10.0.0.6/ inside a company network)`);

    step(1, 'Call the IP with the default trust store (what Node and requests do):');
    code(`await get('${url}')`);
    try {
      await session.get(url);
      expect(false, 'step 1 succeeded');
    } catch (err) {
      indent(renderError(err, io, 'library'));
      expect(
        err instanceof SSLError && err.code === 'UNKNOWN_ISSUER',
        `step 1 failed with ${(err as Error).message}`,
      );
    }
    out('    The private CA is not a public root, so nothing vouches for this server. Trust the CA:');

    step(2, 'Trust the private CA — now the name is the problem:');
    code(`await get('${url}', { verify: '${caPath}' })`);
    try {
      await session.get(url, { verify: caPath });
      expect(false, 'step 2 succeeded');
    } catch (err) {
      indent(renderError(err, io, 'library'));
      expect(
        err instanceof SSLError && err.code === 'HOSTNAME_MISMATCH' && err.expected === '127.0.0.1',
        `step 2 failed with ${(err as Error).message}`,
      );
    }
    out(
      `    The server received ${good.bytesReceived()} bytes of request: nothing is sent before verification.`,
    );
    out('    This is where requests users are told to set verify=False. The certificate is fine; it is');
    out(
      '    for api.example.com, and we dialled an IP. requests cannot connect to an IP while verifying a name.',
    );

    step(3, 'Connect to the IP, but verify (and send SNI for) the name the certificate carries:');
    code(`await get('${url}', { verify: '${caPath}', serverName: 'api.example.com' })`);
    try {
      const r = await session.get(url, { verify: caPath, serverName: 'api.example.com' });
      out(`    ${s.green(`HTTP ${r.status}`)} ${(await r.text()).trim()}`);
      if (r.tls) for (const l of describeTls(r.tls)) out(`    ${l}`);
      expect(r.status === 200, `step 3 returned ${r.status}`);
    } catch (err) {
      indent(renderError(err, io, 'library'));
      expect(false, 'step 3 failed');
    }
    out(
      '    (Or keep the name in the URL and dial the IP: connectTo: "127.0.0.1:PORT", like curl --connect-to.)',
    );

    step(4, 'Why verify: false is the wrong fix:');
    const impostorLeaf = createCA({ subject: 'CN=Totally Legit CA' }).issue('*.example.com', 'example.com');
    const impostor = await serve(impostorLeaf.certPem, impostorLeaf.keyPem, '{"hello":"from an impostor"}\n');
    servers.push(impostor);
    const impostorUrl = `https://127.0.0.1:${impostor.port}/`;
    out(`    An impostor at ${impostorUrl} presents its own certificate for *.example.com.`);
    code(`await get('${impostorUrl}', { verify: false })`);
    const r = await session.get(impostorUrl, { verify: false });
    out(
      `    ${s.yellow(`HTTP ${r.status}`)} ${(await r.text()).trim()}   <- accepted: verify: false trusts anyone`,
    );
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    if (warnings.length > 0)
      out(`    ${s.dim(`(and Node printed an ${INSECURE_WARNING} for it, once for this host)`)}`);
    const impostorBytesBefore = impostor.bytesReceived();
    code(`await get('${impostorUrl}', { verify: '${caPath}', serverName: 'api.example.com' })`);
    try {
      await session.get(impostorUrl, { verify: caPath, serverName: 'api.example.com' });
      expect(false, 'the impostor was accepted');
    } catch (err) {
      indent(renderError(err, io, 'library'));
      expect(err instanceof SSLError, 'the impostor was refused for the wrong reason');
    }
    const sent = impostor.bytesReceived() - impostorBytesBefore;
    out(`    The impostor received ${sent} bytes this time: refused before a single request byte.`);
    expect(sent === 0, `the impostor received ${sent} request bytes`);
    out();
    out(s.bold('The fix is one option: serverName (or connectTo). Verification stays on.'));
  } finally {
    process.off('warning', onWarning);
    await session.close();
    await Promise.all(servers.map((x) => x.close()));
    rmSync(dir, { recursive: true, force: true });
  }
  if (failures > 0) {
    io.stderr.write(`demo: ${failures} step(s) did not behave as described\n`);
    return 1;
  }
  return 0;
}
