DELETE FROM rooms WHERE visibility = 'direct';
ALTER TABLE rooms DROP CONSTRAINT rooms_direct_key;
ALTER TABLE rooms DROP COLUMN dm_key;
ALTER TABLE rooms DROP CONSTRAINT rooms_visibility_check;
ALTER TABLE rooms ADD CONSTRAINT rooms_visibility_check CHECK (visibility IN ('public', 'private'));
