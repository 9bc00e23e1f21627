//! The `deskhand` command line: the worker, the review service, migrations, reviewers
//! and the seed. `eval`, `train`, `bench` and `demo` are handed to the `deskhand-tools`
//! binary ([`tools`]), so the product binary does not carry them.

mod tools;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use deskhand::{telemetry, Application, Roles, Settings};
use deskhand_db::{DatabaseSettings, Store};
use tokio_util::sync::CancellationToken;

/// Deskhand: an email-triage agent for e-commerce customer support.
#[derive(Debug, Parser)]
#[command(name = "deskhand", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the database if missing and apply migrations.
    Migrate,
    /// Consume inbound emails and publish drafts (HTTP: health, readiness, metrics).
    Worker,
    /// Everything: worker, review service (API, UI, SMTP relay) and HTTP server.
    Serve,
    /// The review side alone: queue intake from the approval topic, the review API and web
    /// UI, decision events and the SMTP relay.
    Review,
    /// Manage reviewers.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage integrations: the systems that post emails to `POST /api/v1/emails`.
    #[command(subcommand)]
    Integrations(IntegrationsCommand),
    /// Outbox messages the broker refused for good (parked), and putting them back.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Replace the shop's business data with a deterministic synthetic one.
    Seed(SeedArgs),
    /// Dry run: one email (an inbound event .json, or an .eml) through the graph against
    /// the live store; prints the draft event. Nothing is recorded, published or sent.
    Triage(TriageArgs),
    /// The shop's knowledge base (`knowledge.dir`).
    #[command(subcommand)]
    Knowledge(KnowledgeCommand),
    /// Replay a labelled dataset through the pipeline and score every step (deskhand-tools).
    #[command(disable_help_flag = true)]
    Eval(ToolArgs),
    /// Train a triage model from labelled emails and reviewers' decisions (deskhand-tools).
    #[command(disable_help_flag = true)]
    Train(ToolArgs),
    /// Measure inbound event → draft on a real broker (deskhand-tools).
    #[command(disable_help_flag = true)]
    Bench(ToolArgs),
    /// Run the whole pipeline on sample emails and print the drafts (deskhand-tools).
    #[command(disable_help_flag = true)]
    Demo(ToolArgs),
}

/// A tool's arguments, passed on untouched.
#[derive(Debug, clap::Args)]
struct ToolArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<std::ffi::OsString>,
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Add a reviewer and print their personal API token (shown once).
    Add {
        name: String,
        /// reviewer, lead or admin.
        #[arg(long, default_value = "reviewer")]
        role: String,
    },
    /// List reviewers: role, created, disabled, last seen in the audit log.
    List,
    /// Disable a reviewer: their token and browser sessions stop working at once.
    Disable { name: String },
    /// Give a reviewer a new API token (printed once); the old one and its sessions end.
    Rotate { name: String },
}

#[derive(Debug, Subcommand)]
enum IntegrationsCommand {
    /// Add an integration and print its API key (shown once; good for intake only).
    Add { name: String },
    /// List integrations: created, revoked, emails posted, last post.
    List,
    /// Revoke an integration: its key stops working at once.
    Revoke { name: String },
}

#[derive(Debug, clap::Args)]
struct TriageArgs {
    /// An inbound event as JSON (the CRM's format), or a raw message (.eml).
    file: std::path::PathBuf,
    /// For an .eml: the customer it is from (an event names its own).
    #[arg(long)]
    customer_id: Option<i64>,
    /// For an .eml: the case it belongs to (default: a case of its own).
    #[arg(long)]
    case_id: Option<String>,
}

