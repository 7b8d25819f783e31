import type cassandra from 'cassandra-driver';
import { ENVELOPE_VERSION, MAX_DISTINCT_REACTIONS, type Message, type MessageVersion, type ReactionCount } from '@parley/contracts';
import { timeOf } from '@parley/envelope';
import { OWNER_DELETE_PREFIX } from './tables.js';

/**
 * A message's current state, computed from the events its row keeps (tables.ts). The rules are
 * the projection's, in one place, so every reader and the live announcements agree:
 *
 *   - a row without a sender is a change whose message is not stored yet: not a message (yet)
 *   - only the author's edits count; the newest (by id) is the body; version = 1 + their number
 *   - a delete counts when the author made it or the edge vouched for the owner; then the body is
 *     "" and mentions, reactions and edits are gone
 *   - a reaction is the latest event of its (emoji, member) pair; counts per emoji, most used
 *     first, at most MAX_DISTINCT_REACTIONS emoji
 */
type Row = cassandra.types.Row;
type Dict<V> = Record<string, V>;

const dict = <V>(row: Row, column: string): Dict<V> => (row.get(column) as Dict<V> | null) ?? {};
const byId = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

/** The author's edits of a row, oldest first. */
function validEdits(row: Row, sender: string): bigint[] {
  const authors = dict<string>(row, 'edit_authors');
  return Object.keys(authors)
    .filter((k) => authors[k] === sender)
    .map((k) => BigInt(k))
    .sort(byId);
}

/** The delete that counts (the first by id), if any. */
export function deletionOf(row: Row, sender: string): bigint | undefined {
  const deletes = dict<string>(row, 'deletes');
  const valid = Object.keys(deletes)
    .filter((k) => deletes[k] === sender || deletes[k]!.startsWith(OWNER_DELETE_PREFIX))
    .map((k) => BigInt(k))
    .sort(byId);
  return valid[0];
}

/** Per-emoji counts; `readerId` decides `me`. Also the members behind each, for announcements. */
export function reactionsOf(row: Row, readerId?: string): { counts: ReactionCount[]; reactors: Map<string, string[]> } {
  const reactors = new Map<string, string[]>();
  for (const [key, on] of Object.entries(dict<boolean>(row, 'reactions'))) {
    if (!on) continue;
    const cut = key.lastIndexOf(' ');
    const emoji = key.slice(0, cut);
    const user = key.slice(cut + 1);
    const list = reactors.get(emoji);
    if (list) list.push(user);
    else reactors.set(emoji, [user]);
  }
  const counts = [...reactors.entries()]
    .map(([emoji, users]) => ({ emoji, count: users.length, me: readerId !== undefined && users.includes(readerId) }))
    .sort((a, b) => b.count - a.count || (a.emoji < b.emoji ? -1 : a.emoji > b.emoji ? 1 : 0))
    .slice(0, MAX_DISTINCT_REACTIONS);
  return { counts, reactors };
}

/** The message a row holds, as `readerId` sees it; undefined for a row that is only changes. */
export function messageOfRow(row: Row, readerId?: string): Message | undefined {
  const sender = row.get('sender_id') as string | null;
  if (!sender) return undefined;
  const id = (row.get('id') as cassandra.types.Long).toString();
  const createdAt = (row.get('created_at') as Date).getTime();
  const edits = validEdits(row, sender);
  const deleted = deletionOf(row, sender);
  const replies = ((row.get('replies') as cassandra.types.Long[] | null) ?? []).map((l) => BigInt(l.toString()));
  const replyTo = row.get('reply_to') as cassandra.types.Long | null;
  const changedAt = row.get('changed_at') as Date | null;
  const last = edits[edits.length - 1];
  let body = (row.get('body') as string | null) ?? '';
  let mentions = (row.get('mentions') as string[] | null) ?? undefined;
  if (last !== undefined) {
    body = dict<string>(row, 'edits')[last.toString()] ?? '';
    mentions = dict<string[]>(row, 'edit_mentions')[last.toString()] ?? undefined;
  }
  const msg: Message = {
    v: ENVELOPE_VERSION,
    id,
    room_id: row.get('room_id') as string,
    sender_id: sender,
    sender_name: row.get('sender_name') as string,
    body: deleted === undefined ? body : '',
    client_msg_id: row.get('client_msg_id') as string,
    kind: 'message',
    created_at: createdAt,
    version: 1 + edits.length,
    changed_at: changedAt ? Math.max(changedAt.getTime(), createdAt) : createdAt,
  };
  if (replyTo) msg.reply_to = replyTo.toString();
  if (last !== undefined) msg.edited_at = timeOf(last);
  if (deleted !== undefined) {
    msg.deleted_at = timeOf(deleted);
  } else {
    if (mentions && mentions.length > 0) msg.mentions = mentions;
    const { counts } = reactionsOf(row, readerId);
    if (counts.length > 0) msg.reactions = counts;
  }
  if (replies.length > 0) {
    msg.reply_count = replies.length;
    msg.last_reply_id = replies.reduce((a, b) => (b > a ? b : a)).toString();
  }
  return msg;
}

/** Every body the message had, version 1 first; empty once deleted (its text is gone). */
export function versionsOfRow(row: Row): MessageVersion[] {
  const sender = row.get('sender_id') as string | null;
  if (!sender || deletionOf(row, sender) !== undefined) return [];
  const bodies = dict<string>(row, 'edits');
  const out: MessageVersion[] = [{ version: 1, body: (row.get('body') as string | null) ?? '', at: (row.get('created_at') as Date).getTime() }];
  validEdits(row, sender).forEach((id, i) => out.push({ version: i + 2, body: bodies[id.toString()] ?? '', at: timeOf(id) }));
  return out;
}
