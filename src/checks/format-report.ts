import type { CheckResult, CheckState, Finding } from './check.js';

/** The mark before a check or a finding, the same in the terminal and the preview. */
export const STATE_MARK: Record<CheckState, string> = { ok: '✓', warn: '!', fail: '✗', unchecked: '?' };

/** Most findings printed under one check; the rest are counted (`--json` has them all). */
const FINDINGS_SHOWN = 12;

function findingLine(finding: Finding): string {
  const rule = finding.rule ? `${finding.points?.toFixed(1).padStart(5)} ${finding.rule}: ` : '';
  const client = finding.client ? `${finding.client}: ` : '';
  const place = [finding.where, finding.url].filter(Boolean).join(': ');
  const where = place ? ` (${place})` : '';
  return `    ${STATE_MARK[finding.state]} ${rule}${client}${finding.text}${where}`;
}

/** One check as lines: its mark, name and summary, then its findings that are not ok. */
export function checkLines(check: CheckResult): string[] {
  const findings = check.findings.filter((f) => f.state !== 'ok' || f.rule !== undefined);
  const shown = findings.slice(0, FINDINGS_SHOWN).map(findingLine);
  if (findings.length > shown.length)
    shown.push(`    … and ${findings.length - shown.length} more (--json lists them all)`);
  return [`${STATE_MARK[check.state]} ${check.name.padEnd(14)} ${check.summary}`, ...shown];
}

/** The last line: what failed, or that nothing did. */
export function verdictLine(checks: readonly CheckResult[]): string {
  const failed = checks.filter((c) => c.state === 'fail').map((c) => c.name);
  const warned = checks.filter((c) => c.state === 'warn').length;
  if (failed.length) return `${failed.length} check(s) failed: ${failed.join(', ')}`;
  return warned ? `no check failed (${warned} to look at)` : 'every check passed';
}
