import { useRef, useState } from 'preact/hooks';
import { parseHighlight, type FoundMessage } from '@parley/client';
import { describeError, rest } from './api.js';
import { formatTime } from './format.js';

interface SearchState {
  open: boolean;
  text: string;
  hits: FoundMessage[];
  next: string | null;
  status: 'idle' | 'searching' | 'done' | 'failed';
  error?: string;
}

const CLOSED: SearchState = { open: false, text: '', hits: [], next: null, status: 'idle' };

/** Search of one room: the state, and the function that runs a query (or its next page). */
export function useSearch(roomId: string) {
  const [state, setState] = useState<SearchState>(CLOSED);
  const latest = useRef(0);
  const run = async (text: string, cursor?: string) => {
    const q = text.trim();
    if (!q) return setState(CLOSED);
    const ticket = ++latest.current;
    if (!cursor) setState({ open: true, text: q, hits: [], next: null, status: 'searching' });
    try {
      const page = await rest.search(roomId, q, { limit: 20, ...(cursor ? { cursor } : {}) });
      if (ticket !== latest.current) return;
      setState((s) => ({ open: true, text: q, hits: cursor ? [...s.hits, ...page.messages] : page.messages, next: page.next_cursor, status: 'done' }));
    } catch (err) {
      if (ticket === latest.current) setState({ open: true, text: q, hits: [], next: null, status: 'failed', error: describeError(err) });
    }
  };
  return { state, run, close: () => setState(CLOSED) };
}

/**
 * The query service returns HTML-escaped fragments with `<mark>`; they are split on exactly
 * `<mark>` and `</mark>` and the rest is text, so nothing but <mark> can become markup.
 */
function Fragment({ text }: { text: string }) {
  return (
    <div class="fragment">
      {parseHighlight(text).map((p, i) => (p.mark ? <mark key={i}>{p.text}</mark> : p.text))}
    </div>
  );
}

export function SearchResults({ search, onReveal }: { search: ReturnType<typeof useSearch>; onReveal: (id: string) => void }) {
  const { state, run, close } = search;
  if (!state.open) return <aside class="search-results" hidden aria-label="Search results" />;
  if (state.status === 'searching') {
    return (
      <aside class="search-results" aria-label="Search results">
        <p class="muted">Searching…</p>
      </aside>
    );
  }
  if (state.status === 'failed') {
    return (
      <aside class="search-results" aria-label="Search results">
        <p class="error">{state.error}</p>
      </aside>
    );
  }
  return (
    <aside class="search-results" aria-label="Search results">
      <header>
        <strong>Results for “{state.text}”</strong>
        <button type="button" class="link" onClick={close}>
          close
        </button>
      </header>
      <ol class="hits">
        {state.hits.map((m) => (
          <li key={m.id} class="hit" data-id={m.id} tabIndex={0} onClick={() => onReveal(m.id)}>
            <div class="meta">
              <span class="author">{m.sender_name}</span>
              <time>{formatTime(m.created_at)}</time>
            </div>
            {m.highlights?.length ? m.highlights.map((f, i) => <Fragment key={i} text={f} />) : <div class="fragment">{m.body}</div>}
          </li>
        ))}
        {state.hits.length === 0 && <li class="muted">No messages match.</li>}
      </ol>
      {state.next && (
        <button type="button" class="more" onClick={() => void run(state.text, state.next ?? undefined)}>
          More results
        </button>
      )}
    </aside>
  );
}
