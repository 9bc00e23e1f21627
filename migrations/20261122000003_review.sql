-- Human review: reviewers and their sessions, the queue of drafts materialised from the
-- approval topic, decisions (with idempotency keys), outgoing email, and the audit log.

CREATE TABLE reviewers (
    reviewer_id bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    role        text NOT NULL CHECK (role IN ('reviewer', 'lead', 'admin')),
    -- SHA-256 of the personal API token; the token itself is shown once and never stored.
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

CREATE TABLE review_sessions (
    -- SHA-256 of the session cookie's value.
    session_hash bytea PRIMARY KEY,
    reviewer_id  bigint NOT NULL REFERENCES reviewers (reviewer_id),
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

-- One row per draft seen on the approval topic; the draft id is the dedupe key.
CREATE TABLE reviews (
    draft_id          uuid PRIMARY KEY,
    event_id          text NOT NULL,
    case_id           text NOT NULL,
    customer_id       bigint NOT NULL,
    topic             text NOT NULL,
    urgency           text NOT NULL,
    urgency_rank      smallint NOT NULL,
    route             text NOT NULL,
    confidence        double precision NOT NULL,
    email_received_at timestamptz NOT NULL,
    drafted_at        timestamptz NOT NULL,
    queued_at         timestamptz NOT NULL DEFAULT now(),
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'escalated', 'approved', 'rejected', 'stale')),
    -- Optimistic concurrency: every decision names the version it saw.
    version           integer NOT NULL DEFAULT 1,
    -- What `q` searches: subject, summary, sender, reply.
    search_text       text NOT NULL,
    -- The draft event exactly as it arrived.
    draft             jsonb NOT NULL,
    decided_at        timestamptz,
    decided_by        bigint REFERENCES reviewers (reviewer_id),
    source_topic      text NOT NULL,
    source_partition  integer NOT NULL,
    source_offset     bigint NOT NULL
);
CREATE INDEX reviews_queue_idx ON reviews (status, urgency_rank DESC, email_received_at);
CREATE INDEX reviews_case_idx ON reviews (case_id, customer_id, email_received_at);

CREATE TABLE decisions (
    decision_id     bigserial PRIMARY KEY,
    draft_id        uuid NOT NULL REFERENCES reviews (draft_id),
    reviewer_id     bigint NOT NULL REFERENCES reviewers (reviewer_id),
    kind            text NOT NULL CHECK (kind IN ('approve', 'reject', 'escalate')),
    -- Retried requests with the same key get the first answer back, never a second run.
    idempotency_key text UNIQUE,
    request         jsonb NOT NULL,
    response        jsonb NOT NULL,
    -- For approvals: whether the reviewer changed the reply, and what ran.
    edited          boolean,
    reply_body      text,
    action_ids      text[] NOT NULL DEFAULT '{}',
    reason          text,
    decided_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decisions_draft_idx ON decisions (draft_id);

-- Replies waiting for (or done with) the SMTP relay. One per approved draft.
CREATE TABLE outgoing_emails (
    email_id        bigserial PRIMARY KEY,
    draft_id        uuid NOT NULL UNIQUE REFERENCES reviews (draft_id),
    message         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX outgoing_emails_due_idx ON outgoing_emails (next_attempt_at) WHERE status = 'sending';

CREATE TABLE audit_log (
    audit_id    bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    reviewer_id bigint REFERENCES reviewers (reviewer_id),
    action      text NOT NULL,
    draft_id    uuid,
    customer_id bigint,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_draft_idx ON audit_log (draft_id);
