-- room-svc schema, version 2: direct rooms.
--
--   rooms.visibility  gains 'direct': a private room of exactly two users, made by either of them
--   rooms.dm_key      '<smaller user id>:<larger user id>' for a direct room, NULL otherwise; unique,
--                     so the same pair always gets the same room, however they race to create it
--
-- Both users are members (role 'member': there is no owner to add, remove or delete); room-svc
-- refuses every membership change and the deletion of a direct room.
ALTER TABLE rooms DROP CONSTRAINT rooms_visibility_check;
ALTER TABLE rooms ADD CONSTRAINT rooms_visibility_check CHECK (visibility IN ('public', 'private', 'direct'));
ALTER TABLE rooms ADD COLUMN dm_key text UNIQUE;
ALTER TABLE rooms ADD CONSTRAINT rooms_direct_key CHECK ((visibility = 'direct') = (dm_key IS NOT NULL));
