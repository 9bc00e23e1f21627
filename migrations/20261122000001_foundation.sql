-- Foundation: the emails Deskhand ingested, their cases, the drafts made from them, and
-- the transactional outbox that carries drafts to the approval topic.

CREATE TABLE cases (
    case_id        text PRIMARY KEY,
    customer_id    bigint NOT NULL,
    first_email_at timestamptz NOT NULL,
    last_email_at  timestamptz NOT NULL,
    email_count    integer NOT NULL DEFAULT 0
);
CREATE INDEX cases_customer_idx ON cases (customer_id);

CREATE TABLE emails (
    event_id         text PRIMARY KEY,
    case_id          text NOT NULL REFERENCES cases (case_id),
    customer_id      bigint NOT NULL,
    customer_name    text,
    sender           text NOT NULL,
    subject          text,
    message_id       text,
    received_at      timestamptz NOT NULL,
    -- Exactly one of original_text / original_raw: what the CRM sent, untouched.
    original_text    text,
    original_raw     bytea,
    full_text        text NOT NULL,
    readable_text    text NOT NULL,
    source_topic     text NOT NULL,
    source_partition integer NOT NULL,
    source_offset    bigint NOT NULL,
    ingested_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT emails_one_original CHECK ((original_text IS NULL) <> (original_raw IS NULL))
);
CREATE INDEX emails_case_idx ON emails (case_id, received_at);

CREATE TABLE drafts (
    draft_id          uuid PRIMARY KEY,
    -- One draft per event: the idempotency guarantee lives here.
    event_id          text NOT NULL UNIQUE REFERENCES emails (event_id),
    case_id           text NOT NULL REFERENCES cases (case_id),
    customer_id       bigint NOT NULL,
    created_at        timestamptz NOT NULL,
    topic             text NOT NULL,
    urgency           text NOT NULL,
    confidence        double precision NOT NULL,
    route             text NOT NULL,
    reply_subject     text,
    reply_body        text,
    summary           text NOT NULL,
    escalation_reason text,
    engine            text NOT NULL,
    trace_id          text NOT NULL,
    -- The draft event exactly as published, for the review side and for audits.
    event             jsonb NOT NULL
);
CREATE INDEX drafts_case_idx ON drafts (case_id, created_at);

CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    topic        text NOT NULL,
    message_key  text NOT NULL,
    payload      bytea NOT NULL,
    headers      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text
);
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE published_at IS NULL;
