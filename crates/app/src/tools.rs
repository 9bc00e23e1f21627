//! `deskhand eval|train|bench|demo`: the tools live in the `deskhand-tools` binary (so the
//! product binary does not carry them); these commands run it with the same arguments,
//! as `git` and `cargo` run their external subcommands.

use anyhow::Context as _;
use std::ffi::OsString;
use std::path::PathBuf;

/// The tools binary's name.
const TOOLS: &str = "deskhand-tools";

/// Runs `deskhand-tools <command> <args>` and exits with its status.
pub fn run(command: &str, args: &[OsString]) -> anyhow::Result<()> {
    let executable = locate().with_context(|| {
        format!(
            "`deskhand {command}` is run by the {TOOLS} binary, which is neither beside this \
             one nor on PATH (DESKHAND_TOOLS names it explicitly); build it with \
             `cargo build -p deskhand-tools` or run `cargo run -p deskhand-tools -- {command}`"
        )
    })?;
    let mut child = std::process::Command::new(&executable);
    child.arg(command).args(args);
    // The benchmark runs its worker as `deskhand worker`: this binary, wherever the tools
    // binary was found.
    if std::env::var_os("DESKHAND_BIN").is_none() {
        if let Ok(this) = std::env::current_exe() {
            child.env("DESKHAND_BIN", this);
        }
    }
    // Replace this process: signals (Ctrl-C on a demo) reach the tool directly.
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        let error = child.exec();
        Err(error).with_context(|| format!("running {}", executable.display()))
    }
    #[cfg(not(unix))]
    {
        let status = child
            .status()
            .with_context(|| format!("running {}", executable.display()))?;
        std::process::exit(status.code().unwrap_or(1));
    }
}

/// `DESKHAND_TOOLS`, else `deskhand-tools` beside this executable, else on `PATH`.
fn locate() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("DESKHAND_TOOLS") {
        return Some(PathBuf::from(explicit)).filter(|path| path.is_file());
    }
    let name = format!("{TOOLS}{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&name)))
        .filter(|path| path.is_file());
    beside.or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(&name))
                .find(|path| path.is_file())
        })
    })
}
