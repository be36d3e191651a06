//! SAL alongside wake–sleep (`../shared/design/sal.md` §4a): a 7-neuron neural-sampling network
//! learns a Boltzmann target from weights with asymmetric noise σ_init ∈ {0, 0.2, …, 1.0}, with
//! and without SAL on the sleep spikes; final D_KL(p* ‖ p̂) and Var(W − Wᵀ), median and IQR over
//! seeds per level.
//!
//! ```sh
//! cargo run --release --example sal_wake_sleep -- [--seeds N] [--iterations I] [--sigma 0,0.2,…]
//!     [--out DIR] [--replot]
//! ```
//! Seed `s` draws the target (W*, b* ~ U(−1, 1)) and the initial noise; both arms of a seed start
//! from the same weights. Writes `DIR/sal_wake_sleep.csv` (every run, every validation point) and
//! `DIR/sal_wake_sleep.svg` and `.png` (final D_KL against σ_init: medians and quartiles);
//! `--replot` draws the chart again from `DIR/sal_wake_sleep.csv` without running. Default DIR:
//! `runs/sal-wake-sleep`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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

/// The chart of final D_KL against σ_init: quartiles and median of each arm. `finals` holds,
/// per σ_init, each arm's final D_KL per seed (without SAL, with SAL).
fn chart(out: &Path, seeds: u64, finals: &[(f64, [Vec<f64>; 2])]) -> Result<()> {
    let mut lines: [Vec<(f64, f64)>; 6] = Default::default();
    for (sigma, arms) in finals {
        for (arm, v) in arms.iter().enumerate() {
            for (k, qq) in [0.25, 0.5, 0.75].into_iter().enumerate() {
                lines[arm * 3 + k].push((*sigma, quantile(v, qq)));
            }
        }
    }
    let names =
        ["no SAL, q25", "no SAL, median", "no SAL, q75", "SAL, q25", "SAL, median", "SAL, q75"];
    let series: Vec<Series> = names
        .iter()
        .zip(lines)
        .map(|(n, points)| Series { name: (*n).to_string(), points })
        .collect();
    let chart = LineChart::new(
        &format!("7 neurons, wake–sleep from asymmetric weights ({seeds} seeds per level)"),
        "σ_init (asymmetric initial noise)",
        "final D_KL(target ‖ sampled) (nats)",
        [Scale::Linear, Scale::Log],
        series,
    );
    Figure::Lines(chart).write(&out.join("sal_wake_sleep"))?;
    Ok(())
}

/// `--replot`: each run's last validation point from `DIR/sal_wake_sleep.csv`, charted again.
fn replot(out: &Path) -> Result<()> {
    let path = out.join("sal_wake_sleep.csv");
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    // (σ bits, arm, seed) → (iteration, D_KL) of the latest point.
    let mut last: BTreeMap<(u64, usize, u64), (u64, f64)> = BTreeMap::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let bad = || {
            format!(
                "{}:{}: expected sigma_init,sal,seed,iteration,dkl,asymmetry",
                path.display(),
                n + 1
            )
        };
        if f.len() != 6 {
            bail!(bad());
        }
        let sigma: f64 = f[0].parse().with_context(bad)?;
        let arm = usize::from(f[1].parse::<bool>().with_context(bad)?);
        let seed: u64 = f[2].parse().with_context(bad)?;
        let (it, dkl): (u64, f64) =
            (f[3].parse().with_context(bad)?, f[4].parse().with_context(bad)?);
        let e = last.entry((sigma.to_bits(), arm, seed)).or_insert((it, dkl));
        if it >= e.0 {
            *e = (it, dkl);
        }
    }
    let mut finals: Vec<(f64, [Vec<f64>; 2])> = Vec::new();
    let mut seeds = 0;
    for ((bits, arm, seed), (_, dkl)) in last {
        let sigma = f64::from_bits(bits);
        if finals.last().is_none_or(|(s, _)| *s != sigma) {
            finals.push((sigma, Default::default()));
        }
        finals.last_mut().expect("pushed").1[arm].push(dkl);
        seeds = seeds.max(seed + 1);
    }
    if finals.is_empty() {
        bail!("{}: no runs in it", path.display());
    }
    chart(out, seeds, &finals)?;
    println!("wrote {} from {}", out.join("sal_wake_sleep.svg").display(), path.display());
    Ok(())
}

fn main() -> Result<()> {
    let (mut seeds, mut out) = (10u64, PathBuf::from("runs/sal-wake-sleep"));
    let mut replot_only = false;
    let mut protocol = AsymmetricWakeSleep::default();
    let mut levels = vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--seeds" => seeds = value()?.parse().context("--seeds")?,
            "--iterations" => protocol.iterations = value()?.parse().context("--iterations")?,
            "--out" => out = PathBuf::from(value()?),
            "--replot" => replot_only = true,
            "--sigma" => {
                levels = value()?
                    .split(',')
                    .map(|x| x.trim().parse::<f64>().context("--sigma: a comma-separated list"))
                    .collect::<Result<_>>()?
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if replot_only {
        return replot(&out);
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
    let mut all_finals = Vec::new();
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
        all_finals.push((sigma, finals));
    }
    chart(&out, seeds, &all_finals)?;
    println!("wrote {} and sal_wake_sleep.svg/.png", csv_path.display());
    Ok(())
}
