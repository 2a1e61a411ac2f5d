import { safeHttpUrl } from '../ingest/safe-url.js';
import { wallClock } from '../newsletter/iso-week.js';
import { spreadsheetSafe } from '../text/spreadsheet-safe.js';
import type { PlannedPost } from './schedule/plan-posts.js';

/** The scheduling tools whose bulk upload `dispatch posts export` writes. */
export const EXPORT_TOOLS = ['buffer', 'hootsuite'] as const;
export type ExportTool = (typeof EXPORT_TOOLS)[number];

/** A planned post as exported: the plan's post and the article's image, if it has one. */
export interface ExportPost extends Pick<PlannedPost, 'network' | 'kind' | 'parts' | 'at'> {
  /** The article's image (a URL from the article: checked here, never fetched). */
  image: string | null;
}

/** Buffer's bulk upload columns, in its template's order. */
export const BUFFER_COLUMNS = ['Text', 'Image URL', 'Tags', 'Posting Time'] as const;

/**
 * Hootsuite's bulk composer takes rows of date and time, message and link, no header row, the date
 * in the day-first form chosen at upload (DD/MM/YYYY HH:mm, 24-hour), the minutes a multiple of 5.
 */
export const HOOTSUITE_COLUMNS = ['Date', 'Message', 'Link'] as const;

const MINUTE_MS = 60_000;
/** Hootsuite takes times whose minutes end in 0 or 5. */
const HOOTSUITE_STEP_MS = 5 * MINUTE_MS;

const pad = (n: number) => String(n).padStart(2, '0');

function localParts(at: Date, timeZone: string) {
  const c = wallClock(at, timeZone);
  return {
    date: `${c.year}-${pad(c.month)}-${pad(c.day)}`,
    dayFirst: `${pad(c.day)}/${pad(c.month)}/${c.year}`,
    time: `${pad(c.hour)}:${pad(c.minute)}`,
  };
}

/**
 * The rows of a bulk upload for `tool`, one per post and one per part of a thread: neither tool
 * posts replies, so a thread's parts follow one another a minute apart (five for Hootsuite), each
 * with its "1/3" numbering. Times are local in `timeZone`. Every cell is made formula-safe; the
 * image is kept only when it is an http(s) URL. Buffer's rows start with its header row.
 */
export function exportRows(tool: ExportTool, posts: readonly ExportPost[], timeZone: string): string[][] {
  const rows: string[][] = tool === 'buffer' ? [[...BUFFER_COLUMNS]] : [];
  const sorted = [...posts].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  for (const post of sorted) {
    const image = safeHttpUrl(post.image) ?? '';
    post.parts.forEach((part, i) => {
      if (tool === 'buffer') {
        const at = new Date(Date.parse(post.at) + i * MINUTE_MS);
        const local = localParts(at, timeZone);
        rows.push([part.text, i === 0 ? image : '', `${post.network},${post.kind}`, `${local.date} ${local.time}`]);
      } else {
        // Rounded up to Hootsuite's five-minute steps: never earlier than planned.
        const at = new Date(
          Math.ceil(Date.parse(post.at) / HOOTSUITE_STEP_MS) * HOOTSUITE_STEP_MS + i * HOOTSUITE_STEP_MS,
        );
        const local = localParts(at, timeZone);
        rows.push([`${local.dayFirst} ${local.time}`, part.text, '']);
      }
    });
  }
  return rows.map((row) => row.map(spreadsheetSafe));
}

/** RFC 4180 CSV: every cell quoted (its quotes doubled), lines ended by CRLF. */
export function toCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((row) => `${row.map((cell) => `"${cell.replaceAll('"', '""')}"`).join(',')}\r\n`).join('');
}
