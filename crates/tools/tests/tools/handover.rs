//! `deskhand eval|train|bench|demo` are the tools' commands, run from the product binary.

use crate::support::deskhand_binary;

#[test]
fn the_product_binary_hands_a_tool_command_and_its_arguments_to_the_tools() {
    // Only the trainer knows --from-decisions: its help coming back through `deskhand`
    // shows the command and its arguments reached the tools binary.
    let output = std::process::Command::new(deskhand_binary())
        .args(["train", "--help"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.contains("--from-decisions"), "{stdout}");
    assert!(stdout.contains("deskhand-tools"), "{stdout}");
}

#[test]
fn a_failing_tool_fails_the_product_command_with_the_tools_own_error() {
    let missing = std::env::temp_dir().join(crate::support::unique("no-such-report"));
    let output = std::process::Command::new(deskhand_binary())
        .args(["eval", "compare"])
        .arg(&missing)
        .arg(&missing)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&*missing.to_string_lossy()), "{stderr}");
}

#[test]
fn without_the_tools_binary_the_product_says_how_to_get_it() {
    let output = std::process::Command::new(deskhand_binary())
        .arg("demo")
        .env("DESKHAND_TOOLS", "/nonexistent/deskhand-tools")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cargo build -p deskhand-tools"), "{stderr}");
}
