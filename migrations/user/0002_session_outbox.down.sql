DROP TABLE IF EXISTS session_outbox;
