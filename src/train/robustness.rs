//! Robustness curves (the substrate-imperfection study of Göltz, Kriener et al. 2021): one chip
//! effect swept over levels, the test accuracy (mean ± std over chip instances) of an ideally
//! trained network (open loop) and, optionally, of a network trained with the chip in the loop
//! at each level, written as CSV and an SVG chart.

use std::fmt::Write as _;

use burn::tensor::Device;

use super::config::{ChipConfig, ChipMode, ConfigError, ExperimentConfig};
use super::epochs::Diverged;
use super::evaluation::mean_std;
use super::model::TrainedModel;
use super::run::{Stopped, train_and_test};
use crate::chip::{Chip, ChipProfile};
use crate::data::Splits;
use crate::io::plot::{Figure, LineChart, Series};
use crate::io::{IoError, RunDir};

/// The chip effect a sweep varies, each alone on top of the base profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Effect {
    /// Gaussian spike-time jitter, σ in units of τs.
    Jitter,
    /// Fixed pattern of τm and τs (each its own draw), effective relative σ.
    Tau,
    /// Fixed pattern of the threshold, effective σ in units of ϑ − E_l (no mean offset).
    VTh,
    /// Weight resolution: bits of magnitude, the base profile's weight range kept (±63/30 if
    /// the base has continuous weights).
    WeightBits,
    /// Probability that an emitted spike is lost.
    SpikeLoss,
}

impl Effect {
    /// The command-line spelling.
    pub fn name(self) -> &'static str {
        match self {
            Effect::Jitter => "jitter",
            Effect::Tau => "tau",
            Effect::VTh => "v-th",
            Effect::WeightBits => "weight-bits",
            Effect::SpikeLoss => "spike-loss",
        }
    }

    /// What a level means, for the chart's axis.
    pub fn unit(self) -> &'static str {
        match self {
            Effect::Jitter => "jitter σ (τs)",
            Effect::Tau => "τm and τs fixed-pattern σ (relative)",
            Effect::VTh => "threshold fixed-pattern σ (ϑ − E_l)",
            Effect::WeightBits => "weight bits (magnitude)",
            Effect::SpikeLoss => "spike-loss probability",
        }
    }

    /// `base` with this effect at `level` (calibration of the varied quantity set to 1, so the
    /// level is the effective spread).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the level if the effect cannot take it.
    pub fn apply(self, base: &ChipProfile, level: f64) -> Result<ChipProfile, ConfigError> {
        let bad = |why: &str| {
            ConfigError::Invalid(format!("--levels: {} level {level} {why}", self.name()))
        };
        if !level.is_finite() || level < 0.0 {
            return Err(bad("must be a finite number ≥ 0"));
        }
        let mut p = base.clone();
        p.name = format!("{}+{}={level}", base.name, self.name());
        match self {
            Effect::Jitter => p.trial.jitter = level,
            Effect::Tau => {
                (p.fixed_pattern.tau_mem, p.fixed_pattern.tau_syn) = (level, level);
                (p.calibration.tau_mem, p.calibration.tau_syn) = (1.0, 1.0);
            }
            Effect::VTh => {
                (p.fixed_pattern.v_th, p.fixed_pattern.v_th_mean) = (level, 0.0);
                p.calibration.v_th = 1.0;
            }
            Effect::WeightBits => {
                if level.fract() != 0.0 || !(1.0..=16.0).contains(&level) {
                    return Err(bad("must be a whole number of bits from 1 to 16"));
                }
                let range = base.weights.max_weight().unwrap_or(63.0 / 30.0);
                p.weights.bits = level as u32;
                p.weights.levels_per_unit = p.weights.max_level() as f64 / range;
            }
            Effect::SpikeLoss => {
                if level > 1.0 {
                    return Err(bad("is a probability: at most 1"));
                }
                p.trial.spike_loss = level;
            }
        }
        Ok(p)
    }
}

/// One level of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct RobustnessPoint {
    /// The effect's level.
    pub level: f64,
    /// The ideally trained network's test accuracy on each chip instance.
    pub open_loop: Vec<f64>,
    /// With `retrain`: the test accuracy on each instance of the network trained at this
    /// level with the chip in the loop on the first instance.
    pub retrained: Option<Vec<f64>>,
}

