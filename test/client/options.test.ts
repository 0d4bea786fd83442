/**
 * The options table (src/client/option-table.ts): an unknown option, an option in the wrong place
 * and a value of the wrong kind are ConfigErrors, through get/post/request, Session (its defaults
 * and its requests) and the adapters, before anything is sent; the README lists every option.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { editDistance, optionRows, suggest } from '../../src/client/option-table.js';
import {
  agent,
  ConfigError,
  closeDefaultSession,
  dispatcher,
  get,
  OPTION_CODES,
  post,
  request,
  Session,
} from '../../src/index.js';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let caPath: string;
let server: TestServer;
const dir = tempDir('options-');

function echo(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, raw: req.rawHeaders }));
  });
}

before(async () => {
  root = createRoot({ cn: 'Options Test Root' });
  caPath = dir.write('root.pem', root.pem);
  server = await startTlsServer({ cert: issue(root), handler: echo });
});

after(async () => {
  await closeDefaultSession();
  await server.close();
  dir.cleanup();
});

/** Asserts a ConfigError with this code whose message matches. */
function configError(code: string, message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  };
}

describe('unknown options are errors, with the nearest name', () => {
  test('get, post, request and a Session request: nothing reaches the server', async () => {
    const before = server.bytesReceived;
    const typo = /unknown option 'verfy'; did you mean 'verify'\?/;
    await assert.rejects(
      get(server.url('/'), { verfy: false } as never),
      configError('ERR_UNKNOWN_OPTION', typo),
    );
    await assert.rejects(
      post(server.url('/'), { verify: caPath, verfy: false } as never),
      configError('ERR_UNKNOWN_OPTION', typo),
    );
    await assert.rejects(
      request('PUT', server.url('/'), { verify: caPath, verfy: false } as never),
      configError('ERR_UNKNOWN_OPTION', typo),
    );
    const s = new Session({ verify: caPath });
    try {
      await assert.rejects(
        s.get(server.url('/'), { verfy: false } as never),
        configError('ERR_UNKNOWN_OPTION', typo),
      );
      // Other libraries' names, and requests' snake_case, point to ours.
      await assert.rejects(
        s.get(server.url('/'), { allow_redirects: false } as never),
        configError('ERR_UNKNOWN_OPTION', /'allow_redirects'; did you mean 'allowRedirects'\?/),
      );
      await assert.rejects(
        s.post(server.url('/'), { body: 'x' } as never),
        configError('ERR_UNKNOWN_OPTION', /'body'; did you mean 'data'\?/),
      );
      await assert.rejects(
        s.get(server.url('/'), { rejectUnauthorized: false } as never),
        configError('ERR_UNKNOWN_OPTION', /did you mean 'verify'\?/),
      );
      // An undefined value is still a typo: the key is what is wrong.
      await assert.rejects(
        s.get(server.url('/'), { timout: undefined } as never),
        configError('ERR_UNKNOWN_OPTION', /'timout'; did you mean 'timeout'\?/),
      );
      // Far from every name: no guess.
      await assert.rejects(s.get(server.url('/'), { zebra: 1 } as never), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, 'ERR_UNKNOWN_OPTION');
        assert.doesNotMatch(err.message, /did you mean/);
        assert.match(err.hint ?? '', /Options of a request: .*verify/);
        return true;
      });
      assert.equal(server.bytesReceived, before);
      // The same Session still works with valid options.
      const r = await s.get(server.url('/ok'), {
        timeout: 10_000,
        allowRedirects: true,
        headers: { 'x-a': '1' },
      });
      assert.equal(r.status, 200);
    } finally {
      await s.close();
    }
  });

  test('a Session refuses unknown defaults when it is made', () => {
    assert.throws(
      () => new Session({ verfy: false } as never),
      configError(
        'ERR_UNKNOWN_OPTION',
        /new Session\(options\): unknown option 'verfy'; did you mean 'verify'\?/,
      ),
    );
    // Request-only options are not Session defaults.
    assert.throws(
      () => new Session({ json: { a: 1 } } as never),
      configError('ERR_UNKNOWN_OPTION', /option 'json' applies to a request, not to a Session/),
    );
  });

  test('an option in the wrong place says where it belongs', async () => {
    await assert.rejects(
      get(server.url('/'), { verify: caPath, pins: {} } as never),
      configError(
        'ERR_UNKNOWN_OPTION',
        /option 'pins' applies to a Session and .*not to a request; did you mean 'pin'\?/,
      ),
    );
    assert.throws(
      () => dispatcher({ headers: { a: 'b' } } as never),
      configError(
        'ERR_UNKNOWN_OPTION',
        /dispatcher\(options\): option 'headers' applies to .*belong to the library you use/,
      ),
    );
  });

  test('the adapters: dispatcher() and agent()', () => {
    assert.throws(
      () => dispatcher({ verfy: false } as never),
      configError(
        'ERR_UNKNOWN_OPTION',
        /dispatcher\(options\): unknown option 'verfy'; did you mean 'verify'\?/,
      ),
    );
    assert.throws(
      () => agent({ serverNme: 'x' } as never),
      configError(
        'ERR_UNKNOWN_OPTION',
        /agent\(options\): unknown option 'serverNme'; did you mean 'serverName'\?/,
      ),
    );
    assert.throws(
      () => agent({ connectTimeout: '5s' } as never),
      configError(
        'ERR_TIMEOUT_OPTION',
        /option 'connectTimeout' takes a number of milliseconds, not a string \("5s"\)/,
      ),
    );
  });
});

