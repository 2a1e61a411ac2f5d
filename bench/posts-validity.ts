// npm run bench:posts: every record of the dev sets (dev-cnndm.jsonl, dev-summaries.jsonl) through
// the `dispatch posts --jsonl` path (articleForRecord, summarize, composeNetworkPosts), and per
// network: records, posts, the share valid by the network's rule, and the mean length/limit ratio
// (how much of each network's room the posts use), with the time per record.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../src/config.js';
import { isDispatchError } from '../src/errors.js';
import { composeNetworkPosts } from '../src/social/compose-network-posts.js';
import { NETWORKS, type Network } from '../src/social/network-post.js';
import { articleForRecord } from '../src/social/tweets-for-record.js';
import { summarize } from '../src/summarize/summarize.js';

const dataDir = resolve(import.meta.dirname, '../../shared/data');
const config = loadConfig({});
const receivedAt = new Date('2026-11-27T09:00:00Z');

function run(name: string): void {
  const file = resolve(dataDir, name);
  if (!existsSync(file)) {
    console.log(`skipped ${name}: ${file} is absent (it ships beside the project's checkout, not in it)`);
    return;
  }
  const stats = new Map<Network, { records: number; posts: number; valid: number; ratio: number; ms: number }>(
    NETWORKS.map((n) => [n, { records: 0, posts: 0, valid: 0, ratio: 0, ms: 0 }]),
  );
  let skipped = 0;
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    let parsed: ReturnType<typeof articleForRecord>;
    try {
      parsed = articleForRecord(line, config, receivedAt);
    } catch (error) {
      if (!isDispatchError(error)) throw error;
      skipped++;
      continue;
    }
    const summary = summarize(parsed.article);
    for (const network of NETWORKS) {
      const started = performance.now();
      const posts = composeNetworkPosts(network, parsed.article, summary, config);
      const stat = stats.get(network) as NonNullable<ReturnType<typeof stats.get>>;
      stat.ms += performance.now() - started;
      stat.records++;
      stat.posts += posts.length;
      stat.valid += posts.filter((p) => p.valid).length;
      stat.ratio += posts.reduce((sum, p) => sum + p.length / p.limit, 0);
    }
  }
  console.log(`\n${name}${skipped ? ` (${skipped} line(s) not an article, skipped)` : ''}`);
  console.log('network    records  posts  valid %  mean length/limit  ms/record');
  for (const [network, s] of stats) {
    console.log(
      `${network.padEnd(10)} ${String(s.records).padStart(7)} ${String(s.posts).padStart(6)} ` +
        `${((100 * s.valid) / Math.max(1, s.posts)).toFixed(1).padStart(8)} ` +
        `${(s.ratio / Math.max(1, s.posts)).toFixed(2).padStart(18)} ${(s.ms / Math.max(1, s.records)).toFixed(1).padStart(10)}`,
    );
  }
}

run('dev-cnndm.jsonl');
run('dev-summaries.jsonl');
