import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The shared data folder beside the checkout; a user's clone does not have it. */
export const SHARED_DATA = resolve(import.meta.dirname, '../../../shared/data');
export const SAMPLE_ARTICLE = resolve(SHARED_DATA, 'articles/us-russia-syria-talks.txt');
export const hasSharedData = existsSync(SAMPLE_ARTICLE);

/** Appended to the names of suites that need ../shared/data, so a skip says why in the report. */
export const sharedDataNote = hasSharedData ? '' : ' [skipped: ../shared/data is absent in this checkout]';
