import { canonicalUuid } from '@parley/client';

/**
 * The people this terminal has seen (senders of messages shown, members online), so `/dm`
 * can take a name: user-svc has no lookup by username, so a name is found only among them.
 * Names are display names as the edge gives them (a user's username unless they chose one).
 */
export class People {
  private readonly names = new Map<string, string>();

  see(userId: string, name: string): void {
    this.names.set(userId, name);
  }

  nameOf(userId: string): string | undefined {
    return this.names.get(userId);
  }

  /** A user id as typed, or the one person seen under that name (any case). */
  resolve(text: string): { id: string } | { problem: string } {
    const id = canonicalUuid(text);
    if (id) return { id };
    const want = text.replace(/^@/, '').toLowerCase();
    const found = [...this.names].filter(([, n]) => n.toLowerCase() === want).map(([u]) => u);
    if (found.length === 1) return { id: found[0]! };
    if (found.length > 1) return { problem: `${found.length} people are called ${text}: use the user id (/who lists them)` };
    return { problem: `nobody called ${text} seen here: give their user id, or /who in a room you share` };
  }
}
