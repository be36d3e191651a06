//! Train one configuration (either method) with several seeds and print a table with the median: the source of
//! the multi-seed accuracy figures in BENCHMARKS.md.
//!
//! ```sh
//! cargo run --release --example yinyang_seeds -- [CONFIG.toml] [--seeds N] [--epochs E]
//! ```
//! Without a config file it runs the built-in default (the README's train command).

use burn::tensor::{Device, FloatDType};
use spikeburn::train::{ExperimentConfig, Precision, train_and_test};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut config, mut seeds, mut epochs) = (None, 5u64, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seeds" => seeds = args.next().expect("--seeds N").parse()?,
            "--epochs" => epochs = Some(args.next().expect("--epochs E").parse()?),
            path => config = Some(path.to_string()),
        }
    }
    let mut cfg = match &config {
        Some(p) => ExperimentConfig::from_file(std::path::Path::new(p))?,
        None => ExperimentConfig::default(),
    };
    if let Some(e) = epochs {
        cfg.training.epochs = e;
    }
    let mut device = Device::default();
    if cfg.precision == Precision::F64 {
        device
            .configure(FloatDType::F64)
            .map_err(|e| anyhow::anyhow!("cannot compute in f64: {e:?}"))?;
    }
    let data_dir = std::env::var_os("SPIKEBURN_DATA").map(std::path::PathBuf::from);
    let data = cfg.dataset.load(data_dir.as_deref())?;
    println!(
        "{} ({} epochs), device flex, {:?}, {seeds} seeds",
        cfg.name, cfg.training.epochs, cfg.precision
    );
    println!("seed  test_acc  val_acc  train_s  s/epoch");
    let mut accs = Vec::new();
    for seed in 0..seeds {
        cfg.seed = seed;
        let out = train_and_test(&cfg, &data, &device, &mut |_| {});
        let test = &out.test;
        let val = out.history.last().map_or(f64::NAN, |m| m.val_accuracy);
        println!(
            "{seed:>4}  {:>7.2}%  {:>6.2}%  {:>7.1}  {:>7.3}",
            100.0 * test.accuracy,
            100.0 * val,
            out.train_seconds,
            out.train_seconds / cfg.training.epochs as f64
        );
        accs.push(test.accuracy);
    }
    accs.sort_by(f64::total_cmp);
    let median = accs[accs.len() / 2];
    println!(
        "test accuracy: median {:.2} %, min {:.2} %, max {:.2} %",
        100.0 * median,
        100.0 * accs[0],
        100.0 * accs[accs.len() - 1]
    );
    Ok(())
}
