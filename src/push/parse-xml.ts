/**
 * A strict parser for the one XML shape WeChat pushes (wechat-api.md §3): a `<xml>` root holding
 * elements whose content is text, CDATA sections, or further elements. It is not a general XML
 * parser, on purpose (design.md invariant 5):
 *
 * - no DOCTYPE, no entity declarations, no comments, no processing instructions except one leading
 *   `<?xml …?>` declaration, no attributes;
 * - entities are never expanded: only the five predefined ones and numeric character references
 *   are decoded in plain text; any other `&name;` is an error;
 * - nesting is bounded (`MAX_DEPTH`), tags must balance, nothing but whitespace may sit outside the
 *   root or between child elements.
 *
 * It runs in one forward pass using `indexOf`, since it sits on the push hot path.
 * @module
 */
import { PushFormatError } from "../errors.ts";

/**
 * Deepest element nesting accepted, counting `<xml>` as 1. WeChat's deepest known message
 * (`SendPicsInfo/PicList/item/PicMd5Sum`) reaches 5.
 */
export const MAX_DEPTH = 8;

// Characters XML 1.0 forbids anywhere (§2.2). NUL in particular would break PostgreSQL text columns.
// eslint-disable-next-line no-control-regex
export const FORBIDDEN_CHARS_RE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

interface Frame {
  name: string;
  /** Key of this element in the flat result: `Name` under the root, `Parent.Name` (or `Parent.Name[n]`) deeper. */
  key: string;
  text: string;
  /** Non-whitespace text or CDATA seen: no child element may follow. */
  hasContent: boolean;
  hasChildren: boolean;
  /** How many children of each name were seen (for `item[1]`, `item[2]` … and root duplicates). */
  counts: Map<string, number> | undefined;
}

function fail(message: string, field?: string): never {
  throw new PushFormatError(`push body is not the XML WeChat sends: ${message}`, field === undefined ? {} : { field });
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function allWs(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isWs(s.charCodeAt(i))) return false;
  return true;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

function isNameStart(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f; // A-Z a-z _
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d; // 0-9 -
}

/** The element name starting at `i`, or "" when none does. */
function readName(s: string, i: number): string {
  if (i >= s.length || !isNameStart(s.charCodeAt(i))) return "";
  let j = i + 1;
  while (j < s.length && isNameChar(s.charCodeAt(j))) j++;
  return s.slice(i, j);
}

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

const NUMERIC_REF_RE = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/;

/** Decodes the five predefined entities and numeric references; anything else is refused, never expanded. */
function decodeText(s: string, field: string | undefined): string {
  if (s.includes("]]>")) fail("']]>' outside a CDATA section", field);
  let amp = s.indexOf("&");
  if (amp < 0) return s;
  let out = "";
  let last = 0;
  while (amp >= 0) {
    const semi = s.indexOf(";", amp + 1);
    if (semi < 0 || semi - amp > 12) fail("a bare '&' (escape it as &amp; or use CDATA)", field);
    const ref = s.slice(amp + 1, semi);
    let ch: string;
    switch (ref) {
      case "lt":
        ch = "<";
        break;
      case "gt":
        ch = ">";
        break;
      case "amp":
        ch = "&";
        break;
      case "quot":
        ch = '"';
        break;
      case "apos":
        ch = "'";
        break;
      default: {
        const m = NUMERIC_REF_RE.exec(ref);
        if (!m) fail(`entity '&${ref};' (entities are never expanded)`, field);
        const cp = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2]!, 10);
        if (!isXmlChar(cp)) fail(`character reference '&${ref};' is not an XML character`, field);
        ch = String.fromCodePoint(cp);
      }
    }
    out += s.slice(last, amp) + ch;
    last = semi + 1;
    amp = s.indexOf("&", last);
  }
  return out + s.slice(last);
}

/** Field name to report for an error inside `frame` (undefined at the root). */
function fieldOf(frame: Frame): string | undefined {
  return frame.key === "" ? undefined : frame.key;
}

/**
 * Parses a WeChat push envelope into a flat record of its fields.
 *
 * Leaf elements map their name to their text (CDATA sections and text runs concatenated, so
 * WeChat's `]]]]><![CDATA[>` split reads back as `]]>`; `<Tag/>` is `""`). Nested elements are
 * flattened with dots, and repeated names get an index from the second one on:
 * `<Video><MediaId>m</MediaId></Video>` gives `Video.MediaId`, and two `<item>`s under
 * `PicList` give `…PicList.item.…` and `…PicList.item[1].…`. A name repeated directly under
 * `<xml>` is an error (it would make the push ambiguous).
 *
 * The result has a null prototype, so field names like `__proto__` are plain keys.
 * @throws PushFormatError code PUSH_MALFORMED, with `field` when the fault is inside an element.
 * @example
 * parsePushXml("<xml><ToUserName><![CDATA[gh_1]]></ToUserName><CreateTime>1</CreateTime></xml>");
 * // { ToUserName: "gh_1", CreateTime: "1" }
 */