/// A sweep's settings.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The effect.
    pub effect: Effect,
    /// Its levels.
    pub levels: Vec<f64>,
    /// Chip instances per level (seeds `chip.seed`, `chip.seed + 1`, …).
    pub chips: usize,
    /// Also train a network with the chip in the loop at each level.
    pub retrain: bool,
}

impl Sweep {
    /// Checks the settings that do not depend on the base profile.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first bad setting or level.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.chips == 0 {
            return Err(ConfigError::Invalid("--chips must be at least 1".into()));
        }
        if self.levels.is_empty() {
            return Err(ConfigError::Invalid("--levels: give at least one level".into()));
        }
        let ideal = ChipConfig::read_profile("ideal")?;
        self.levels.iter().try_for_each(|&l| self.effect.apply(&ideal, l).map(|_| ()))
    }
}

/// Runs `sweep` for `cfg` (a first-spike-time or surrogate configuration; its `[chip]` profile
/// is the base, `ideal` if it has none): `ideal` is the ideally trained network (trained here
/// if `None`); each level's profile is written into `run` (`robustness-<k>.toml`) for the
/// retrained runs. `on_level` sees each finished level.
///
/// # Errors
/// [`ConfigError`] for a bad level or configuration, before anything is trained;
/// [`IoError`] writing a profile.
pub fn robustness(
    cfg: &ExperimentConfig,
    sweep: &Sweep,
    ideal: Option<&dyn TrainedModel>,
    data: &Splits,
    device: &Device,
    run: &RunDir,
    on_level: &mut dyn FnMut(&RobustnessPoint),
) -> Result<Vec<RobustnessPoint>, SweepError> {
    sweep.validate()?;
    let base = match &cfg.chip.profile {
        Some(name) => ChipConfig::read_profile(name)?,
        None if cfg.chip.file.is_some() => {
            return Err(ConfigError::Invalid(
                "robustness draws its own chips: give a base profile (--chip), not a chip file"
                    .into(),
            )
            .into());
        }
        None => ChipConfig::read_profile("ideal")?,
    };
    let profiles: Vec<ChipProfile> =
        sweep.levels.iter().map(|&l| sweep.effect.apply(&base, l)).collect::<Result<_, _>>()?;
    let mut ideal_cfg = cfg.clone();
    ideal_cfg.chip = ChipConfig::default();
    let trained;
    let ideal = match ideal {
        Some(n) => n,
        None => {
            trained = train_and_test(&ideal_cfg, data, device, &mut |_| {})?.network;
            trained.as_ref()
        }
    };
    let shapes = cfg.chip_shapes();
    let mut points = Vec::new();
    for (k, (level, profile)) in sweep.levels.iter().zip(profiles).enumerate() {
        let chips: Vec<Chip> = (0..sweep.chips as u64)
            .map(|i| Chip::draw(profile.clone(), cfg.chip.seed.wrapping_add(i), &shapes))
            .collect();
        let on_chip = |c| ideal.test_on_chip(c, &data.test, cfg, device).map(|e| e.accuracy);
        let open_loop: Vec<f64> = chips
            .iter()
            .map(on_chip)
            .collect::<Option<_>>()
            .ok_or_else(|| ConfigError::Invalid(format!(
                "robustness sweeps run first-spike-time and surrogate networks, not the {} method",
                cfg.method.name()
            )))?;
        let retrained = if sweep.retrain {
            let path = run.file(&format!("robustness-{k}.toml"));
            let text = toml::to_string(&profile).expect("a profile serialises");
            run.write(&format!("robustness-{k}.toml"), &text)?;
            let mut c = cfg.clone();
            c.chip = ChipConfig {
                profile: Some(path.display().to_string()),
                file: None,
                seed: cfg.chip.seed,
                mode: if cfg.chip.mode == ChipMode::OpenLoop {
                    ChipMode::InTheLoop
                } else {
                    cfg.chip.mode
                },
                instances: sweep.chips,
            };
            c.validate()?;
            let r = train_and_test(&c, data, device, &mut |_| {})?;
            Some(r.test.chip.expect("tested on its chips").accuracies)
        } else {
            None
        };
        let point = RobustnessPoint { level: *level, open_loop, retrained };
        on_level(&point);
        points.push(point);
    }
    Ok(points)
}

