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
