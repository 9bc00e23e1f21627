//! The shipped `docker-compose.yml` is safe to copy: no default passwords, ports on the
//! loopback unless asked otherwise, and every variable it requires documented in
//! `.env.example`. (No Docker engine runs in CI; the roles it uses are exercised by the
//! review tests against the local Postgres.)

use std::path::PathBuf;

fn read(name: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn compose_has_no_default_passwords_and_binds_its_ports_to_the_loopback() {
    let compose = read("docker-compose.yml");
    for line in compose.lines().map(str::trim) {
        let lower = line.to_lowercase();
        if lower.contains("password") && !lower.starts_with('#') {
            if let Some((_, value)) = line.split_once(": ") {
                assert!(
                    value.contains("${") && !value.contains(":-"),
                    "a password with a default: {line}"
                );
            }
            for url in line.split_whitespace().filter(|w| w.contains("://")) {
                let credentials = url.split('@').next().unwrap_or_default();
                assert!(
                    !credentials.contains(':') || credentials.contains("${"),
                    "a literal password in {url}"
                );
            }
        }
        // A published port ("8080:8080") listens on every interface unless it names one.
        if let Some(published) = line.strip_prefix("- \"") {
            assert!(
                !published.starts_with(|c: char| c.is_ascii_digit()),
                "a port published on every interface: {line}"
            );
        }
    }
    assert!(
        compose.contains("${DESKHAND_BIND:-127.0.0.1}:8080:8080"),
        "{compose}"
    );
}

#[test]
fn every_variable_compose_requires_is_in_the_env_example() {
    let compose = read("docker-compose.yml");
    let example = read(".env.example");
    let required: Vec<&str> = compose
        .split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once(":?").map(|(name, _)| name))
        .filter(|name| !name.contains('}'))
        .collect();
    assert!(required.contains(&"POSTGRES_PASSWORD"), "{required:?}");
    for name in required {
        assert!(
            example.lines().any(|l| l.starts_with(&format!("{name}="))),
            "{name} is required by compose but not in .env.example"
        );
    }
}
