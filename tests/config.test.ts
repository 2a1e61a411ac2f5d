import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { isDispatchError } from '../src/errors.js';

describe('loadConfig', () => {
  it('gives working defaults on an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      REDIS_URL: undefined,
      SMTP_URL: 'smtp://127.0.0.1:2525',
      PREVIEW_HOST: '127.0.0.1',
      PREVIEW_PORT: 3000,
      TZ: 'UTC',
      MAX_INPUT_BYTES: 5 * 1024 * 1024,
    });
  });

  const valid: [string, Record<string, string>, Record<string, unknown>][] = [
    ['handle gains its @', { TWITTER_HANDLE: 'examplenews' }, { TWITTER_HANDLE: '@examplenews' }],
    [
      'trailing slash trimmed from SITE_URL',
      { SITE_URL: 'https://site.example/' },
      { SITE_URL: 'https://site.example' },
    ],
    ['port from a string', { PREVIEW_PORT: '4000' }, { PREVIEW_PORT: 4000 }],
    ['empty string means unset', { REDIS_URL: '' }, { REDIS_URL: undefined }],
    [
      'rediss is accepted',
      { REDIS_URL: 'rediss://user:pw@redis.example:6380/2' },
      { REDIS_URL: 'rediss://user:pw@redis.example:6380/2' },
    ],
    ['a real time zone', { TZ: 'Europe/London' }, { TZ: 'Europe/London' }],
  ];
  it.each(valid)('%s', (_name, env, expected) => {
    expect(loadConfig(env)).toMatchObject(expected);
  });

  const invalid: [string, Record<string, string>, string][] = [
    [
      'SMTP_URL without a scheme',
      { SMTP_URL: 'localhost' },
      'SMTP_URL must be an smtp:// or smtps:// URL (got "localhost")',
    ],
    [
      'REDIS_URL over http',
      { REDIS_URL: 'http://x' },
      'REDIS_URL must be a redis:// or rediss:// URL (got "http://x")',
    ],
    ['javascript: site', { SITE_URL: 'javascript:alert(1)' }, 'SITE_URL must be an http(s) URL'],
    ['bad port', { PREVIEW_PORT: 'abc' }, 'PREVIEW_PORT must be a port number (0-65535) (got "abc")'],
    ['port too high', { PREVIEW_PORT: '70000' }, 'PREVIEW_PORT must be a port number (0-65535)'],
    ['unknown zone', { TZ: 'Mars/Olympus' }, 'TZ must be an IANA time zone'],
    ['bad handle', { TWITTER_HANDLE: 'has space' }, 'TWITTER_HANDLE must be a Twitter handle'],
    ['negative size', { MAX_INPUT_BYTES: '-5' }, 'MAX_INPUT_BYTES must be a positive whole number'],
  ];
  it.each(invalid)('rejects %s', (_name, env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('lists every bad variable in one error with code E_CONFIG', () => {
    try {
      loadConfig({ SMTP_URL: 'nope', TZ: 'Nowhere/Land', PREVIEW_PORT: 'x' });
      expect.unreachable();
    } catch (error) {
      expect(isDispatchError(error, 'E_CONFIG')).toBe(true);
      const message = (error as Error).message;
      expect(message).toMatch(/^Invalid configuration: /);
      for (const key of ['SMTP_URL', 'TZ', 'PREVIEW_PORT']) expect(message).toContain(key);
      expect(message.split('\n')).toHaveLength(1);
    }
  });
});
