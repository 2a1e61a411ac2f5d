import { type Archive, type ArchiveDeps, createArchive } from '../jobs/archive-site.js';

/** What `dispatch serve` answers to an archive address. */
export interface ArchiveResponse {
  status: number;
  type: string;
  body: string;
  cacheControl: string;
}

/** The index and the feed change once a week: caches may keep them a few minutes. */
const LISTING_CACHE = 'public, max-age=300';
/** The page of a sent issue never changes (its issue is frozen when its send starts). */
const ISSUE_CACHE = 'public, max-age=86400';
/** An address with no issue yet may have one soon (the week's send is about to start). */
const NOT_FOUND_CACHE = 'public, max-age=60';

const ISSUE_ROUTE = /^\/archive\/(\d{4}-W\d{2})\/?$/;

/**
 * The public archive under `/archive`: `GET /archive` (or `/archive/`) the index,
 * `/archive/feed.xml` the Atom feed, `/archive/<week>` (or `/archive/<week>/`) an issue that was
 * sent. Any other address under `/archive`, a malformed week included, is the archive's 404 page.
 */
export async function archiveResponse(path: string, archive: Archive, now: Date): Promise<ArchiveResponse> {
  if (path === '/archive' || path === '/archive/') {
    const file = await archive.index();
    return { status: 200, type: file.type, body: file.body, cacheControl: LISTING_CACHE };
  }
  if (path === '/archive/feed.xml') {
    const file = await archive.feed(now);
    return { status: 200, type: file.type, body: file.body, cacheControl: LISTING_CACHE };
  }
  const week = ISSUE_ROUTE.exec(path)?.[1];
  const file = week ? await archive.issue(week) : null;
  if (file) return { status: 200, type: file.type, body: file.body, cacheControl: ISSUE_CACHE };
  const missing = archive.notFound();
  return { status: 404, type: missing.type, body: missing.body, cacheControl: NOT_FOUND_CACHE };
}

/**
 * The page of one issue, as `GET /archive/<week>` answers: 200 and the issue's page when it is
 * public, else 404 and the archive's 404 page. (`now` is accepted for callers that pass their clock.)
 */
export async function archivePage(
  week: string,
  deps: ArchiveDeps & { now?: Date },
): Promise<{ status: number; html: string }> {
  const archive = createArchive(deps);
  const file = await archive.issue(week);
  return file ? { status: 200, html: file.body } : { status: 404, html: archive.notFound().body };
}
