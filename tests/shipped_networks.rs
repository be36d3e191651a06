//! The trained networks shipped in `models/`: every `models/X.bpk` sits beside its config
//! `models/X.toml` and the `summary.json` of the run that trained it (`models/X.summary.json`),
//! and `spikeburn eval --config models/X.toml --checkpoint models/X.bpk` on a fresh clone
//! reproduces that run's test accuracy and loss. The MNIST networks need the MNIST files
//! (skipped without them, except under CI).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The networks the README lists; each must be shipped (a missing file fails the test).
const SHIPPED: &[&str] =
    &["yinyang-ttfs-double", "mnist16-ttfs", "mnist16-surrogate", "mnist16-sampling"];

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spikeburn-shipped-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Evaluates `models/{stem}.bpk` under `models/{stem}.toml` and compares with the recorded
/// summary: the same test accuracy (every test sample classified alike) and loss.
fn reproduces(stem: &str, data: Option<&Path>) {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let recorded = json(&models.join(format!("{stem}.summary.json")));
    assert_eq!(recorded["status"], "completed", "{stem}: the recorded run did not complete");
    let out = tmp(stem);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_spikeburn"));
    cmd.env_remove("BURN_DEVICE")
        .args(["eval", "--force", "--config"])
        .arg(models.join(format!("{stem}.toml")))
        .arg("--checkpoint")
        .arg(models.join(format!("{stem}.bpk")))
        .arg("--out")
        .arg(&out);
    if let Some(d) = data {
        cmd.arg("--data-dir").arg(d);
    }
    let o = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stem}: eval failed:\n{text}");
    let now = json(&out.join("summary.json"));
    let field = |v: &serde_json::Value, k: &str| {
        v[k].as_f64().unwrap_or_else(|| panic!("{stem}: no {k} in summary: {v}"))
    };
    let (acc, want_acc) = (field(&now, "test_accuracy"), field(&recorded, "test_accuracy"));
    let (loss, want_loss) = (field(&now, "test_loss"), field(&recorded, "test_loss"));
    println!(
        "{stem}: test accuracy {acc} (recorded {want_acc}), loss {loss} (recorded {want_loss})"
    );
    assert_eq!(acc, want_acc, "{stem}: test accuracy");
    assert!(
        (loss - want_loss).abs() <= 1e-6 * want_loss.abs().max(1.0),
        "{stem}: test loss {loss}, recorded {want_loss}"
    );
    assert_eq!(now["name"], recorded["name"], "{stem}: another network's config");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn default_yinyang_network_reproduces_its_accuracy() {
    reproduces("yinyang-ttfs-double", None);
}

#[test]
fn mnist_networks_reproduce_their_accuracy() {
    let Some(data) = common::real_data_dir() else {
        eprintln!("skipped: no MNIST data");
        return;
    };
    for stem in SHIPPED.iter().filter(|s| s.starts_with("mnist")) {
        reproduces(stem, Some(&data));
    }
}

/// Every checkpoint in `models/` is one of the listed networks, with its config and summary,
/// and the README names each with its recorded accuracy.
#[test]
fn every_shipped_network_is_listed_and_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut found: Vec<String> = std::fs::read_dir(root.join("models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bpk"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().to_string())
        .collect();
    found.sort();
    let mut listed: Vec<String> = SHIPPED.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed, "models/*.bpk against the shipped list");
    for stem in SHIPPED {
        assert!(root.join(format!("models/{stem}.toml")).is_file(), "{stem}: no config");
        let recorded = json(&root.join(format!("models/{stem}.summary.json")));
        let acc = recorded["test_accuracy"].as_f64().unwrap();
        let row = format!("`models/{stem}.bpk`");
        let line = readme
            .lines()
            .find(|l| l.contains(&row))
            .unwrap_or_else(|| panic!("README.md lists no {row}"));
        let figure = format!("{:.2} %", 100.0 * acc);
        assert!(line.contains(&figure), "README's row for {stem} lacks {figure}: {line}");
    }
}
