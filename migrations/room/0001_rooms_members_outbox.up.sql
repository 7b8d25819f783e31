-- room-svc schema, version 1.
--
--   rooms         id | name | visibility (public|private) | owner_id | created_at | deleted_at
--   room_members  (room_id, user_id) | role (owner|member) | joined_at
--   room_outbox   id (event id, consumers dedupe on it) | subject | payload (json)
--                 | created_at | published_at (NULL until the relay got NATS's ack)
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
  id           uuid PRIMARY KEY,
  subject      text NOT NULL,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX room_outbox_pending ON room_outbox (created_at) WHERE published_at IS NULL;
