//! The command line: `tend serve` (default), `migrate`, `config`, `admin …`, `demo`,
//! `audit verify`, `keys rotate`. Passwords come from `TEND_PASSWORD` or standard input,
//! never from a flag (flags end up in shell history and process lists).

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::accounts::password::{check_strength, hash_password};
use crate::accounts::queries::NewUser;
use crate::app::{build_state, load_keyring, serve};
use crate::audit::{ChainReport, Event, Outcome, verify_chain};
use crate::authz::Role;
use crate::config::Config;
use crate::crypto::Keyring;

/// Tend: a self-hostable platform for compassionate therapy.
#[derive(Parser, Debug)]
#[command(name = "tend", version, about)]
pub struct Cli {
    /// Settings shared by every command.
    #[command(flatten)]
    pub config: Config,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (the default).
    Serve {
        /// Seed the demo practice first (idempotent), so there is something to sign in to.
        #[arg(long, env = "TEND_DEMO")]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Print the effective configuration with secrets redacted.
    Config,
    /// Manage accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Seed a demo practice (idempotent), or print the demo staff's current sign-in code.
    Demo {
        /// Print the current two-step code for the demo staff accounts and exit.
        #[arg(long)]
        code: bool,
    },
    /// Audit trail tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Encryption key tools.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print the OpenAPI 3.1 document of the JSON API (the same as `/api/v1/openapi.json`).
    Openapi,
    /// Write a consistent, encrypted snapshot of the whole database to a file.
    Backup {
        /// Where to write it (refused if it exists).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Bring a backup back into an empty data directory or an empty PostgreSQL database.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: std::path::PathBuf,
    },
    /// Print one client's questionnaires and treatment plan as a FHIR R4 Bundle (audited as
    /// an export).
    FhirExport {
        /// The client's email.
        #[arg(long)]
        email: String,
    },
    /// Risk-screening tools (offline: no database, nothing stored).
    #[command(subcommand)]
    Safety(SafetyCommand),
    /// The listening coach (offline: no database, nothing stored).
    #[command(subcommand)]
    Coach(CoachCommand),
}

/// `tend coach …`
#[derive(Subcommand, Debug)]
pub enum CoachCommand {
    /// Read one JSON object `{"client_message": …, "reply": …}` per standard-input line; print
    /// one JSON result per line, or `{"error": …}` for a line the coach cannot read.
    Feedback,
    /// Read a transcript ("Client:" / "Therapist:" lines) from standard input; print its
    /// MITI-style summary as JSON.
    Summary,
}

/// `tend safety …`
#[derive(Subcommand, Debug)]
pub enum SafetyCommand {
    /// Screen one text per standard-input line; print one JSON result per line.
    Screen,
    /// Screen a labelled TSV (`label<TAB>category<TAB>text`) and print recall and precision.
    Eval {
        /// The TSV files (for example safety/eval/dev.tsv safety/eval/heldout.tsv).
        files: Vec<std::path::PathBuf>,
        /// Also list the statements the screen got wrong.
        #[arg(long)]
        show_errors: bool,
    },
    /// Train the risk screen's meaning model (`head.json`) from labelled TSV files, with
    /// thresholds chosen by cross-validation. Needs the screen's encoder (`--encoder`).
    Train {
        /// Labelled TSV files to learn from. The held-out `fresh.tsv` and
        /// `messages_heldout.tsv` are refused.
        #[arg(default_values = ["safety/eval/dev.tsv", "safety/eval/heldout.tsv", "safety/train/written.tsv", "safety/train/everyday.tsv", "safety/train/messages.tsv", "safety/train/grief.tsv", "safety/train/annomi_client.tsv"])]
        files: Vec<std::path::PathBuf>,
        /// Where to write the head.
        #[arg(long, default_value = "safety/model/head.json")]
        out: std::path::PathBuf,
        /// Also write each statement's label and encoded vector, one JSON array per line, for
        /// trying other classifiers outside Tend.
        #[arg(long)]
        vectors: Option<std::path::PathBuf>,
        /// The sentence encoder to train for; serving reads the `encoder/` beside the head.
        #[arg(long, default_value = "safety/model/encoder")]
        encoder: std::path::PathBuf,
    },
}

/// `tend admin …`
#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create an account. The password is read from TEND_PASSWORD or standard input.
    CreateUser {
        /// Email address.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// client, therapist, supervisor or admin.
        #[arg(long)]
        role: String,
        /// For a client: the email of the therapist whose care they are in.
        #[arg(long)]
        therapist: Option<String>,
    },
    /// Set a new password (from TEND_PASSWORD or standard input); ends all their sessions.
    ResetPassword {
        /// Email address.
        #[arg(long)]
        email: String,
    },
    /// List accounts.
    ListUsers,
}

