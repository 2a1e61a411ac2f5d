import { DispatchError } from '../errors.js';
import { oneLine } from '../text/one-line.js';

/**
 * An editor's hand on a week's issue: stored apart from the build (io/issue-edits.ts) and applied
 * on every build of that week, so a rebuild (new articles, new templates) keeps it.
 */
export interface Curation {
  /** The article pinned as the lead story; null: the usual choice (see `chooseLead`). */
  lead: string | null;
  /** Articles left out of the issue. */
  drop: string[];
  /** Articles shown first, in this order, after the lead; the rest follow newest first. */
  order: string[];
  /** The editor's note shown above the stories (plain text; blank lines part paragraphs); null: none. */
  note: string | null;
  /** Goes up by one with every saved edit; a build records the revision it applied. 0: never edited. */
  revision: number;
  /** When the last edit was saved; null: never. */
  updatedAt: string | null;
}

/** A week no editor has touched. */
export const NO_CURATION: Curation = { lead: null, drop: [], order: [], note: null, revision: 0, updatedAt: null };

/** One edit, as `dispatch issue edit` and the preview's forms give it: only what it names changes. */
export interface CurationEdit {
  /** Pin this article as the lead; null: unpin (back to the usual choice). */
  lead?: string | null;
  /** Leave these articles out. */
  drop?: string[];
  /** Put these dropped articles back. */
  keep?: string[];
  /** Replace the order (an empty list: back to newest first). */
  order?: string[];
  /** Replace the note; null or blank: no note. */
  note?: string | null;
  /** Forget every earlier edit first. */
  reset?: boolean;
}

/** The longest editor's note, in characters. */
export const NOTE_MAX_CHARS = 2000;

/** The most ids one edit's drop or order list may hold (a week has far fewer stories). */
export const EDIT_MAX_IDS = 500;

/**
 * The shape of an article id: what `articleId` makes is 16 hex digits, but an id is only checked
 * for being a plain key (letters, digits, `-`, `_`; at most 64), as the store takes any id it is
 * given. Whether it names an article of the week is up to the caller, and a build ignores ids that
 * name none (with a warning).
 */
const ARTICLE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** A value from outside, quoted in one short line of an error message. */
function quoted(value: string): string {
  return `"${oneLine(value, 40)}"`;
}

function checkedIds(ids: readonly string[], what: string): string[] {
  if (ids.length > EDIT_MAX_IDS) {
    throw new DispatchError('E_INPUT_FORMAT', `${what}: ${ids.length} articles named; at most ${EDIT_MAX_IDS}`);
  }
  const checked = ids.map((id) => id.trim());
  const bad = checked.find((id) => !ARTICLE_ID.test(id));
  if (bad !== undefined) throw new DispatchError('E_INPUT_FORMAT', `${what}: not an article id: ${quoted(bad)}`);
  return [...new Set(checked)];
}

/** Characters as a reader counts them: code points, not UTF-16 units. */
function charCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * The curation an edit makes of `current` (without its revision and time, which the store sets):
 * `reset` starts from {@link NO_CURATION}; a pinned lead is taken out of the dropped stories and a
 * dropped one is unpinned (the latest word wins), `keep` puts dropped stories back after `drop`
 * took its own out, `order` and `note` replace what was there (a blank note is none). Refuses, as
 * E_INPUT_FORMAT with one line, an id that is not one, a note over {@link NOTE_MAX_CHARS} and an
 * edit that pins and drops the same story.
 */
export function applyEdit(current: Curation, edit: CurationEdit): Omit<Curation, 'revision' | 'updatedAt'> {
  const base = edit.reset ? NO_CURATION : current;
  // undefined: the edit leaves the lead as it is; null: unpinned.
  const lead = typeof edit.lead === 'string' ? checkedIds([edit.lead], 'lead')[0] : edit.lead;
  const drop = checkedIds(edit.drop ?? [], 'drop');
  const keep = new Set(checkedIds(edit.keep ?? [], 'keep'));
  const order = edit.order === undefined ? undefined : checkedIds(edit.order, 'order');
  if (lead && drop.includes(lead)) {
    throw new DispatchError('E_INPUT_FORMAT', `${quoted(lead)} cannot be both the pinned lead and dropped`);
  }

  let note = base.note;
  if (edit.note !== undefined) {
    const text = edit.note?.trim() ?? '';
    const length = charCount(text);
    if (length > NOTE_MAX_CHARS) {
      throw new DispatchError('E_INPUT_FORMAT', `the note is ${length} characters long; at most ${NOTE_MAX_CHARS}`);
    }
    note = text || null;
  }

  let pinned = lead === undefined ? base.lead : lead;
  const dropped = [...new Set([...base.drop, ...drop])].filter((id) => !keep.has(id) && id !== lead);
  if (pinned && dropped.includes(pinned)) pinned = null;
  return { lead: pinned, drop: dropped, order: order ?? base.order, note };
}

/** The week's stories as an edit arranges them: the lead and the others in the order they show. */
export interface CuratedStories<T> {
  lead: T;
  others: T[];
  /** Ids of the curation that name no story of the week: ignored, and said so. */
  warnings: string[];
}

/**
 * Applies a curation to the week's articles (newest first): dropped ones leave; the pinned lead,
 * when it is among those left, is the lead, else `usualLead` picks one; the stories `order` names
 * come first among the others, in its order, then the rest, newest first. Ids naming no article
 * of the week are ignored, each with a warning. E_ISSUE_EMPTY when every story was dropped.
 */
export function applyCuration<T extends { id: string }>(
  articles: readonly T[],
  curation: Pick<Curation, 'lead' | 'drop' | 'order'>,
  week: string,
  usualLead: (articles: readonly T[]) => T,
): CuratedStories<T> {
  const byId = new Map(articles.map((a) => [a.id, a]));
  const warnings: string[] = [];
  const known = (ids: readonly string[], what: string) =>
    ids.filter((id) => {
      if (byId.has(id)) return true;
      warnings.push(`the edit's ${what} ${quoted(id)} is no article of ${week}: ignored`);
      return false;
    });
  const dropped = new Set(known(curation.drop, 'dropped story'));
  const left = articles.filter((a) => !dropped.has(a.id));
  if (left.length === 0) throw new DispatchError('E_ISSUE_EMPTY', `every story of ${week} was dropped by an edit`);

  const pinnedId = curation.lead === null ? [] : known([curation.lead], 'pinned lead');
  const pinned = pinnedId[0] !== undefined && !dropped.has(pinnedId[0]) ? byId.get(pinnedId[0]) : undefined;
  const lead = pinned ?? usualLead(left);
  const rest = left.filter((a) => a !== lead);
  const rank = new Map(known(curation.order, 'ordered story').map((id, i) => [id, i]));
  // Stable: the stories the order does not name keep their newest-first order behind those it does.
  const others = rest
    .map((a, i) => ({ a, key: rank.get(a.id) ?? rank.size + i }))
    .sort((x, y) => x.key - y.key)
    .map((x) => x.a);
  return { lead, others, warnings };
}
