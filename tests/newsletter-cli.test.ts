import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'dispatch-newsletter-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('dispatch newsletter', () => {
  it('writes issue.mjml, issue.html, issue.txt and issue.json for the week of --now', async () => {
    const out = join(tmp, 'issue');
    const result = await runCli(['newsletter', '--from', 'examples', '--now', '2026-11-27T09:00:00Z', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^2026-W48: "The Example Times weekly: .+", 5 article\(s\), \d+ bytes personalized \(budget 100000\)\n/,
    );
    expect(readdirSync(out).sort()).toEqual(['issue.html', 'issue.json', 'issue.mjml', 'issue.txt']);
    const { issue, bytes, warnings } = JSON.parse(readFileSync(join(out, 'issue.json'), 'utf8'));
    expect(issue.week).toBe('2026-W48');
    expect(bytes).toBeLessThanOrEqual(100_000);
    expect(warnings).toEqual([]);
    expect(readFileSync(join(out, 'issue.mjml'), 'utf8')).toMatch(/^\s*<mjml lang="en" dir="ltr">/);
    expect(readFileSync(join(out, 'issue.html'), 'utf8')).toContain('{{unsubscribeUrl}}');
  });

  it('E_WEEK_INVALID for a malformed week, E_ISSUE_EMPTY for a week without articles', async () => {
    const bad = await runCli(['newsletter', '--from', 'examples', '--week', '2026-48', '--out', join(tmp, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^dispatch: E_WEEK_INVALID: not an ISO week: "2026-48"/);
    const empty = await runCli([
      'newsletter',
      '--from',
      'examples',
      '--week',
      '2013-W37',
      '--now',
      '2026-11-27T09:00:00Z',
      '--out',
      join(tmp, 'y'),
    ]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^dispatch: E_ISSUE_EMPTY: no articles were published in 2013-W37 \(UTC\)/);
  });
});
