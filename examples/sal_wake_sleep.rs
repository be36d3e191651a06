//! SAL alongside wake–sleep (`../shared/design/sal.md` §4a): a 7-neuron neural-sampling network
//! learns a Boltzmann target from weights with asymmetric noise σ_init ∈ {0, 0.2, …, 1.0}, with
//! and without SAL on the sleep spikes; final D_KL(p* ‖ p̂) and Var(W − Wᵀ), median and IQR over
//! seeds per level.
//!
//! ```sh
//! cargo run --release --example sal_wake_sleep -- [--seeds N] [--iterations I] [--sigma 0,0.2,…]
//!     [--out DIR]
//! ```
//! Seed `s` draws the target (W*, b* ~ U(−1, 1)) and the initial noise; both arms of a seed start
//! from the same weights. Writes `DIR/sal_wake_sleep.csv` (every run, every validation point) and
//! `DIR/sal_wake_sleep.svg` (final D_KL against σ_init: medians and quartiles). Default DIR:
//! `runs/sal-wake-sleep`.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use spikeburn::io::plot::{Figure, LineChart, Scale, Series};
use spikeburn::sampling::sal_wake_sleep::{AsymmetricWakeSleep, uniform_target};

fn quantile(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let x = q * (s.len() - 1) as f64;
    let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
    s[lo] + (x - lo as f64) * (s[hi] - s[lo])
}

fn main() -> Result<()> {
    let (mut seeds, mut out) = (10u64, PathBuf::from("runs/sal-wake-sleep"));
    let mut protocol = AsymmetricWakeSleep::default();
    let mut levels = vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--seeds" => seeds = value()?.parse().context("--seeds")?,
            "--iterations" => protocol.iterations = value()?.parse().context("--iterations")?,
            "--out" => out = PathBuf::from(value()?),
            "--sigma" => {
                levels = value()?
                    .split(',')
                    .map(|x| x.trim().parse::<f64>().context("--sigma: a comma-separated list"))
                    .collect::<Result<_>>()?
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if seeds == 0 || protocol.iterations == 0 {
        bail!("--seeds and --iterations must be at least 1");
    }
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let csv_path = out.join("sal_wake_sleep.csv");
    let mut csv = String::from("sigma_init,sal,seed,iteration,dkl,asymmetry\n");
    println!("{protocol:?}, {seeds} seeds per level");
    println!(
        "| σ_init | D_KL without SAL (median [IQR]) | D_KL with SAL | Var(W − Wᵀ) without | with |"
    );
    println!("|---|---|---|---|---|");
    let mut medians: [Vec<(f64, f64)>; 6] = Default::default();
    for &sigma in &levels {
        let mut finals = [Vec::new(), Vec::new()];
        let mut asym = [Vec::new(), Vec::new()];
        for seed in 0..seeds {
            let target = uniform_target(7, 1000 + seed);
            for (arm, sal) in [false, true].into_iter().enumerate() {
                let t = protocol.run(&target, sigma, sal, seed);
                for ((i, d), a) in t.iterations.iter().zip(&t.dkl).zip(&t.asymmetry) {
                    let _ = writeln!(csv, "{sigma},{sal},{seed},{i},{d:.6e},{a:.6e}");
                }
                finals[arm].push(*t.dkl.last().expect("validated at the end"));
                asym[arm].push(*t.asymmetry.last().expect("validated at the end"));
            }
            // Written after every seed, so an interrupted run keeps what it measured.
            std::fs::write(&csv_path, &csv).with_context(|| format!("{}", csv_path.display()))?;
        }
        let q = |v: &[f64]| {
            format!("{:.4} [{:.4}, {:.4}]", quantile(v, 0.5), quantile(v, 0.25), quantile(v, 0.75))
        };
        println!(
            "| {sigma:.1} | {} | {} | {:.2e} | {:.2e} |",
            q(&finals[0]),
            q(&finals[1]),
            quantile(&asym[0], 0.5),
            quantile(&asym[1], 0.5)
        );
        for (arm, v) in finals.iter().enumerate() {
            for (k, qq) in [0.25, 0.5, 0.75].into_iter().enumerate() {
                medians[arm * 3 + k].push((sigma, quantile(v, qq)));
            }
        }
    }
    let names =
        ["no SAL, q25", "no SAL, median", "no SAL, q75", "SAL, q25", "SAL, median", "SAL, q75"];
    let series: Vec<Series> = names
        .iter()
        .zip(medians)
        .map(|(n, points)| Series { name: (*n).to_string(), points })
        .collect();
    let chart = LineChart::new(
        &format!("7 neurons, wake–sleep from asymmetric weights ({seeds} seeds per level)"),
        "σ_init (asymmetric initial noise)",
        "final D_KL(p* ‖ p̂) (nats)",
        [Scale::Linear, Scale::Log],
        series,
    );
    Figure::Lines(chart).write(&out.join("sal_wake_sleep"))?;
    println!("wrote {} and sal_wake_sleep.svg/.png", csv_path.display());
    Ok(())
}
