//! The labelled dataset format (JSON Lines; `docs/schemas/eval.case.schema.json`).
//!
//! One case per line. An optional first line `{"defaults": {"today": "YYYY-MM-DD"}}` sets
//! the business date of cases that do not pin their own.

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use time::Date;

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// One labelled case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    #[serde(default, with = "iso_date::option")]
    pub today: Option<Date>,
    #[serde(default)]
    pub customer: Option<Customer>,
    #[serde(default)]
    pub given: Given,
    pub email: CaseEmail,
    #[serde(default)]
    pub expect: Expect,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Given {
    #[serde(default)]
    pub products: Vec<Product>,
    #[serde(default)]
    pub incoming: Vec<Incoming>,
    #[serde(default)]
    pub deliveries: Vec<Delivery>,
    #[serde(default)]
    pub other_customer_deliveries: Vec<Delivery>,
    #[serde(default)]
    pub refunds: Vec<Refund>,
    #[serde(default)]
    pub coupons: Vec<Coupon>,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    #[serde(rename = "ref")]
    pub reference: String,
    pub name: String,
    pub brand: String,
    pub size: f64,
    #[serde(default = "default_width")]
    pub width: String,
    pub color: String,
    #[serde(default = "default_material")]
    pub material: String,
    pub price_cents: i64,
    pub quantity: i32,
    #[serde(default)]
    pub description: String,
}

fn default_width() -> String {
    "D".into()
}
fn default_material() -> String {
    "Mesh".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incoming {
    pub product: String,
    pub quantity: i32,
    #[serde(with = "iso_date")]
    pub expected_date: Date,
    #[serde(default = "default_incoming_status")]
    pub status: String,
}

fn default_incoming_status() -> String {
    "pending".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    #[serde(rename = "ref")]
    pub reference: String,
    pub tracking_number: String,
    pub carrier: String,
    pub status: String,
    #[serde(with = "iso_date")]
    pub expected_start: Date,
    #[serde(with = "iso_date")]
    pub expected_end: Date,
    #[serde(default, with = "iso_date::option")]
    pub delivered_on: Option<Date>,
    pub fee_cents: i64,
    #[serde(default)]
    pub product: Option<String>,
    /// The order's number, when the email quotes it (generated otherwise).
    #[serde(default)]
    pub order_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refund {
    pub delivery: String,
    pub amount_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coupon {
    pub delivery: String,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    pub role: String,
    pub summary: String,
    /// What a customer entry asked about (counts toward "asked N times").
    #[serde(default)]
    pub topic: Option<String>,
}

/// The email: `text` (with an optional subject) or `raw` (base64 RFC 822).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseEmail {
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub raw: Option<String>,
    /// The body of an HTML-only email (sent as a `text/html` MIME message).
    #[serde(default)]
    pub html: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
}

/// What the case checks; only given keys are scored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgent: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_numbers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs_reply: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiple_requests: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<String>,
    /// ISO 639-1 code of the customer's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products: Option<Vec<String>>,
    /// What may be offered instead when the item asked for is not available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternatives: Option<Vec<String>>,
    /// The knowledge-base passages (`file#heading`) that answer a policy question; the
    /// first one cited must be one of them. Empty: no passage answers it (escalate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passages: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<ExpectedAction>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_contains: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_excludes: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedAction {
    #[serde(rename = "type")]
    pub kind: String,
    /// The delivery a refund or a coupon is for (its `ref`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<String>,
    /// The order number a cancellation is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_cents: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultsLine {
    defaults: Defaults,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Defaults {
    #[serde(default, with = "iso_date::option")]
    today: Option<Date>,
    /// The knowledge base the cases are asked against, relative to the dataset's file;
    /// otherwise the configured `knowledge.dir`.
    #[serde(default)]
    knowledge: Option<PathBuf>,
}

fn labels<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|t| name(*t)).collect()
}

/// A loaded dataset.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    pub cases: Vec<Case>,
    /// The dataset's own knowledge base, when its defaults name one.
    pub knowledge: Option<PathBuf>,
}

