//! `deskhand eval`: replays a labelled dataset through the real pipeline and scores every
//! step; `deskhand eval compare` shows what changed between two runs.
//!
//! Each case runs in its own world (the evaluation database is reset and the case's
//! fixtures loaded, with `today` pinned), through the broker (`--via kafka`, the default)
//! or in-process (`--via direct`); both give the same results for the offline engine.

pub mod dataset;
pub mod report;
pub mod run;
pub mod score;
pub mod tape;
pub mod world;

use anyhow::Context as _;
use dataset::Dataset;
use deskhand::Settings;
use run::Via;
use serde_json::json;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};

/// Which engine the graph uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineChoice {
    Offline,
    Llm,
}

/// Options of one evaluation run.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub dataset: PathBuf,
    pub engine: EngineChoice,
    pub via: Via,
    pub repeat: usize,
    pub out: PathBuf,
    /// Fail (exit non-zero) when a metric falls below this report's.
    pub baseline: Option<PathBuf>,
    /// Save every model request and response here (LLM engine).
    pub record: Option<PathBuf>,
    /// Serve model responses from these recordings only (LLM engine, offline).
    pub replay: Option<PathBuf>,
}

/// Runs the evaluation, writes the reports, prints the summary. Returns the report.
pub async fn evaluate(
    mut settings: Settings,
    options: &EvalOptions,
) -> anyhow::Result<serde_json::Value> {
    let fallback_today = settings
        .agent
        .today
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    let dataset = Dataset::load(&options.dataset, fallback_today)?;
    if options.engine == EngineChoice::Offline {
        anyhow::ensure!(
            options.record.is_none() && options.replay.is_none(),
            "--record and --replay are for --engine llm"
        );
        settings.llm.api_key = deskhand::settings::Secret::new("");
    }
    let tape = match (&options.record, &options.replay) {
        (Some(_), Some(_)) => anyhow::bail!("--record and --replay exclude each other"),
        (Some(dir), None) => {
            let upstream = settings.llm.base_url.clone();
            Some(tape::ModelTape::start(dir.clone(), tape::TapeMode::Record { upstream }).await?)
        }
        (None, Some(dir)) => {
            // A replay needs no key; the engine only needs one to exist.
            if settings.llm.api_key.is_empty() {
                settings.llm.api_key = deskhand::settings::Secret::new("replay");
            }
            Some(tape::ModelTape::start(dir.clone(), tape::TapeMode::Replay).await?)
        }
        (None, None) => None,
    };
    if let Some(tape) = &tape {
        settings.llm.base_url = tape.base_url().to_owned();
    }
    if options.engine == EngineChoice::Llm && settings.llm.engine().is_none() {
        anyhow::bail!(
            "--engine llm needs OPENAI_API_KEY (and OPENAI_BASE_URL for other endpoints)"
        );
    }
    let engine_name = match settings.llm.engine() {
        Some(llm) => format!("llm:{}", llm.models.compose),
        None => "offline".to_owned(),
    };
    let total = dataset.cases.len() * options.repeat.max(1);
    let mut done = 0usize;
    let terminal = std::io::stderr().is_terminal();
    let runs = run::run_cases(
        &settings,
        &dataset,
        options.via,
        options.repeat.max(1),
        tape.as_ref(),
        |case, run| {
            done += 1;
            let verdict = if score::failures(case, run).is_empty() {
                "ok"
            } else {
                "FAIL"
            };
            if terminal {
                let width = 30;
                let filled = done * width / total.max(1);
                eprint!(
                    "\r[{}{}] {done}/{total} {:<40}",
                    "#".repeat(filled),
                    " ".repeat(width - filled),
                    format!("{} {verdict}", case.id)
                        .chars()
                        .take(40)
                        .collect::<String>()
                );
                let _ = std::io::stderr().flush();
            } else if verdict == "FAIL" || done.is_multiple_of(50) || done == total {
                eprintln!("{done}/{total} {} {verdict}", case.id);
            }
        },
    )
    .await?;
    if terminal {
        eprintln!();
    }
    let (metrics, confusion, per_case) = score::score(&dataset.cases, &runs);
    let report = json!({
        "dataset": dataset.name,
        "engine": engine_name,
        "via": match options.via { Via::Kafka => "kafka", Via::Direct => "direct" },
        "cases": dataset.cases.len(),
        "repeat": options.repeat.max(1),
        "metrics": metrics,
        "confusion": confusion,
        "per_case": per_case,
    });
    report::write_all(&options.out, &report)?;
    println!("{}", report::summary_table(&report));
    println!("reports in {}", options.out.display());
    if let Some(baseline) = &options.baseline {
        let below = report::below_baseline(&report, &read_report(baseline)?);
        if !below.is_empty() {
            anyhow::bail!(
                "below the baseline {}:\n  {}",
                baseline.display(),
                below.join("\n  ")
            );
        }
        println!("at or above the baseline {}", baseline.display());
    }
    Ok(report)
}

pub fn read_report(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a report", path.display()))
}

/// `deskhand eval compare OLD NEW`: prints the differences; fails when a metric got worse.
pub fn compare(old: &Path, new: &Path) -> anyhow::Result<()> {
    let (text, worse) = report::compare(&read_report(old)?, &read_report(new)?);
    print!("{text}");
    if !worse.is_empty() {
        anyhow::bail!("worse: {}", worse.join(", "));
    }
    Ok(())
}
