import { isDeleted, isNewerCopy, parseMessageId, reactedWith, type Message } from '@parley/client';

/**
 * The messages this terminal has shown, each under a short number (`#3`) that commands accept
 * in place of the 19-digit id, and the newest copy of each (larger changed_at), so a toggle knows
 * whether the reader has reacted and a late copy never undoes a change already printed.
 */
export class MessageBook {
  private readonly byId = new Map<string, { n: number; m: Message }>();
  private readonly ids: string[] = [];

  /** Keeps `m` (or its newer copy); `changed` is false for a repeat or an older copy. */
  remember(m: Message): { n: number; changed: boolean } {
    const known = this.byId.get(m.id);
    if (known) {
      if (!isNewerCopy(known.m, m)) return { n: known.n, changed: false };
      known.m = m;
      return { n: known.n, changed: true };
    }
    this.ids.push(m.id);
    const n = this.ids.length;
    this.byId.set(m.id, { n, m });
    return { n, changed: true };
  }

  get(id: string): Message | undefined {
    return this.byId.get(id)?.m;
  }

  numberOf(id: string): number | undefined {
    return this.byId.get(id)?.n;
  }

  /** `#n` or a message id → the id; otherwise a sentence saying what was wrong. */
  resolve(ref: string | undefined): { id: string } | { problem: string } {
    if (!ref) return { problem: 'name a message: #n (the number shown before it) or its id' };
    if (ref.startsWith('#')) {
      const n = Number(ref.slice(1));
      const id = Number.isInteger(n) && n >= 1 ? this.ids[n - 1] : undefined;
      return id ? { id } : { problem: `no message ${ref} on this screen (numbers are shown before each message)` };
    }
    return parseMessageId(ref) !== undefined ? { id: ref } : { problem: `${ref} is neither #n nor a message id` };
  }

  /** Whether the reader's reaction `emoji` is on `id`, as last shown. */
  reacted(id: string, emoji: string): boolean {
    const m = this.get(id);
    return m !== undefined && reactedWith(m, emoji);
  }

  /**
   * One line: `#n [time] who: body (edited) [👍 2* 🎉 1] (3 replies)`, `*` marking the reader's own
   * reaction; a reply names its parent (`who ↪ #2: …`), a deleted message shows as `(deleted)`.
   */
  line(m: Message, selfId: string | undefined): string {
    const n = this.remember(m).n;
    const time = new Date(m.created_at).toLocaleTimeString();
    const who = m.sender_id === selfId ? `${m.sender_name} (you)` : m.sender_name;
    const parent = m.reply_to ? ` ↪ ${this.numberOf(m.reply_to) ? `#${this.numberOf(m.reply_to)}` : m.reply_to}` : '';
    if (isDeleted(m)) return `#${n} [${time}] ${who}${parent}: (deleted)`;
    const edited = m.edited_at !== undefined ? ' (edited)' : '';
    const reactions = m.reactions?.length ? ` [${m.reactions.map((r) => `${r.emoji} ${r.count}${r.me ? '*' : ''}`).join(' ')}]` : '';
    const replies = m.reply_count ? ` (${m.reply_count === 1 ? '1 reply' : `${m.reply_count} replies`})` : '';
    return `#${n} [${time}] ${who}${parent}: ${m.body}${edited}${reactions}${replies}`;
  }
}
