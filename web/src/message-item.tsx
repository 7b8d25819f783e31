import { useEffect, useRef, useState } from 'preact/hooks';
import { isDeleted, mentions, type Message, type User } from '@parley/client';
import { formatTime } from './format.js';

/** The emoji the picker offers: a handful of common ones. */
export const PICKER_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢'] as const;

/** What a message can do, for the reader: each is offered only where the edge would allow it. */
export interface MessageActions {
  me: User;
  isOwner: boolean;
  edit(id: string, body: string): Promise<string | undefined>;
  remove(id: string): void;
  react(m: Message, emoji: string): void;
  reply(m: Message): void;
  openThread(id: string): void;
  reveal(id: string): void;
  /** The message a reply answers, if loaded. */
  parentOf(id: string): Message | undefined;
}

interface Props {
  m: Message;
  actions: MessageActions;
  provisional?: boolean;
  flash?: boolean;
  /** In the thread panel: no reply or thread links (the panel is the thread). */
  inThread?: boolean;
  /** A read marker under the message ("seen by Bob"). */
  seen?: string | undefined;
}

/**
 * One message: author, time, "edited", the body (or "This message was deleted."), the message
 * it answers, reactions with counts (the reader's own pressed), and the actions. Every text is a
 * text node; `@you` is wrapped in a span by splitting the text, never by markup.
 */
export function MessageItem({ m, actions, provisional = false, flash = false, inThread = false, seen }: Props) {
  const { me } = actions;
  const [editing, setEditing] = useState(false);
  const [picking, setPicking] = useState(false);
  const deleted = isDeleted(m);
  const mine = m.sender_id === me.id;
  const cls = `msg${mine ? ' mine' : ''}${provisional ? ' provisional' : ''}${flash ? ' flash' : ''}${deleted ? ' deleted' : ''}${mentions(m, me.id) ? ' mention-me' : ''}`;
  const live = !deleted && !provisional;
  return (
    <li class={cls} data-id={m.id}>
      <div class="meta">
        <span class="author">{m.sender_name}</span>
        <time dateTime={new Date(m.created_at).toISOString()}>{formatTime(m.created_at)}</time>
        {m.edited_at !== undefined && !deleted && (
          <span class="edited" title={`edited ${formatTime(m.edited_at)}`}>
            (edited)
          </span>
        )}
        {live && (
          <span class="actions">
            <button type="button" class="link" data-act="react" aria-expanded={picking} onClick={() => setPicking(!picking)}>
              react
            </button>
            {!inThread && (
              <button type="button" class="link" data-act="reply" onClick={() => actions.reply(m)}>
                reply
              </button>
            )}
            {mine && (
              <button type="button" class="link" data-act="edit" onClick={() => setEditing(true)}>
                edit
              </button>
            )}
            {(mine || actions.isOwner) && <ArmedButton label="delete" onConfirm={() => actions.remove(m.id)} />}
          </span>
        )}
      </div>
      {m.reply_to && !inThread && <ReplyQuote id={m.reply_to} actions={actions} />}
      {deleted ? (
        <div class="body tombstone">This message was deleted.</div>
      ) : editing ? (
        <EditBox body={m.body} onSave={(body) => actions.edit(m.id, body)} onDone={() => setEditing(false)} />
      ) : (
        <div class="body">{withMentions(m.body, me.username)}</div>
      )}
      {picking && live && (
        <div class="picker" role="group" aria-label="Pick a reaction">
          {PICKER_EMOJI.map((e) => (
            <button
              type="button"
              key={e}
              onClick={() => {
                setPicking(false);
                actions.react(m, e);
              }}
            >
              {e}
            </button>
          ))}
        </div>
      )}
      {!deleted && (m.reactions?.length ?? 0) > 0 && (
        <div class="reactions">
          {m.reactions!.map((r) => (
            <button type="button" key={r.emoji} class="reaction" data-emoji={r.emoji} aria-pressed={r.me} disabled={provisional} onClick={() => actions.react(m, r.emoji)}>
              {r.emoji} <span class="count">{r.count}</span>
            </button>
          ))}
        </div>
      )}
      {!inThread && (m.reply_count ?? 0) > 0 && (
        <button type="button" class="link thread-link" onClick={() => actions.openThread(m.id)}>
          {m.reply_count === 1 ? '1 reply' : `${m.reply_count} replies`}
        </button>
      )}
      {seen && <div class="seen">{seen}</div>}
    </li>
  );
}

/** `@username` of the reader marked in the text; everything stays a text node. */
function withMentions(body: string, username: string) {
  const re = new RegExp(`(^|[^A-Za-z0-9_.@-])(@${username.replace(/[.]/g, '\\.')})(?![A-Za-z0-9_])`, 'gi');
  const out: Array<string | preact.JSX.Element> = [];
  let at = 0;
  for (const match of body.matchAll(re)) {
    const start = match.index + match[1]!.length;
    out.push(body.slice(at, start), <span class="mention" key={start}>{match[2]}</span>);
    at = start + match[2]!.length;
  }
  out.push(body.slice(at));
  return out;
}

function ReplyQuote({ id, actions }: { id: string; actions: MessageActions }) {
  const parent = actions.parentOf(id);
  const text = !parent ? 'an earlier message' : isDeleted(parent) ? 'a deleted message' : `${parent.sender_name}: ${parent.body.slice(0, 80)}`;
  return (
    <button type="button" class="link reply-quote" onClick={() => actions.reveal(id)}>
      ↪ {text}
    </button>
  );
}

/** Enter saves, Shift+Enter starts a line, Escape (or an unchanged body) cancels. */
function EditBox({ body, onSave, onDone }: { body: string; onSave: (body: string) => Promise<string | undefined>; onDone: () => void }) {
  const input = useRef<HTMLTextAreaElement>(null);
  const [error, setError] = useState('');
  useEffect(() => input.current?.focus(), []);
  const save = async () => {
    const value = input.current?.value ?? '';
    if (value === body) return onDone();
    const problem = await onSave(value);
    if (problem) setError(problem);
    else onDone();
  };
  return (
    <div class="edit-box">
      <textarea
        ref={input}
        rows={2}
        aria-label="Edit message"
        defaultValue={body}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onDone();
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            void save();
          }
        }}
      />
      <button type="button" class="small" onClick={() => void save()}>
        Save
      </button>
      <button type="button" class="small secondary" onClick={onDone}>
        Cancel
      </button>
      <span class="composer-error" role="alert">
        {error}
      </span>
    </div>
  );
}

/** Asks twice: the first click arms the button for 4 s. */
export function ArmedButton({ label, armedLabel = 'really?', cls = 'link', onConfirm }: { label: string; armedLabel?: string; cls?: string; onConfirm: () => void }) {
  const [armed, setArmed] = useState(false);
  useEffect(() => {
    if (!armed) return;
    const t = setTimeout(() => setArmed(false), 4000);
    return () => clearTimeout(t);
  }, [armed]);
  return (
    <button type="button" class={cls} data-act={label} data-armed={armed ? 'yes' : ''} onClick={() => (armed ? onConfirm() : setArmed(true))}>
      {armed ? armedLabel : label}
    </button>
  );
}