describe('values of the wrong kind', () => {
  const cases: [string, unknown, string, RegExp][] = [
    [
      'timeout',
      'x',
      'ERR_TIMEOUT_OPTION',
      /option 'timeout' takes a number of milliseconds or \{ connect, read, total \}, not a string \("x"\)/,
    ],
    ['decompress', 'yes', 'ERR_OPTION_TYPE', /option 'decompress' takes true or false, not a string/],
    ['allowRedirects', 0, 'ERR_OPTION_TYPE', /option 'allowRedirects' takes true or false, not number 0/],
    ['headers', 'x-a: 1', 'ERR_HEADER', /option 'headers' takes a \{ name: value \} object/],
    ['params', 'a=1', 'ERR_PARAMS', /option 'params' takes/],
    ['retries', '3', 'ERR_RETRIES_OPTION', /option 'retries' takes/],
    ['revocation', 'strict', 'ERR_REVOCATION_OPTION', /option 'revocation' takes 'soft', 'hard' or 'off'/],
    ['signal', {}, 'ERR_OPTION_TYPE', /option 'signal' takes an AbortSignal, not an object/],
    ['onDownloadProgress', true, 'ERR_OPTION_TYPE', /takes a function/],
    ['maxResponseSize', '1mb', 'ERR_OPTION_TYPE', /option 'maxResponseSize' takes a whole number of bytes/],
    ['verify', 1, 'ERR_OPTION_TYPE', /option 'verify' takes true, false, a CA path/],
  ];
  for (const [name, value, code, message] of cases) {
    test(`${name}: ${JSON.stringify(value)}`, async () => {
      await assert.rejects(get(server.url('/'), { [name]: value } as never), configError(code, message));
    });
  }
  test('a Session checks its defaults when it is made', () => {
    assert.throws(
      () => new Session({ timeout: 'x' } as never),
      configError('ERR_TIMEOUT_OPTION', /option 'timeout'/),
    );
    assert.throws(
      () => new Session({ cookies: 'yes' } as never),
      configError('ERR_OPTION_TYPE', /option 'cookies'/),
    );
  });
  test('options must be an object', async () => {
    await assert.rejects(
      get(server.url('/'), 'verify' as never),
      configError('ERR_OPTIONS', /must be an object/),
    );
  });
});

describe('the table', () => {
  test('editDistance and suggest', () => {
    assert.equal(editDistance('verfy', 'verify'), 1);
    assert.equal(editDistance('vreify', 'verify'), 1); // a swap is one edit
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(suggest('Verify', ['verify', 'timeout']), 'verify');
    assert.equal(suggest('max_redirects', ['maxRedirects']), 'maxRedirects');
    assert.equal(suggest('proxies', ['proxy']), 'proxy');
    assert.equal(suggest('retry', ['retries']), 'retries');
    assert.equal(suggest('pn', ['pin', 'json']), 'pin');
    assert.equal(suggest('xyz', ['pin', 'json']), undefined);
    assert.equal(suggest('cookie', ['cookies']), 'cookies');
  });

  test('the codes are in the table of option codes (errors.ts)', () => {
    for (const code of [
      'ERR_UNKNOWN_OPTION',
      'ERR_OPTION_TYPE',
      'ERR_HEADER',
      'ERR_PARAMS',
      'ERR_RETRIES_OPTION',
    ])
      assert.ok(code in OPTION_CODES, code);
  });

  test('every row has a place, a description and a doc; the README lists every option', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Options'));
    assert.ok(section.length > 0, 'README has an Options section');
    for (const [name, row] of optionRows()) {
      assert.ok(row.where.length > 0, name);
      assert.ok(row.takes.length > 0 && row.doc.length > 0, name);
      assert.match(section, new RegExp(`\\| \`${name}\` \\|`), `README options table lists ${name}`);
    }
  });
});
