//! The feedback rules side by side: each rule trains the exact first-spike-time network and the
//! surrogate-gradient network on one dataset, over several seeds; one table with the median
//! test accuracy, the final per-layer alignment angles and the time per epoch, plus the
//! alignment-angle curves as CSV and SVG.
//!
//! ```sh
//! cargo run --release --example compare_feedback -- [--dataset yinyang|mnist16|fashion16]
//!     [--network exact|surrogate|both] [--rules frozen,bp,fa,dfa,sign,kp,sal] [--seeds N]
//!     [--first-seed S] [--epochs E] [--sal-every N] [--device flex|ndarray|wgpu|vulkan]
//!     [--out DIR] [--replot]
//! ```
//! Configurations: Yin-Yang `models/yinyang-ttfs-double.toml` / `models/yinyang-surrogate.toml`;
//! 16×16 MNIST `models/mnist16-ttfs-fast.toml` / `models/mnist16-surrogate.toml`; 16×16
//! Fashion-MNIST `models/fashion16-ttfs.toml` / `models/mnist16-surrogate.toml` on Fashion
//! (data from `SPIKEBURN_DATA`). `frozen` is the floor every rule must beat: backprop with
//! every layer but the last frozen, so the hidden layers never learn. Each finished run is
//! appended to `DIR/results.csv` and its per-epoch angles to `DIR/angles.csv` at once, so an
//! interrupted comparison keeps what it measured; `DIR/angles-NETWORK.svg` charts layer 1's
//! angle against the epoch for the first seed of each rule (`--replot` draws it again from
//! `DIR/angles.csv` without training). Default DIR: `runs/compare-feedback-DATASET`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::FloatDType;
use spikeburn::data::DatasetName;
use spikeburn::device::DeviceChoice;
use spikeburn::feedback::FeedbackRuleName;
use spikeburn::io::plot::{Figure, LineChart, Series};
use spikeburn::train::{ExperimentConfig, Precision, train_and_test};

struct Args {
    dataset: DatasetName,
    networks: Vec<&'static str>,
    rules: Vec<String>,
    seeds: u64,
    first_seed: u64,
    epochs: Option<usize>,
    device: String,
    out: Option<PathBuf>,
    sal_every: Option<usize>,
    replot: bool,
}

const ALL_RULES: [&str; 7] = ["frozen", "bp", "fa", "dfa", "sign", "kp", "sal"];

fn parse() -> Result<Args> {
    let mut a = Args {
        dataset: DatasetName::Yinyang,
        networks: vec!["exact", "surrogate"],
        rules: ALL_RULES.iter().map(|s| (*s).to_string()).collect(),
        seeds: 1,
        first_seed: 0,
        epochs: None,
        device: "flex".into(),
        out: None,
        sal_every: None,
        replot: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut value = || it.next().with_context(|| format!("{x} needs a value"));
        match x.as_str() {
            "--dataset" => {
                a.dataset = match value()?.as_str() {
                    "yinyang" => DatasetName::Yinyang,
                    "mnist16" => DatasetName::Mnist16,
                    "fashion16" => DatasetName::Fashion16,
                    other => bail!("--dataset must be yinyang, mnist16 or fashion16, got {other}"),
                }
            }
            "--network" => {
                a.networks = match value()?.as_str() {
                    "exact" => vec!["exact"],
                    "surrogate" => vec!["surrogate"],
                    "both" => vec!["exact", "surrogate"],
                    other => bail!("--network must be exact, surrogate or both, got {other}"),
                }
            }
            "--rules" => {
                a.rules = value()?.split(',').map(|s| s.trim().to_string()).collect();
                if let Some(bad) = a.rules.iter().find(|r| !ALL_RULES.contains(&r.as_str())) {
                    bail!("--rules: unknown rule {bad:?} (known: {})", ALL_RULES.join(", "));
                }
            }
            "--seeds" => a.seeds = value()?.parse().context("--seeds")?,
            "--first-seed" => a.first_seed = value()?.parse().context("--first-seed")?,
            "--epochs" => a.epochs = Some(value()?.parse().context("--epochs")?),
            "--device" => a.device = value()?,
            "--out" => a.out = Some(PathBuf::from(value()?)),
            "--replot" => a.replot = true,
            "--sal-every" => a.sal_every = Some(value()?.parse().context("--sal-every")?),
            other => bail!("unknown argument {other}"),
        }
    }
    if a.seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    Ok(a)
}

