import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { StoredIssue } from '../io/store.js';
import { type ArchiveEntry, archiveEntry } from '../src/archive/archive-entry.js';
import { archiveFeed } from '../src/archive/archive-feed.js';
import { archiveIndex } from '../src/archive/archive-index.js';
import { archiveIssuePage } from '../src/archive/archive-issue-page.js';
import { archiveNotFound } from '../src/archive/archive-not-found.js';
import { type ArchiveConfig, archiveSettingsOf } from '../src/archive/archive-settings.js';
import { DispatchError, isDispatchError } from '../src/errors.js';
import { parseIsoWeek } from '../src/newsletter/iso-week.js';
import { noOne, personalize } from '../src/newsletter/personalize.js';
import { type ArchiveSources, archivedIssue, archivedWeeks } from './archived-issues.js';

/** Most issues the index lists (the newest); every public issue keeps its page. */
export const ARCHIVE_INDEX_MAX = 200;
/** Most entries in the feed (the newest): readers poll it often, and want what is new. */
export const ARCHIVE_FEED_MAX = 50;

export const HTML_TYPE = 'text/html; charset=utf-8';
export const ATOM_TYPE = 'application/atom+xml; charset=utf-8';

/** One file of the archive: where it lives under the archive's root, its media type and its body. */
export interface ArchiveFile {
  /** `index.html`, `feed.xml` or `<week>/index.html`. */
  path: string;
  type: string;
  body: string;
}

export interface ArchiveDeps extends ArchiveSources {
  config: ArchiveConfig;
}

/** The public archive, made from the store and the send ledger: what `dispatch serve` and `dispatch archive build` show. */
export interface Archive {
  /** Where the archive's pages link to and name as theirs: ARCHIVE_URL (default PUBLIC_URL/archive). */
  readonly url: string;
  /** `index.html`: the newest ARCHIVE_INDEX_MAX public issues. */
  index(): Promise<ArchiveFile>;
  /** `feed.xml`: the newest ARCHIVE_FEED_MAX public issues, as Atom; `now` dates a feed with no issue yet. */
  feed(now: Date): Promise<ArchiveFile>;
  /** `<week>/index.html`, the page of a public issue; null for any other week, a malformed one included. */
  issue(week: string): Promise<ArchiveFile | null>;
  /** The page for an address with no public issue behind it. */
  notFound(): ArchiveFile;
  /** The whole archive: the index, every public issue's page (newest first), the feed. */
  files(now: Date): AsyncGenerator<ArchiveFile>;
}

const WEEK = /^\d{4}-W\d{2}$/;
/** Issues read from Redis at once: each is a few hundred kilobytes of JSON. */
const READ_AT_ONCE = 16;

/** When an issue went out: its sentAt, else (in the moment between its send's start and its freeze) the send's start. */
async function sentAtOf(week: string, stored: StoredIssue, deps: ArchiveDeps): Promise<string> {
  const candidates = [stored.sentAt, (await deps.ledger.get(week))?.createdAt, stored.builtAt];
  return candidates.find((at) => at && !Number.isNaN(Date.parse(at))) ?? new Date(0).toISOString();
}

/**
 * The archive on `deps`. The entries of frozen issues (sent: the store never changes them again)
 * are kept in memory once read, so the index and the feed do not read every stored issue (a few
 * hundred kilobytes each) on every request; which issues are public is read from Redis each time.
 */