/// `tend audit …`
#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the hash chain; exits non-zero if any entry was changed or removed.
    Verify,
}

/// `tend keys …`
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Re-wrap every data key under a new master key and start a new data key.
    Rotate,
}

/// Runs the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => {
            if demo {
                let state = build_state(config.clone()).await?;
                println!("{}", crate::demo::seed(&state).await?);
                state.db.close().await;
            }
            serve(config).await
        }
        Command::Migrate => {
            build_state(config).await?;
            println!("Migrations applied.");
            Ok(())
        }
        Command::Config => {
            for (key, value) in config.redacted() {
                println!("{key}={value}");
            }
            Ok(())
        }
        Command::Admin(cmd) => admin(config, cmd).await,
        Command::Demo { code } => {
            if code {
                println!("{}", crate::demo::current_code());
                return Ok(());
            }
            let state = build_state(config).await?;
            let report = crate::demo::seed(&state).await?;
            println!("{report}");
            Ok(())
        }
        Command::Audit(AuditCommand::Verify) => {
            let state = build_state(config).await?;
            match verify_chain(&state.db).await? {
                ChainReport::Intact { entries, head } => {
                    println!("Audit trail intact: {entries} entries. Head hash: {head}");
                    Ok(())
                }
                ChainReport::Broken { seq, reason } => {
                    bail!("Audit trail broken at entry {seq}: {reason}")
                }
            }
        }
        Command::Keys(KeysCommand::Rotate) => rotate_keys(config).await,
        Command::FhirExport { email } => {
            let state = build_state(config).await?;
            let Some(client) = state.db.user_by_email(&email).await? else {
                bail!("no account with email {email}")
            };
            let bundle = crate::rights::export::fhir_bundle(&state, client.id).await?;
            state
                .audit
                .record(
                    Event::new(None, "cli.export_fhir", Outcome::Success).on("client", client.id),
                )
                .await?;
            println!("{}", serde_json::to_string_pretty(&bundle)?);
            Ok(())
        }
        Command::Safety(SafetyCommand::Screen) => safety_screen(&meaning_screen(&config)),
        Command::Safety(SafetyCommand::Eval { files, show_errors }) => {
            safety_eval(&meaning_screen(&config), &files, show_errors)
        }
        Command::Safety(SafetyCommand::Train {
            files,
            out,
            vectors,
            encoder,
        }) => safety_train(&files, &out, vectors.as_deref(), &encoder),
        Command::Coach(cmd) => coach(&coach_engine(&config), cmd),
        Command::Backup { out } => {
            let bytes = crate::backup::backup(&config, &out).await?;
            println!(
                "Backup written to {} ({bytes} bytes, encrypted).",
                out.display()
            );
            Ok(())
        }
        Command::Restore { from } => {
            crate::backup::restore(&config, &from).await?;
            println!("Restored from {}.", from.display());
            Ok(())
        }
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::openapi::document())?
            );
            Ok(())
        }
    }
}

/// Reads a password from `TEND_PASSWORD` or the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("TEND_PASSWORD") {
        return Ok(p);
    }
    eprintln!("Password (then Enter):");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// `tend admin …`