/// Why a sweep could not run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A bad level or configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Writing a file failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A training run of the sweep diverged.
    #[error(transparent)]
    Diverged(#[from] Box<Diverged>),
    /// A training run of the sweep was interrupted (the sweep writes nothing more).
    #[error("{0}; the sweep stopped")]
    Interrupted(String),
}

impl From<Stopped> for SweepError {
    fn from(s: Stopped) -> Self {
        match s {
            Stopped::Diverged(d) => Box::new(d).into(),
            interrupted => SweepError::Interrupted(interrupted.to_string()),
        }
    }
}

/// The sweep as CSV: one row per level with mean and std of each kind, then every instance.
pub fn robustness_csv(effect: Effect, points: &[RobustnessPoint]) -> String {
    let mut csv = String::from(
        "effect,level,open_loop_mean,open_loop_std,retrained_mean,retrained_std,open_loop,retrained\n",
    );
    let join = |v: &[f64]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(" ");
    for p in points {
        let (om, os) = mean_std(&p.open_loop);
        let (rm, rs) = p.retrained.as_deref().map_or((f64::NAN, f64::NAN), mean_std);
        let _ = writeln!(
            csv,
            "{},{},{om},{os},{},{},{},{}",
            effect.name(),
            p.level,
            if rm.is_nan() { String::new() } else { rm.to_string() },
            if rs.is_nan() { String::new() } else { rs.to_string() },
            join(&p.open_loop),
            p.retrained.as_deref().map_or(String::new(), join)
        );
    }
    csv
}

/// Reads back a [`robustness_csv`]: the effect and the points (the per-instance columns; the
/// means and stds are recomputed from them).
///
/// # Errors
/// A message naming the line and what is wrong.
pub fn parse_robustness_csv(text: &str) -> Result<(Effect, Vec<RobustnessPoint>), String> {
    use clap::ValueEnum;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or("empty file")?;
    if !header.starts_with("effect,level,") || header.split(',').count() != 8 {
        return Err(format!("line 1: not a robustness.csv header: {header}"));
    }
    let mut effect = None;
    let mut points = Vec::new();
    for (i, line) in lines.enumerate() {
        let at = i + 2;
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != 8 {
            return Err(format!("line {at}: {} cells, expected 8", cells.len()));
        }
        let e = Effect::from_str(cells[0], false)
            .map_err(|_| format!("line {at}: unknown effect {:?}", cells[0]))?;
        if effect.is_some_and(|f| f != e) {
            return Err(format!("line {at}: effect {} in a sweep of another", cells[0]));
        }
        effect = Some(e);
        let number =
            |c: &str| c.parse::<f64>().map_err(|_| format!("line {at}: {c:?} is not a number"));
        let list = |c: &str| c.split_whitespace().map(number).collect::<Result<Vec<f64>, _>>();
        let open_loop = list(cells[6])?;
        if open_loop.is_empty() {
            return Err(format!("line {at}: no open-loop accuracies"));
        }
        let retrained = if cells[7].trim().is_empty() { None } else { Some(list(cells[7])?) };
        points.push(RobustnessPoint { level: number(cells[1])?, open_loop, retrained });
    }
    Ok((effect.ok_or("no rows")?, points))
}

/// The chart's title: the network, the effect and the chip instances per level.
pub fn robustness_title(network: &str, effect: Effect, chips: usize) -> String {
    format!("{network}: {} on {chips} chips", effect.name())
}

