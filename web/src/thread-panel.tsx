import { Composer } from './composer.js';
import { MessageItem, type MessageActions } from './message-item.js';
import type { ThreadModel } from './thread-model.js';

interface Props {
  thread: ThreadModel;
  actions: MessageActions;
  ended: boolean;
  onSend: (body: string, replyTo: string) => string | undefined;
  onClose: () => void;
}

/** A thread beside the room: the parent, its replies page by page (live once all are read), a reply box. */
export function ThreadPanel({ thread, actions, ended, onSend, onClose }: Props) {
  const { parent } = thread;
  return (
    <aside class="thread-panel" aria-label="Thread" data-parent={thread.parentId}>
      <header>
        <strong>Thread</strong>
        <button type="button" class="link" onClick={onClose}>
          close
        </button>
      </header>
      {parent && (
        <ol class="messages thread-parent">
          <MessageItem m={parent} actions={actions} inThread />
        </ol>
      )}
      <ol class="messages thread-replies">
        {thread.replies.entries().map((e) => (
          <MessageItem key={e.message.id} m={e.message} actions={actions} inThread />
        ))}
      </ol>
      {thread.loading && <p class="muted">Loading…</p>}
      {thread.error && <p class="error">{thread.error}</p>}
      {thread.hasMore && !thread.loading && (
        <button type="button" class="secondary more-replies" onClick={() => void thread.more()}>
          More replies
        </button>
      )}
      {parent && !parent.deleted_at && <Composer disabled={ended} label="Reply" placeholder="Reply in the thread" onSend={(body) => onSend(body, thread.parentId)} />}
    </aside>
  );
}
