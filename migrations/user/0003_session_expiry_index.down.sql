DROP INDEX IF EXISTS sessions_expires_at;
