/**
 * Message ids are 64-bit snowflakes as decimal strings without leading zeros (contracts'
 * `messageIdText`): comparing length, then text, orders them without BigInt.
 */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The newer of two ids, either of which may be missing. */
export function newerId(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareIds(a, b) >= 0 ? a : b;
}
