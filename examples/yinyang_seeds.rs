//! Train one configuration (either method) with several seeds and print a table with the median: the source of
//! the multi-seed accuracy figures in BENCHMARKS.md.
//!
//! ```sh
//! cargo run --release --example yinyang_seeds -- [CONFIG.toml] [--seeds N] [--epochs E]
//!     [--first-seed S] [--rng spikeburn|torch] [--precision f32|f64]
//! ```
//! Without a config file it runs the built-in default (the README's train command). Seeds are
//! `S, S+1, …` (S = 0 by default). `--rng torch --first-seed 2000 --precision f64` replays the
//! reference PyTorch code's runs for torch seeds 2000, 2001, ….

use burn::tensor::{Device, FloatDType};
use clap::ValueEnum;
use spikeburn::train::{ExperimentConfig, Precision, RandomStream, train_and_test};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut config, mut seeds, mut epochs, mut first) = (None, 5u64, None, 0u64);
    let (mut rng, mut precision) = (None, None);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| anyhow::anyhow!("{a} needs a value"));
        match a.as_str() {
            "--seeds" => seeds = value()?.parse()?,
            "--epochs" => epochs = Some(value()?.parse()?),
            "--first-seed" => first = value()?.parse()?,
            "--rng" => {
                rng = Some(RandomStream::from_str(&value()?, true).map_err(anyhow::Error::msg)?)
            }
            "--precision" => {
                precision = Some(Precision::from_str(&value()?, true).map_err(anyhow::Error::msg)?)
            }
            _ => config = Some(a.clone()),
        }
    }
    let mut cfg = match &config {
        Some(p) => ExperimentConfig::from_file(std::path::Path::new(p))?,
        None => ExperimentConfig::default(),
    };
    if let Some(e) = epochs {
        cfg.training.epochs = e;
    }
    cfg.rng = rng.unwrap_or(cfg.rng);
    cfg.precision = precision.unwrap_or(cfg.precision);
    cfg.validate()?;
    let mut device = Device::default();
    if cfg.precision == Precision::F64 {
        device
            .configure(FloatDType::F64)
            .map_err(|e| anyhow::anyhow!("cannot compute in f64: {e:?}"))?;
    }
    let data_dir = std::env::var_os("SPIKEBURN_DATA").map(std::path::PathBuf::from);
    let data = cfg.dataset.load(data_dir.as_deref())?;
    println!(
        "{} ({} epochs), device flex, {:?}, rng {:?}, {seeds} seeds from {first}",
        cfg.name, cfg.training.epochs, cfg.precision, cfg.rng
    );
    println!("seed  test_acc  val_acc  train_s  s/epoch");
    let mut accs = Vec::new();
    for seed in first..first + seeds {
        cfg.seed = seed;
        let out = train_and_test(&cfg, &data, &device, &mut |_| {}).expect("finite");
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