async fn admin(config: Config, cmd: AdminCommand) -> anyhow::Result<()> {
    let state = build_state(config).await?;
    match cmd {
        AdminCommand::CreateUser {
            email,
            name,
            role,
            therapist,
        } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            crate::web::extract::check_email("email", &email)
                .map_err(|e| anyhow::anyhow!(e.message))?;
            let therapist_id = match (&therapist, role) {
                (None, _) => None,
                (Some(t), Role::Client) => match state.db.user_by_email(t).await? {
                    Some(u) if matches!(u.role, Role::Therapist | Role::Supervisor) => Some(u.id),
                    _ => bail!("no therapist with email {t}"),
                },
                (Some(_), _) => bail!("--therapist applies only to clients"),
            };
            let password = read_password()?;
            check_strength("password", &password, &[&email, &name])
                .map_err(|e| anyhow::anyhow!(e.message))?;
            let hash = hash_password(&password).map_err(anyhow::Error::msg)?;
            let user = state
                .db
                .create_user(NewUser {
                    email: &email,
                    name: &name,
                    role,
                    password_hash: Some(&hash),
                    therapist_id,
                })
                .await
                .map_err(|e| match e {
                    crate::db::DbError::Conflict => {
                        anyhow::anyhow!("an account with email {email} already exists")
                    }
                    other => other.into(),
                })?;
            state
                .audit
                .record(Event::new(None, "cli.create_user", Outcome::Success).on("user", user.id))
                .await?;
            println!(
                "Created {} ({}) with id {}.",
                user.email, user.role, user.id
            );
            if role.requires_mfa() {
                println!("They will set up two-step sign-in the first time they sign in.");
            }
            Ok(())
        }
        AdminCommand::ResetPassword { email } => {
            let Some(user) = state.db.user_by_email(&email).await? else {
                bail!("no account with email {email}")
            };
            let password = read_password()?;
            check_strength("password", &password, &[&user.email, &user.name])
                .map_err(|e| anyhow::anyhow!(e.message))?;
            let hash = hash_password(&password).map_err(anyhow::Error::msg)?;
            state.db.set_password(user.id, &hash).await?;
            state
                .audit
                .record(
                    Event::new(None, "cli.reset_password", Outcome::Success).on("user", user.id),
                )
                .await?;
            println!(
                "Password changed for {}; all their sessions have ended.",
                user.email
            );
            Ok(())
        }
        AdminCommand::ListUsers => {
            for u in state.db.list_users(None).await? {
                println!(
                    "{}\t{}\t{}\t{}\tmfa={}",
                    u.id,
                    u.role,
                    u.email,
                    u.name,
                    if u.totp_enabled { "on" } else { "off" }
                );
            }
            Ok(())
        }
    }
}

/// `tend keys rotate`: with a key file, adds a new master key to it; with `TEND_MASTER_KEY`,
/// re-wraps under the first key listed (put the new key first, keep the old ones after it).
async fn rotate_keys(config: Config) -> anyhow::Result<()> {
    let state = build_state(config.clone()).await?;
    let (current, key_file) = load_keyring(&config)?;
    let new_ring: Keyring = match &key_file {
        Some(path) => {
            let ring = current.with_new_key();
            // Write the new key first: if re-wrapping fails, the old keys are still in the
            // file and nothing becomes unreadable.
            ring.write_file(path)?;
            Keyring::load_file(path)?
        }
        None => current,
    };
    let count = state.sealer.rotate(new_ring).await?;
    state
        .audit
        .record(Event::new(None, "keys.rotated", Outcome::Success))
        .await?;
    println!("Re-wrapped {count} data keys under the newest master key; a new data key is active.");
    Ok(())
}

/// The coach's engine for the configured model directory.
fn coach_engine(config: &Config) -> std::sync::Arc<crate::coach::Engine> {
    let dir = config
        .coach_model
        .clone()
        .unwrap_or_else(crate::coach::default_model_dir);
    std::sync::Arc::new(crate::coach::Engine::new(&dir))
}

/// The risk screen's meaning model as configured (off, with a logged error, when missing).
fn meaning_screen(config: &Config) -> crate::safety::meaning::MeaningScreen {
    let head = config
        .safety_model
        .clone()
        .unwrap_or_else(crate::safety::meaning::default_head_path);
    crate::safety::meaning::MeaningScreen::new(&head, coach_engine(config))
}

