-- user-svc schema, version 3: expired sessions are pruned (cmd/user-svc/src/session-pruner.ts)
-- by expires_at; without an index each prune would scan the whole table.
CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at);
