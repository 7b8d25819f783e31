import { searchForm } from '@parley/contracts';
import { ParleyError } from '@parley/errors';

/** What a user typed into the search box, split into plain words and quoted phrases. */
export interface SearchText {
  words: string;
  phrases: string[];
}

const MAX_PHRASES = 8;

/**
 * User text is never handed to a query parser. Double quotes make phrases; everything else
 * (`*:*`, `(`, `OR`, `body:x`, backslashes) is plain text that the body's analyzer tokenizes
 * like any message, so it can only match words, never change the query. An unmatched quote
 * is treated as a space.
 */
export function parseSearchText(raw: string, maxChars: number): SearchText {
  const text = searchForm(raw);
  if ([...text].length > maxChars) throw new ParleyError('VALIDATION_FAILED', `q is longer than ${maxChars} characters`);
  if (text.trim().length === 0) throw new ParleyError('VALIDATION_FAILED', 'q must contain something to search for');
  const parts = text.split('"');
  // An odd number of quotes leaves the last part unclosed: its opening quote is ignored.
  const closed = parts.length % 2 === 1 ? parts.length : parts.length - 1;
  const words: string[] = [];
  const phrases: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!.replace(/\s+/g, ' ').trim();
    if (part.length === 0) continue;
    if (i % 2 === 1 && i < closed) phrases.push(part);
    else words.push(part);
  }
  if (phrases.length > MAX_PHRASES) throw new ParleyError('VALIDATION_FAILED', `q has more than ${MAX_PHRASES} quoted phrases`);
  if (words.length === 0 && phrases.length === 0) throw new ParleyError('VALIDATION_FAILED', 'q must contain something to search for');
  return { words: words.join(' '), phrases };
}