/// The configuration of `network` on `dataset`.
fn config(network: &str, dataset: DatasetName) -> Result<ExperimentConfig> {
    let file = match (network, dataset) {
        ("exact", DatasetName::Yinyang) => "models/yinyang-ttfs-double.toml",
        ("exact", DatasetName::Mnist16) => "models/mnist16-ttfs-fast.toml",
        ("exact", _) => "models/fashion16-ttfs.toml",
        (_, DatasetName::Yinyang) => "models/yinyang-surrogate.toml",
        _ => "models/mnist16-surrogate.toml",
    };
    let mut cfg = ExperimentConfig::from_file(Path::new(file))?;
    cfg.dataset = dataset;
    Ok(cfg)
}

/// One finished run.
struct Outcome {
    accuracy: f64,
    seconds_per_epoch: f64,
    /// Final `angle_l{k}`, `delta_angle_l{k}` (by k).
    angles: Vec<f64>,
    delta_angles: Vec<f64>,
    /// Layer 1's angle per epoch.
    curve: Vec<(f64, f64)>,
}

fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 { s[n / 2] } else { 0.5 * (s[n / 2 - 1] + s[n / 2]) }
}

fn column(extra: &[(String, f64)], name: &str) -> f64 {
    extra.iter().find(|(n, _)| n == name).map_or(f64::NAN, |(_, v)| *v)
}

fn append(path: &Path, header: &str, lines: &str) -> Result<()> {
    let fresh = !path.exists();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    if fresh {
        writeln!(f, "{header}")?;
    }
    f.write_all(lines.as_bytes())?;
    Ok(())
}

/// Writes `DIR/angles-NETWORK.svg` and `.png`: layer 1's angle against the epoch, one line per
/// rule.
fn angle_chart(out: &Path, dataset: DatasetName, network: &str, series: &[Series]) -> Result<()> {
    let chart = LineChart::linear(
        &format!("angle(B₁, W₁) on {}, {network} network", dataset.name()),
        "epoch",
        "angle to backprop's matrix (degrees)",
        series.to_vec(),
    );
    Ok(Figure::Lines(chart).write(&out.join(format!("angles-{network}")))?)
}

/// One rule's angle curve in `angles.csv` (its first seed).
struct Curve {
    network: String,
    rule: String,
    seed: String,
    points: Vec<(f64, f64)>,
}

/// `--replot`: the charts again from `DIR/angles.csv` (first seed of each rule, layer 1), for
/// a comparison that was interrupted or ran with an older build.
fn replot(out: &Path, dataset: DatasetName) -> Result<()> {
    let path = out.join("angles.csv");
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    let mut curves: Vec<Curve> = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let [network, rule, seed, epoch, layer, angle, _] = f[..] else {
            bail!("{}:{}: expected 7 fields, got {}", path.display(), n + 1, f.len());
        };
        if layer != "1" || rule == "frozen" {
            continue;
        }
        let point = (
            epoch.parse().with_context(|| format!("{}:{}: epoch", path.display(), n + 1))?,
            angle.parse().with_context(|| format!("{}:{}: angle", path.display(), n + 1))?,
        );
        match curves.iter_mut().find(|c| c.network == network && c.rule == rule) {
            None => curves.push(Curve {
                network: network.into(),
                rule: rule.into(),
                seed: seed.into(),
                points: vec![point],
            }),
            Some(c) if c.seed == seed => c.points.push(point),
            Some(_) => {}
        }
    }
    let mut networks: Vec<String> = curves.iter().map(|c| c.network.clone()).collect();
    networks.dedup();
    for network in networks {
        let series: Vec<Series> = curves
            .iter()
            .filter(|c| c.network == network)
            .map(|c| Series { name: c.rule.clone(), points: c.points.clone() })
            .collect();
        angle_chart(out, dataset, &network, &series)?;
        println!("wrote {}", out.join(format!("angles-{network}.svg")).display());
    }
    Ok(())
}

