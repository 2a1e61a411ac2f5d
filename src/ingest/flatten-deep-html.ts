/**
 * How deep elements may nest before {@link flattenDeepHtml} flattens them. Real article pages nest
 * 20 to 40 deep; linkedom and Readability walk the tree recursively (2,000 nested `<div>`s take
 * about a minute, 10,000 overflow the stack), and htmlparser2's stack work grows with the depth.
 */
export const MAX_HTML_DEPTH = 100;

// The tree-building rules of htmlparser2 (the parser linkedom uses), so that the depth counted here
// is the depth linkedom would build: its void elements, the open tags that close the current one
// ("<p>" closes an open "p", "<li>" an open "li"), its raw-text elements and its foreign content.
const VOID = new Set([
  'area',
  'base',
  'basefont',
  'br',
  'col',
  'command',
  'embed',
  'frame',
  'hr',
  'img',
  'input',
  'isindex',
  'keygen',
  'link',
  'meta',
  'param',
  'source',
  'track',
  'wbr',
]);
const P = ['p'];
const FORM = ['input', 'option', 'optgroup', 'select', 'button', 'datalist', 'textarea'];
const IMPLIES_CLOSE = new Map<string, ReadonlySet<string>>(
  (
    [
      ['tr', ['tr', 'th', 'td']],
      ['th', ['th']],
      ['td', ['thead', 'th', 'td']],
      ['body', ['head', 'link', 'script']],
      ['li', ['li']],
      ['select', FORM],
      ['input', FORM],
      ['output', FORM],
      ['button', FORM],
      ['datalist', FORM],
      ['textarea', FORM],
      ['option', ['option']],
      ['optgroup', ['optgroup', 'option']],
      ['dd', ['dd', 'dt']],
      ['dt', ['dd', 'dt']],
      ['rt', ['rt', 'rp']],
      ['rp', ['rt', 'rp']],
      ['tbody', ['thead', 'tbody']],
      ['tfoot', ['thead', 'tbody']],
      ...[
        'p',
        'h1',
        'h2',
        'h3',
        'h4',
        'h5',
        'h6',
        'address',
        'article',
        'aside',
        'blockquote',
        'details',
        'div',
        'dl',
        'fieldset',
        'figcaption',
        'figure',
        'footer',
        'form',
        'header',
        'hr',
        'main',
        'nav',
        'ol',
        'pre',
        'section',
        'table',
        'ul',
      ].map((tag) => [tag, P] as const),
    ] as const
  ).map(([tag, closes]) => [tag, new Set<string>(closes)]),
);
/** Their content is text up to `</name` (then whitespace or `>`), never markup: each with the pattern of its end tag. */
const RAW_TEXT_END = new Map(
  ['script', 'style', 'title', 'textarea', 'xmp'].map((name) => [name, new RegExp(`</${name}[\\t\\n\\f\\r >]`, 'gi')]),
);
/** Inside these, `<tag/>` closes itself; inside the integration points, it does not again. */
const FOREIGN = new Set(['math', 'svg']);
const INTEGRATION = new Set(['mi', 'mo', 'mn', 'ms', 'mtext', 'annotation-xml', 'foreignobject', 'desc', 'title']);
/** A dropped tag of these leaves nothing, so "a<b>c</b>" stays one word; any other leaves a space. */
const INLINE = new Set([
  'a',
  'abbr',
  'b',
  'bdi',
  'bdo',
  'cite',
  'code',
  'data',
  'del',
  'dfn',
  'em',
  'font',
  'i',
  'ins',
  'kbd',
  'mark',
  'nobr',
  'q',
  's',
  'samp',
  'small',
  'span',
  'strong',
  'sub',
  'sup',
  'time',
  'tt',
  'u',
  'var',
  'wbr',
]);

/** htmlparser2's whitespace inside tags. */
function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x09 || code === 0x0c || code === 0x0d;
}

