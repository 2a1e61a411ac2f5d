import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Recipient } from '../src/newsletter/personalize.js';

/** The recipient previews and `dispatch show` use: `sample-recipient.json` beside the templates. */
export function loadSampleRecipient(templatesDir: string): Recipient {
  return JSON.parse(readFileSync(join(templatesDir, 'sample-recipient.json'), 'utf8')) as Recipient;
}
