import { archiveUrlOf, type Config } from '../config.js';
import { oneLine } from '../text/one-line.js';

/** The settings the archive's pages and feed are made from. */
export type ArchiveConfig = Pick<
  Config,
  'SITE_NAME' | 'SITE_URL' | 'PUBLIC_URL' | 'ARCHIVE_URL' | 'TWITTER_HANDLE' | 'TZ'
>;

/** What the archive says about the publisher, and where its links go. Every URL is absolute. */
export interface ArchiveSettings {
  /** SITE_NAME as one line (it lands in titles, meta tags and the feed). */
  siteName: string;
  siteUrl: string;
  /** The index; each issue is at `<archiveUrl>/<week>`, the feed at `<archiveUrl>/feed.xml`. @defaultValue PUBLIC_URL/archive */
  archiveUrl: string;
  /** The sign-up page that the calls to action lead to: PUBLIC_URL/subscribe. */
  signupUrl: string;
  twitterHandle: string;
  /** The time zone the send dates are shown in. */
  timeZone: string;
}

export function archiveSettingsOf(config: ArchiveConfig): ArchiveSettings {
  return {
    siteName: oneLine(config.SITE_NAME, 200),
    siteUrl: config.SITE_URL,
    archiveUrl: archiveUrlOf(config),
    signupUrl: `${config.PUBLIC_URL}/subscribe`,
    twitterHandle: config.TWITTER_HANDLE,
    timeZone: config.TZ,
  };
}

/** The public page of the issue of `week`: what canonical links, the index and the feed point to. */
export function archiveIssueUrl(settings: Pick<ArchiveSettings, 'archiveUrl'>, week: string): string {
  return `${settings.archiveUrl}/${week}`;
}

export function archiveFeedUrl(settings: Pick<ArchiveSettings, 'archiveUrl'>): string {
  return `${settings.archiveUrl}/feed.xml`;
}

/** What the feed, the index and the pages call the newsletter. */
export function newsletterTitle(settings: Pick<ArchiveSettings, 'siteName'>): string {
  return `The weekly newsletter from ${settings.siteName}`;
}
