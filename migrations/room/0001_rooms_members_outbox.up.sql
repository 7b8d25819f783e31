-- room-svc schema, version 1.
--
--   rooms         id | name | visibility (public|private) | owner_id | created_at | deleted_at
--   room_members  (room_id, user_id) | role (owner|member) | joined_at
--   room_outbox   seq (publish order) | id (event id = JetStream msgID, consumers dedupe on it)
--                 | subject | payload (json) | created_at | published_at (NULL until NATS acked)
--
-- Outbox rows are written in the same transaction as the change they describe, and a room's
-- mutations lock its rooms row first, so one room's events get increasing seq in commit order.
--
-- Owners are user ids from user-svc; there is no foreign key across services.
CREATE TABLE rooms (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL,
  visibility  text NOT NULL CHECK (visibility IN ('public', 'private')),
  owner_id    uuid NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz
);
CREATE INDEX rooms_public ON rooms (created_at) WHERE visibility = 'public' AND deleted_at IS NULL;

CREATE TABLE room_members (
  room_id   uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id   uuid NOT NULL,
  role      text NOT NULL CHECK (role IN ('owner', 'member')),
  joined_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members (user_id);

CREATE TABLE room_outbox (
  seq          bigserial PRIMARY KEY,
  id           uuid NOT NULL UNIQUE,
  subject      text NOT NULL,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX room_outbox_pending ON room_outbox (seq) WHERE published_at IS NULL;
