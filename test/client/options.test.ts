/**
 * The options table (src/client/option-table.ts): an unknown option, an option in the wrong place
 * and a value of the wrong kind are ConfigErrors, through get/post/request, Session (its defaults
 * and its requests) and the adapters, before anything is sent; the README lists every option.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { editDistance, OPTIONS, type OptionRow, optionRows, suggest } from '../../src/client/option-table.js';
import type { RequestOptions } from '../../src/client/options.js';
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
      // Other libraries' options without an equivalent say what to do instead.
      await assert.rejects(
        s.get(server.url('/'), { stream: true } as never),
        configError('ERR_UNKNOWN_OPTION', /unknown option 'stream'; responses are always streamed/),
      );
      await assert.rejects(
        s.get(server.url('/'), { validateStatus: () => true } as never),
        configError(
          'ERR_UNKNOWN_OPTION',
          /'validateStatus'; a status never throws; call r.raiseForStatus\(\)/,
        ),
      );
      await assert.rejects(
        s.get(server.url('/'), { insecure: true } as never),
        configError('ERR_UNKNOWN_OPTION', /'insecure'; verify: false turns verification off/),
      );
      // Another library's name for an option of another scope says where it goes.
      await assert.rejects(
        s.get(server.url('/'), { baseURL: server.url('/') } as never),
        configError(
          'ERR_UNKNOWN_OPTION',
          /'baseURL'; 'baseUrl' is an option of a Session, not of a request$/,
        ),
      );
      // A name on Object.prototype is just unknown.
      await assert.rejects(s.get(server.url('/'), { constructor: 1 } as never), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.message, "unknown option 'constructor'");
        return true;
      });
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
    [
      'revocation',
      'strict',
      'ERR_REVOCATION_OPTION',
      /option 'revocation' takes 'soft', 'hard', 'off' or \{ mode/,
    ],
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
  test('nested keys get the nearest name too (timeout, retries)', async () => {
    await assert.rejects(
      get(server.url('/'), { timeout: { conect: 100 } } as never),
      configError('ERR_TIMEOUT_OPTION', /timeout has no 'conect'; did you mean 'connect'\?/),
    );
    await assert.rejects(
      get(server.url('/'), { retries: { totl: 2 } } as never),
      configError('ERR_RETRIES_OPTION', /retries has no 'totl'; did you mean 'total'\?/),
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
  test('the interfaces are checked against the table at type level', () => {
    // A field without a row is a type error: this is what `satisfies` in option-table.ts enforces
    // (npm run typecheck fails if the directive below finds no error).
    // @ts-expect-error 'newOption' has no row
    const missing: Record<keyof RequestOptions | 'newOption', OptionRow> = OPTIONS;
    assert.ok(missing);
  });

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

/** What the server received, from the echo handler. */
type Echo = { method: string; url: string; headers: Record<string, string>; raw: string[] };

/** The values of header `name` as the server received them, one per header line. */
function lines(echo: Echo, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < echo.raw.length; i += 2)
    if (echo.raw[i]!.toLowerCase() === name) out.push(echo.raw[i + 1]!);
  return out;
}

