import type { Message } from '@parley/contracts';

/**
 * A message reaches a client several times (history, live, `message_updated`, REST pages), each
 * copy the whole state at some moment. Which copy to keep is decided here, once, for the SDK, the
 * page and the terminal alike: the larger `changed_at` (missing = `created_at`, a message never
 * changed); on a tie the one that arrived last, unless it is the very same state (a resume
 * repeats what it already sent).
 */
export function changedAt(m: Message): number {
  return m.changed_at ?? m.created_at;
}

/**
 * What can differ between two copies with the same `changed_at` (two changes within one
 * millisecond): version, deletion, reactions as this reader sees them, the thread below.
 */
export function stateKey(m: Message): string {
  const reactions = (m.reactions ?? []).map((r) => `${r.emoji}:${r.count}:${r.me ? 1 : 0}`).join(',');
  return `${changedAt(m)}|${m.version ?? 1}|${m.deleted_at ?? ''}|${m.reply_count ?? 0}|${m.last_reply_id ?? ''}|${reactions}`;
}

/** Whether `incoming` should replace `known` (copies of the same message). */
export function isNewerCopy(known: Message, incoming: Message): boolean {
  return isNewerKey(stateKey(known), stateKey(incoming));
}

/** isNewerCopy on two stateKeys (what SeenIds remembers instead of whole messages). */
export function isNewerKey(known: string, incoming: string): boolean {
  const a = Number(known.slice(0, known.indexOf('|')));
  const b = Number(incoming.slice(0, incoming.indexOf('|')));
  return b > a || (b === a && incoming !== known);
}

/** Whether the reader has reacted to `m` with `emoji` (what a toggle turns off). */
export function reactedWith(m: Message, emoji: string): boolean {
  return m.reactions?.some((r) => r.emoji === emoji && r.me) ?? false;
}

/** Deleted: a tombstone, its body gone. */
export function isDeleted(m: Message): boolean {
  return m.deleted_at !== undefined;
}

/** Whether `m` names `userId` among its resolved `@mentions`. */
export function mentions(m: Message, userId: string): boolean {
  return m.mentions?.includes(userId) ?? false;
}
