// npm run bench:growth: how parse + summarize + compose (what `dispatch tweets` runs on one input)
// grow with the input. The dev set's articles are concatenated 1, 4 and 16 times into one scraped-text
// input; each size runs in its own child process, so its peak RSS is its own. Then pathological
// inputs (deep nesting, runs of dots, quotes, emoji, CJK, spaces...), built here, with their times.
// Targets: time per MB at 16x within 2x of time per MB at 1x; peak RSS at 16x under 600 MB.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { type ParseArticleOptions, parseArticle } from '../src/ingest/parse-article.js';
import { composePosts } from '../src/social/compose-posts.js';
import { summarize } from '../src/summarize/summarize.js';

const ROOT = resolve(import.meta.dirname, '..');
const DEV_SET = resolve(ROOT, '../shared/data/dev-summaries.jsonl');
const SIZES = [1, 4, 16];

interface Input {
  text: string;
  format: 'text' | 'html';
}

function devSet(times: number): Input {
  const articles = readFileSync(DEV_SET, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { article: string }).article.split('\n').join('\n\n'));
  const body = articles.join('\n\n');
  return {
    text: `The dev set, ${times} times\n\n${Array.from({ length: times }, () => body).join('\n\n')}`,
    format: 'text',
  };
}

const paragraph = (text: string): Input => ({
  text: `A title line\n\nA first paragraph says what happened in the town on Monday, as articles do.\n\n${text}\n\nA last paragraph closes the article.`,
  format: 'text',
});
const nested = (depth: number): Input => ({
  text: `<!doctype html><html><head><title>Deep</title></head><body>${'<div>'.repeat(depth)}<p>${'The text at the bottom of the nesting is what the page says. '.repeat(8)}</p>${'</div>'.repeat(depth)}</body></html>`,
  format: 'html',
});

const PATHOLOGICAL: Record<string, () => Input> = {
  '10,000 nested <div>s': () => nested(10_000),
  '100,000 nested <div>s': () => nested(100_000),
  '"a." x 100,000': () => paragraph('a.'.repeat(100_000)),
  '"a. " x 100,000': () => paragraph('a. '.repeat(100_000)),
  '200,000 quote marks': () => paragraph('"'.repeat(200_000)),
  '50,000 emoji': () => paragraph('😀'.repeat(50_000)),
  '100,000 CJK characters': () => paragraph('中文新闻报道'.repeat(100_000 / 6)),
  'Mr. A. B. said "yes. no. maybe." x 6,000': () => paragraph('Mr. A. B. said "yes. no. maybe." '.repeat(6000)),
  '500,000 spaces': () => paragraph(`Before ${' '.repeat(500_000)} after.`),
  '500,000 dots': () => paragraph(`Before ${'.'.repeat(500_000)} after.`),
  '50,000 emoji with spaces': () => paragraph('😀 '.repeat(50_000)),
  '200,000 curly quote marks': () => paragraph('“'.repeat(200_000)),
  '100,000 quote marks with spaces': () => paragraph('" '.repeat(100_000)),
  '100,000 CJK characters with full stops': () => paragraph('中文新闻报道。'.repeat(100_000 / 7)),
  'one 1 MB word': () => paragraph('w'.repeat(1_000_000)),
  'one 1 MB capitalised word': () => paragraph('W'.repeat(1_000_000)),
};

const config = loadConfig({});
const options: Omit<ParseArticleOptions, 'format'> = { receivedAt: new Date('2026-11-27T00:00:00Z') };

function pipeline(input: Input): number {
  const article = parseArticle(Buffer.from(input.text), { ...options, format: input.format });
  return composePosts(article, summarize(article), config).length;
}

/** In the child: warm up on one ordinary article, then time the input once. */
function child(kind: string, name: string): void {
  const input = kind === 'dev' ? devSet(Number(name)) : (PATHOLOGICAL[name] as () => Input)();
  pipeline(paragraph('The council met on Monday. It agreed to reopen the bridge by May, the mayor said.'));
  const start = performance.now();
  const posts = pipeline(input);
  const ms = performance.now() - start;
  const result = { ms, bytes: Buffer.byteLength(input.text), posts, maxRssMb: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(JSON.stringify(result));
}

function run(kind: string, name: string): { ms: number; bytes: number; posts: number; maxRssMb: number } {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', kind, name],
    {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(out);
}

const mb = (bytes: number) => bytes / 1_000_000;

if (process.argv[2] === '--child') {
  child(process.argv[3] as string, process.argv[4] as string);
} else if (!existsSync(DEV_SET)) {
  console.log(`skipped: ${DEV_SET} is absent (it ships beside the project's checkout, not in it)`);
} else {
  console.log('parse + summarize + compose of the dev set (dev-summaries.jsonl) concatenated into one input');
  console.log('| copies | size (MB) | time (ms) | ms per MB | peak RSS (MB) |');
  console.log('|---:|---:|---:|---:|---:|');
  const perMb: number[] = [];
  let peak16 = 0;
  for (const times of SIZES) {
    const r = run('dev', String(times));
    perMb.push(r.ms / mb(r.bytes));
    if (times === 16) peak16 = r.maxRssMb;
    console.log(
      `| ${times} | ${mb(r.bytes).toFixed(2)} | ${r.ms.toFixed(0)} | ${(r.ms / mb(r.bytes)).toFixed(0)} | ${r.maxRssMb.toFixed(0)} |`,
    );
  }
  const ratio = (perMb.at(-1) as number) / (perMb[0] as number);
  console.log(
    `\ntime per MB, 16x / 1x: ${ratio.toFixed(2)} (target <= 2: ${ratio <= 2 ? 'met' : 'NOT met'}); ` +
      `peak RSS at 16x: ${peak16.toFixed(0)} MB (target < 600: ${peak16 < 600 ? 'met' : 'NOT met'})\n`,
  );
  console.log('pathological inputs, each in its own process');
  console.log('| input | size (MB) | time (ms) | posts | peak RSS (MB) |');
  console.log('|---|---:|---:|---:|---:|');
  for (const name of Object.keys(PATHOLOGICAL)) {
    const r = run('pathological', name);
    console.log(
      `| ${name.replace(/\|/g, '\\|')} | ${mb(r.bytes).toFixed(2)} | ${r.ms.toFixed(0)} | ${r.posts} | ${r.maxRssMb.toFixed(0)} |`,
    );
  }
}