function isAsciiAlpha(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

interface Open {
  name: string;
  /** False when the element is beyond the depth limit and its tags are dropped. */
  kept: boolean;
}

/** An open or end tag: where it starts and ends (after `>`), its lowercase name, and whether it ends in `/>`. */
interface Tag {
  start: number;
  end: number;
  name: string;
  selfClosing: boolean;
}

/** Reads the start tag whose name begins at `at` (just after `<`), with htmlparser2's attribute rules. */
function readStartTag(html: string, start: number, at: number): Tag {
  let i = at;
  while (i < html.length) {
    const c = html.charCodeAt(i);
    if (isSpace(c) || c === 0x2f || c === 0x3e) break;
    i++;
  }
  const name = html.slice(at, i).toLowerCase();
  let selfClosing = false;
  while (i < html.length) {
    const c = html.charCodeAt(i);
    if (c === 0x3e) return { start, end: i + 1, name, selfClosing };
    if (c === 0x2f) {
      selfClosing = true;
      i++;
      continue;
    }
    if (isSpace(c)) {
      i++;
      continue;
    }
    selfClosing = false;
    // An attribute: its name, then perhaps `=` and a quoted or unquoted value.
    while (i < html.length) {
      const d = html.charCodeAt(i);
      if (d === 0x3d || d === 0x2f || d === 0x3e || isSpace(d)) break;
      i++;
    }
    while (i < html.length && isSpace(html.charCodeAt(i))) i++;
    if (html.charCodeAt(i) !== 0x3d) continue;
    i++;
    while (i < html.length && isSpace(html.charCodeAt(i))) i++;
    const quote = html[i];
    if (quote === '"' || quote === "'") {
      const close = html.indexOf(quote, i + 1);
      i = close < 0 ? html.length : close + 1;
    } else {
      while (i < html.length) {
        const d = html.charCodeAt(i);
        if (d === 0x3e || isSpace(d)) break;
        i++;
      }
    }
  }
  return { start, end: html.length, name, selfClosing };
}

/** End tags are looked for this far down the stack of open elements, so that each costs a bounded amount. */
const SEARCH_DEPTH = MAX_HTML_DEPTH * 2;

/**
 * `html` with the elements nested deeper than `maxDepth` flattened: their tags are dropped and
 * their text stays, in the element at the limit (`<script>` and `<style>` that deep go whole). One
 * linear pass over the tags, counting depth as linkedom's parser will build it (it closes what
 * HTML closes implicitly, and overestimates the depth rather than miss it where markup is broken).
 * A page that never nests that deep is returned as it is, the same string.
 */
export function flattenDeepHtml(html: string, maxDepth = MAX_HTML_DEPTH): string {
  const out: string[] = [];
  let copied = 0;
  const drop = (start: number, end: number, replacement: string) => {
    out.push(html.slice(copied, start), replacement);
    copied = end;
  };
  const stack: Open[] = [];
  let keptDepth = 0;
  const foreign: boolean[] = [false];
  const pop = () => {
    if ((stack.pop() as Open).kept) keptDepth--;
  };

  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt < 0) break;
    const next = html.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      const [open, close] = html.startsWith('<!--', lt)
        ? ['<!'.length, '-->']
        : html.startsWith('<![CDATA[', lt)
          ? ['<![CDATA['.length, ']]>']
          : ['<!'.length, '>'];
      const end = html.indexOf(close, lt + open);
      i = end < 0 ? html.length : end + close.length;
      continue;
    }
    if (next === 0x3f /* ? */ || (next === 0x2f /* / */ && !isAsciiAlpha(html.charCodeAt(lt + 2)))) {
      const end = html.indexOf('>', lt + 2);
      i = end < 0 ? html.length : end + 1;
      continue;
    }
    if (next === 0x2f) {
      // An end tag: `</name ...>`.
      let j = lt + 2;
      while (j < html.length && !isSpace(html.charCodeAt(j)) && html.charCodeAt(j) !== 0x3e) j++;
      const name = html.slice(lt + 2, j).toLowerCase();
      const gt = html.indexOf('>', j);
      const end = gt < 0 ? html.length : gt + 1;
      i = end;
      if (VOID.has(name)) continue;
      let pos = -1;
      for (let k = stack.length - 1; k >= Math.max(0, stack.length - SEARCH_DEPTH); k--) {
        if ((stack[k] as Open).name === name) {
          pos = k;
          break;
        }
      }
      const kept = pos < 0 ? keptDepth < maxDepth : (stack[pos] as Open).kept;
      if (pos >= 0) while (stack.length > pos) pop();
      if (!kept) drop(lt, end, INLINE.has(name) ? '' : ' ');
      else if ((FOREIGN.has(name) || INTEGRATION.has(name)) && foreign.length > 0) foreign.pop();
      continue;
    }
    if (!isAsciiAlpha(next)) {
      i = lt + 1;
      continue;
    }

    const tag = readStartTag(html, lt, lt + 1);
    i = tag.end;
    const closes = IMPLIES_CLOSE.get(tag.name);
    if (closes) while (stack.length > 0 && closes.has((stack[stack.length - 1] as Open).name)) pop();
    const isVoid = VOID.has(tag.name);
    const kept = keptDepth < maxDepth;
    if (kept && !isVoid) {
      if (FOREIGN.has(tag.name)) foreign.push(true);
      else if (INTEGRATION.has(tag.name)) foreign.push(false);
    }
    const leaf = isVoid || (tag.selfClosing && foreign[foreign.length - 1] === true);
    const endTag = tag.selfClosing ? undefined : RAW_TEXT_END.get(tag.name);
    let rawEnd = i;
    if (endTag) {
      endTag.lastIndex = i;
      const found = endTag.exec(html);
      rawEnd = found ? found.index : html.length;
    }
    if (kept) {
      if (!leaf) {
        stack.push({ name: tag.name, kept: true });
        keptDepth++;
      }
      i = rawEnd;
    } else if (endTag) {
      // Too deep to keep, and not text: the element goes whole, its end tag too.
      const gt = html.indexOf('>', rawEnd);
      i = gt < 0 ? html.length : gt + 1;
      drop(lt, i, ' ');
    } else {
      drop(lt, tag.end, INLINE.has(tag.name) ? '' : ' ');
      if (!leaf) stack.push({ name: tag.name, kept: false });
    }
  }
  if (copied === 0) return html;
  out.push(html.slice(copied));
  return out.join('');
}
