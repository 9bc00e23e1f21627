//! What the tools' tests share: the broker, the configuration, unique names and the
//! binaries.

use std::path::PathBuf;

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

pub fn config_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

/// The product binary, which cargo builds beside this crate's `deskhand-tools`.
pub fn deskhand_binary() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_deskhand-tools"))
        .with_file_name(format!("deskhand{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: build the workspace (`cargo build --workspace`) before these tests",
        path.display()
    );
    path
}
