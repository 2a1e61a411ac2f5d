/**
 * What `dispatch check` and the preview's checks panel report: one list of checks over the whole
 * message Dispatch sends to the sample recipient.
 *
 * - `fail`: the issue should not go as it is (`dispatch check` exits non-zero);
 * - `warn`: worth a look, sends anyway;
 * - `unchecked`: could not be checked here (offline, SpamAssassin not installed), never an error;
 * - `ok`.
 */
export type CheckState = 'ok' | 'warn' | 'fail' | 'unchecked';

/** One thing a check found: a feature a client lacks, a link, an image, a SpamAssassin rule. */
export interface Finding {
  /** In words, for a person: "`display:flex` is not supported". */
  text: string;
  state: Exclude<CheckState, 'ok'> | 'ok';
  /** Where in the message: "line 12 of the HTML", "in <style>", a URL. */
  where?: string;
  /** Compatibility: the email client ("Outlook on Windows"). */
  client?: string;
  /** Spam: the rule's name (HTML_IMAGE_ONLY_16) and its points. */
  rule?: string;
  points?: number;
  /** Links and images: the URL the finding is about. */
  url?: string;
}

export type CheckId =
  | 'size'
  | 'mjml'
  | 'subject'
  | 'preheader'
  | 'unsubscribe'
  | 'compatibility'
  | 'links'
  | 'images'
  | 'spam';

export interface CheckResult {
  id: CheckId;
  /** Its heading: "Size", "Compatibility", "Spam". */
  name: string;
  state: CheckState;
  /** One line: "4 clients lack 6 features", "2.1 points of 5 (SpamAssassin 4.0.1)". */
  summary: string;
  findings: Finding[];
}

/** The worst of some states: fail > warn > unchecked > ok. */
export function worstState(states: Iterable<CheckState>): CheckState {
  const rank: Record<CheckState, number> = { ok: 0, unchecked: 1, warn: 2, fail: 3 };
  let worst: CheckState = 'ok';
  for (const state of states) if (rank[state] > rank[worst]) worst = state;
  return worst;
}
