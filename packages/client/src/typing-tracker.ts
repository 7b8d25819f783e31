import { TYPING_SHOW_MS } from '@parley/contracts';

/**
 * Who is typing in a room: each `typing` frame shows its member for TYPING_SHOW_MS (contracts),
 * a repeat extends it, and a message from them ends it at once (they stopped typing to send).
 * The clock is passed in, so a view asks `names(now)` and schedules its next look at `nextChange`.
 */
export class TypingTracker {
  private readonly until = new Map<string, { name: string; until: number }>();

  constructor(private readonly showMs = TYPING_SHOW_MS) {}

  typing(userId: string, name: string, now: number): void {
    this.until.set(userId, { name, until: now + this.showMs });
  }

  /** Their message arrived: no longer typing. */
  stopped(userId: string): void {
    this.until.delete(userId);
  }

  /** Names of those typing now, in the order they started. */
  names(now: number): string[] {
    for (const [id, t] of this.until) if (t.until <= now) this.until.delete(id);
    return [...this.until.values()].map((t) => t.name);
  }

  /** When the next name disappears (epoch ms), or undefined when nobody types. */
  get nextChange(): number | undefined {
    let next: number | undefined;
    for (const t of this.until.values()) if (next === undefined || t.until < next) next = t.until;
    return next;
  }
}

/** "Ada is typing…", "Ada and Bob are typing…", "Ada, Bob and 2 others are typing…"; '' for nobody. */
export function typingLine(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  const others = names.length - 2;
  return `${names[0]}, ${names[1]} and ${others} other${others === 1 ? '' : 's'} are typing…`;
}
