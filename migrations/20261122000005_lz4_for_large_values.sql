-- The values written with every email that can pass the 2 kB at which Postgres compresses
-- them (the draft event, the message the relay publishes, the email's texts) use lz4
-- where the server has it: it compresses several times faster than the default pglz,
-- which was a few per cent of the database's CPU under load. Existing values stay as
-- they are; servers built without lz4 keep pglz.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE drafts ALTER COLUMN event SET COMPRESSION lz4;
        ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION lz4;
        ALTER TABLE emails ALTER COLUMN original_text SET COMPRESSION lz4,
                           ALTER COLUMN original_raw SET COMPRESSION lz4,
                           ALTER COLUMN full_text SET COMPRESSION lz4,
                           ALTER COLUMN readable_text SET COMPRESSION lz4;
    END IF;
END $$;
