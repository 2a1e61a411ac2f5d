/**
 * First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection"): `=`,
 * `+`, `-`, `@`, tab and carriage return, and the fullwidth `＝ ＋ － ＠` that some spreadsheets
 * also accept.
 */
const FORMULA_START = /^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]/;

/**
 * A cell of tabular output (a list a person may paste or open in a spreadsheet) that is never a
 * formula: one that would start one gets a leading single quote, which spreadsheets show as text.
 */
export function spreadsheetSafe(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}