fn main() -> Result<()> {
    let args = parse()?;
    if args.replot {
        let out = args.out.clone().unwrap_or_else(|| {
            PathBuf::from(format!("runs/compare-feedback-{}", args.dataset.name()))
        });
        return replot(&out, args.dataset);
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("runs/compare-feedback-{}", args.dataset.name())));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let data_dir = std::env::var_os("SPIKEBURN_DATA").map(PathBuf::from);
    let data = args.dataset.load(data_dir.as_deref())?;
    println!(
        "feedback rules on {}, device {}, seeds {}..{}, results in {}",
        args.dataset.name(),
        args.device,
        args.first_seed,
        args.first_seed + args.seeds - 1,
        out.display()
    );
    let mut table = String::new();
    for network in &args.networks {
        let mut base = config(network, args.dataset)?;
        if let Some(e) = args.epochs {
            base.training.epochs = e;
        }
        if let Some(n) = args.sal_every {
            base.feedback.sal_every = n;
        }
        let mut device = DeviceChoice::parse(&args.device)?.device()?;
        if base.precision == Precision::F64 {
            device
                .configure(FloatDType::F64)
                .map_err(|e| anyhow::anyhow!("cannot compute in f64: {e:?}"))?;
        }
        let mut series = Vec::new();
        for rule in &args.rules {
            let mut cfg = base.clone();
            if rule == "frozen" {
                cfg.feedback.rule = FeedbackRuleName::Bp;
                cfg.training.frozen_layers = (0..cfg.network.hidden.len()).collect();
            } else {
                cfg.feedback.rule = <FeedbackRuleName as clap::ValueEnum>::from_str(rule, true)
                    .map_err(anyhow::Error::msg)?;
            }
            let n_matrices = cfg.network.hidden.len();
            let mut outcomes = Vec::new();
            for seed in args.first_seed..args.first_seed + args.seeds {
                cfg.seed = seed;
                cfg.validate()?;
                let r = train_and_test(&cfg, &data, &device, &mut |_| {}).expect("finite");
                let last = r.history.last().context("a run of zero epochs")?;
                let angle = |k: usize| column(&last.extra, &format!("angle_l{k}"));
                let delta = |k: usize| column(&last.extra, &format!("delta_angle_l{k}"));
                let o = Outcome {
                    accuracy: 100.0 * r.test.accuracy,
                    seconds_per_epoch: r.train_seconds / cfg.training.epochs as f64,
                    angles: (1..=n_matrices).map(angle).collect(),
                    delta_angles: (1..=n_matrices).map(delta).collect(),
                    curve: r
                        .history
                        .iter()
                        .map(|m| (m.epoch as f64, column(&m.extra, "angle_l1")))
                        .collect(),
                };
                let fmt = |v: &[f64]| v.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>();
                append(
                    &out.join("results.csv"),
                    "network,rule,seed,epochs,test_accuracy,seconds_per_epoch,angles,delta_angles",
                    &format!(
                        "{network},{rule},{seed},{},{:.2},{:.3},{},{}\n",
                        cfg.training.epochs,
                        o.accuracy,
                        o.seconds_per_epoch,
                        fmt(&o.angles).join(";"),
                        fmt(&o.delta_angles).join(";")
                    ),
                )?;
                let mut curve = String::new();
                for m in &r.history {
                    for k in 1..=n_matrices {
                        let _ = writeln!(
                            curve,
                            "{network},{rule},{seed},{},{k},{:.4},{:.4}",
                            m.epoch,
                            column(&m.extra, &format!("angle_l{k}")),
                            column(&m.extra, &format!("delta_angle_l{k}"))
                        );
                    }
                }
                append(
                    &out.join("angles.csv"),
                    "network,rule,seed,epoch,layer,angle,delta_angle",
                    &curve,
                )?;
                println!(
                    "{network:<9} {rule:<6} seed {seed}: {:.2} %, angles {:?}, δ angles {:?}, \
                     {:.3} s/epoch",
                    o.accuracy,
                    fmt(&o.angles),
                    fmt(&o.delta_angles),
                    o.seconds_per_epoch
                );
                outcomes.push(o);
            }
            let accs: Vec<f64> = outcomes.iter().map(|o| o.accuracy).collect();
            let (lo, hi) = accs
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
            let per_layer = |f: &dyn Fn(&Outcome) -> &Vec<f64>| -> String {
                (0..n_matrices)
                    .map(|k| {
                        format!(
                            "{:.1}°",
                            median(&outcomes.iter().map(|o| f(o)[k]).collect::<Vec<_>>())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let _ = writeln!(
                table,
                "| {network} | {rule} | {} | {:.2} % | {lo:.2}–{hi:.2} % | {} | {} | {:.3} |",
                outcomes.len(),
                median(&accs),
                // The frozen floor sends no error anywhere: no angle to report.
                if rule == "frozen" { "—".to_string() } else { per_layer(&|o| &o.angles) },
                if rule == "frozen" { "—".to_string() } else { per_layer(&|o| &o.delta_angles) },
                median(&outcomes.iter().map(|o| o.seconds_per_epoch).collect::<Vec<_>>())
            );
            if rule != "frozen" {
                series.push(Series { name: rule.clone(), points: outcomes[0].curve.clone() });
            }
        }
        angle_chart(&out, args.dataset, network, &series)?;
    }
    println!(
        "\n| network | rule | seeds | median test accuracy | range | final angle(B, W) per layer \
         | final δ angle per layer | s/epoch |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    print!("{table}");
    Ok(())
}
