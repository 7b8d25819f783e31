/**
 * Search highlights arrive as HTML-escaped text with matches wrapped in `<mark>…</mark>`. They are
 * never to be given to innerHTML: the fragment is split on exactly those two tags and the pieces
 * unescaped to plain text, for the caller to place as text nodes. Any other markup stays text.
 */
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function unescapeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|amp|lt|gt|quot|apos);/gi, (whole, name: string) => {
    const lower = name.toLowerCase();
    const named = ENTITIES[lower];
    if (named !== undefined) return named;
    const code = lower.startsWith('#x') ? parseInt(lower.slice(2), 16) : parseInt(lower.slice(1), 10);
    return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

export interface HighlightPiece {
  text: string;
  mark: boolean;
}

/** A fragment as plain-text pieces, each marked or not. */
export function parseHighlight(fragment: string): HighlightPiece[] {
  const pieces: HighlightPiece[] = [];
  let mark = false;
  for (const part of fragment.split(/(<mark>|<\/mark>)/)) {
    if (part === '<mark>') mark = true;
    else if (part === '</mark>') mark = false;
    else if (part !== '') pieces.push({ text: unescapeHtml(part), mark });
  }
  return pieces;
}
