//! The team's numbers: queue size, how fast drafts are made and decided, how often they
//! are approved as written, and service-level breaches.

use crate::{Result, Store};
use deskhand_core::review::SlaTargets;
use deskhand_core::Urgency;
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Percentiles of a duration, in milliseconds; `None` without data.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Durations {
    pub count: i64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub mean_ms: Option<f64>,
}

/// How drafts of one topic were decided.
#[derive(Debug, Clone, Serialize)]
pub struct TopicOutcomes {
    pub topic: String,
    pub decided: i64,
    pub approved_unedited: i64,
    pub approved_edited: i64,
    pub rejected: i64,
    pub escalated: i64,
    pub approved_unedited_rate: Option<f64>,
    pub approved_edited_rate: Option<f64>,
    pub rejected_rate: Option<f64>,
    /// Decisions where the reviewer corrected the topic or urgency, and their share.
    pub corrected: i64,
    pub corrected_rate: Option<f64>,
}

/// How often reviewers corrected the agent's labels on one topic in one week.
#[derive(Debug, Clone, Serialize)]
pub struct CorrectionWeek {
    /// The Monday the week starts on (`YYYY-MM-DD`).
    pub week: String,
    pub topic: String,
    pub decided: i64,
    pub corrected: i64,
}

/// SLA state.
#[derive(Debug, Clone, Serialize)]
pub struct SlaStats {
    /// Targets in minutes by urgency.
    pub targets_minutes: BTreeMap<String, i64>,
    /// Open drafts past their target.
    pub open_breaching: i64,
    /// Decided drafts decided after their target (within the window).
    pub decided_late: i64,
}

/// One point of the queue-over-time series.
#[derive(Debug, Clone, Serialize)]
pub struct QueuePoint {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub open: i64,
}

/// Everything `GET /api/stats` returns.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewStats {
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    /// Open drafts (pending or escalated) by urgency.
    pub queue_by_urgency: BTreeMap<String, i64>,
    pub escalated_open: i64,
    pub email_to_draft: Durations,
    pub draft_to_decision: Durations,
    pub per_topic: Vec<TopicOutcomes>,
    /// Per topic and week, how often reviewers corrected the agent.
    pub corrections_over_time: Vec<CorrectionWeek>,
    pub sla: SlaStats,
    pub queue_over_time: Vec<QueuePoint>,
}

const SLA_SECONDS: &str = "(CASE r.urgency WHEN 'urgent' THEN $1 WHEN 'high' THEN $2
    WHEN 'medium' THEN $3 ELSE $4 END) * interval '1 second'";

impl Store {
    /// The numbers over drafts queued since `since`; the queue series has `points`
    /// hourly points up to now.
    pub async fn review_stats(
        &self,
        targets: &SlaTargets,
        since: OffsetDateTime,
        points: i32,
    ) -> Result<ReviewStats> {
        let seconds = |u: Urgency| targets.target(u).whole_seconds() as f64;
        let sla = [
            seconds(Urgency::Urgent),
            seconds(Urgency::High),
            seconds(Urgency::Medium),
            seconds(Urgency::Low),
        ];

        let mut queue_by_urgency: BTreeMap<String, i64> = Urgency::ALL
            .iter()
            .map(|u| (u.as_str().to_owned(), 0))
            .collect();
        let mut escalated_open = 0;
        for row in sqlx::query(
            "SELECT urgency, count(*) AS n, count(*) FILTER (WHERE status = 'escalated') AS esc
             FROM reviews WHERE status IN ('pending', 'escalated') GROUP BY urgency",
        )
        .fetch_all(self.pool())
        .await?
        {
            queue_by_urgency.insert(row.try_get("urgency")?, row.try_get("n")?);
            escalated_open += row.try_get::<i64, _>("esc")?;
        }

        let durations = |sql: &'static str| async move {
            let row = sqlx::query(sql).bind(since).fetch_one(self.pool()).await?;
            Ok::<_, crate::Error>(Durations {
                count: row.try_get("n")?,
                p50_ms: row.try_get("p50")?,
                p95_ms: row.try_get("p95")?,
                mean_ms: row.try_get("mean")?,
            })
        };
        let email_to_draft = durations(
            "SELECT count(*) AS n,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95, avg(ms)::float8 AS mean
             FROM (SELECT (extract(epoch FROM drafted_at - email_received_at) * 1000)::float8 AS ms
                   FROM reviews WHERE queued_at >= $1) d",
        )
        .await?;
        let draft_to_decision = durations(
            "SELECT count(*) AS n,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95, avg(ms)::float8 AS mean
             FROM (SELECT (extract(epoch FROM d.decided_at - r.queued_at) * 1000)::float8 AS ms
                   FROM decisions d JOIN reviews r USING (draft_id)
                   WHERE d.kind IN ('approve', 'reject') AND r.queued_at >= $1) d",
        )
        .await?;

