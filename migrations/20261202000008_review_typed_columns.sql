-- What the review queue shows and filters on, in typed columns written at intake, instead
-- of read out of the stored draft event by JSON path at every listing. The event stays in
-- `draft` as received (the draft view shows it whole).
ALTER TABLE reviews
    ADD COLUMN language text,
    ADD COLUMN sentiment text,
    ADD COLUMN frustration float8,
    ADD COLUMN subject text,
    ADD COLUMN sender text,
    ADD COLUMN email_text text,
    ADD COLUMN summary text NOT NULL DEFAULT '',
    ADD COLUMN action_count integer NOT NULL DEFAULT 0,
    ADD COLUMN action_cents bigint NOT NULL DEFAULT 0;

UPDATE reviews r SET
    language = r.draft->'classification'->>'language',
    sentiment = r.draft->'classification'->'tone'->>'sentiment',
    frustration = (r.draft->'classification'->'tone'->>'frustration')::float8,
    subject = r.draft->'email'->>'subject',
    sender = r.draft->'email'->>'from',
    email_text = r.draft->'email'->>'text',
    summary = coalesce(r.draft->>'summary', ''),
    action_count = coalesce(jsonb_array_length(r.draft->'proposed_actions'), 0),
    action_cents = coalesce((SELECT sum((a->'params'->>'amount_cents')::bigint)
                             FROM jsonb_array_elements(r.draft->'proposed_actions') a
                             WHERE a->'params' ? 'amount_cents'), 0);
