import type pg from 'pg';
import { periodic, type Component } from '@parley/lifecycle';
import type { Logger } from '@parley/log';

/** Rows per DELETE: short transactions beside the logins that use the same table. */
const PRUNE_BATCH = 1000;

/**
 * Deletes sessions that expired more than `afterMs` ago, in batches (index sessions_expires_at);
 * returns how many. A revoked session expires like any other, so it goes too, at most one
 * session lifetime later. Nothing reads an expired row (validation requires expires_at > now()),
 * so deleting one changes no answer; the delay only keeps recent ones for an operator to look at.
 */
export async function pruneExpiredSessions(pool: pg.Pool, afterMs: number): Promise<number> {
  let total = 0;
  for (;;) {
    const rs = await pool.query(
      `DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions WHERE expires_at < now() - $1 * interval '1 millisecond' LIMIT $2)`,
      [afterMs, PRUNE_BATCH],
    );
    total += rs.rowCount ?? 0;
    if ((rs.rowCount ?? 0) < PRUNE_BATCH) return total;
  }
}

/** Prunes expired sessions every `everyMs` (several instances may: a delete is a delete). */
export function sessionPruner(pool: pg.Pool, o: { afterMs: number; everyMs: number; log: Logger }): Component {
  return periodic({
    name: 'session-pruner',
    everyMs: o.everyMs,
    run: async () => {
      const pruned = await pruneExpiredSessions(pool, o.afterMs);
      if (pruned > 0) o.log.info({ pruned }, 'pruned expired sessions');
    },
    onError: (err) => o.log.warn({ err }, 'pruning expired sessions failed; will retry'),
  });
}