        let mut per_topic = Vec::new();
        for row in sqlx::query(
            "SELECT r.topic,
                count(*) FILTER (WHERE d.kind = 'approve' AND NOT d.edited) AS unedited,
                count(*) FILTER (WHERE d.kind = 'approve' AND d.edited) AS edited,
                count(*) FILTER (WHERE d.kind = 'reject') AS rejected,
                count(*) FILTER (WHERE d.kind = 'escalate') AS escalated,
                count(*) FILTER (WHERE d.corrected_topic IS NOT NULL
                                    OR d.corrected_urgency IS NOT NULL) AS corrected
             FROM decisions d JOIN reviews r USING (draft_id)
             WHERE r.queued_at >= $1 GROUP BY r.topic ORDER BY r.topic",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?
        {
            let unedited: i64 = row.try_get("unedited")?;
            let edited: i64 = row.try_get("edited")?;
            let rejected: i64 = row.try_get("rejected")?;
            let decided = unedited + edited + rejected;
            let rate = |n: i64| (decided > 0).then(|| n as f64 / decided as f64);
            per_topic.push(TopicOutcomes {
                topic: row.try_get("topic")?,
                decided,
                approved_unedited: unedited,
                approved_edited: edited,
                rejected,
                escalated: row.try_get("escalated")?,
                approved_unedited_rate: rate(unedited),
                approved_edited_rate: rate(edited),
                rejected_rate: rate(rejected),
                corrected: row.try_get("corrected")?,
                corrected_rate: rate(row.try_get("corrected")?),
            });
        }
        let mut corrections_over_time = Vec::new();
        for row in sqlx::query(
            "SELECT date_trunc('week', d.decided_at)::date AS week, r.topic,
                count(*) FILTER (WHERE d.kind IN ('approve', 'reject')) AS decided,
                count(*) FILTER (WHERE d.corrected_topic IS NOT NULL
                                    OR d.corrected_urgency IS NOT NULL) AS corrected
             FROM decisions d JOIN reviews r USING (draft_id)
             WHERE r.queued_at >= $1 GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?
        {
            corrections_over_time.push(CorrectionWeek {
                week: row.try_get::<time::Date, _>("week")?.to_string(),
                topic: row.try_get("topic")?,
                decided: row.try_get("decided")?,
                corrected: row.try_get("corrected")?,
            });
        }

        let row = sqlx::query(&format!(
            "SELECT
                count(*) FILTER (WHERE r.status IN ('pending', 'escalated')
                                   AND now() > r.email_received_at + {SLA_SECONDS}) AS open_breaching,
                count(*) FILTER (WHERE r.status IN ('approved', 'rejected') AND r.queued_at >= $5
                                   AND r.decided_at > r.email_received_at + {SLA_SECONDS}) AS decided_late
             FROM reviews r"
        ))
        .bind(sla[0])
        .bind(sla[1])
        .bind(sla[2])
        .bind(sla[3])
        .bind(since)
        .fetch_one(self.pool())
        .await?;
        let sla_stats = SlaStats {
            targets_minutes: Urgency::ALL
                .iter()
                .map(|u| (u.as_str().to_owned(), targets.target(*u).whole_minutes()))
                .collect(),
            open_breaching: row.try_get("open_breaching")?,
            decided_late: row.try_get("decided_late")?,
        };

        let queue_over_time = sqlx::query(
            "SELECT t AS at, (SELECT count(*) FROM reviews r
                 WHERE r.queued_at <= t AND (r.decided_at IS NULL OR r.decided_at > t)) AS open
             FROM generate_series(date_trunc('hour', now()) - ($1 - 1) * interval '1 hour',
                                  date_trunc('hour', now()), interval '1 hour') t
             UNION ALL SELECT now(), (SELECT count(*) FROM reviews
                                      WHERE status IN ('pending', 'escalated'))
             ORDER BY at",
        )
        .bind(points.max(1))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(QueuePoint {
                at: r.try_get("at")?,
                open: r.try_get("open")?,
            })
        })
        .collect::<Result<_>>()?;

        Ok(ReviewStats {
            since,
            queue_by_urgency,
            escalated_open,
            email_to_draft,
            draft_to_decision,
            per_topic,
            corrections_over_time,
            sla: sla_stats,
            queue_over_time,
        })
    }
}
