import { loadEnvironment } from '../../io/load-environment.js';
import { signupForm } from '../../src/signup/signup-form.js';

/**
 * `dispatch form`: the HTML of the embeddable sign-up form, for the article template where "Join
 * our Weekly Newsletter" stands. A plain form that posts to PUBLIC_URL/subscribe: no script, so
 * it works under any site's Content-Security-Policy, and the reader lands on the "check your
 * inbox" page there.
 */
export async function formCommand(): Promise<void> {
  const config = loadEnvironment();
  const form = signupForm({
    action: `${config.PUBLIC_URL}/subscribe`,
    intro: `The week's top stories from ${config.SITE_NAME}, in your inbox every week.`,
  });
  process.stdout.write(`<!-- The weekly newsletter's sign-up form, from dispatch form -->\n${form}\n`);
}
