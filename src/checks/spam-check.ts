import type { CheckResult } from './check.js';
import type { SpamScore } from './spam-report.js';

const points = (n: number) => (Number.isInteger(n * 10) ? n.toFixed(1) : String(n));

/**
 * SpamAssassin's score against Dispatch's own threshold (SPAM_THRESHOLD): `fail` at or over it,
 * `warn` within a point of it, each rule that hit as a finding, the heaviest first.
 */
export function spamCheck(verdict: Pick<SpamScore, 'score' | 'rules' | 'version'>, threshold: number): CheckResult {
  const state = verdict.score >= threshold ? 'fail' : verdict.score >= threshold - 1 ? 'warn' : 'ok';
  const rules = [...verdict.rules].sort((a, b) => b.points - a.points);
  return {
    id: 'spam',
    name: 'Spam',
    state,
    summary: `${points(verdict.score)} points, threshold ${points(threshold)} (SpamAssassin ${verdict.version}, local rules only)`,
    findings: rules.map((rule) => ({
      state: rule.points > 0 ? (state === 'fail' ? 'fail' : 'warn') : 'ok',
      text: rule.description,
      rule: rule.name,
      points: rule.points,
    })),
  };
}

/** The spam check when SpamAssassin could not score the message: said, never an error. */
export function spamUnchecked(why: string): CheckResult {
  return { id: 'spam', name: 'Spam', state: 'unchecked', summary: why, findings: [] };
}
