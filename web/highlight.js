/* global document */
/**
 * Search highlights arrive as HTML-escaped text with matches wrapped in <mark>…</mark>. They are
 * never given to innerHTML: the fragment is split on exactly those two tags, the pieces are
 * unescaped to plain text and placed as text nodes. Any other markup stays visible text.
 */
const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function unescapeHtml(text) {
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|amp|lt|gt|quot|apos);/gi, (whole, name) => {
    const lower = name.toLowerCase();
    if (lower in ENTITIES) return ENTITIES[lower];
    const code = lower.startsWith('#x') ? parseInt(lower.slice(2), 16) : parseInt(lower.slice(1), 10);
    return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/** Pure part: the fragment as [{text, mark}] pieces. */
export function parseHighlight(fragment) {
  const pieces = [];
  let mark = false;
  for (const part of String(fragment).split(/(<mark>|<\/mark>)/)) {
    if (part === '<mark>') mark = true;
    else if (part === '</mark>') mark = false;
    else if (part !== '') pieces.push({ text: unescapeHtml(part), mark });
  }
  return pieces;
}

export function renderHighlight(fragment) {
  const out = document.createDocumentFragment();
  for (const p of parseHighlight(fragment)) {
    if (!p.mark) {
      out.append(p.text);
      continue;
    }
    const m = document.createElement('mark');
    m.textContent = p.text;
    out.append(m);
  }
  return out;
}
