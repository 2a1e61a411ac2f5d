import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'dispatch-imports-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function importsOf(args: string[]): string[] {
  const log = join(tmp, `${args.join('-').replace(/\W+/g, '_')}.log`);
  const result = spawnSync(
    process.execPath,
    ['--import', './tests/helpers/import-recorder.mjs', 'bin/dispatch.js', ...args],
    {
      cwd: ROOT,
      env: { ...process.env, IMPORT_LOG: log },
      encoding: 'utf8',
    },
  );
  expect(result.status, result.stderr).toBe(0);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

describe('what a command loads', () => {
  it('dispatch parse of scraped text loads neither MJML, queues, mail nor the HTML reader', () => {
    const loaded = importsOf(['parse', 'examples/harbour-ferry-returns.txt', '--json']);
    expect(loaded).toContain('sbd');
    for (const heavy of ['mjml', 'bullmq', 'ioredis', 'nodemailer', 'handlebars', 'linkedom', '@mozilla/readability']) {
      expect(loaded, heavy).not.toContain(heavy);
    }
  });

  it('the recorder sees MJML when a command does load it', () => {
    const loaded = importsOf([
      'newsletter',
      '--from',
      'examples',
      '--now',
      '2026-11-27T09:00:00Z',
      '--out',
      join(tmp, 'out'),
    ]);
    expect(loaded).toContain('mjml');
  });
});