/// The sweep as a chart: accuracy (%) against the level, mean and mean ± std lines.
pub fn robustness_chart(effect: Effect, title: &str, points: &[RobustnessPoint]) -> Figure {
    let mut series = Vec::new();
    let mut add = |name: &str, get: &dyn Fn(&RobustnessPoint) -> Option<&[f64]>| {
        let stats: Vec<(f64, f64, f64)> = points
            .iter()
            .filter_map(|p| get(p).map(|v| (p.level, mean_std(v).0, mean_std(v).1)))
            .collect();
        if stats.is_empty() {
            return;
        }
        let line = |f: &dyn Fn(f64, f64) -> f64| {
            stats.iter().map(|&(l, m, s)| (l, 100.0 * f(m, s))).collect()
        };
        series.push(Series { name: format!("{name} (mean)"), points: line(&|m, _| m) });
        series.push(Series { name: format!("{name} − std"), points: line(&|m, s| m - s) });
        series.push(Series { name: format!("{name} + std"), points: line(&|m, s| m + s) });
    };
    add("open loop", &|p| Some(&p.open_loop));
    add("trained in the loop", &|p| p.retrained.as_deref());
    Figure::Lines(LineChart::linear(title, effect.unit(), "test accuracy (%)", series))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    /// Each effect sets its own knob and nothing else; bad levels are named.
    fn effects_set_their_knob() {
        let ideal = ChipConfig::read_profile("ideal").unwrap();
        let p = Effect::Jitter.apply(&ideal, 0.05).unwrap();
        assert_eq!(p.trial.jitter, 0.05);
        assert_eq!(p.fixed_pattern, ideal.fixed_pattern);
        let p = Effect::Tau.apply(&ideal, 0.1).unwrap();
        assert_eq!((p.effective().tau_mem, p.effective().tau_syn), (0.1, 0.1));
        let bss2 = ChipConfig::read_profile("bss2").unwrap();
        let p = Effect::VTh.apply(&bss2, 0.02).unwrap();
        assert_eq!((p.effective().v_th, p.effective().v_th_mean), (0.02, 0.0));
        assert_eq!(p.trial, bss2.trial);
        let p = Effect::WeightBits.apply(&bss2, 4.0).unwrap();
        assert_eq!(p.weights.max_level(), 15);
        assert!((p.weights.max_weight().unwrap() - 2.1).abs() < 1e-12);
        assert!(Effect::WeightBits.apply(&bss2, 4.5).unwrap_err().to_string().contains("whole"));
        assert!(Effect::SpikeLoss.apply(&bss2, 1.5).unwrap_err().to_string().contains("at most 1"));
        assert!(Effect::Jitter.apply(&bss2, -1.0).unwrap_err().to_string().contains("jitter"));
    }

    #[test]
    /// The CSV has a row per level with the mean and std of the instances.
    fn csv_rows() {
        let points = vec![
            RobustnessPoint {
                level: 0.0,
                open_loop: vec![0.9, 0.8],
                retrained: Some(vec![0.95, 0.95]),
            },
            RobustnessPoint { level: 0.1, open_loop: vec![0.5], retrained: None },
        ];
        let csv = robustness_csv(Effect::Jitter, &points);
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows.len(), 3);
        let first: Vec<&str> = rows[1].split(',').collect();
        assert_eq!(first[0], "jitter");
        assert!((first[2].parse::<f64>().unwrap() - 0.85).abs() < 1e-12);
        assert!(
            (first[3].parse::<f64>().unwrap() - 0.1_f64.hypot(0.0) / 2f64.sqrt()).abs() < 1e-12
        );
        assert_eq!(first[4].parse::<f64>().unwrap(), 0.95);
        assert!(rows[2].contains(",,"), "no retrained figures: empty cells");
        let (effect, back) = parse_robustness_csv(&csv).unwrap();
        assert_eq!((effect, &back), (Effect::Jitter, &points), "the CSV reads back");
        assert!(parse_robustness_csv("effect,level\n").is_err());
        let bad = csv.replace("jitter,0.1", "jitter,x");
        assert!(parse_robustness_csv(&bad).unwrap_err().contains("\"x\" is not a number"));
        let chart = robustness_chart(Effect::Jitter, "t", &points);
        let Figure::Lines(lines) = &chart else { panic!("a line chart") };
        assert_eq!(lines.series.len(), 6, "mean and mean ± std, open loop and retrained");
        let svg = chart.svg().unwrap();
        assert!(svg.contains("trained in the loop (mean)") && svg.contains("open loop + std"));
    }
}
