// npm run bench:render: per-recipient cost of an issue, two ways, on the same 10-card issue in the
// same run: (a) personalize() of an issue compiled once, (b) Handlebars + MJML compiled anew for
// each recipient. Prints both rates, their ratio, and the compile time of the 10-card issue.
import { loadConfig } from '../src/config.js';
import { buildIssue } from '../src/newsletter/build-issue.js';
import { personalize } from '../src/newsletter/personalize.js';
import { renderIssue } from '../src/newsletter/render-issue.js';
import { NOW, RECIPIENT, templates, WEEK, weekOfArticles } from '../tests/helpers/issue-fixtures.js';

const config = loadConfig({});
const issue = buildIssue(weekOfArticles(10), { week: WEEK, now: NOW, config });
const t = await templates();
const recipient = (i: number) => ({
  ...RECIPIENT,
  email: `reader${i}@example.org`,
  firstName: `Reader${i}`,
  unsubscribeUrl: `${RECIPIENT.unsubscribeUrl}-${i}`,
});

await renderIssue(issue, t); // warm-up: the first MJML compile is slow
const compileTimes: number[] = [];
for (let i = 0; i < 10; i++) {
  const start = performance.now();
  await renderIssue(issue, t);
  compileTimes.push(performance.now() - start);
}
compileTimes.sort((a, b) => a - b);

const rendered = await renderIssue(issue, t);
personalize(rendered, recipient(0)); // compiles the per-recipient template once
const personalizeCount = 5000;
let start = performance.now();
for (let i = 0; i < personalizeCount; i++) personalize(rendered, recipient(i));
const personalizeRate = personalizeCount / ((performance.now() - start) / 1000);

const compileCount = 30;
start = performance.now();
for (let i = 0; i < compileCount; i++) {
  const perRecipient = await renderIssue(issue, t);
  personalize(perRecipient, recipient(i));
}
const compileRate = compileCount / ((performance.now() - start) / 1000);

console.log(`10-card issue: ${rendered.bytes} bytes personalized`);
console.log(
  `compile (Handlebars + MJML + text) of the issue: median ${compileTimes[5]?.toFixed(1)} ms, min ${compileTimes[0]?.toFixed(1)} ms`,
);
console.log(`(a) personalize a compiled issue:   ${personalizeRate.toFixed(0)} recipients/s`);
console.log(`(b) compile MJML per recipient:     ${compileRate.toFixed(1)} recipients/s`);
console.log(`ratio a/b: ${(personalizeRate / compileRate).toFixed(0)}x (target >= 100x)`);