#[derive(Debug, Subcommand)]
enum KnowledgeCommand {
    /// Split the policy pages into passages and index them, as the worker does at start
    /// and after a page changes; lists each page's passages, and a question's best
    /// passages with `--ask`.
    Index {
        /// Search the index with this question and print the best passages and scores.
        #[arg(long)]
        ask: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    /// List parked messages: topic, key (case), size, last error, messages waiting behind.
    Parked,
    /// Put a parked message back in line once the cause is fixed (a broker limit, an ACL).
    Release { id: i64 },
}

#[derive(Debug, clap::Args)]
struct SeedArgs {
    /// Customers to generate.
    #[arg(long, default_value_t = 200)]
    customers: i64,
    /// Orders (each with one delivery) per customer.
    #[arg(long, default_value_t = 10)]
    deliveries_per_customer: i64,
    /// Random seed; the same seed gives the same shop.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Overwrite a shop that already has customers (its business data is deleted).
    #[arg(long)]
    replace: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let tool = match &cli.command {
        Command::Eval(args) => Some(("eval", args)),
        Command::Train(args) => Some(("train", args)),
        Command::Bench(args) => Some(("bench", args)),
        Command::Demo(args) => Some(("demo", args)),
        _ => None,
    };
    if let Some((name, args)) = tool {
        return tools::run(name, &args.args);
    }
    // Lives until main returns: dropping it flushes the spans still buffered.
    let _telemetry = telemetry::init("info");
    let settings = Settings::load().context("loading configuration")?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Migrate => migrate(&settings).await,
            Command::Worker => serve(settings, Roles::WORKER_SERVICE).await,
            Command::Serve => serve(settings, Roles::ALL).await,
            Command::Review => serve(settings, Roles::REVIEW).await,
            Command::Users(command) => users(&settings, command).await,
            Command::Integrations(command) => integrations(&settings, command).await,
            Command::Outbox(command) => outbox(&settings, command).await,
            Command::Seed(args) => seed_store(&settings, &args).await,
            Command::Triage(args) => triage(&settings, args).await,
            Command::Knowledge(command) => knowledge(&settings, command),
            Command::Eval(_) | Command::Train(_) | Command::Bench(_) | Command::Demo(_) => {
                unreachable!("the tools' commands were handed over above")
            }
        }
    })
}

async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let url = settings.database.url.expose();
    Store::create_database_if_missing(url)
        .await
        .context("creating the database")?;
    let store = Store::connect_lazy(&DatabaseSettings {
        url: url.to_owned(),
        max_connections: 2,
        acquire_timeout: settings.database.acquire_timeout,
    })?;
    store.migrate().await.context("applying migrations")?;
    // The worker should connect as deskhand_worker (row-level security binds it); the
    // migrations create the role, the deployment chooses its password.
    if let Ok(password) = std::env::var("DESKHAND_WORKER_PASSWORD") {
        store
            .set_worker_password(&password)
            .await
            .context("setting the worker role's password")?;
        tracing::info!("password of role deskhand_worker set");
    }
    tracing::info!("database is up to date");
    Ok(())
}

/// A dry run of one email: the draft it would get, on stdout as JSON.
fn knowledge(settings: &Settings, command: KnowledgeCommand) -> anyhow::Result<()> {
    let KnowledgeCommand::Index { ask } = command;
    let dir = &settings.knowledge.dir;
    let (index, pages) = deskhand::knowledge::load(dir)?;
    if pages.is_empty() {
        anyhow::bail!(
            "no policy pages (*.md) in {}: set knowledge.dir or DESKHAND_KNOWLEDGE_DIR",
            dir.display()
        );
    }
    for page in &pages {
        println!("{} ({} passages)", page.file, page.headings.len());
        for heading in &page.headings {
            println!("  ## {heading}");
        }
    }
    println!(
        "{} passages from {} pages in {}",
        index.passages().len(),
        pages.len(),
        dir.display()
    );
    if let Some(question) = ask {
        // The answer route's own rule decides what would be cited.
        let found = index.search(&question, 5);
        let cited = deskhand_core::knowledge::passages_to_cite(&found, &settings.knowledge.graph());
        for (rank, passage) in found.iter().enumerate() {
            let verdict = if rank < cited { "cited" } else { "not cited" };
            println!(
                "{:>6.2}  {}  ({verdict})",
                passage.score, passage.passage.source
            );
        }
    }
    Ok(())
}

