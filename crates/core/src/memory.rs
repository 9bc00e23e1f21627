//! Case memory: short summaries of what was said in a case, bounded in size so prompts
//! stay small however long the case runs.

use crate::draft::Topic;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Who said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Customer,
    Agent,
}

impl Speaker {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Agent => "agent",
        }
    }
}

/// One remembered message, as a one-line summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryEntry {
    pub speaker: Speaker,
    pub summary: String,
    pub topic: Option<Topic>,
}

/// The memory's bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemorySettings {
    /// Most recent entries kept word for word.
    pub max_entries: usize,
    /// Older entries are folded into a rolling summary of at most this many characters.
    pub max_rolling_chars: usize,
    /// Longest single summary kept.
    pub max_summary_chars: usize,
}

impl Default for MemorySettings {
    fn default() -> Self {
        Self {
            max_entries: 6,
            max_rolling_chars: 600,
            max_summary_chars: 200,
        }
    }
}

/// What Deskhand remembers of one case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseMemory {
    pub rolling_summary: String,
    pub entries: Vec<MemoryEntry>,
    /// Customer emails recorded in this case.
    pub customer_emails: u32,
    /// How many customer emails asked about each topic.
    pub request_counts: BTreeMap<Topic, u32>,
    /// Optimistic-concurrency version of the stored memory (0: never stored).
    pub version: i64,
}

impl CaseMemory {
    /// How many earlier customer emails in this case were about `topic`.
    pub fn times_asked(&self, topic: Topic) -> u32 {
        self.request_counts.get(&topic).copied().unwrap_or(0)
    }

    /// The memory after one more customer email.
    pub fn with_customer_email(
        &self,
        summary: &str,
        topic: Topic,
        settings: &MemorySettings,
    ) -> Self {
        let mut next = self.clone();
        next.customer_emails += 1;
        *next.request_counts.entry(topic).or_insert(0) += 1;
        next.push(
            MemoryEntry {
                speaker: Speaker::Customer,
                summary: clip(summary, settings.max_summary_chars),
                topic: Some(topic),
            },
            settings,
        );
        next
    }

    /// The memory after an approved reply.
    pub fn with_agent_reply(&self, summary: &str, settings: &MemorySettings) -> Self {
        let mut next = self.clone();
        next.push(
            MemoryEntry {
                speaker: Speaker::Agent,
                summary: clip(summary, settings.max_summary_chars),
                topic: None,
            },
            settings,
        );
        next
    }

    fn push(&mut self, entry: MemoryEntry, settings: &MemorySettings) {
        self.entries.push(entry);
        while self.entries.len() > settings.max_entries {
            let oldest = self.entries.remove(0);
            let line = format!("{}: {}", oldest.speaker.as_str(), oldest.summary);
            self.rolling_summary = fold(&self.rolling_summary, &line, settings.max_rolling_chars);
        }
    }

    /// The memory as prompt text (bounded by the settings).
    pub fn as_context(&self) -> String {
        let mut out = String::new();
        if !self.rolling_summary.is_empty() {
            out.push_str("Earlier in this case: ");
            out.push_str(&self.rolling_summary);
            out.push('\n');
        }
        for entry in &self.entries {
            out.push_str(&format!(
                "- {}: {}\n",
                entry.speaker.as_str(),
                entry.summary
            ));
        }
        out
    }
}

fn clip(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut clipped: String = one_line.chars().take(max.saturating_sub(1)).collect();
    clipped.push('…');
    clipped
}

/// Appends a line to the rolling summary and drops the oldest sentences past the bound.
fn fold(rolling: &str, line: &str, max: usize) -> String {
    let mut parts: Vec<&str> = rolling.split(" | ").filter(|p| !p.is_empty()).collect();
    parts.push(line);
    let mut joined = parts.join(" | ");
    while joined.chars().count() > max && parts.len() > 1 {
        parts.remove(0);
        joined = parts.join(" | ");
    }
    clip(&joined, max)
}
