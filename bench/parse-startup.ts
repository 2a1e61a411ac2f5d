// npm run bench:parse: wall time of `dispatch parse <sample> --json` (a whole process: start-up,
// imports, parsing, printing) beside a bare `node -e 0` measured in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const sample = resolve(root, '../shared/data/articles/us-russia-syria-talks.txt');
const input = existsSync(sample) ? sample : resolve(root, 'examples/harbour-ferry-returns.txt');
const runs = Number(process.env.RUNS ?? 15);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function time(args: string[]): number[] {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    times.push(performance.now() - start);
    if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
  }
  return times;
}

spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
// Interleave so that machine noise hits both alike.
const parse: number[] = [];
const bare: number[] = [];
for (let i = 0; i < 3; i++) {
  parse.push(...time(['bin/dispatch.js', 'parse', input, '--json']));
  bare.push(...time(['-e', '0']));
}
const p = median(parse);
const b = median(bare);
console.log(`input: ${input}`);
console.log(
  `dispatch parse --json   median ${p.toFixed(0)} ms over ${parse.length} runs (min ${Math.min(...parse).toFixed(0)} ms)`,
);
console.log(`node -e 0 (baseline)    median ${b.toFixed(0)} ms over ${bare.length} runs`);
console.log(
  `ratio parse / bare node: ${(p / b).toFixed(1)}x; parse work above node start-up: ${(p - b).toFixed(0)} ms`,
);
