//! Exact first-spike-time training against surrogate-gradient BPTT, side by side: the same data
//! (latency-coded), the same network sizes, the same device; one table.
//!
//! ```sh
//! cargo run --release --example compare_methods -- [--dataset yinyang|mnist16] [--epochs E]
//!     [--device flex|ndarray|wgpu|vulkan] [--seed S]
//! ```
//! Yin-Yang compares `models/yinyang-ttfs-double.toml` with `models/yinyang-surrogate.toml`;
//! 16×16 MNIST `models/mnist16-ttfs-fast.toml` with `models/mnist16-surrogate.toml` (data from
//! `SPIKEBURN_DATA`). Each method trains in a child process of this example, so that the peak
//! memory column is that method's own.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use spikeburn::device::DeviceChoice;
use spikeburn::train::{ExperimentConfig, train_and_test};
use spikeburn::util::peak_rss_bytes;

struct Args {
    dataset: String,
    epochs: Option<usize>,
    device: String,
    seed: u64,
    child: Option<PathBuf>,
}

fn parse() -> Result<Args> {
    let mut a = Args {
        dataset: "yinyang".into(),
        epochs: None,
        device: "flex".into(),
        seed: 0,
        child: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut value = || it.next().with_context(|| format!("{x} needs a value"));
        match x.as_str() {
            "--dataset" => a.dataset = value()?,
            "--epochs" => a.epochs = Some(value()?.parse()?),
            "--device" => a.device = value()?,
            "--seed" => a.seed = value()?.parse()?,
            "--child" => a.child = Some(PathBuf::from(value()?)),
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(a)
}

/// Train and test one configuration; print one tab-separated result line.
fn child(config: &Path, args: &Args) -> Result<()> {
    let mut cfg = ExperimentConfig::from_file(config)?;
    cfg.seed = args.seed;
    if let Some(e) = args.epochs {
        cfg.training.epochs = e;
    }
    let device = DeviceChoice::parse(&args.device)?.device()?;
    let dir = std::env::var_os("SPIKEBURN_DATA").map(PathBuf::from);
    let data = cfg.dataset.load(dir.as_deref())?;
    let r = train_and_test(&cfg, &data, &device, &mut |_| {}).expect("finite");
    let peak = peak_rss_bytes().map_or(f64::NAN, |b| b as f64 / (1024.0 * 1024.0));
    println!(
        "RESULT\t{}\t{}\t{:.2}\t{:.1}\t{}\t{:.2}\t{:.0}",
        cfg.method.name(),
        cfg.training.epochs,
        100.0 * r.test.accuracy,
        r.test.mean_spikes,
        r.test.mean_decision_time.map_or("-".into(), |t| format!("{t:.3}")),
        r.train_seconds / cfg.training.epochs as f64,
        peak
    );
    Ok(())
}

fn main() -> Result<()> {
    let args = parse()?;
    if let Some(config) = &args.child {
        return child(config, &args);
    }
    let configs = match args.dataset.as_str() {
        "yinyang" => ["models/yinyang-ttfs-double.toml", "models/yinyang-surrogate.toml"],
        "mnist16" => ["models/mnist16-ttfs-fast.toml", "models/mnist16-surrogate.toml"],
        other => bail!("--dataset must be yinyang or mnist16, got {other}"),
    };
    let exe = std::env::current_exe()?;
    println!(
        "{} on {}, device {}, seed {}",
        configs.join(" vs "),
        args.dataset,
        args.device,
        args.seed
    );
    println!(
        "{:<10} {:>6} {:>9} {:>14} {:>18} {:>12} {:>13}",
        "method",
        "epochs",
        "test acc",
        "spikes/sample",
        "decision (τs)",
        "s per epoch",
        "peak mem MiB"
    );
    for config in configs {
        let mut cmd = Command::new(&exe);
        cmd.args(["--child", config, "--device", &args.device, "--seed", &args.seed.to_string()]);
        if let Some(e) = args.epochs {
            cmd.args(["--epochs", &e.to_string()]);
        }
        let out = cmd.output().with_context(|| format!("running {config}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let Some(line) = stdout.lines().find(|l| l.starts_with("RESULT\t")) else {
            bail!("{config} failed:\n{}", String::from_utf8_lossy(&out.stderr));
        };
        let f: Vec<&str> = line.split('\t').skip(1).collect();
        println!(
            "{:<10} {:>6} {:>8}% {:>14} {:>18} {:>12} {:>13}",
            f[0], f[1], f[2], f[3], f[4], f[5], f[6]
        );
    }
    Ok(())
}
