import { hasVisibleText } from './clean-text.js';
import type { Block, BlockKind } from './structure-blocks.js';

/** Elements whose text is never article text: code, controls, embeds and their fallback text. */
const SKIP = new Set([
  'ASIDE',
  'AUDIO',
  'BUTTON',
  'CANVAS',
  'EMBED',
  'FORM',
  'IFRAME',
  'INPUT',
  'NAV',
  'NOSCRIPT',
  'OBJECT',
  'OPTION',
  'SCRIPT',
  'SELECT',
  'STYLE',
  'SVG',
  'TEMPLATE',
  'TEXTAREA',
  'VIDEO',
]);

/**
 * Elements that start and end a line of text. Any other element (a, em, span, an unknown custom
 * element) is inline: its text runs on with the text around it, as a browser shows it.
 */
const BLOCK = new Set([
  'ADDRESS',
  'ARTICLE',
  'BLOCKQUOTE',
  'BODY',
  'CAPTION',
  'CENTER',
  'DD',
  'DETAILS',
  'DIALOG',
  'DIR',
  'DIV',
  'DL',
  'DT',
  'FIELDSET',
  'FIGCAPTION',
  'FIGURE',
  'FOOTER',
  'H1',
  'H2',
  'H3',
  'H4',
  'H5',
  'H6',
  'HEADER',
  'HGROUP',
  'HR',
  'LEGEND',
  'LI',
  'MAIN',
  'MENU',
  'OL',
  'P',
  'PRE',
  'SECTION',
  'SUMMARY',
  'TABLE',
  'TBODY',
  'TD',
  'TFOOT',
  'TH',
  'THEAD',
  'TR',
  'UL',
]);
const HEADINGS = new Set(['H1', 'H2', 'H3', 'H4', 'H5', 'H6']);
const KINDS: Record<string, BlockKind> = {
  LI: 'item',
  DT: 'item',
  DD: 'item',
  FIGCAPTION: 'caption',
  CAPTION: 'caption',
  PRE: 'pre',
  BLOCKQUOTE: 'quote',
};
/**
 * Between the cells of a table row. A row becomes one paragraph ("Route 31 | Hillcrest | 420
 * riders"): a vertical bar reads as a column break in plain text, and, unlike a comma or a
 * semicolon, never occurs inside a cell's own text.
 */
export const CELL_JOINER = ' | ';

const TEXT_NODE = 3;
const ELEMENT_NODE = 1;

/** What the blocks inside an element are: a heading's text, a list item's, a table cell's. */
interface Role {
  heading?: true;
  kind?: BlockKind;
  /** Inside a table cell a line break is a space: the cell's lines are one cell. */
  cell?: true;
}

const PARAGRAPH: Role = {};

function roleOf(tag: string, parent: Role): Role {
  if (parent.heading || HEADINGS.has(tag)) return { heading: true };
  const kind = KINDS[tag];
  // The outermost kind wins: a paragraph in a list item is the item's text.
  return kind && !parent.kind ? { ...parent, kind } : parent;
}

function visibleLength(text: string): number {
  return text.replace(/\s+/g, '').length;
}

/**
 * Article HTML (Readability's output) as blocks of text in reading order: every run of text
 * between two block boundaries is one block, so nothing Readability kept is lost, whatever the
 * markup: text directly inside a container beside its paragraphs, `<br>`-separated lines (each
 * its own block, of kind `line`), list items (nested lists too: the item's own line, then its
 * sub-items), headings, figure and table captions, definition lists (a term joined to its
 * definition), block quotes and `pre`. A table row is one block, its cells joined with
 * {@link CELL_JOINER}, unless its cells hold paragraphs of their own (a table used for layout):
 * then the cells' blocks are kept one by one. One walk over the tree; no element is visited twice.
 */
