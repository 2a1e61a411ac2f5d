/** One header field (or one field of a delivery-status or feedback-report block), unfolded. */
export interface HeaderField {
  /** Lowercase: field names are case-insensitive (RFC 5322 section 1.2.2). */
  name: string;
  /** Unfolded (RFC 5322 section 2.2.3), runs of white space as one space, trimmed. */
  value: string;
}

/** Most fields read from one block; a block of thousands is junk, not a header. */
export const MAX_FIELDS = 300;
/** Longest value kept of one field (a folded Diagnostic-Code is a few hundred characters). */
export const MAX_FIELD_CHARS = 4000;

const FIELD_NAME = /^[!-9;-~]+$/;

/**
 * The fields of a header block (lines of `Name: value`, continued by lines that start with a
 * space or tab). Lines that are not fields are skipped, not fatal: reports come from every kind of
 * mail server. Bounded by {@link MAX_FIELDS} and {@link MAX_FIELD_CHARS}, in one pass.
 */
export function headerFields(block: string): HeaderField[] {
  const fields: HeaderField[] = [];
  let current: HeaderField | null = null;
  for (const line of block.split('\n')) {
    if (line[0] === ' ' || line[0] === '\t') {
      if (current && current.value.length < MAX_FIELD_CHARS) {
        current.value = `${current.value} ${line.trim()}`.slice(0, MAX_FIELD_CHARS);
      }
      continue;
    }
    current = null;
    const colon = line.indexOf(':');
    if (colon < 1 || fields.length >= MAX_FIELDS) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!FIELD_NAME.test(name)) continue;
    current = { name, value: line.slice(colon + 1, colon + 1 + MAX_FIELD_CHARS).trim() };
    fields.push(current);
  }
  for (const field of fields) field.value = field.value.replace(/\s+/g, ' ').trim();
  return fields;
}

/** The value of the first field called `name` (lowercase), or null. */
export function fieldValue(fields: readonly HeaderField[], name: string): string | null {
  return fields.find((f) => f.name === name)?.value ?? null;
}

/** Every value of the fields called `name` (lowercase), in order. */
export function fieldValues(fields: readonly HeaderField[], name: string): string[] {
  return fields.filter((f) => f.name === name).map((f) => f.value);
}
