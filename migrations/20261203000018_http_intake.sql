-- The HTTP way in (`POST /api/v1/emails`) for CRMs that cannot produce to Kafka.
--
-- An integration is one system allowed to post emails; its key is stored hashed and is
-- good for intake only: not for the review API, not for dry runs.
CREATE TABLE integrations (
    integration_id bigserial PRIMARY KEY,
    name           text NOT NULL UNIQUE,
    key_hash       bytea NOT NULL UNIQUE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz
);

-- One row per event id posted over HTTP: the idempotency key. The event goes to the
-- inbound topic exactly as stored here; `published_at` is set once the broker
-- acknowledged it. A row left unpublished (the broker was away, the process died) is
-- published by a repeated post or by the service's sweep, whichever comes first (the
-- worker drops a second copy of an event id it has recorded). `body_sha256` tells a
-- repeated post from a different email under the same id.
CREATE TABLE http_submissions (
    event_id       text PRIMARY KEY,
    integration_id bigint NOT NULL REFERENCES integrations (integration_id),
    case_id        text NOT NULL,
    customer_id    bigint NOT NULL,
    payload        bytea NOT NULL,
    body_sha256    bytea NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz
);
CREATE INDEX http_submissions_integration_idx ON http_submissions (integration_id, received_at);
CREATE INDEX http_submissions_unpublished_idx ON http_submissions (received_at)
    WHERE published_at IS NULL;

-- The status of a posted email follows its latest draft, redrafts included (a redraft's
-- event id is the original's plus `~redraft-…`).
CREATE INDEX drafts_original_event_idx
    ON drafts (split_part(event_id, '~redraft-', 1), created_at DESC);
