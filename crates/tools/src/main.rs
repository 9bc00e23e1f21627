//! The `deskhand-tools` command line: `eval`, `train`, `bench` and `demo`. The product's
//! `deskhand` binary hands these commands to this one, so `deskhand eval ...` and
//! `deskhand-tools eval ...` are the same command.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use deskhand::{telemetry, Settings};
use deskhand_db::{DatabaseSettings, Store};

/// Deskhand's tools: evaluation, training, benchmark and demo.
#[derive(Debug, Parser)]
#[command(name = "deskhand-tools", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay a labelled dataset through the pipeline and score every step.
    Eval(EvalArgs),
    /// Train a triage model from labelled emails (eval JSONL, or a CSV ticket export) and
    /// write it with a report (per-class precision and recall, confusion, reliability).
    Train(TrainArgs),
    /// Measure inbound event → draft on a real broker against a consume→insert→produce floor.
    Bench(BenchArgs),
    /// Run the whole pipeline on sample emails, with an embedded broker when KAFKA_BROKERS
    /// is unset, and print the drafts.
    Demo,
}

#[derive(Debug, clap::Args)]
struct BenchArgs {
    /// Synthetic emails to publish.
    #[arg(long, default_value_t = 10_000)]
    emails: usize,
    /// Simulate an LLM answering every call after this many milliseconds.
    #[arg(long)]
    llm_latency_ms: Option<u64>,
    /// The worker's in-flight bound (DESKHAND_MAX_IN_FLIGHT).
    #[arg(long, default_value_t = 64)]
    in_flight: usize,
    /// Customers in the seeded shop (two deliveries each).
    #[arg(long, default_value_t = 100_000)]
    customers: i64,
    /// Publish at this many emails per second (default: as fast as possible).
    #[arg(long)]
    rate: Option<f64>,
    /// Emails per case; per-case order is checked.
    #[arg(long, default_value_t = 5)]
    emails_per_case: usize,
    /// Emails run through the pipeline (then ANALYZE) before measuring, so the store has
    /// history and statistics as a live one does.
    #[arg(long, default_value_t = 2_000)]
    warm_up: usize,
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
struct EvalArgs {
    #[command(subcommand)]
    command: Option<EvalCommand>,
    /// The dataset (JSON Lines; see docs/schemas/eval.case.schema.json).
    #[arg(long)]
    dataset: Option<std::path::PathBuf>,
    #[arg(long, value_enum, default_value = "offline")]
    engine: deskhand_tools::eval::EngineChoice,
    /// kafka: through the broker (KAFKA_BROKERS, or an embedded one); direct: in-process.
    #[arg(long, value_enum, default_value = "kafka")]
    via: deskhand_tools::eval::run::Via,
    /// Runs per case; reports pass^k (every run passed).
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Where report.json, report.md and report.html go.
    #[arg(long, default_value = "eval/out")]
    out: std::path::PathBuf,
    /// Fail when a metric falls below this report's (e.g. eval/baselines/dev.json).
    #[arg(long)]
    baseline: Option<std::path::PathBuf>,
    /// Save every model request and response in DIR (with --engine llm).
    #[arg(long, value_name = "DIR")]
    record: Option<std::path::PathBuf>,
    /// Serve the model's responses from DIR only; a request without one fails its case.
    #[arg(long, value_name = "DIR")]
    replay: Option<std::path::PathBuf>,
}

#[derive(Debug, clap::Args)]
struct TrainArgs {
    /// Labelled data: JSONL in the eval format, or CSV (by extension). Repeatable.
    #[arg(required_unless_present = "from_decisions")]
    inputs: Vec<std::path::PathBuf>,
    /// Also learn from reviewers: decided drafts in the database (DATABASE_URL), with the
    /// labels an unedited approval confirmed or a reviewer corrected.
    #[arg(long)]
    from_decisions: bool,
    /// With --from-decisions: only decisions from this date (YYYY-MM-DD) on.
    #[arg(long, requires = "from_decisions")]
    since: Option<String>,
    /// Where the model goes; the report is written beside it (.report.md, .report.json).
    #[arg(long, default_value = "triage.model")]
    out: std::path::PathBuf,
    /// CSV: the column with the customer's text.
    #[arg(long)]
    text_column: Option<String>,
    /// CSV: the column with the topic label (docs/labels.md names).
    #[arg(long)]
    label_column: Option<String>,
    /// CSV: the column with the subject, if any.
    #[arg(long)]
    subject_column: Option<String>,
    /// CSV: the column with the urgency label, if any.
    #[arg(long)]
    urgency_column: Option<String>,
    #[arg(long, value_enum, default_value = "logistic")]
    method: MethodChoice,
    /// Passes over the data (logistic regression).
    #[arg(long)]
    epochs: Option<usize>,
    /// L2 penalty (logistic regression).
    #[arg(long)]
    l2: Option<f32>,
    /// Cross-validation folds for the report and calibration.
    #[arg(long)]
    folds: Option<usize>,
    /// Also score the finished model on these labelled files (never trained on).
    #[arg(long = "evaluate-on")]
    evaluate_on: Vec<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum MethodChoice {
    Logistic,
    NaiveBayes,
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// What got better or worse between two reports, case by case.
    Compare {
        old: std::path::PathBuf,
        new: std::path::PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Lives until main returns: dropping it flushes the spans still buffered.
    let _telemetry = telemetry::init(match cli.command {
        Command::Demo => "warn,deskhand=info,deskhand_tools=info",
        Command::Eval(_) | Command::Bench(_) | Command::Train(_) => "warn",
    });
    let settings = Settings::load().context("loading configuration")?;
    if let Command::Train(args) = cli.command {
        return train(&settings, args);
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Demo => deskhand_tools::demo::run(settings).await,
            Command::Eval(args) => eval(settings, args).await,
            Command::Train(_) => unreachable!("train needs no runtime and returned above"),
            Command::Bench(args) => {
                deskhand_tools::bench::run(
                    settings,
                    &deskhand_tools::bench::BenchOptions {
                        emails: args.emails,
                        llm_latency_ms: args.llm_latency_ms,
                        in_flight: args.in_flight,
                        customers: args.customers,
                        rate: args.rate,
                        emails_per_case: args.emails_per_case,
                        warm_up: args.warm_up,
                    },
                )
                .await
            }
        }
    })
}

fn train(settings: &Settings, args: TrainArgs) -> anyhow::Result<()> {
    use deskhand_offline::train::{Method, TrainOptions};
    let defaults = TrainOptions::default();
    let decided = if args.from_decisions {
        let since = args
            .since
            .as_deref()
            .map(|day| {
                time::Date::parse(
                    day,
                    time::macros::format_description!("[year]-[month]-[day]"),
                )
                .with_context(|| format!("--since {day:?}: expected YYYY-MM-DD"))
            })
            .transpose()?
            .map(|day| day.midnight().assume_utc());
        let store = Store::connect_lazy(&DatabaseSettings {
            url: settings.database.url.expose().to_owned(),
            max_connections: 1,
            acquire_timeout: settings.database.acquire_timeout,
        })?;
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(store.decided_examples(since))
            .context("reading decided drafts")?
    } else {
        Vec::new()
    };
    let request = deskhand_tools::train::TrainRequest {
        inputs: args.inputs,
        csv: deskhand_tools::train::CsvColumns {
            text: args.text_column,
            subject: args.subject_column,
            label: args.label_column,
            urgency: args.urgency_column,
        },
        out: args.out,
        evaluate_on: args.evaluate_on,
        decided,
        options: TrainOptions {
            method: match args.method {
                MethodChoice::Logistic => Method::Logistic,
                MethodChoice::NaiveBayes => Method::NaiveBayes,
            },
            epochs: args.epochs.unwrap_or(defaults.epochs),
            l2: args.l2.unwrap_or(defaults.l2),
            folds: args.folds.unwrap_or(defaults.folds),
            ..defaults
        },
    };
    let trained = deskhand_tools::train::run(&request)?;
    println!("{}", trained.summary);
    println!(
        "model: {}\nreport: {} ({})",
        trained.model.display(),
        trained.report_markdown.display(),
        trained.report_json.display()
    );
    Ok(())
}

async fn eval(settings: Settings, args: EvalArgs) -> anyhow::Result<()> {
    if let Some(EvalCommand::Compare { old, new }) = args.command {
        return deskhand_tools::eval::compare(&old, &new);
    }
    let dataset = args
        .dataset
        .context("--dataset PATH.jsonl is required (or `deskhand eval compare OLD NEW`)")?;
    deskhand_tools::eval::evaluate(
        settings,
        &deskhand_tools::eval::EvalOptions {
            dataset,
            engine: args.engine,
            via: args.via,
            repeat: args.repeat,
            out: args.out,
            baseline: args.baseline,
            record: args.record,
            replay: args.replay,
        },
    )
    .await
    .map(drop)
}
