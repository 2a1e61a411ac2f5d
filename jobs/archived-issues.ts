import type { SendLedger } from '../io/send-ledger.js';
import type { Store, StoredIssue } from '../io/store.js';

/**
 * Which issues are public, on the archive pages and in the welcome mail: those whose list send
 * has started (sending, paused or done) and that are stored. From its start a send's issue is
 * frozen and has reached readers; an issue built but never sent stays private.
 */
export interface ArchiveSources {
  store: Pick<Store, 'getIssue' | 'listIssues'>;
  ledger: Pick<SendLedger, 'get' | 'list'>;
}

/** The stored issue of `week` when it is public; null otherwise. */
export async function archivedIssue(week: string, { store, ledger }: ArchiveSources): Promise<StoredIssue | null> {
  if (!(await ledger.get(week))) return null;
  return await store.getIssue(week);
}

/** The weeks of the public issues, newest first. */
export async function archivedWeeks({ store, ledger }: ArchiveSources): Promise<string[]> {
  const [sends, stored] = await Promise.all([ledger.list(), store.listIssues()]);
  const issues = new Set(stored);
  return sends.filter((week) => issues.has(week));
}

/** The newest public issue's week; null when no issue has gone out. */
export async function latestArchivedWeek(sources: ArchiveSources): Promise<string | null> {
  return (await archivedWeeks(sources))[0] ?? null;
}
