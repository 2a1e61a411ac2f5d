// npm run screenshot: renders a 10-card issue (the project's example and fixture articles) and
// saves screenshots at 600 px and 375 px wide, in light and dark mode, to a temporary folder.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from '../io/chromium.js';
import { loadEnvironment } from '../io/load-environment.js';
import { loadTemplates } from '../io/load-templates.js';
import { PROJECT_ROOT } from '../io/paths.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { buildIssue } from '../src/newsletter/build-issue.js';
import { isoWeekOf } from '../src/newsletter/iso-week.js';
import { personalize } from '../src/newsletter/personalize.js';
import { renderIssue } from '../src/newsletter/render-issue.js';

const now = new Date('2026-11-27T09:00:00Z');
const config = loadEnvironment();
const files = [
  ...readdirSync(join(PROJECT_ROOT, 'examples')).map((f) => join(PROJECT_ROOT, 'examples', f)),
  ...readdirSync(join(PROJECT_ROOT, 'tests/fixtures/html'))
    .filter((f) => f.endsWith('.html'))
    .map((f) => join(PROJECT_ROOT, 'tests/fixtures/html', f)),
];
// Date every article in this week so that one issue holds ten cards.
const articles = files.slice(0, 10).map((file, i) => ({
  ...parseArticle(readFileSync(file), { receivedAt: now }),
  publishedAt: new Date(now.getTime() - i * 3_600_000).toISOString(),
}));
const issue = buildIssue(articles, { week: isoWeekOf(now, config.TZ), now, config });
const rendered = await renderIssue(issue, await loadTemplates(join(PROJECT_ROOT, 'templates')));
const message = personalize(rendered, {
  email: 'reader@example.org',
  firstName: 'Ana',
  unsubscribeUrl: 'https://news.example.com/unsubscribe/sample',
  preferencesUrl: 'https://news.example.com/preferences/sample',
});
const PLACEHOLDER =
  '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="675"><rect width="1200" height="675" fill="#9aa5ad"/>' +
  '<circle cx="900" cy="200" r="90" fill="#c9d1d6"/><path d="M0 675 L380 300 L700 675 Z" fill="#6f7c85"/></svg>';
const out = mkdtempSync(join(tmpdir(), 'dispatch-screens-'));
writeFileSync(join(out, 'issue.html'), message.html);
const browser = await chromium.launch({ executablePath: chromiumPath(config.CHROMIUM_PATH), args: CHROMIUM_ARGS });
try {
  for (const [width, scheme] of [
    [600, 'light'],
    [375, 'light'],
    [600, 'dark'],
  ] as const) {
    const page = await browser.newPage({ viewport: { width, height: 900 }, colorScheme: scheme });
    // The articles' images live on sites this machine cannot reach: stand in a grey picture.
    await page.route(/\.(?:jpe?g|png|gif|webp)(?:\?.*)?$/i, (route) =>
      route.fulfill({ contentType: 'image/svg+xml', body: PLACEHOLDER }),
    );
    await page.setContent(message.html, { waitUntil: 'load' });
    const path = join(out, `issue-${width}-${scheme}.png`);
    await page.screenshot({ path, fullPage: true });
    await page.screenshot({ path: path.replace(/\.png$/, '-top.png') });
    console.log(path);
  }
} finally {
  await browser.close();
}
console.log(
  `${rendered.issue.cards.length + 1} cards, ${rendered.bytes} bytes personalized, warnings: ${rendered.warnings.length}`,
);
