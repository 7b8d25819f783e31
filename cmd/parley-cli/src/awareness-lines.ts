import type { PresenceMember, Room, RoomUnread } from '@parley/client';

/** One room of `/rooms`: id, name, kind and role, and what is unread in it (nothing when all is read). */
export function roomLine(r: Room, unread: RoomUnread | undefined): string {
  const counts = unread && unread.messages > 0 ? `  ${unread.messages} unread${unread.mentions > 0 ? `, ${unread.mentions} mention${unread.mentions === 1 ? '' : 's'}` : ''}` : '';
  return `  ${r.id}  ${r.name}  (${r.visibility}${r.role ? `, ${r.role}` : ''})${counts}`;
}

/** `/who`: the members online in the room, longest online first, with the ids `/dm` takes. */
export function whoLines(online: readonly PresenceMember[], selfId: string | undefined, now = Date.now()): string[] {
  if (online.length === 0) return ['nobody online (presence not known yet)'];
  return [`${online.length} online:`, ...online.map((m) => `  ● ${m.name}${m.user_id === selfId ? ' (you)' : ''}  ${m.user_id}  for ${duration(now - m.since)}`)];
}

/** What a presence change prints; the caller's own coming and going is not news. */
export function presenceLines(joined: readonly PresenceMember[], left: readonly PresenceMember[], initial: boolean, selfId: string | undefined): string[] {
  const others = (list: readonly PresenceMember[]) => list.filter((m) => m.user_id !== selfId).map((m) => m.name);
  if (initial) {
    const names = others(joined);
    return [names.length ? `online here: ${names.join(', ')}` : 'nobody else is online here'];
  }
  return [...others(joined).map((n) => `${n} is online`), ...others(left).map((n) => `${n} went offline`)];
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