/// `tend safety screen`: stdin lines in, JSON lines out (phrase rules and meaning).
fn safety_screen(meaning: &crate::safety::meaning::MeaningScreen) -> anyhow::Result<()> {
    use std::io::{BufRead, Write};
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line?;
        let result = meaning
            .screen_blocking(&line)
            .map_err(|e| anyhow::anyhow!("screening failed: {e}"))?;
        serde_json::to_writer(&mut out, &result)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// `tend safety train`: encodes the labelled statements, fits the head, writes it.
fn safety_train(
    files: &[std::path::PathBuf],
    out: &std::path::Path,
    vectors_out: Option<&std::path::Path>,
    encoder: &std::path::Path,
) -> anyhow::Result<()> {
    use crate::safety::meaning::{TRAIN_MAX_TOKENS, file_sha256};
    use crate::safety::training::{Example, Settings, train};
    if let Some(held_out) = files
        .iter()
        .find(|f| f.ends_with("fresh.tsv") || f.ends_with("messages_heldout.tsv"))
    {
        bail!(
            "{} is the held-out set: it is for reporting only and must never be trained on",
            held_out.display()
        );
    }
    let model = crate::encoder::Encoder::load(encoder).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut rows = Vec::new();
    for file in files {
        rows.extend(crate::safety::screen::parse_labelled(
            &std::fs::read_to_string(file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?,
        ));
    }
    // Encoded in batches of similar length, so little of each batch is padding.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| rows[i].2.len());
    let mut vectors = vec![Vec::new(); rows.len()];
    for batch in order.chunks(16) {
        let texts: Vec<&str> = batch.iter().map(|&i| rows[i].2.as_str()).collect();
        let encoded = model
            .embed_texts(&texts, TRAIN_MAX_TOKENS)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for (&i, v) in batch.iter().zip(encoded) {
            vectors[i] = v;
        }
    }
    let examples: Vec<Example> = rows
        .iter()
        .zip(vectors)
        .map(|((level, category, _), vector)| Example {
            vector,
            level: *level,
            category: *category,
        })
        .collect();
    if let Some(path) = vectors_out {
        let mut lines = String::new();
        for ((level, category, _), e) in rows.iter().zip(&examples) {
            let category = category.map_or("none", crate::safety::screen::Category::as_str);
            lines += &serde_json::to_string(&(level.as_str(), category, &e.vector))?;
            lines.push('\n');
        }
        std::fs::write(path, lines)?;
    }
    let sha = file_sha256(&encoder.join("model.safetensors")).map_err(anyhow::Error::msg)?;
    let names = files.iter().map(|f| f.display().to_string()).collect();
    let head = train(&examples, &Settings::default(), sha, names).map_err(anyhow::Error::msg)?;
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(out, serde_json::to_string(&head)? + "\n")?;
    let t = &head.training;
    let cv = &t.cross_validated;
    println!(
        "Trained on {} statements ({} urgent, {} risk); {} hidden units, L2 {}; thresholds urgent {:.3}, risk {:.3}.\n\
         Cross-validated ({} folds, seed {}), meaning alone: urgent recall {:.3} precision {:.3}; \
         any-risk recall {:.3} precision {:.3}.\nWrote {}.",
        t.rows,
        t.urgent,
        t.risk,
        t.hidden,
        t.l2,
        head.urgent_threshold,
        head.risk_threshold,
        t.folds,
        t.seed,
        cv.urgent_recall,
        cv.urgent_precision,
        cv.risk_recall,
        cv.risk_precision,
        out.display()
    );
    Ok(())
}

/// `tend coach feedback` and `tend coach summary`.
fn coach(engine: &crate::coach::Engine, cmd: CoachCommand) -> anyhow::Result<()> {
    use std::io::{BufRead, Read, Write};
    /// One input line.
    #[derive(serde::Deserialize)]
    struct Input {
        #[serde(default)]
        client_message: String,
        reply: String,
    }
    if let crate::coach::Status::Unavailable(why) = engine.status() {
        bail!("the listening coach is not available: {why}");
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match cmd {
        CoachCommand::Feedback => {
            for line in std::io::stdin().lock().lines() {
                let line = line?;
                let result = serde_json::from_str::<Input>(&line)
                    .map_err(|e| format!("line is not {{\"client_message\", \"reply\"}} JSON: {e}"))
                    .and_then(|input| {
                        engine
                            .feedback_blocking(&input.client_message, &input.reply)
                            .map_err(|e| e.to_string())
                    });
                match result {
                    Ok(feedback) => serde_json::to_writer(&mut out, &feedback)?,
                    Err(error) => {
                        serde_json::to_writer(&mut out, &serde_json::json!({ "error": error }))?
                    }
                }
                out.write_all(b"\n")?;
                out.flush()?;
            }
        }
        CoachCommand::Summary => {
            let mut transcript = String::new();
            std::io::stdin().read_to_string(&mut transcript)?;
            let summary = engine
                .summary_blocking(&transcript)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            serde_json::to_writer_pretty(&mut out, &summary)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `tend safety eval`: recall and precision on labelled files, for the phrase rules alone
/// and with the meaning screen (when it can run).
fn safety_eval(
    meaning: &crate::safety::meaning::MeaningScreen,
    files: &[std::path::PathBuf],
    show_errors: bool,
) -> anyhow::Result<()> {
    use crate::safety::screen::{Evaluation, Level, evaluate_with, parse_tsv, screen};
    use std::io::Write;
    // Written through a locked handle so a closed pipe (`| head`) ends quietly with an error
    // instead of a panic.
    let mut out = std::io::stdout().lock();
    if files.is_empty() {
        bail!("name at least one TSV file, for example safety/eval/heldout.tsv");
    }
    let with_meaning = match meaning.ready() {
        Err(problem) => {
            writeln!(out, "(meaning screen off: {problem}; phrase rules only)")?;
            false
        }
        Ok(()) => true,
    };
    let combined = |text: &str| -> Level {
        match meaning.screen_blocking(text) {
            Ok(screening) => screening.level,
            // Counted as the rules' answer; the error is printed once per row.
            Err(error) => {
                eprintln!("screening by meaning failed: {error}");
                screen(text).level
            }
        }
    };
    let write = |out: &mut std::io::StdoutLock, name: &str, e: &Evaluation, micros: f64| {
        writeln!(
            out,
            "  {name}:\n    urgent: recall {:.3} ({}/{}), precision {:.3} ({}/{})\n    any risk: recall {:.3} ({}/{}), precision {:.3} ({}/{})\n    {:.1} µs per statement",
            e.urgent_recall(),
            e.urgent_found,
            e.urgent,
            e.urgent_precision(),
            e.urgent_found,
            e.flagged_urgent,
            e.risk_recall(),
            e.risk_found,
            e.risk,
            e.risk_precision(),
            e.risk_found,
            e.flagged_risk,
            micros
        )
    };
    for file in files {
        let rows = parse_tsv(&std::fs::read_to_string(file)?);
        writeln!(out, "{}: {} statements", file.display(), rows.len())?;
        let timed = |f: &dyn Fn(&str) -> Level| {
            let started = std::time::Instant::now();
            let e = evaluate_with(rows.iter().map(|(l, t)| (*l, t.as_str())), f);
            let micros = started.elapsed().as_secs_f64() * 1e6 / e.total.max(1) as f64;
            (e, micros)
        };
        let (rules, micros) = timed(&|t: &str| screen(t).level);
        write(&mut out, "phrase rules", &rules, micros)?;
        let judge: &dyn Fn(&str) -> Level = if with_meaning {
            let (both, micros) = timed(&combined);
            write(&mut out, "rules and meaning", &both, micros)?;
            &combined
        } else {
            &|t: &str| screen(t).level
        };
        if show_errors {
            for (label, text) in &rows {
                let got = judge(text);
                if (*label == Level::Urgent) != (got == Level::Urgent)
                    || (*label == Level::None) != (got == Level::None)
                {
                    writeln!(out, "  {:>7} -> {:<7} {text}", label.as_str(), got.as_str())?;
                }
            }
        }
    }
    Ok(())
}
