import { type CheckResult, type CheckState, worstState } from '../src/checks/check.js';
import { checkCompatibility } from '../src/checks/compatibility.js';
import { checkMjml, checkPreheader, checkSize, checkSubject, checkUnsubscribe } from '../src/checks/message-checks.js';
import { spamCheck, spamUnchecked } from '../src/checks/spam-check.js';
import { archiveUrlOf, type Config } from '../src/config.js';
import { isDispatchError } from '../src/errors.js';
import { compileMjml } from '../src/newsletter/compile-template.js';
import type { Recipient } from '../src/newsletter/personalize.js';
import { recipientFor } from '../src/newsletter/recipient-links.js';
import { domainOf, type OutgoingMessage, toMessage } from '../src/newsletter/to-message.js';
import { checkImages, checkLinks } from './check-links.js';
import { rawMessage } from './mailer.js';
import { loadSampleRecipient } from './sample-recipient.js';
import { ensureSpamd, type Spamd } from './spamd.js';
import type { StoredIssue } from './store.js';

/** Every check of one week's issue, as `dispatch check` prints it and the preview's panel shows it. */
export interface CheckReport {
  week: string;
  /** Whom the checked message is for: the sample recipient (templates/sample-recipient.json). */
  recipient: string;
  /** The build that was checked. */
  builtAt: string;
  /** The worst state of the checks: `fail` makes `dispatch check` exit non-zero. */
  state: CheckState;
  checks: CheckResult[];
}

export interface CheckIssueOptions {
  config: Config;
  templatesDir: string;
  /**
   * Which checks to run: `quick` the ones that read only the message (size, MJML, subject,
   * preheader, unsubscribe, compatibility, link syntax and images' attributes); `full` adds what
   * takes the network or SpamAssassin (links reached, image sizes, the spam score).
   * @defaultValue 'full'
   */
  depth?: 'quick' | 'full';
  /** Skips fetching links and images (`dispatch check --offline`): those parts say "unchecked". */
  offline?: boolean;
  /** The SpamAssassin to score with. @defaultValue the managed spamd under DATA_DIR (io/spamd.ts) */
  spamd?: () => Promise<Spamd>;
  /** Ends the link checks early (what is not done is "unchecked"). */
  signal?: AbortSignal;
  /**
   * The message to check and whom it is for, when the caller has it already (the preview checks
   * the message it shows). @defaultValue {@link sampleMessage}'s
   */
  sample?: CheckedSample;
}

/** A personalized message and the recipient whose links it carries. */
export interface CheckedSample {
  message: OutgoingMessage;
  recipient: Recipient;
}

/** The message the list send would write for the sample recipient, with its recipient links. */
function sampleMessage(week: string, stored: StoredIssue, config: Config, templatesDir: string): CheckedSample {
  const sample = loadSampleRecipient(templatesDir);
  const recipient = recipientFor(sample.email, sample.firstName, config);
  const message = toMessage(stored, recipient, config, {
    token: `${week}.check`,
    unsubscribeMailto: `unsubscribe@${domainOf(config.MAIL_FROM)}`,
  });
  return { message, recipient };
}

/**
 * MJML's own validation of the stored build's markup. Builds are rendered at strict validation, so
 * this finds errors only in a build stored otherwise (by an older Dispatch, or edited in Redis).
 */
async function mjmlErrors(stored: StoredIssue): Promise<string[]> {
  try {
    return (await compileMjml(stored.mjml, 'soft', (e) => `issue.mjml line ${e.line} <${e.tagName}>: ${e.message}`))
      .warnings;
  } catch (error) {
    if (!isDispatchError(error)) throw error;
    return [`${error.code}: ${error.message}`];
  }
}

async function scoreSpam(message: OutgoingMessage, config: Config, spamd: () => Promise<Spamd>): Promise<CheckResult> {
  const raw = await rawMessage(message, { dkim: config });
  try {
    const verdict = await (await spamd()).score(raw);
    return spamCheck(verdict, config.SPAM_THRESHOLD);
  } catch (error) {
    if (!isDispatchError(error)) throw error;
    return spamUnchecked(`${error.code}: ${error.message}`);
  }
}

/**
 * Checks a stored build as the sample recipient gets it: the HTML part against Gmail's clip, its
 * MJML, subject and preheader, the unsubscribe link, email-client compatibility (caniemail's
 * data), links and images, and the complete MIME message (headers included, DKIM-signed when set)
 * scored by SpamAssassin on this machine. Nothing leaves the machine but the link checks' requests
 * to the links themselves, through the fetch policy.
 */
export async function checkIssue(week: string, stored: StoredIssue, options: CheckIssueOptions): Promise<CheckReport> {
  const { config } = options;
  const { message, recipient } = options.sample ?? sampleMessage(week, stored, config, options.templatesDir);
  const full = (options.depth ?? 'full') === 'full';
  const linkOptions = {
    allowPrivate: config.ALLOW_PRIVATE_URLS,
    skip: [recipient.unsubscribeUrl, recipient.preferencesUrl],
    utm: config.UTM_PARAMS,
    siteUrl: config.SITE_URL,
    ownPages: [config.PUBLIC_URL, archiveUrlOf(config)],
    offline: !full || options.offline === true,
    signal: options.signal,
  };
  const [mjml, links, images, spam] = await Promise.all([
    mjmlErrors(stored),
    checkLinks(message.html, linkOptions),
    checkImages(message.html, linkOptions),
    full ? scoreSpam(message, config, options.spamd ?? (() => ensureSpamd(config))) : null,
  ]);
  const size = checkSize(message);
  // The build's own notes (what it cut to fit the budget) belong with the size.
  for (const text of stored.warnings) size.findings.push({ state: 'warn', text });
  if (stored.warnings.length && size.state === 'ok') size.state = 'warn';
  const checks: CheckResult[] = [
    size,
    checkMjml({ mjmlErrors: mjml }),
    checkSubject(message),
    checkPreheader({ preheader: stored.issue.preheader }),
    checkUnsubscribe({ html: message.html, unsubscribeUrl: recipient.unsubscribeUrl }),
    checkCompatibility(message.html),
    links,
    images,
    spam ?? spamUnchecked('not run: the quick checks only'),
  ];
  return {
    week,
    recipient: recipient.email,
    builtAt: stored.builtAt,
    state: worstState(checks.map((c) => c.state)),
    checks,
  };
}
