import { escapeHtml } from '../newsletter/escape-for-template.js';
import { NAME_MAX } from './signup-fields.js';

export interface SignupFormOptions {
  /** Where it posts: PUBLIC_URL/subscribe for the embeddable form; relative on the hosted page. */
  action: string;
  /** A line above the fields, in the site's name (the embeddable form has no page around it). */
  intro?: string;
  /** The hosted page's signed fill-time field (fillTimeToken); the embeddable form has none. */
  started?: string;
  /** What was typed, shown again with an error. */
  values?: { email?: string; name?: string };
  /** Why the address was refused: shown under the field and tied to it (aria-describedby). */
  error?: string;
}

const ID = 'dispatch-signup';

/**
 * The sign-up form, one markup for the hosted page and `dispatch form`: an address, an optional
 * name, the honeypot and the "Join our Weekly Newsletter" button. No script: it works wherever
 * HTML does. Every value is escaped. The honeypot `website` is moved off-screen, hidden from
 * assistive technology (aria-hidden) and out of the tab order, so people never meet it; scripts
 * that fill every field do. `accept-charset` keeps the post UTF-8 on a page in another charset.
 */
export function signupForm(options: SignupFormOptions): string {
  const e = escapeHtml;
  const invalid = options.error ? ` aria-invalid="true" aria-describedby="${ID}-email-error" autofocus` : '';
  return [
    `<form method="post" action="${e(options.action)}" accept-charset="utf-8" class="${ID}">`,
    options.intro ? `<p class="${ID}-intro">${e(options.intro)}</p>` : '',
    `<p><label for="${ID}-email">Email address</label><br>`,
    `<input id="${ID}-email" name="email" type="email" required maxlength="254" autocomplete="email" spellcheck="false" autocapitalize="off" value="${e(options.values?.email ?? '')}"${invalid}></p>`,
    options.error ? `<p id="${ID}-email-error" class="${ID}-error">${e(options.error)}</p>` : '',
    `<p><label for="${ID}-name">Name (optional)</label><br>`,
    `<input id="${ID}-name" name="name" type="text" maxlength="${NAME_MAX}" autocomplete="name" value="${e(options.values?.name ?? '')}"></p>`,
    `<div aria-hidden="true" style="position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden">`,
    `<label for="${ID}-website">Leave this field empty</label>`,
    `<input id="${ID}-website" name="website" type="text" tabindex="-1" autocomplete="off" value=""></div>`,
    options.started ? `<input type="hidden" name="started" value="${e(options.started)}">` : '',
    '<p><button type="submit">Join our Weekly Newsletter</button></p>',
    `<p class="${ID}-note">We will email you a link to confirm. Every issue has a link to unsubscribe.</p>`,
    '</form>',
  ]
    .filter(Boolean)
    .join('\n');
}
