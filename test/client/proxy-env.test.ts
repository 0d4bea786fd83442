/**
 * Choosing a proxy without a network: NO_PROXY matching (curl's and requests' rules, as a table),
 * which environment variable wins, proxy URL parsing, credentials and bad options.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  bypassesProxy,
  noProxyFromEnv,
  parseProxyUrl,
  proxyChooser,
  proxyFromEnv,
  resolveProxy,
  selectProxy,
} from '../../src/client/proxy.js';
import { ConfigError } from '../../src/errors.js';

// (no_proxy value, URL host, URL port, goes direct?) — rows follow curl's docs for --noproxy /
// NO_PROXY and Python's proxy_bypass_environment, which requests uses.
const NO_PROXY_TABLE: [string, string, number, boolean][] = [
  ['*', 'anything.example', 443, true],
  ['', 'example.com', 443, false],
  ['example.com', 'example.com', 443, true],
  ['example.com', 'www.example.com', 443, true],
  ['example.com', 'notexample.com', 443, false],
  ['example.com', 'example.com.evil.net', 443, false],
  ['.example.com', 'example.com', 443, true],
  ['.example.com', 'a.b.example.com', 443, true],
  ['*.example.com', 'a.example.com', 443, true],
  ['EXAMPLE.com', 'www.Example.COM', 443, true],
  ['example.com.', 'example.com', 443, true],
  ['example.com', 'example.com.', 443, true],
  ['other.org, example.com', 'example.com', 443, true],
  ['other.org example.com', 'example.com', 443, true],
  [' other.org ,, example.com ', 'example.com', 443, true],
  ['example.com:8443', 'example.com', 8443, true],
  ['example.com:8443', 'example.com', 443, false],
  ['localhost', 'localhost', 80, true],
  ['127.0.0.1', '127.0.0.1', 443, true],
  ['127.0.0.1', '127.0.0.2', 443, false],
  ['127.0.0.0/8', '127.9.9.9', 443, true],
  ['10.0.0.0/8', '11.0.0.1', 443, false],
  ['192.168.1.0/24', '192.168.1.200', 443, true],
  ['192.168.1.0/24', '192.168.2.1', 443, false],
  ['::1', '[::1]', 443, true],
  ['[::1]', '::1', 443, true],
  ['0:0::1', '[::1]', 443, true],
  ['[::1]:8080', '[::1]', 8080, true],
  ['[::1]:8080', '[::1]', 443, false],
  ['fd00::/8', '[fd12::5]', 443, true],
  ['fd00::/8', '[fe80::1]', 443, false],
  ['127.0.0.1:8080', '127.0.0.1', 8080, true],
  ['127.0.0.1:8080', '127.0.0.1', 80, false],
  // A name entry never matches an IP host, nor a CIDR a name.
  ['1', '127.0.0.1', 443, false],
  ['10.0.0.0/8', 'ten.example', 443, false],
  // Malformed entries match nothing (and do not throw).
  ['[::1', '::1', 443, false],
  ['10.0.0.0/99', '10.0.0.1', 443, false],
  ['example.com:port', 'example.com', 443, false],
];

describe('NO_PROXY', () => {
  for (const [list, host, port, direct] of NO_PROXY_TABLE) {
    test(`'${list}' ${direct ? 'bypasses' : 'does not bypass'} ${host}:${port}`, () => {
      assert.equal(bypassesProxy(list, host, port), direct);
    });
  }

  test('a list of entries works like a comma-separated string', () => {
    assert.equal(bypassesProxy(['a.test', 'example.com'], 'x.example.com', 443), true);
    assert.equal(bypassesProxy(['a.test', 'b.test'], 'x.example.com', 443), false);
  });

  test('no_proxy wins over NO_PROXY', () => {
    assert.equal(noProxyFromEnv({ no_proxy: 'a', NO_PROXY: 'b' }), 'a');
    assert.equal(noProxyFromEnv({ NO_PROXY: 'b' }), 'b');
    assert.equal(noProxyFromEnv({}), undefined);
  });
});

describe('proxy environment variables', () => {
  test('https URLs use https_proxy, then HTTPS_PROXY, then all_proxy / ALL_PROXY', () => {
    assert.deepEqual(proxyFromEnv('https:', { https_proxy: 'a', HTTPS_PROXY: 'b', ALL_PROXY: 'c' }), {
      name: 'https_proxy',
      value: 'a',
    });
    assert.equal(proxyFromEnv('https:', { HTTPS_PROXY: 'b', ALL_PROXY: 'c' })?.name, 'HTTPS_PROXY');
    assert.equal(proxyFromEnv('https:', { ALL_PROXY: 'c' })?.name, 'ALL_PROXY');
    assert.equal(proxyFromEnv('https:', { HTTP_PROXY: 'x' }), undefined, 'HTTP_PROXY is for http URLs only');
  });

  test('http URLs use http_proxy and HTTP_PROXY, but not HTTP_PROXY under CGI (httpoxy)', () => {
    assert.equal(proxyFromEnv('http:', { HTTP_PROXY: 'b' })?.name, 'HTTP_PROXY');
    assert.equal(proxyFromEnv('http:', { HTTP_PROXY: 'b', REQUEST_METHOD: 'GET' }), undefined);
    assert.equal(proxyFromEnv('http:', { http_proxy: 'a', REQUEST_METHOD: 'GET' })?.name, 'http_proxy');
  });

  test('an empty variable means no proxy and stops the search', () => {
    assert.equal(proxyFromEnv('https:', { https_proxy: '', HTTPS_PROXY: 'http://p:1' }), undefined);
  });

  test('proxyChooser reads the env once; NO_PROXY applies to env proxies', () => {
    const env = { HTTPS_PROXY: 'proxy.test:3128', NO_PROXY: 'direct.test' };
    const choose = proxyChooser({ env });
    assert.equal(
      choose({ protocol: 'https:', hostname: 'a.test', port: '' })?.display,
      'http://proxy.test:3128',
    );
    assert.equal(choose({ protocol: 'https:', hostname: 'x.direct.test', port: '' }), null);
    assert.equal(choose({ protocol: 'http:', hostname: 'a.test', port: '' }), null, 'no HTTP_PROXY');
    assert.equal(choose({ protocol: 'https:', hostname: 'a.test', port: '' })?.source, 'HTTPS_PROXY');
  });

  test('trustEnv: false and proxy: false ignore the environment', () => {
    const env = { HTTPS_PROXY: 'http://proxy.test:3128' };
    const url = { protocol: 'https:', hostname: 'a.test', port: '' };
    assert.equal(selectProxy(url, { env, trustEnv: false }), null);
    assert.equal(selectProxy(url, { env, proxy: false }), null);
    assert.equal(selectProxy(url, { env, proxy: null }), null);
  });

  test('the proxy option wins over the env; NO_PROXY from the env does not apply to it, noProxy does', () => {
    const env = { HTTPS_PROXY: 'http://env.test:1', NO_PROXY: '*' };
    const url = { protocol: 'https:', hostname: 'a.test', port: '' };
    assert.equal(selectProxy(url, { env, proxy: 'http://code.test:2' })?.display, 'http://code.test:2');
    assert.equal(selectProxy(url, { env, proxy: 'http://code.test:2', noProxy: 'a.test' }), null);
    assert.equal(selectProxy(url, { env, noProxy: 'other.test' })?.display, 'http://env.test:1');
  });

  test('a malformed env proxy is a ConfigError naming the variable (at once when eager, else on use)', () => {
    const env = { HTTPS_PROXY: 'socks4://p:1080' };
    const check = (e: unknown) =>
      e instanceof ConfigError && e.code === 'ERR_PROXY_OPTION' && /HTTPS_PROXY/.test(e.message);
    assert.throws(() => proxyChooser({ env }, { eager: true }), check);
    const lazy = proxyChooser({ env });
    assert.equal(lazy({ protocol: 'http:', hostname: 'a.test', port: '' }), null, 'http URLs do not read it');
    assert.throws(() => lazy({ protocol: 'https:', hostname: 'a.test', port: '' }), check);
  });

  test('the environment is read once per chooser', () => {
    const env: NodeJS.ProcessEnv = { HTTPS_PROXY: 'http://one.test:1' };
    const choose = proxyChooser({ env });
    const url = { protocol: 'https:', hostname: 'a.test', port: '' };
    assert.equal(choose(url)?.display, 'http://one.test:1');
    env.HTTPS_PROXY = 'http://two.test:2';
    assert.equal(choose(url)?.display, 'http://one.test:1');
    assert.equal(proxyChooser({ env })(url)?.display, 'http://two.test:2');
  });
});

describe('proxy URLs and credentials', () => {
  test('no scheme means http://; the port defaults to the scheme', () => {
    assert.equal(parseProxyUrl('proxy.test:3128', 'p').href, 'http://proxy.test:3128/');
    assert.equal(resolveProxy('proxy.test', 'p').port, 80);
    assert.equal(resolveProxy('https://proxy.test', 'p', { proxyVerify: false }).port, 443);
    assert.equal(resolveProxy('http://[::1]:8080', 'p').host, '::1');
    assert.equal(resolveProxy('http://[::1]:8080', 'p').display, 'http://[::1]:8080');
  });

  test('credentials in the URL become Basic Proxy-Authorization; the display has none', () => {
    const p = resolveProxy('http://us%20er:p%40ss@proxy.test:3128', 'p');
    assert.equal(p.headers['proxy-authorization'], `Basic ${Buffer.from('us er:p@ss').toString('base64')}`);
    assert.equal(p.display, 'http://proxy.test:3128');
    assert.ok(!p.key.includes('p@ss') && !p.key.includes('p%40ss'));
  });

  test('auth replaces URL credentials; headers replace both', () => {
    const a = resolveProxy({ url: 'http://x:y@proxy.test', auth: 'u:p' }, 'p');
    assert.equal(a.headers['proxy-authorization'], `Basic ${Buffer.from('u:p').toString('base64')}`);
    const b = resolveProxy({ url: 'http://proxy.test', auth: { username: 'u', password: 'p:q' } }, 'p');
    assert.equal(b.headers['proxy-authorization'], `Basic ${Buffer.from('u:p:q').toString('base64')}`);
    const c = resolveProxy(
      { url: 'http://x:y@proxy.test', headers: { 'Proxy-Authorization': 'Bearer t0k' } },
      'p',
    );
    assert.equal(c.headers['proxy-authorization'], 'Bearer t0k');
  });

  test('different credentials or proxy trust give different pool keys', () => {
    const keys = new Set([
      resolveProxy('http://a:1@proxy.test', 'p').key,
      resolveProxy('http://a:2@proxy.test', 'p').key,
      resolveProxy('http://proxy.test', 'p').key,
      resolveProxy('https://proxy.test', 'p', { proxyVerify: false }).key,
      resolveProxy('https://proxy.test', 'p', { trustEnv: false }).key,
    ]);
    assert.equal(keys.size, 5);
  });

  const BAD: [unknown, RegExp][] = [
    ['', /empty/],
    ['socks4://p:1080', /SOCKS4 proxy; only SOCKS5/],
    [{ url: 'socks5://p', headers: { 'x-a': 'a' } }, /SOCKS5 proxy takes none/],
    ['ftp://p:21', /only http:\/\/, https:\/\/, socks5/],
    ['http://', /not a valid URL|no host/],
    ['http://p:99999', /not a valid URL/],
    [42, /must be a URL string/],
    [{ url: 'http://p', auth: 'nocolon' }, /user:password/],
    [{ url: 'http://p', headers: { 'bad name': 'x' } }, /not a header name/],
    [{ url: 'http://p', headers: { 'x-a': 'a\r\nx-b: b' } }, /line break/],
  ];
  for (const [value, why] of BAD) {
    test(`proxy ${JSON.stringify(value)} is a ConfigError (${why.source})`, () => {
      assert.throws(
        () => resolveProxy(value as string, 'the proxy option'),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.code === 'ERR_PROXY_OPTION' &&
          why.test(e.message) &&
          e.hint !== undefined,
      );
    });
  }

  test('noProxy of the wrong type is a ConfigError', () => {
    assert.throws(() => proxyChooser({ proxy: 'http://p', noProxy: 5 as unknown as string }), ConfigError);
  });
});
