import { isNewerCopy, type Message } from '@parley/client';
import { describeError, rest } from './api.js';
import { Timeline } from './timeline.js';

const PAGE = 20;

/**
 * One open thread: its parent and the replies read so far, oldest first, paged by the last id
 * read (`after_id`). Live replies join only once every page is read, so a page never skips the
 * replies between the last one read and a newer live one.
 */
export class ThreadModel {
  parent: Message | undefined;
  readonly replies = new Timeline();
  hasMore = true;
  loading = false;
  error = '';
  /** The last reply of the pages read: where the next page starts. */
  private cursor: string | undefined;

  constructor(
    readonly roomId: string,
    readonly parentId: string,
    private readonly changed: () => void,
  ) {}

  /** The next page (the first one brings the parent too). */
  async more(): Promise<void> {
    if (this.loading || !this.hasMore) return;
    this.loading = true;
    this.error = '';
    this.changed();
    try {
      const page = await rest.thread(this.roomId, this.parentId, { limit: PAGE, ...(this.cursor ? { afterId: this.cursor } : {}) });
      this.offer(page.parent);
      for (const m of page.messages) this.replies.insert(m);
      this.cursor = page.messages.at(-1)?.id ?? this.cursor;
      this.hasMore = page.has_more;
    } catch (err) {
      this.error = `Could not load the thread: ${describeError(err)}`;
    } finally {
      this.loading = false;
    }
    this.changed();
  }

  /** A message of the room, live or changed: the parent's new state, or a reply. True when shown here. */
  offer(m: Message): boolean {
    if (m.id === this.parentId) {
      if (this.parent && !isNewerCopy(this.parent, m)) return false;
      this.parent = m;
      return true;
    }
    if (m.reply_to !== this.parentId) return false;
    return this.replies.has(m.id) ? this.replies.update(m) : !this.hasMore && this.replies.insert(m);
  }
}
