/**
 * The limits an issue is built to and checked against, written once: the build cuts to them and
 * the preview's checks measure against them.
 */
/** Longest subject line: what most clients show in full (RFC 5322 recommends 78 per header line). */
export const SUBJECT_MAX_CHARS = 78;
/** Longest preheader: the inbox's preview text beside the subject. */
export const PREHEADER_MAX_CHARS = 200;
/** Gmail clips a message whose HTML is larger than this. */
export const GMAIL_CLIP_BYTES = 102_400;
