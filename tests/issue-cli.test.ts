import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSendLedger } from '../io/send-ledger.js';
import { isoWeekOf } from '../src/newsletter/iso-week.js';
import { cliEnv, testConfig, testContext, useTestRedis } from './helpers/queue-harness.js';
import { type CliResult, runCli } from './helpers/run-cli.js';
import { seedList } from './helpers/seed-list.js';

const redis = useTestRedis('issue-cli');

const NOW = new Date();
const WEEK = isoWeekOf(NOW, 'UTC');

/** A failure as the CLI reports bad input: one line on stderr with its code, exit code 2, nothing on stdout. */
function expectRefused(result: CliResult, code: string): void {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(new RegExp(`^dispatch: ${code}: [^\\n]+\\n$`));
}

describe('dispatch issue (real Redis, the real command)', () => {
  it('refuses a bad week, an empty edit and two notes with one line and exit code 2', async () => {
    const env = cliEnv(redis.url, testConfig());
    const [show, approve, hold, empty, twoNotes] = await Promise.all([
      runCli(['issue', 'show', '2026-W99'], { env }),
      runCli(['issue', 'approve', 'next friday'], { env }),
      runCli(['issue', 'hold', '2026-W1\u001b[2J'], { env }),
      runCli(['issue', 'edit', WEEK], { env }),
      runCli(['issue', 'edit', WEEK, '--note', 'a', '--note-file', 'b.txt'], { env }),
    ]);
    for (const result of [show, approve, hold]) expectRefused(result as CliResult, 'E_WEEK_INVALID');
    // The terminal escape in the week is shown, never obeyed.
    expect(hold?.stderr).toContain('2026-W1\\x1b[2J');
    expectRefused(empty as CliResult, 'E_INPUT_FORMAT');
    expect(empty?.stderr).toContain('nothing to edit');
    expectRefused(twoNotes as CliResult, 'E_INPUT_FORMAT');
  });

  it('show, hold, approve while held, release, edit, approve, then hold and edit a sent issue', {
    timeout: 60_000,
  }, async () => {
    const config = testConfig();
    const ctx = testContext(redis.url, config);
    const env = cliEnv(redis.url, config);
    const cli = (...args: string[]) => runCli(['issue', ...args], { env });
    try {
      await seedList(ctx.redis, config, 3, 'reader', NOW);
      const shown = await cli('show', WEEK);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout.split('\n')[0]).toBe(
        `${WEEK}: built; waits for approval: dispatch issue approve ${WEEK}; no proof: EDITOR_EMAILS is empty`,
      );
      expect(shown.stdout).toContain(
        `preview http://127.0.0.1:3000/issues/${WEEK}; archive http://127.0.0.1:3001/archive/${WEEK}`,
      );

      expect((await cli('hold', WEEK)).stdout).toBe(
        `${WEEK}: held; nothing goes out until: dispatch issue release ${WEEK}\n`,
      );
      const whileHeld = await cli('approve', WEEK);
      expectRefused(whileHeld, 'E_ISSUE_HELD');
      expect(whileHeld.stderr).toContain(`dispatch issue release ${WEEK}`);
      // The send by hand goes through the same claim: a held issue does not go out that way either.
      const sentByHand = await runCli(['send', '--week', WEEK], { env });
      expectRefused(sentByHand, 'E_ISSUE_HELD');
      expect(await createSendLedger(ctx.redis, config.REDIS_PREFIX).get(WEEK)).toBeNull();
      const released = await cli('release', WEEK);
      expect(released.stdout).toBe(
        `${WEEK}: released\n${WEEK}: built; waits for approval: dispatch issue approve ${WEEK}; no proof: EDITOR_EMAILS is empty\n`,
      );

      const unknown = await cli('edit', WEEK, '--drop', 'feedc0de00000000');
      expectRefused(unknown, 'E_NOT_FOUND');
      expect(unknown.stderr).toContain(`"feedc0de00000000" was published in ${WEEK}`);
      const noteFile = join(redis.tmp, 'note.txt');
      writeFileSync(noteFile, 'A short week.\n\nThank you for reading.\n');
      const edited = await runCli(['issue', 'edit', WEEK, '--note-file', noteFile, '--direct'], { env });
      expect(edited.code, edited.stderr).toBe(0);
      expect(edited.stdout).toMatch(
        new RegExp(
          `^${WEEK}: edit saved; edits: revision 1 \\(lead automatic, 0 dropped, newest first, a note of 37 characters\\)\\n${WEEK}: rebuilt \\S+ \\(5 stories\\); see it: dispatch issue show ${WEEK}\\n$`,
        ),
      );
      expect((await ctx.store.getIssue(WEEK))?.issue.note).toEqual(['A short week.', 'Thank you for reading.']);
      const json = JSON.parse((await cli('show', WEEK, '--json')).stdout);
      expect(json).toMatchObject({ week: WEEK, state: 'built', curation: { revision: 1 }, editors: [] });
      expectRefused(await cli('proof', WEEK), 'E_CONFIG');

      // No worker is needed for the send to start: its batches wait in the queue.
      const approved = await cli('approve', WEEK);
      expect(approved.stdout).toBe(`${WEEK}: approved; queued 3 recipient(s) in 1 batch(es)\n`);
      const [hold, edit, again] = await Promise.all([
        cli('hold', WEEK),
        cli('edit', WEEK, '--note', 'too late'),
        cli('approve', WEEK),
      ]);
      expectRefused(hold as CliResult, 'E_ISSUE_SENT');
      expect(hold?.stderr).toContain(`dispatch send --pause ${WEEK}`);
      expectRefused(edit as CliResult, 'E_ISSUE_SENT');
      // A second approval is no error: it says where the send stands.
      expect(again?.code, again?.stderr).toBe(0);
      expect(again?.stdout).toMatch(
        new RegExp(`^${WEEK}: its send had started; every batch not done is queued again\\n${WEEK}: sending, 0 sent`),
      );
      const status = await runCli(['status'], { env });
      expect(status.stdout).toMatch(new RegExp(`\\nIssues:\\n  ${WEEK}: sending, 0 sent, 0 failed`));
    } finally {
      await ctx.close();
    }
  });

  it('proof queues one "[Proof]" send per editor, and show says when it was queued', async () => {
    const config = testConfig({ EDITOR_EMAILS: 'ana@example.net, Ben@Example.net' });
    const ctx = testContext(redis.url, config);
    const env = cliEnv(redis.url, config, { EDITOR_EMAILS: 'ana@example.net, Ben@Example.net' });
    try {
      await seedList(ctx.redis, config, 1, 'reader', NOW);
      const proof = await runCli(['issue', 'proof', WEEK], { env });
      expect(proof.code, proof.stderr).toBe(0);
      expect(proof.stdout).toBe(`${WEEK}: proof queued to ana@example.net, ben@example.net\n`);
      const jobs = (await ctx.queues.send.getJobs(['wait'])).filter((j) => j.data.proof === true);
      expect(jobs.map((j) => j.data.to).sort()).toEqual(['ana@example.net', 'ben@example.net']);
      expect(new Set(jobs.map((j) => j.data.testSuffix)).size).toBe(1);
      expect(jobs.every((j) => j.data.firstName === 'Sam')).toBe(true);
      const shown = await runCli(['issue', 'show', WEEK], { env });
      expect(shown.stdout).toMatch(/proof queued \S+ to 2 editor\(s\)/);
    } finally {
      await ctx.close();
    }
  });
});
