-- Reviewers flag a knowledge-base passage a draft cited as wrong or outdated; the
-- knowledge owner reads the report (GET /api/knowledge/feedback) and fixes the page.
CREATE TABLE knowledge_feedback (
    feedback_id  bigserial PRIMARY KEY,
    draft_id     uuid NOT NULL REFERENCES reviews (draft_id),
    reviewer_id  bigint NOT NULL REFERENCES reviewers (reviewer_id),
    -- `file#heading`, as the draft cited it.
    passage      text NOT NULL,
    verdict      text NOT NULL CHECK (verdict IN ('wrong', 'outdated')),
    note         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- One flag per reviewer, draft and passage: a second click changes it, never counts twice.
    UNIQUE (draft_id, reviewer_id, passage)
);
CREATE INDEX knowledge_feedback_passage_idx ON knowledge_feedback (passage, created_at);
