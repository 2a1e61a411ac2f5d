import { createRequire } from 'node:module';
import { DispatchError } from '../errors.js';
import { cleanText } from './clean-text.js';
import { isoDateOrNull } from './iso-date.js';
import { safeHttpUrl } from './safe-url.js';

/** One entry of an RSS 2.0 or Atom feed. */
export interface FeedItem {
  /** What identifies the item across polls: its guid or id, else its link. */
  key: string;
  link: string | null;
  title: string | null;
  /** Full content (content:encoded, Atom content), as HTML, when the feed carries it. */
  contentHtml: string | null;
  /** A summary (RSS description, Atom summary), as HTML or text. */
  summary: string | null;
  publishedAt: string | null;
}

export interface Feed {
  title: string | null;
  items: FeedItem[];
}

const require = createRequire(import.meta.url);

/** Parses an RSS 2.0 or Atom document; E_FEED_INVALID when it is neither. */
export function parseFeed(xml: string, source = 'feed'): Feed {
  const { DOMParser } = require('linkedom') as { DOMParser: new () => DOMParser };
  const trimmed = xml.trim();
  if (!trimmed.startsWith('<')) throw new DispatchError('E_FEED_INVALID', `${source} is not XML`);
  let doc: Document;
  try {
    doc = new DOMParser().parseFromString(trimmed, 'text/xml');
  } catch (cause) {
    throw new DispatchError('E_FEED_INVALID', `${source} is not well-formed XML`, { cause });
  }
  const root = doc.documentElement;
  const rootName = root?.localName?.toLowerCase();
  const child = (el: Element, name: string) =>
    Array.from(el.children).find(
      (c) => c.localName.toLowerCase() === name.toLowerCase() || c.tagName.toLowerCase() === name.toLowerCase(),
    );
  const textOf = (el: Element | undefined) => (el?.textContent ? cleanText(el.textContent) || null : null);
  const rawOf = (el: Element | undefined) => el?.textContent?.trim() || null;

  if (rootName === 'rss' || rootName === 'rdf') {
    const channel = root.querySelector('channel');
    if (!channel) throw new DispatchError('E_FEED_INVALID', `${source}: an RSS feed without a <channel>`);
    const items = Array.from(doc.querySelectorAll('item')).map((item): FeedItem => {
      const link = safeHttpUrl(rawOf(child(item, 'link')));
      const guid = rawOf(child(item, 'guid'));
      return {
        key: guid ?? link ?? '',
        link,
        title: textOf(child(item, 'title')),
        contentHtml: rawOf(child(item, 'content:encoded')),
        summary: rawOf(child(item, 'description')),
        publishedAt: isoDateOrNull(rawOf(child(item, 'pubDate')) ?? rawOf(child(item, 'dc:date'))),
      };
    });
    return { title: textOf(child(channel, 'title')), items: items.filter((i) => i.key) };
  }
  if (rootName === 'feed') {
    const items = Array.from(root.children)
      .filter((c) => c.localName.toLowerCase() === 'entry')
      .map((entry): FeedItem => {
        const links = Array.from(entry.children).filter((c) => c.localName.toLowerCase() === 'link');
        const alternate = links.find((l) => (l.getAttribute('rel') ?? 'alternate') === 'alternate') ?? links[0];
        const link = safeHttpUrl(alternate?.getAttribute('href'));
        const content = child(entry, 'content');
        return {
          key: rawOf(child(entry, 'id')) ?? link ?? '',
          link,
          title: textOf(child(entry, 'title')),
          contentHtml: content ? rawOf(content) : null,
          summary: rawOf(child(entry, 'summary')),
          publishedAt: isoDateOrNull(rawOf(child(entry, 'published')) ?? rawOf(child(entry, 'updated'))),
        };
      });
    return { title: textOf(child(root, 'title')), items: items.filter((i) => i.key) };
  }
  throw new DispatchError(
    'E_FEED_INVALID',
    `${source} is neither RSS 2.0 nor Atom (root element <${rootName ?? '?'}>)`,
  );
}
