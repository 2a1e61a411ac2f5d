import { templatesDirOf } from '../../io/paths.js';
import { loadSampleRecipient } from '../../io/sample-recipient.js';
import { DispatchError } from '../../src/errors.js';
import { personalize } from '../../src/newsletter/personalize.js';
import { terminalSafe, terminalSafeJson } from '../../src/text/terminal-safe.js';
import { openContext } from '../context.js';
import { formatArticle } from '../format-article.js';
import { formatPost } from '../format-post.js';

const WEEK = /^\d{4}-W\d{2}$/;

/** `dispatch show`: a stored article with its posts, or a stored issue. */
export async function showCommand(id: string, options: { json?: boolean }): Promise<void> {
  const ctx = await openContext();
  try {
    if (WEEK.test(id)) {
      const stored = await ctx.store.getIssue(id);
      if (!stored)
        throw new DispatchError(
          'E_NOT_FOUND',
          `no stored issue for ${id} (issues: ${(await ctx.store.listIssues()).join(', ') || 'none'})`,
        );
      if (options.json) {
        process.stdout.write(`${terminalSafeJson(stored)}\n`);
        return;
      }
      const { issue } = stored;
      const recipient = loadSampleRecipient(templatesDirOf(ctx.config));
      process.stdout.write(
        [
          terminalSafe(issue.subject),
          terminalSafe(
            `week ${issue.week} · ${issue.articleCount} article(s) · ${stored.bytes} bytes · built ${stored.builtAt}` +
              `${stored.sentAt ? ` · sent ${stored.sentAt}` : ''}`,
          ),
          ...stored.warnings.map((w) => `warning: ${terminalSafe(w)}`),
          `(personalized for the sample recipient ${terminalSafe(recipient.email)})`,
          '',
          terminalSafe(personalize(stored, recipient).text, { multiline: true }),
        ].join('\n'),
      );
      return;
    }
    const article = await ctx.store.getArticle(id);
    if (!article) throw new DispatchError('E_NOT_FOUND', `no stored article with id ${id}`);
    const social = await ctx.store.getSocial(id);
    if (options.json) {
      process.stdout.write(`${terminalSafeJson({ article, social })}\n`);
      return;
    }
    process.stdout.write(formatArticle(article));
    process.stdout.write(
      social
        ? `\nPosts\n\n${social.posts.map(formatPost).join('\n')}`
        : '\nPosts: not composed yet (the social job has not run)\n',
    );
  } finally {
    await ctx.close();
  }
}