async fn triage(settings: &Settings, args: TriageArgs) -> anyhow::Result<()> {
    use deskhand::dry_run::{dry_run, DryRunInput};
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let is_event = args
        .file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let input = if is_event {
        DryRunInput::Event(bytes)
    } else {
        DryRunInput::Message {
            raw: bytes,
            customer_id: args
                .customer_id
                .context("an .eml names no customer: give --customer-id")?,
            case_id: args.case_id,
        }
    };
    let event = dry_run(settings, input).await?;
    println!("{}", serde_json::to_string_pretty(&event)?);
    Ok(())
}

/// The outbox's parked messages. Like `users`, it needs no DDL.
async fn outbox(settings: &Settings, command: OutboxCommand) -> anyhow::Result<()> {
    let store = admin_store(settings)?;
    let missing = "is the database migrated (`deskhand migrate`)?";
    match command {
        OutboxCommand::Parked => {
            let parked = store.parked_messages().await.context(missing)?;
            if parked.is_empty() {
                eprintln!("No parked messages.");
            }
            for message in parked {
                println!(
                    "{}\t{}\t{}\t{} bytes\tparked {}\t{} attempts\t{} waiting\t{}",
                    message.id,
                    message.topic,
                    message.key,
                    message.bytes,
                    message.parked_at,
                    message.attempts,
                    message.waiting,
                    message.last_error.as_deref().unwrap_or("-"),
                );
            }
        }
        OutboxCommand::Release { id } => {
            let released = store.release_parked(id).await.context(missing)?;
            anyhow::ensure!(released, "outbox message {id} is not parked");
            eprintln!("Released {id}: the relay publishes it and its case's messages next.");
        }
    }
    Ok(())
}

/// The database, as the deployment's role, for an admin command that needs no DDL.
fn admin_store(settings: &Settings) -> anyhow::Result<Store> {
    Ok(Store::connect_lazy(&DatabaseSettings {
        url: settings.database.url.expose().to_owned(),
        max_connections: 2,
        acquire_timeout: settings.database.acquire_timeout,
    })?)
}

/// Integration management; like `users`, it needs no DDL.
async fn integrations(settings: &Settings, command: IntegrationsCommand) -> anyhow::Result<()> {
    let store = admin_store(settings)?;
    let missing = "is the database migrated (`deskhand migrate`)?";
    match command {
        IntegrationsCommand::Add { name } => {
            let name = name.trim();
            anyhow::ensure!(
                !name.is_empty() && name.len() <= 100 && !name.chars().any(char::is_control),
                "an integration's name must be 1-100 printable characters"
            );
            let key = deskhand_intake::new_integration_key();
            store
                .add_integration(name, &deskhand_db::hash_secret(&key))
                .await
                .with_context(|| format!("adding integration {name:?}; {missing}"))?;
            eprintln!(
                "Added integration {name:?}. Its key (shown only now; it may post emails to \
                 POST /api/v1/emails and nothing else):"
            );
            println!("{key}");
        }
        IntegrationsCommand::List => {
            let integrations = store.integrations().await.context(missing)?;
            println!(
                "{:<24} {:<10} {:<10} {:>8} last post",
                "name", "created", "revoked", "emails"
            );
            for account in integrations {
                let day = |t: time::OffsetDateTime| t.date().to_string();
                println!(
                    "{:<24} {:<10} {:<10} {:>8} {}",
                    account.integration.name,
                    day(account.created_at),
                    account.revoked_at.map(day).unwrap_or_else(|| "-".into()),
                    account.submissions,
                    account
                        .last_submission
                        .map(day)
                        .unwrap_or_else(|| "never".into()),
                );
            }
        }
        IntegrationsCommand::Revoke { name } => {
            let revoked = store
                .revoke_integration(name.trim())
                .await
                .context(missing)?;
            anyhow::ensure!(revoked, "no active integration named {name:?}");
            eprintln!("Revoked {name:?}: its key no longer works.");
        }
    }
    Ok(())
}

