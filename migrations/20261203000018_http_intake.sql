-- The HTTP way in (`POST /api/v1/emails`) for CRMs that cannot produce to Kafka.
--
-- An integration is one system allowed to post emails; its key is stored hashed and is
-- good for intake (and dry runs) only, never for the review API.
CREATE TABLE integrations (
    integration_id bigserial PRIMARY KEY,
    name           text NOT NULL UNIQUE,
    key_hash       bytea NOT NULL UNIQUE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz
);

-- One row per event id posted over HTTP: the idempotency key. The event goes to the
-- inbound topic exactly as stored here; `published_at` is set once the broker
-- acknowledged it, and a repeated post of an event not yet acknowledged publishes it
-- again (the worker drops a second copy of an event id it has recorded).
CREATE TABLE http_submissions (
    event_id       text PRIMARY KEY,
    integration_id bigint NOT NULL REFERENCES integrations (integration_id),
    case_id        text NOT NULL,
    customer_id    bigint NOT NULL,
    payload        bytea NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz
);
CREATE INDEX http_submissions_integration_idx ON http_submissions (integration_id, received_at);

-- The status of a posted email follows its latest draft, redrafts included (a redraft's
-- event id is the original's plus `~redraft-…`).
CREATE INDEX drafts_original_event_idx
    ON drafts (split_part(event_id, '~redraft-', 1), created_at DESC);
