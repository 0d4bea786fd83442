/**
 * A script that made its requests ends by itself, through every entry point (get, a Session left
 * open, dispatcher() under fetch, agent() under axios and node:https), with and without a client
 * certificate, against a server that keeps idle connections open for ten minutes. undici and
 * node:http unref a kept-alive socket while it is idle; with a client certificate the TLS socket
 * runs over a JS stream (tls/gate.ts), and its unref used to reach nothing, so the process waited
 * for the server to close the connection (75 s with nginx's default, never with this server).
 *
 * Each client is a child process; the test fails if it has not exited within 20 s (with the fix
 * it takes well under a second: a bound for a hang, not a speed assertion).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';

const INDEX = new URL('../../src/index.js', import.meta.url).href;
const dir = tempDir('exit-');
let root: Issued;
let server: https.Server;
let url: string;
const files: Record<string, string> = {};

before(async () => {
  root = createRoot({ cn: 'exit tests root' });
  const leaf = issue(root, { sans: ['IP:127.0.0.1'] });
  const client = issue(root, { cn: 'exit client', sans: ['DNS:client'], eku: ['clientAuth'] });
  files.ca = dir.write('root.pem', root.pem);
  files.cert = dir.write('client.pem', client.pem);
  files.key = dir.write('client.key', client.keyPem);
  server = https.createServer(
    { cert: leaf.pem, key: leaf.keyPem, requestCert: true, rejectUnauthorized: false, ca: root.pem },
    (req, res) => {
      // Keep the connection for ten minutes, and tell undici so (it honours Keep-Alive: timeout).
      res.setHeader('keep-alive', 'timeout=600');
      res.end(
        `client certificate: ${(req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN ?? 'none'}`,
      );
    },
  );
  server.keepAliveTimeout = 0;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  dir.cleanup();
});

// One request through one entry point; nothing is closed. Prints the body.
const CLIENT = `
import https from 'node:https';
import axios from 'axios';
const { get, Session, dispatcher, agent } = await import(process.env.INDEX);
const opts = { verify: process.env.CA, trustEnv: false };
if (process.env.CERT) opts.cert = { cert: process.env.CERT, key: process.env.KEY };
const url = process.env.URL;
let body;
switch (process.env.ENTRY) {
  case 'get': body = await (await get(url, opts)).text(); break;
  case 'session': body = await (await new Session(opts).get(url)).text(); break;
  case 'fetch': body = await (await fetch(url, { dispatcher: dispatcher(opts) })).text(); break;
  case 'axios': body = (await axios.get(url, { httpsAgent: agent(opts), proxy: false, responseType: 'text' })).data; break;
  case 'https': body = await new Promise((resolve, reject) => {
    https.get(url, { agent: agent(opts) }, (res) => { let b = ''; res.on('data', (c) => { b += c; }); res.on('end', () => resolve(b)); }).on('error', reject);
  }); break;
}
console.log(body);
`;

function run(entry: string, withCert: boolean): Promise<{ exited: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', CLIENT],
      {
        cwd: process.cwd(),
        env: {
          PATH: process.env.PATH,
          INDEX,
          URL: url,
          ENTRY: entry,
          CA: files.ca,
          ...(withCert ? { CERT: files.cert, KEY: files.key } : {}),
        },
        timeout: 20_000,
      },
      (err, stdout, stderr) => resolve({ exited: !err?.killed, stdout, stderr }),
    );
  });
}

describe('a process exits by itself once its requests are done', () => {
  for (const withCert of [false, true]) {
    for (const entry of ['get', 'session', 'fetch', 'axios', 'https']) {
      test(`${entry}${withCert ? ', with a client certificate' : ''}`, async () => {
        const r = await run(entry, withCert);
        assert.ok(r.exited, `still running after 20 s (killed): ${r.stdout}${r.stderr}`);
        assert.equal(r.stdout.trim(), `client certificate: ${withCert ? 'exit client' : 'none'}`, r.stderr);
      });
    }
  }
});
