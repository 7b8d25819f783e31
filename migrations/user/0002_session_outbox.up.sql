-- user-svc schema, version 2: session events leave through an outbox.
--
--   session_outbox  seq (publish order) | id (event id = JetStream msgID, consumers dedupe on it)
--                   | subject | payload (json) | created_at | published_at (NULL until NATS acked)
--
-- A logout writes its row in the transaction that sets sessions.revoked_at, so the event is
-- announced if and only if the revocation committed, whatever NATS or the process do next.
CREATE TABLE session_outbox (
  seq          bigserial PRIMARY KEY,
  id           uuid NOT NULL UNIQUE,
  subject      text NOT NULL,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX session_outbox_pending ON session_outbox (seq) WHERE published_at IS NULL;
