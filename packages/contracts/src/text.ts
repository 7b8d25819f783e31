/**
 * What counts as text a person can see. A message body or a display name made only of
 * whitespace, control characters, format characters (zero-width space and joiners, bidi marks,
 * the BOM, soft hyphens), variation selectors or the "blank" letters that render as nothing
 * (Hangul fillers, the braille blank) shows as an empty line: it is refused like an empty one.
 * Such characters stay allowed inside text that also has something visible (an emoji ZWJ
 * sequence needs its joiners). NUL is refused anywhere: PostgreSQL cannot store it in text and
 * many clients cut strings at it.
 */
const INVISIBLE = /[\s\p{Cc}\p{Cf}\p{Zs}\p{Zl}\p{Zp}\u{FE00}-\u{FE0F}\u{E0100}-\u{E01EF}\u{115F}\u{1160}\u{3164}\u{FFA0}\u{2800}]/gu;

/** True when nothing in `s` would be visible. */
export function isBlankText(s: string): boolean {
  return s.replace(INVISIBLE, '').length === 0;
}

/**
 * The one form text is searched in: Unicode NFC, applied to the indexed body and to the query
 * alike, so "café" typed with a combining accent and "café" typed precomposed are the same word.
 */
export function searchForm(s: string): string {
  return s.normalize('NFC');
}

export function containsNul(s: string): boolean {
  return s.includes('\u0000');
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A UTF-16 string that cannot be encoded as UTF-8 (JSON allows it; stores and clients do not). */
export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

const utf8 = new TextEncoder();

/** Bytes of `s` in UTF-8 (works in browsers too, unlike Buffer.byteLength). */
export function utf8ByteLength(s: string): number {
  return utf8.encode(s).byteLength;
}