export function parsePushXml(xml: string): Record<string, string> {
  if (typeof xml !== "string") fail("not a string");
  if (FORBIDDEN_CHARS_RE.test(xml)) fail("a control character XML does not allow");
  let i = xml.charCodeAt(0) === 0xfeff ? 1 : 0; // byte-order mark
  i = skipWs(xml, i);
  if (xml.startsWith("<?", i)) {
    // Only the XML declaration is allowed, and only here.
    if (!xml.startsWith("<?xml", i) || !isWs(xml.charCodeAt(i + 5))) fail("a processing instruction");
    const end = xml.indexOf("?>", i + 5);
    if (end < 0) fail("an unterminated XML declaration");
    const decl = xml.slice(i + 5, end);
    if (decl.includes("<") || decl.includes(">")) fail("a malformed XML declaration");
    i = skipWs(xml, end + 2);
  }
  if (i >= xml.length) fail("the body is empty");
  if (xml.charCodeAt(i) !== 0x3c) fail("it does not start with an element");

  const out = Object.create(null) as Record<string, string>;
  const stack: Frame[] = [];

  for (;;) {
    // Here xml[i] === "<" (guaranteed on the first iteration and after reading text below).
    const c = xml.charCodeAt(i + 1);
    const frame = stack[stack.length - 1];

    if (c === 0x2f /* / */) {
      if (frame === undefined) fail("a closing tag before the root element");
      const gt = xml.indexOf(">", i + 2);
      if (gt < 0) fail(`an unterminated closing tag </${frame.name}`, fieldOf(frame));
      let nameEnd = gt;
      while (nameEnd > i + 2 && isWs(xml.charCodeAt(nameEnd - 1))) nameEnd--;
      const name = xml.slice(i + 2, nameEnd);
      if (name !== frame.name) fail(`</${name.slice(0, 64)}> does not close <${frame.name}>`, fieldOf(frame));
      stack.pop();
      if (!frame.hasChildren && frame.key !== "") out[frame.key] = frame.text;
      i = gt + 1;
    } else if (c === 0x21 /* ! */) {
      if (xml.startsWith("<![CDATA[", i) && frame !== undefined) {
        const end = xml.indexOf("]]>", i + 9);
        if (end < 0) fail("an unterminated CDATA section", fieldOf(frame));
        if (frame.key === "" || frame.hasChildren) fail("a CDATA section outside a field element", fieldOf(frame));
        frame.text += xml.slice(i + 9, end);
        frame.hasContent = true;
        i = end + 3;
      } else if (xml.startsWith("<!DOCTYPE", i) || xml.startsWith("<!doctype", i)) {
        fail("a DOCTYPE (document type declarations are refused)");
      } else if (xml.startsWith("<!ENTITY", i)) {
        fail("an ENTITY declaration (entities are refused)");
      } else if (xml.startsWith("<!--", i)) {
        fail("a comment");
      } else {
        fail("a markup declaration");
      }
    } else if (c === 0x3f /* ? */) {
      fail("a processing instruction");
    } else {
      const name = readName(xml, i + 1);
      if (name === "") fail("a '<' that does not start a tag (escape it as &lt; or use CDATA)", frame && fieldOf(frame));
      let j = skipWs(xml, i + 1 + name.length);
      const selfClosing = xml.charCodeAt(j) === 0x2f;
      if (selfClosing) j++;
      if (xml.charCodeAt(j) !== 0x3e /* > */) {
        fail(j >= xml.length ? `an unterminated tag <${name}` : `attributes or junk in tag <${name}>`, name);
      }
      i = j + 1;
      if (frame === undefined) {
        if (name !== "xml") fail(`the root element is <${name}>, not <xml>`);
        if (selfClosing) break;
        stack.push({ name, key: "", text: "", hasContent: false, hasChildren: false, counts: undefined });
      } else {
        if (stack.length >= MAX_DEPTH) fail(`elements nested deeper than ${MAX_DEPTH} levels`, fieldOf(frame));
        if (frame.hasContent) fail(`element <${name}> mixed with text`, fieldOf(frame));
        frame.hasChildren = true;
        frame.text = "";
        const counts = (frame.counts ??= new Map<string, number>());
        const seen = counts.get(name) ?? 0;
        counts.set(name, seen + 1);
        let key: string;
        if (frame.key === "") {
          if (seen > 0) fail(`field <${name}> appears twice`, name);
          key = name;
        } else {
          key = `${frame.key}.${seen === 0 ? name : `${name}[${seen}]`}`;
        }
        if (selfClosing) out[key] = "";
        else stack.push({ name, key, text: "", hasContent: false, hasChildren: false, counts: undefined });
      }
    }

    const top = stack[stack.length - 1];
    if (top === undefined) break;
    // Text up to the next tag.
    const lt = xml.indexOf("<", i);
    if (lt < 0) fail(`<${top.name}> is not closed`, fieldOf(top));
    if (lt > i) {
      const raw = xml.slice(i, lt);
      if (top.key === "" || top.hasChildren) {
        if (!allWs(raw)) fail(top.key === "" ? "text directly inside <xml>" : `text mixed with elements in <${top.name}>`, fieldOf(top));
      } else {
        top.text += decodeText(raw, top.key);
        if (!top.hasContent && !allWs(raw)) top.hasContent = true;
      }
    }
    i = lt;
  }

  if (skipWs(xml, i) !== xml.length) fail("content after </xml>");
  return out;
}
