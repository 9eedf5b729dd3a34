//! The hexagon's rule, checked on the dependency graph: the domain reaches no web framework,
//! database, token library or async runtime, directly or through another crate. Pure crates
//! (rules, time zones, identifiers) are fine.

use std::process::Command;

/// Crates the domain must never depend on, by name or name prefix.
const FORBIDDEN: [&str; 8] = [
    "actix",
    "sea-orm",
    "sea-query",
    "sqlx",
    "jsonwebtoken",
    "tokio",
    "reqwest",
    "hyper",
];

#[test]
fn the_domain_depends_on_no_framework_database_or_runtime() {
    let output = Command::new(env!("CARGO"))
        .args(["tree", "-p", "domain", "-e", "normal", "--prefix", "none"])
        .args(["--format", "{p}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).expect("cargo prints UTF-8");
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(crates.contains(&"rrule"), "the tree was read: {crates:?}");
    let reached: Vec<&&str> = crates
        .iter()
        .filter(|name| FORBIDDEN.iter().any(|f| name.starts_with(f)))
        .collect();
    assert!(reached.is_empty(), "the domain reaches {reached:?}");
}
