/** The input formats `parseArticle` understands. */
export type ArticleFormat = 'text' | 'html' | 'json';

/** A run of paragraphs, under a heading when the article has one there. */
export interface Section {
  heading?: string;
  paragraphs: string[];
}

/** Direct speech found in the article, with the person or body who said it when the text names one. */
export interface Quote {
  text: string;
  speaker?: string;
}

export interface ArticleImage {
  url: string;
  alt: string | null;
}

/**
 * A clean article: what every later stage (summaries, posts, the newsletter) reads.
 * Fields the input does not carry are `null`, so the JSON shape never changes.
 */
export interface Article {
  /** Stable: a hash of the canonical URL when known, else of title and body. */
  id: string;
  title: string;
  url: string | null;
  description: string | null;
  byline: string | null;
  /** Who the article credits as its source ("Aljazeera, Agencies"). */
  attribution: string | null;
  siteName: string | null;
  /** ISO 8601 instant: from the page when it says, else when Dispatch received it. */
  publishedAt: string;
  language: string | null;
  image: ArticleImage | null;
  sections: Section[];
  /** The body's sentences, in order, that a summary is chosen from: captions and table rows are left out. */
  sentences: string[];
  quotes: Quote[];
  wordCount: number;
}