describe('headers, as requests has them', () => {
  test('null or undefined removes a Session default and the default headers, as the server sees', async () => {
    const s = new Session({ verify: caPath, headers: { 'X-Team': 'blue', 'X-Keep': 'k' } });
    try {
      const plain = (await (await s.get(server.url('/'))).json()) as Echo;
      assert.equal(plain.headers['x-team'], 'blue');
      assert.match(plain.headers['user-agent'] ?? '', /^certainly\//);
      assert.equal(plain.headers.accept, '*/*');
      assert.ok(plain.headers['accept-encoding']);
      const r = await s.get(server.url('/'), {
        headers: { 'x-team': null, 'User-Agent': null, Accept: undefined, 'accept-encoding': null },
      });
      const e = (await r.json()) as Echo;
      assert.equal(e.headers['x-team'], undefined);
      assert.equal(e.headers['user-agent'], undefined);
      assert.equal(e.headers.accept, undefined);
      assert.equal(e.headers['accept-encoding'], undefined);
      assert.equal(e.headers['x-keep'], 'k');
      // The Response says what was sent.
      assert.equal(r.request.headers.get('user-agent'), null);
    } finally {
      await s.close();
    }
    // A Session can drop a default for all its requests.
    const quiet = new Session({ verify: caPath, headers: { 'user-agent': null } });
    try {
      const e = (await (await quiet.get(server.url('/'))).json()) as Echo;
      assert.equal(e.headers['user-agent'], undefined);
    } finally {
      await quiet.close();
    }
  });

  test('numbers become strings; a list repeats the header line; Cookie lists join with "; "', async () => {
    const e = (await (
      await get(server.url('/'), {
        verify: caPath,
        headers: { 'X-Count': 42, 'X-Multi': ['a', 'b', 3], Cookie: ['a=1', 'b=2'] },
      })
    ).json()) as Echo;
    assert.deepEqual(lines(e, 'x-count'), ['42']);
    assert.deepEqual(lines(e, 'x-multi'), ['a', 'b', '3']);
    assert.deepEqual(lines(e, 'cookie'), ['a=1; b=2']);
    // A list of pairs repeats a name too.
    const pairs = (await (
      await get(server.url('/'), {
        verify: caPath,
        headers: [
          ['x-p', '1'],
          ['X-P', '2'],
        ],
      })
    ).json()) as Echo;
    assert.deepEqual(lines(pairs, 'x-p'), ['1', '2']);
  });

  test('objects, booleans, bad names and values are ConfigError ERR_HEADER naming the header; nothing is sent', async () => {
    const before = server.bytesReceived;
    const bad: [unknown, RegExp][] = [
      [{ 'X-Obj': { a: 1 } }, /header 'X-Obj' has an object for a value/],
      [{ 'X-Date': new Date() }, /header 'X-Date' has a Date for a value/],
      [{ 'X-Flag': true }, /header 'X-Flag' has a boolean for a value/],
      [{ 'X-List': ['a', { b: 1 }] }, /header 'X-List' has an object/],
      [{ 'X-Nan': Number.NaN }, /header 'X-Nan' has a number/],
      [{ 'Bad Name': 'x' }, /'Bad Name' is not a valid header name/],
      [{ 'x-a\r\nx-b': 'x' }, /is not a valid header name/],
      [{ 'X-Split': 'a\r\nX-Evil: 1' }, /the value of header 'X-Split' contains CR, LF/],
      [{ 'X-Euro': '€' }, /the value of header 'X-Euro' contains/],
      [[['x-a']], /a list of headers holds \[name, value\] pairs/],
    ];
    for (const [headers, message] of bad) {
      await assert.rejects(
        get(server.url('/'), { verify: caPath, headers: headers as never }),
        configError('ERR_HEADER', message),
      );
    }
    assert.throws(
      () => new Session({ headers: { 'X-Obj': {} } as never }),
      configError('ERR_HEADER', /header 'X-Obj' has an object/),
    );
    assert.equal(server.bytesReceived, before);
  });
});

describe('headers as a Map or a Headers object (what fetch users pass)', () => {
  test('on a request, on a Session and from a request hook, as the server sees them', async () => {
    const map = new Map<string, string | number | null>([
      ['Authorization', 'Bearer secret'],
      ['X-M', 1],
    ]);
    const viaMap = (await (await get(server.url('/'), { verify: caPath, headers: map })).json()) as Echo;
    assert.equal(viaMap.headers.authorization, 'Bearer secret');
    assert.equal(viaMap.headers['x-m'], '1');
    const fetchHeaders = new Headers([
      ['Authorization', 'Bearer h'],
      ['X-H', 'a'],
    ]);
    fetchHeaders.append('X-H', 'b');
    const viaHeaders = (await (
      await get(server.url('/'), { verify: caPath, headers: fetchHeaders })
    ).json()) as Echo;
    assert.equal(viaHeaders.headers.authorization, 'Bearer h');
    assert.equal(viaHeaders.headers['x-h'], 'a, b');
    const s = new Session({ verify: caPath, headers: map });
    try {
      const e = (await (await s.get(server.url('/'))).json()) as Echo;
      assert.equal(e.headers.authorization, 'Bearer secret');
      // A request's Map removes a Session default with null, as an object does.
      const removed = (await (
        await s.get(server.url('/'), { headers: new Map([['authorization', null]]) })
      ).json()) as Echo;
      assert.equal(removed.headers.authorization, undefined);
      assert.equal(removed.headers['x-m'], '1');
      const hooked = (await (
        await s.get(server.url('/'), {
          hooks: {
            request: [
              (req) => {
                (req as { headers: unknown }).headers = new Map([['x-from-hook', 'yes']]);
              },
            ],
          },
        })
      ).json()) as Echo;
      assert.equal(hooked.headers['x-from-hook'], 'yes');
    } finally {
      await s.close();
    }
  });

  test('a Map is checked as an object is; an object with no headers of its own is refused', async () => {
    const before = server.bytesReceived;
    const bad: [unknown, RegExp][] = [
      [new Map([['X-Obj', { a: 1 }]]), /header 'X-Obj' has an object for a value/],
      [new Map([[1, 'x']]), /'1' is not a valid header name/],
      [
        new Date(),
        /headers must be an object, a Map, a Headers object or a list of \[name, value\] pairs, not a Date/,
      ],
      [new Set(['x-a']), /a list of headers holds \[name, value\] pairs/],
    ];
    for (const [headers, message] of bad) {
      await assert.rejects(
        get(server.url('/'), { verify: caPath, headers: headers as never }),
        configError('ERR_HEADER', message),
      );
    }
    assert.throws(
      () => new Session({ headers: new Map([['Bad Name', 'x']]) }),
      configError('ERR_HEADER', /'Bad Name' is not a valid header name/),
    );
    assert.equal(server.bytesReceived, before);
  });
});

describe('params, as requests has them', () => {
  test('null/undefined dropped, lists repeat, the request replaces a Session param by name, the URL query kept', async () => {
    const s = new Session({ verify: caPath, params: { a: 1, keep: 'k', gone: 'g' } });
    try {
      const e = (await (
        await s.get(server.url('/p?x=1%20y'), {
          params: { a: 2, b: [1, 'two', null, true], c: null, d: undefined, gone: null, sp: 'a b&c' },
        })
      ).json()) as Echo;
      assert.equal(e.url, '/p?x=1%20y&keep=k&a=2&b=1&b=two&b=true&sp=a+b%26c');
      const plain = (await (await s.get(server.url('/p'))).json()) as Echo;
      assert.equal(plain.url, '/p?a=1&keep=k&gone=g');
      // Pairs, a Map and URLSearchParams.
      const pairs = (await (
        await s.get(server.url('/p'), {
          params: [
            ['a', 'x'],
            ['a', 'y'],
          ],
        })
      ).json()) as Echo;
      assert.equal(pairs.url, '/p?keep=k&gone=g&a=x&a=y');
      const map = (await (
        await s.get(server.url('/p'), { params: new Map([['keep', null]]) })
      ).json()) as Echo;
      assert.equal(map.url, '/p?a=1&gone=g');
    } finally {
      await s.close();
    }
  });

  test('nested objects are ConfigError ERR_PARAMS naming the parameter', async () => {
    const before = server.bytesReceived;
    const bad: [unknown, RegExp][] = [
      [{ filter: { a: 1 } }, /params: 'filter' has an object for a value; nested objects/],
      [{ list: [1, [2]] }, /params: 'list' has an array/],
      [{ when: new Date(0) }, /params: 'when' has a Date/],
      [[['a']], /a list holds \[name, value\] pairs/],
      ['a=1', /option 'params' takes/],
    ];
    for (const [params, message] of bad) {
      await assert.rejects(
        get(server.url('/'), { verify: caPath, params: params as never }),
        configError('ERR_PARAMS', message),
      );
    }
    assert.throws(
      () => new Session({ params: { f: { a: 1 } } as never }),
      configError('ERR_PARAMS', /'f' has an object/),
    );
    assert.equal(server.bytesReceived, before);
  });
});