/// Reviewer management. It needs no DDL: it runs as the deployment's role against a
/// database that `deskhand migrate` (with the owner's URL) has already set up.
async fn users(settings: &Settings, command: UsersCommand) -> anyhow::Result<()> {
    let store = admin_store(settings)?;
    let missing = "is the database migrated (`deskhand migrate`)?";
    match command {
        UsersCommand::Add { name, role } => {
            let role: deskhand_core::review::Role = role.parse().map_err(anyhow::Error::msg)?;
            let name = name.trim();
            anyhow::ensure!(
                !name.is_empty() && name.len() <= 100 && !name.chars().any(char::is_control),
                "a reviewer's name must be 1-100 printable characters"
            );
            let token = deskhand_review::new_token();
            store
                .add_reviewer(name, role, &deskhand_review::hash_token(&token))
                .await
                .with_context(|| format!("adding reviewer {name:?}; {missing}"))?;
            eprintln!("Added {role} {name:?}. Their API token (shown only now; store it safely):");
            println!("{token}");
        }
        UsersCommand::List => {
            let reviewers = store.reviewers().await.context(missing)?;
            println!(
                "{:<24} {:<9} {:<10} {:<10} last seen",
                "name", "role", "created", "disabled"
            );
            for account in reviewers {
                let day = |t: time::OffsetDateTime| t.date().to_string();
                println!(
                    "{:<24} {:<9} {:<10} {:<10} {}",
                    account.reviewer.name,
                    account.reviewer.role,
                    day(account.created_at),
                    account.disabled_at.map(day).unwrap_or_else(|| "-".into()),
                    account.last_seen.map(day).unwrap_or_else(|| "never".into()),
                );
            }
        }
        UsersCommand::Disable { name } => {
            let disabled = store.disable_reviewer(name.trim()).await.context(missing)?;
            anyhow::ensure!(disabled, "no active reviewer named {name:?}");
            eprintln!("Disabled {name:?}: their token and sessions no longer work.");
        }
        UsersCommand::Rotate { name } => {
            let token = deskhand_review::new_token();
            let rotated = store
                .rotate_token(name.trim(), &deskhand_review::hash_token(&token))
                .await
                .context(missing)?;
            anyhow::ensure!(rotated, "no active reviewer named {name:?}");
            eprintln!("New API token for {name:?} (shown only now; the old one no longer works):");
            println!("{token}");
        }
    }
    Ok(())
}

/// The database, migrated, for a one-off admin command.
async fn migrated_store(settings: &Settings) -> anyhow::Result<Store> {
    migrate(settings).await?;
    Ok(Store::connect_lazy(&DatabaseSettings {
        url: settings.database.url.expose().to_owned(),
        max_connections: 2,
        acquire_timeout: settings.database.acquire_timeout,
    })?)
}

async fn seed_store(settings: &Settings, args: &SeedArgs) -> anyhow::Result<()> {
    let store = migrated_store(settings).await?;
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM customers")
        .fetch_one(store.pool())
        .await?;
    anyhow::ensure!(
        existing == 0 || args.replace,
        "the shop already has {existing} customers; pass --replace to delete its business data and generate a new one"
    );
    let today = settings
        .agent
        .today
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    let started = std::time::Instant::now();
    let report = store
        .seed(&deskhand_db::SeedSpec {
            customers: args.customers,
            deliveries_per_customer: args.deliveries_per_customer,
            seed: args.seed,
            today,
        })
        .await
        .context("seeding")?;
    println!(
        "Seeded {} products, {} customers, {} deliveries (today = {today}) in {:.1}s",
        report.products,
        report.customers,
        report.deliveries,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn serve(settings: Settings, roles: Roles) -> anyhow::Result<()> {
    let app = Application::build(settings, roles).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    app.run_until_stopped(shutdown).await
}

/// SIGINT or SIGTERM starts the one shutdown path.
async fn stop_on_signal(shutdown: CancellationToken) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => tracing::info!("SIGINT received; shutting down"),
        _ = terminate => tracing::info!("SIGTERM received; shutting down"),
    }
    shutdown.cancel();
}
