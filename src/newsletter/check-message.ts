import { GMAIL_CLIP_BYTES, PREHEADER_MAX_CHARS, SUBJECT_MAX_CHARS } from './limits.js';
/** One line of the preview's checks panel. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * What a careful sender looks at before an issue goes: size against Gmail's clip, MJML warnings,
 * images without alt text, links that are not https, the unsubscribe link, subject and preheader length.
 */
export function checkMessage(message: {
  subject: string;
  preheader: string;
  html: string;
  unsubscribeUrl: string;
  warnings: readonly string[];
}): Check[] {
  const bytes = Buffer.byteLength(message.html);
  const images = [...message.html.matchAll(/<img\b[^>]*>/gi)].map((m) => m[0]);
  const withoutAlt = images.filter((img) => !/\balt\s*=\s*"[^"]*\S[^"]*"/i.test(img));
  const hrefs = [...message.html.matchAll(/\bhref\s*=\s*"([^"]*)"/gi)].map((m) => m[1] as string);
  const insecure = hrefs.filter((h) => !/^https:\/\//i.test(h) && !/^mailto:/i.test(h) && h !== message.unsubscribeUrl);
  const unsubscribeLinked = hrefs.some((h) => h.replace(/&amp;/g, '&') === message.unsubscribeUrl);
  return [
    {
      name: 'Size',
      ok: bytes <= GMAIL_CLIP_BYTES,
      detail: `${bytes.toLocaleString('en')} of ${GMAIL_CLIP_BYTES.toLocaleString('en')} bytes before Gmail clips`,
    },
    {
      name: 'MJML',
      ok: message.warnings.length === 0,
      detail: message.warnings.length ? message.warnings.join('; ') : 'no warnings',
    },
    {
      name: 'Image alt text',
      ok: withoutAlt.length === 0,
      detail: withoutAlt.length
        ? `${withoutAlt.length} of ${images.length} images have no alt`
        : `all ${images.length} images have alt text`,
    },
    {
      name: 'Links',
      ok: insecure.length === 0,
      detail: insecure.length
        ? `not https: ${[...new Set(insecure)].slice(0, 5).join(', ')}`
        : `all ${hrefs.length} links are https`,
    },
    {
      name: 'Unsubscribe',
      ok: unsubscribeLinked,
      detail: unsubscribeLinked
        ? 'the recipient’s unsubscribe link is there'
        : 'no link to the recipient’s unsubscribe URL',
    },
    {
      name: 'Subject',
      ok: message.subject.length > 0 && message.subject.length <= SUBJECT_MAX_CHARS,
      detail: `${message.subject.length} characters (at most ${SUBJECT_MAX_CHARS})`,
    },
    {
      name: 'Preheader',
      ok: message.preheader.length > 0 && message.preheader.length <= PREHEADER_MAX_CHARS,
      detail: `${message.preheader.length} characters (at most ${PREHEADER_MAX_CHARS})`,
    },
  ];
}