impl Dataset {
    /// Reads and validates a dataset; `fallback_today` dates cases that set none.
    pub fn load(path: &Path, fallback_today: Date) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading dataset {}", path.display()))?;
        let mut today = fallback_today;
        let mut knowledge = None;
        let mut cases = Vec::new();
        let mut ids = BTreeSet::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let at = || format!("{}:{}", path.display(), n + 1);
            if cases.is_empty() && line.starts_with("{\"defaults\"") {
                let defaults: DefaultsLine =
                    serde_json::from_str(line).with_context(|| format!("{}: defaults", at()))?;
                if let Some(date) = defaults.defaults.today {
                    today = date;
                }
                if let Some(dir) = defaults.defaults.knowledge {
                    knowledge = Some(path.parent().unwrap_or(Path::new(".")).join(dir));
                }
                continue;
            }
            let mut case: Case =
                serde_json::from_str(line).with_context(|| format!("{}: invalid case", at()))?;
            case.today.get_or_insert(today);
            case.validate()
                .with_context(|| format!("{}: case {}", at(), case.id))?;
            if !ids.insert(case.id.clone()) {
                bail!("{}: duplicate case id {}", at(), case.id);
            }
            cases.push(case);
        }
        if cases.is_empty() {
            bail!("{} holds no cases", path.display());
        }
        Ok(Self {
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "dataset".into()),
            cases,
            knowledge,
        })
    }
}

impl Case {
    /// References point at things the case defines; the email has exactly one body.
    fn validate(&self) -> anyhow::Result<()> {
        let bodies = [&self.email.text, &self.email.raw, &self.email.html];
        if bodies.iter().filter(|b| b.is_some()).count() != 1 {
            bail!("email needs exactly one of text, raw and html");
        }
        let products: BTreeSet<&str> = self
            .given
            .products
            .iter()
            .map(|p| p.reference.as_str())
            .collect();
        let deliveries: BTreeSet<&str> = self
            .given
            .deliveries
            .iter()
            .chain(&self.given.other_customer_deliveries)
            .map(|d| d.reference.as_str())
            .collect();
        let known = |set: &BTreeSet<&str>, what: &str, r: &str| {
            if set.contains(r) {
                Ok(())
            } else {
                Err(anyhow::anyhow!("unknown {what} ref {r:?}"))
            }
        };
        for i in &self.given.incoming {
            known(&products, "product", &i.product)?;
        }
        for d in self
            .given
            .deliveries
            .iter()
            .chain(&self.given.other_customer_deliveries)
        {
            if let Some(p) = &d.product {
                known(&products, "product", p)?;
            }
        }
        for r in &self.given.refunds {
            known(&deliveries, "delivery", &r.delivery)?;
        }
        for c in &self.given.coupons {
            known(&deliveries, "delivery", &c.delivery)?;
        }
        for h in &self.given.history {
            if h.role != "customer" && h.role != "agent" {
                bail!("history role must be customer or agent, not {:?}", h.role);
            }
        }
        for r in self
            .expect
            .products
            .iter()
            .chain(&self.expect.alternatives)
            .flatten()
        {
            known(&products, "product", r)?;
        }

        if let Some(actions) = &self.expect.actions {
            for a in actions {
                match (&a.delivery, &a.order) {
                    (Some(delivery), None) => known(&deliveries, "delivery", delivery)?,
                    (None, Some(_)) => {}
                    _ => bail!(
                        "expected action {} names exactly one of delivery and order",
                        a.kind
                    ),
                }
            }
        }
        for (label, value, all) in [
            (
                "topic",
                &self.expect.topic,
                labels(deskhand_core::Topic::ALL, |t| t.as_str()),
            ),
            (
                "urgency",
                &self.expect.urgency,
                labels(deskhand_core::Urgency::ALL, |u| u.as_str()),
            ),
            (
                "route",
                &self.expect.route,
                labels(deskhand_core::Route::ALL, |r| r.as_str()),
            ),
            (
                "sentiment",
                &self.expect.sentiment,
                labels(deskhand_core::Sentiment::ALL, |s| s.as_str()),
            ),
        ] {
            if let Some(value) = value {
                if !all.contains(&value.as_str()) {
                    bail!("expect.{label} {value:?} is not one of {all:?}");
                }
            }
        }
        if let Some(language) = &self.expect.language {
            deskhand_core::Language::parse(language).map_err(|e| anyhow::anyhow!("expect.{e}"))?;
        }
        Ok(())
    }
}
