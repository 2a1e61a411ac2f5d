import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { configSchema, loadConfig } from '../src/config.js';
import { ROOT } from './helpers/run-cli.js';

describe('.env.example and README', () => {
  const text = readFileSync(join(ROOT, '.env.example'), 'utf8');
  const example = parseEnv(text) as Record<string, string>;
  const variables = Object.keys(configSchema.shape);

  it('lists every variable, each after a comment, and nothing else', () => {
    expect(Object.keys(example).sort()).toEqual([...variables].sort());
    const lines = text.split('\n');
    for (const key of variables) {
      const at = lines.findIndex((l) => l.startsWith(`${key}=`));
      expect(lines[at - 1], `${key} needs a comment line above it`).toMatch(/^(#|[A-Z_]+=)/);
    }
  });

  it('holds the defaults, so it works on a fresh machine', () => {
    const fromExample = loadConfig(example);
    expect(fromExample).toEqual(loadConfig({}));
  });

  it('README documents every variable', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const key of variables) expect(readme, key).toContain(`\`${key}\``);
  });
});