export function createArchive(deps: ArchiveDeps): Archive {
  const settings = archiveSettingsOf(deps.config);
  const frozen = new Map<string, ArchiveEntry>();

  /** Public weeks, newest first; a malformed one (no send is ever started for one) is not a path to write. */
  const publicWeeks = async () => (await archivedWeeks(deps)).filter((week) => WEEK.test(week));

  async function entryOf(week: string): Promise<ArchiveEntry | null> {
    const known = frozen.get(week);
    if (known) return known;
    const stored = await deps.store.getIssue(week);
    if (!stored) return null;
    const entry = archiveEntry(week, stored, await sentAtOf(week, stored, deps));
    if (stored.sentAt) frozen.set(week, entry);
    return entry;
  }

  async function entries(max: number): Promise<{ entries: ArchiveEntry[]; total: number }> {
    const weeks = await publicWeeks();
    const shown: ArchiveEntry[] = [];
    for (let i = 0; i < Math.min(weeks.length, max); i += READ_AT_ONCE) {
      const chunk = weeks.slice(i, Math.min(i + READ_AT_ONCE, max));
      for (const entry of await Promise.all(chunk.map(entryOf))) if (entry) shown.push(entry);
    }
    return { entries: shown, total: weeks.length };
  }

  async function issueOf(week: string): Promise<ArchiveFile | null> {
    if (!WEEK.test(week)) return null;
    try {
      parseIsoWeek(week);
    } catch (error) {
      if (isDispatchError(error, 'E_WEEK_INVALID')) return null;
      throw error;
    }
    const stored = await archivedIssue(week, deps);
    if (!stored) return null;
    const entry = archiveEntry(week, stored, await sentAtOf(week, stored, deps));
    const html = personalize(
      { subject: stored.subject, html: stored.web?.html ?? stored.html, text: '' },
      // An older build (stored before the web render) is filled for no one; the web render has no
      // tokens, and filling it alike costs nothing and guards a template that kept one.
      noOne(settings.signupUrl),
    ).html;
    return { path: `${week}/index.html`, type: HTML_TYPE, body: archiveIssuePage(html, entry, settings) };
  }

  const archive: Archive = {
    url: settings.archiveUrl,
    async index() {
      const { entries: shown, total } = await entries(ARCHIVE_INDEX_MAX);
      return { path: 'index.html', type: HTML_TYPE, body: archiveIndex(shown, total, settings) };
    },
    async feed(now) {
      const { entries: shown } = await entries(ARCHIVE_FEED_MAX);
      return { path: 'feed.xml', type: ATOM_TYPE, body: archiveFeed(shown, settings, now) };
    },
    issue: issueOf,
    notFound() {
      return { path: '404.html', type: HTML_TYPE, body: archiveNotFound(settings) };
    },
    async *files(now) {
      yield await archive.index();
      // One page at a time: an archive of years of issues is never all in memory.
      for (const week of await publicWeeks()) {
        const page = await issueOf(week);
        if (page) yield page;
      }
      yield await archive.feed(now);
    },
  };
  return archive;
}

/** What `writeArchive` wrote. */
export interface WrittenArchive {
  dir: string;
  files: number;
  /** Issue pages among them. */
  issues: number;
  /** Where the pages link to (ARCHIVE_URL): where the folder should be served from. */
  archiveUrl: string;
}

/**
 * `dispatch archive build --out DIR`: the whole archive as static files for any web host,
 * `DIR/index.html`, `DIR/<week>/index.html` and `DIR/feed.xml`, their links absolute under
 * ARCHIVE_URL. Each file is written beside its place and renamed into it, so a web server never
 * serves half a page. A folder or file that cannot be written (a file in the way, no permission)
 * is E_OUTPUT_WRITE, naming it.
 */
export async function writeArchive(archive: Archive, dir: string, now: Date): Promise<WrittenArchive> {
  const cannotWrite = (path: string, cause: unknown) =>
    new DispatchError(
      'E_OUTPUT_WRITE',
      `cannot write ${path}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`,
      {
        cause,
      },
    );
  try {
    await mkdir(dir, { recursive: true });
  } catch (cause) {
    throw cannotWrite(dir, cause);
  }
  let files = 0;
  let issues = 0;
  for await (const file of archive.files(now)) {
    const target = join(dir, file.path);
    const partial = `${target}.${randomBytes(4).toString('hex')}.partial`;
    try {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(partial, file.body);
      await rename(partial, target);
    } catch (cause) {
      await rm(partial, { force: true }).catch(() => {});
      throw cannotWrite(target, cause);
    }
    files++;
    if (file.path.endsWith('/index.html')) issues++;
  }
  return { dir, files, issues, archiveUrl: archive.url };
}