export function htmlBlocks(root: Element): Block[] {
  let blocks: Block[] = [];
  let parts: string[] = [];
  let chars = 0;
  let linkChars = 0;
  // The block being read has a line break: its lines are blocks of their own, of kind `line`.
  let broken = false;

  const flush = (role: Role) => {
    if (parts.length === 0) return;
    const text = parts.join('');
    const linkShare = chars === 0 ? 0 : linkChars / chars;
    parts = [];
    chars = 0;
    linkChars = 0;
    if (!hasVisibleText(text)) return;
    const kind = role.kind ?? (broken ? 'line' : undefined);
    blocks.push(role.heading ? { text, heading: true, linkShare } : { text, kind, linkShare });
  };

  // A loop, not push(...list): spreading 100,000 blocks overflows the call stack.
  const add = (list: readonly Block[]) => {
    for (const block of list) blocks.push(block);
  };

  /** The blocks that `fill` adds, apart from the others. */
  const collect = (fill: () => void): Block[] => {
    const outer = blocks;
    blocks = [];
    fill();
    const inner = blocks;
    blocks = outer;
    return inner;
  };

  const walk = (parent: Node, role: Role, inLink: boolean): void => {
    for (const node of Array.from(parent.childNodes)) {
      if (node.nodeType === TEXT_NODE) {
        const text = (node as Text).data;
        parts.push(text);
        const length = visibleLength(text);
        chars += length;
        if (inLink) linkChars += length;
        continue;
      }
      if (node.nodeType !== ELEMENT_NODE) continue;
      const element = node as Element;
      const tag = element.tagName.toUpperCase();
      if (SKIP.has(tag)) continue;
      if (tag === 'BR') {
        if (role.cell) parts.push(' ');
        else {
          broken = true;
          flush(role);
        }
        continue;
      }
      if (!BLOCK.has(tag)) {
        walk(element, role, inLink || tag === 'A');
        continue;
      }
      // A block element ends the line before it; its text is its own, in its own role.
      flush(role);
      broken = false;
      const inner = roleOf(tag, role);
      if (tag === 'TABLE') table(element, inner, inLink);
      else if (tag === 'DL') definitionList(element, inner, inLink);
      else walk(element, inner, inLink);
      flush(inner);
      broken = false;
    }
  };

  const row = (tr: Element, role: Role, inLink: boolean) => {
    const cellRole: Role = { ...role, cell: true };
    const cells = Array.from(tr.children)
      .filter((cell) => cell.tagName.toUpperCase() === 'TD' || cell.tagName.toUpperCase() === 'TH')
      .map((cell) =>
        collect(() => {
          walk(cell, cellRole, inLink);
          flush(cellRole);
        }),
      );
    const simple = cells.every((c) => c.length === 0 || (c.length === 1 && !(c[0] as Block).heading));
    if (!simple) {
      // A table for layout: its cells hold paragraphs (or lists) of their own, kept one by one.
      for (const cell of cells) add(cell);
      return;
    }
    const filled = cells.flat();
    if (filled.length === 0) return;
    const length = filled.reduce((n, b) => n + b.text.length, 0);
    const linkShare = filled.reduce((n, b) => n + (b.linkShare ?? 0) * b.text.length, 0) / length;
    blocks.push({ text: filled.map((b) => b.text.trim()).join(CELL_JOINER), kind: 'row', linkShare });
  };

  const table = (element: Element, role: Role, inLink: boolean) => {
    for (const child of Array.from(element.children)) {
      const tag = child.tagName.toUpperCase();
      if (tag === 'TR') row(child, role, inLink);
      else if (tag === 'THEAD' || tag === 'TBODY' || tag === 'TFOOT') table(child, role, inLink);
      else if (tag !== 'COLGROUP' && tag !== 'COL' && !SKIP.has(tag)) {
        const inner = roleOf(tag, role);
        walk(child, inner, inLink);
        flush(inner);
      }
    }
  };

  const definitionList = (element: Element, role: Role, inLink: boolean) => {
    // A term waiting for its definition: "Blue bin" + "paper and card" reads "Blue bin: paper and card".
    let term: Block | undefined;
    const release = () => {
      if (term) blocks.push(term);
      term = undefined;
    };
    for (const child of Array.from(element.children)) {
      const tag = child.tagName.toUpperCase();
      if (tag === 'DIV') {
        // HTML allows each term and its definitions wrapped in a div.
        release();
        definitionList(child, role, inLink);
        continue;
      }
      if (SKIP.has(tag)) continue;
      const inner = roleOf(tag, role);
      const found = collect(() => {
        walk(child, inner, inLink);
        flush(inner);
      });
      const [first, ...rest] = found;
      if (tag === 'DT') {
        release();
        if (found.length === 1 && !first?.heading) term = first;
        else add(found);
      } else if (tag === 'DD' && term && first && !first.heading) {
        const name = term.text.trim();
        const joined = /[:.?!…]$/.test(name) ? `${name} ${first.text.trim()}` : `${name}: ${first.text.trim()}`;
        blocks.push({ ...first, text: joined });
        add(rest);
        term = undefined;
      } else {
        release();
        add(found);
      }
    }
    release();
  };

  walk(root, PARAGRAPH, false);
  flush(PARAGRAPH);
  return blocks;
}
