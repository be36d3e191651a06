//! `spikeburn sample`: draw a Boltzmann machine, (optionally) calibrate a LIF network — on an
//! emulated chip with `[chip]` ([`LifOnChip`]) — and learn with it in the loop, sample, and
//! measure D_KL against exact enumeration.
//!
//! Configured by [`SampleConfig`] (TOML, every field defaulted, unknown keys rejected; see
//! `models/boltzmann-5.toml`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde::{Deserialize, Serialize};

use super::boltzmann::{BoltzmannMachine, marginals};
use super::learn::{Optimizer, Quantisation, WakeSleep, sampled_moments};
use super::lif::{
    Calibration, CalibrationSweep, LifSamplingNeuron, Noise, Translation, try_calibrate,
};
use super::neural::{NeuralSampler, UpdateOrder};
use super::on_chip::{DEFAULT_POTENTIAL_UNIT_MV, LifOnChip};
use super::quality::{integrated_autocorrelation_time, marginal_kl_sum};
use super::sampler::{Sampler, log_spaced, record};
use crate::chip::{Chip, ChipConfig, ChipMode};
use crate::config::{ConfigError, parse_toml, positive, read_config_file, require_finite};
use crate::io::plot::{Figure, LineChart, Scale, Series};
use crate::io::{IoError, RunDir, files};

/// The largest `machine.w-std` and `b-std`: couplings of ±100 already pin every unit.
const MAX_STD: f64 = 100.0;

/// Which dynamics sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SamplerKind {
    /// Exact Gibbs sampling (the baseline).
    Gibbs,
    /// Abstract neural sampling with refractory time `tau` steps.
    Neural,
    /// LIF sampling, calibrated and translated (`[lif]`).
    Lif,
}

/// The whole sampling experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct SampleConfig {
    /// Short name, used in run-folder names.
    pub name: String,
    /// Seed of the machine draw, the chains and the calibration.
    pub seed: u64,
    /// The target machine.
    pub machine: MachineConfig,
    /// The sampler and how long it runs.
    pub sampler: SamplerConfig,
    /// The LIF network (used by `kind = "lif"`).
    pub lif: LifConfig,
    /// Wake–sleep learning with the sampler in the loop before measuring (0 iterations: none).
    pub learning: LearningConfig,
    /// An emulated chip the LIF network runs on (`profile` and `seed`, or `file`): calibrated
    /// on the chip, learning (if any) with the chip in the loop. Absent: none.
    pub chip: ChipConfig,
}

/// A random target machine, sbs's draw: W = (A + Aᵀ)/2, A_ij ~ N(0, w-std²), b_i ~ N(0,
/// b-std²).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct MachineConfig {
    /// Units K (at most 20: D_KL needs enumeration).
    pub units: usize,
    /// Standard deviation of A.
    pub w_std: f64,
    /// Standard deviation of b.
    pub b_std: f64,
}

impl Default for MachineConfig {
    fn default() -> Self {
        Self { units: 5, w_std: 1.0, b_std: 1.0 }
    }
}

/// The sampler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct SamplerConfig {
    /// gibbs, neural or lif.
    pub kind: SamplerKind,
    /// Refractory time of the abstract sampler, steps.
    pub tau: u32,
    /// Update order of the abstract samplers.
    pub order: UpdateOrder,
    /// Independent chains.
    pub chains: usize,
    /// Recorded steps per chain (LIF: steps of `lif.dt` ms).
    pub steps: usize,
    /// Unrecorded steps first.
    pub burn_in: usize,
    /// Pseudo-count per state in p̂.
    pub pseudo_count: f64,
    /// Number of log-spaced D_KL measurements.
    pub checkpoints: usize,
}

impl Default for SamplerConfig {
    /// Random-scan neural sampling, τ = 20, one chain, 2·10⁵ steps.
    fn default() -> Self {
        Self {
            kind: SamplerKind::Neural,
            tau: 20,
            order: UpdateOrder::RandomScan,
            chains: 1,
            steps: 200_000,
            burn_in: 1000,
            pseudo_count: 1.0,
            checkpoints: 30,
        }
    }
}

/// The LIF sampling network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct LifConfig {
    /// Neuron parameters (every neuron), `[lif.neuron]`.
    pub neuron: LifSamplingNeuron,
    /// Background, e.g. `{ kind = "poisson", rate = 3.0, weight-exc = 0.001, weight-inh = 0.001 }`.
    pub noise: Noise,
    /// Integration step, ms.
    pub dt: f64,
    /// Renewing synapses (U = 1, τ_rec = τ_syn).
    pub renewing: bool,
    /// Simulated time per calibration point, ms (the sweep is centred on the analytic estimate).
    pub calibration_duration: f64,
    /// Points of the calibration sweep.
    pub calibration_points: usize,
    /// Load this calibration (JSON written by an earlier run) instead of sweeping.
    pub calibration_file: Option<PathBuf>,
    /// On a chip: one unit of the profile's threshold and leak offsets, mV (`[assumed]`, the
    /// first-spike-time neuron's ϑ − E_l in sampling units).
    pub chip_potential_unit: f64,
}

impl Default for LifConfig {
    fn default() -> Self {
        Self {
            neuron: LifSamplingNeuron::default(),
            noise: Noise::default(),
            dt: 0.1,
            renewing: true,
            calibration_duration: 5000.0,
            calibration_points: 40,
            calibration_file: None,
            chip_potential_unit: DEFAULT_POTENTIAL_UNIT_MV,
        }
    }
}

/// Wake–sleep with the sampler in the loop, starting from the target itself (so that learning
/// corrects the sampler's systematic error) or from zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct LearningConfig {
    /// Updates (0: sample the open-loop translation only).
    pub iterations: usize,
    /// Start from W = b = 0 instead of the target.
    pub from_zero: bool,
    /// Sampled steps per update (per chain).
    pub steps: usize,
    /// Unrecorded steps after each update.
    pub burn_in: usize,
    /// The optimiser.
    pub optimizer: Optimizer,
    /// Largest |update| per parameter.
    pub clip: f64,
    /// Round the weights the sampler sees.
    pub quantisation: Option<Quantisation>,
}

impl Default for LearningConfig {
    fn default() -> Self {
        Self {
            iterations: 0,
            from_zero: false,
            steps: 2000,
            burn_in: 200,
            optimizer: Optimizer::Adam { lr: 0.02 },
            clip: 0.1,
            quantisation: None,
        }
    }
}

impl Default for SampleConfig {
    fn default() -> Self {
        Self {
            name: "boltzmann-5".into(),
            seed: 0,
            machine: MachineConfig::default(),
            sampler: SamplerConfig::default(),
            lif: LifConfig::default(),
            learning: LearningConfig::default(),
            chip: ChipConfig::default(),
        }
    }
}

impl SampleConfig {
    /// Parse TOML (missing fields defaulted, unknown keys rejected) and validate.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] naming `origin`, or [`ConfigError::Invalid`].
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let cfg: Self = parse_toml(text, origin)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Read and validate a TOML file.
    ///
    /// # Errors
    /// [`ConfigError`] naming the path.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        Self::from_toml_str(&read_config_file(path)?, &path.display().to_string())
    }

    /// Every field as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("config serialises")
    }

    /// The rules a runnable configuration satisfies.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first violated rule.
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_finite(self)?;
        let bad = |m: String| Err(ConfigError::Invalid(m));
        let (m, s, l) = (&self.machine, &self.sampler, &self.lif);
        if m.units == 0 || m.units > super::MAX_ENUMERATED_UNITS {
            return bad(format!(
                "machine.units = {} (1 to {} units can be enumerated)",
                m.units,
                super::MAX_ENUMERATED_UNITS
            ));
        }
        if !(m.w_std >= 0.0 && m.b_std >= 0.0 && m.w_std.is_finite() && m.b_std.is_finite()) {
            return bad(format!(
                "machine.w-std {} / b-std {} must be finite and ≥ 0",
                m.w_std, m.b_std
            ));
        }
        if s.chains == 0 || s.steps == 0 {
            return bad(format!(
                "sampler.chains {} and sampler.steps {} must be ≥ 1",
                s.chains, s.steps
            ));
        }
        if s.kind == SamplerKind::Neural && s.tau == 0 {
            return bad("sampler.tau must be ≥ 1 step".into());
        }
        if s.kind == SamplerKind::Gibbs && s.order == UpdateOrder::Synchronous {
            return bad(
                "synchronous Gibbs sampling is not a valid sampler: use random-scan or sequential"
                    .into(),
            );
        }
        if s.pseudo_count.is_nan() || s.pseudo_count < 0.0 {
            return bad(format!("sampler.pseudo-count {} must be ≥ 0", s.pseudo_count));
        }
        if !(l.dt > 0.0 && l.dt <= 0.1) {
            return bad(format!("lif.dt = {} ms: use 0 < dt ≤ 0.1 ms", l.dt));
        }
        if l.neuron.tau_ref < l.dt
            || l.neuron.tau_syn <= 0.0
            || l.neuron.tau_m <= 0.0
            || l.neuron.c_m <= 0.0
        {
            return bad(
                "lif.neuron: tau-ref ≥ dt and positive tau-syn, tau-m, c-m are required".into()
            );
        }
        if l.calibration_points < 3 || l.calibration_duration <= 0.0 {
            return bad(
                "lif.calibration-points ≥ 3 and calibration-duration > 0 are required".into()
            );
        }
        if let Noise::Sinusoidal { rate, amplitude, .. } = l.noise
            && amplitude.abs() > rate
        {
            return bad(format!("lif.noise: amplitude {amplitude} exceeds the mean rate {rate}"));
        }
        if let Noise::Ensemble { sources, .. } = l.noise
            && (s.chains < 2 || sources == 0)
        {
            return bad(format!(
                "lif.noise: ensemble noise drives each chain with the spikes of the other chains: \
                 sampler.chains must be ≥ 2 and sources ≥ 1, got {} chains and {sources} sources",
                s.chains
            ));
        }
        let (we, wi) = l.noise.weights();
        if !(we >= 0.0 && wi >= 0.0) || l.noise.mean_rate().is_some_and(|r| r.is_nan() || r < 0.0) {
            return bad(format!(
                "lif.noise: rates and weights must be ≥ 0 (the inhibitory weight is given \
                 positive), got {:?}",
                l.noise
            ));
        }
        if !(m.w_std <= MAX_STD && m.b_std <= MAX_STD) {
            return bad(format!(
                "machine.w-std {:?} / b-std {:?} must be at most {MAX_STD} (beyond that every \
                 unit is always on or off, and energies overflow)",
                m.w_std, m.b_std
            ));
        }
        let learn = &self.learning;
        if !positive(learn.clip) {
            return bad(format!("learning.clip must be positive, got {}", learn.clip));
        }
        let rates_ok = match learn.optimizer {
            Optimizer::Sgd { lr, decay } => positive(lr) && positive(decay),
            Optimizer::Adam { lr } => positive(lr),
        };
        if !rates_ok {
            return bad(format!(
                "learning.optimizer: lr (and decay) must be positive, got {:?}",
                learn.optimizer
            ));
        }
        if let Some(q) = self.learning.quantisation
            && !(2..=16).contains(&q.weight_bits)
        {
            return bad(format!("learning.quantisation.weight-bits = {} (2 to 16)", q.weight_bits));
        }
        if let Some(q) = self.learning.quantisation
            && !positive(q.weight_max)
        {
            return bad(format!(
                "learning.quantisation.weight-max must be positive, got {}",
                q.weight_max
            ));
        }
        if self.chip.is_active() {
            if s.kind != SamplerKind::Lif {
                return bad(format!(
                    "[chip]: the emulated chip runs LIF sampling networks (sampler.kind = \"lif\"), \
                     not {:?}",
                    s.kind
                ));
            }
            if self.chip.mode != ChipMode::OpenLoop || self.chip.instances != 1 {
                return bad("chip.mode / chip.instances: a sampling experiment runs on one chip, \
                     calibrated there, and learns with it in the loop when learning.iterations \
                     > 0; leave both unset"
                    .into());
            }
            if !(l.chip_potential_unit > 0.0 && l.chip_potential_unit.is_finite()) {
                return bad(format!(
                    "lif.chip-potential-unit = {} mV must be positive",
                    l.chip_potential_unit
                ));
            }
            self.chip_instance()?;
        }
        Ok(())
    }

    /// A lower bound of the memory the experiment needs, in bytes, with its terms: the state
    /// histogram (2^units counts of 8 bytes) and per chain and unit the sampler's state (16
    /// bytes; with ensemble noise 2 × sources source indices of 8 bytes more). Sizes beyond it
    /// cannot run, and are refused before anything is allocated.
    pub fn memory_estimate(&self) -> (u128, String) {
        let sat = |f: &[u128]| f.iter().fold(1u128, |p, &x| p.saturating_mul(x));
        let units = self.machine.units as u128;
        let states = 1u128 << self.machine.units.min(64);
        let hist = sat(&[states, 8]);
        let per_unit = match self.lif.noise {
            Noise::Ensemble { sources, .. } => {
                (sources as u128).saturating_mul(16).saturating_add(16)
            }
            _ => 16,
        };
        let chains = sat(&[self.sampler.chains as u128, units, per_unit]);
        let how = format!(
            "2^{units} states × 8 bytes + {} chains × {units} units × {per_unit} bytes",
            self.sampler.chains
        );
        (hist.saturating_add(chains), how)
    }

    /// The chip `[chip]` names for the machine's units, if any.
    ///
    /// # Errors
    /// [`ConfigError`] for a profile or chip file that cannot be read or does not fit.
    pub fn chip_instance(&self) -> Result<Option<Chip>, ConfigError> {
        let shape = LifOnChip::shape(self.machine.units);
        Ok(self.chip.chips(&[shape])?.into_iter().next())
    }
}

/// What a sampling run measured.
#[derive(Debug, Clone, Serialize)]
pub struct SampleReport {
    /// D_KL(p* ‖ p̂) after all recorded steps, nats.
    pub dkl: f64,
    /// Σ_k D_KL of the marginals, nats.
    pub marginal_dkl: f64,
    /// (recorded steps per chain, D_KL) at the checkpoints.
    pub trace: Vec<(usize, f64)>,
    /// D_KL of the sampler run on the target before learning (open loop), when learning ran.
    pub dkl_open_loop: Option<f64>,
    /// (iteration, D_KL(p* ‖ p_learned) by enumeration of the learned machine) during learning.
    pub learning_trace: Vec<(usize, f64)>,
    /// Recorded states per wall-clock second (all chains).
    pub samples_per_second: f64,
    /// Neuron (unit) updates per wall-clock second.
    pub neuron_updates_per_second: f64,
    /// Wall-clock seconds of the measured sampling run.
    pub sampling_seconds: f64,
    /// Largest integrated autocorrelation time of a unit's state in chain 0, steps.
    pub tau_int: f64,
    /// Effective sample size of all chains together: chains·steps / (2 τ_int).
    pub ess: f64,
    /// The target machine.
    #[serde(skip)]
    pub target: BoltzmannMachine,
    /// The calibration (LIF; on a chip in programmed units).
    #[serde(skip)]
    pub calibration: Option<Calibration>,
    /// The chip instance the LIF network ran on.
    #[serde(skip)]
    pub chip: Option<Chip>,
}

impl SampleReport {
    /// Write the run's files into `run`: `dkl.csv` (steps, D_KL) and its chart `dkl.svg`/`.png`
    /// (log–log), `learning.csv` (when learning ran) and its chart `learning.svg`/`.png`, `calibration.json` (LIF), `chip.json` (on a chip), `machine.json` (the
    /// target's W and b) and `summary.json` (this report and `cfg`'s name, seed, sampler and
    /// sizes, and the chip's profile and seed).
    ///
    /// # Errors
    /// [`IoError`] naming the file.
    pub fn write(&self, cfg: &SampleConfig, run: &RunDir) -> Result<(), IoError> {
        let mut csv = String::from("steps,dkl\n");
        for (s, d) in &self.trace {
            csv += &format!("{s},{d}\n");
        }
        run.write("dkl.csv", &csv)?;
        // The sampler's name as summary.json spells it (`spikeburn plot` reads it there).
        let sampler = serde_json::to_value(cfg.sampler.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let points: Vec<(f64, f64)> = self.trace.iter().map(|&(s, d)| (s as f64, d)).collect();
        dkl_chart(&cfg.name, &sampler, points).write(&run.file(DKL_CHART))?;
        if !self.learning_trace.is_empty() {
            let mut csv = String::from("iteration,dkl_learned\n");
            for (i, d) in &self.learning_trace {
                csv += &format!("{i},{d}\n");
            }
            run.write("learning.csv", &csv)?;
            let points = self.learning_trace.iter().map(|&(i, d)| (i as f64, d)).collect();
            learning_chart(&cfg.name, points).write(&run.file(LEARNING_CHART))?;
        }
        if let Some(cal) = &self.calibration {
            run.write("calibration.json", &run.json("calibration.json", cal)?)?;
        }
        if let Some(chip) = &self.chip {
            let path = run.file(files::CHIP);
            chip.save(&path).map_err(|e| IoError::format(&path, e.to_string()))?;
        }
        let machine = serde_json::json!({ "w": self.target.w, "b": self.target.b });
        run.write("machine.json", &run.json("machine.json", &machine)?)?;
        let mut summary = serde_json::to_value(self).map_err(|e| {
            IoError::format(&run.file(files::SUMMARY), format!("cannot write JSON: {e}"))
        })?;
        let extra = serde_json::json!({
            "name": cfg.name,
            "seed": cfg.seed,
            "sampler": cfg.sampler.kind,
            "units": cfg.machine.units,
            "chains": cfg.sampler.chains,
            "steps": cfg.sampler.steps,
            "chip": self.chip.as_ref().map(|c| serde_json::json!({
                "profile": c.profile.name,
                "seed": c.seed,
                "potential_unit_mv": cfg.lif.chip_potential_unit,
            })),
            "spikeburn_version": env!("CARGO_PKG_VERSION"),
        });
        if let (Some(obj), Some(more)) = (summary.as_object_mut(), extra.as_object()) {
            obj.extend(more.clone());
        }
        run.write_json(files::SUMMARY, &summary)
    }
}

/// The stem of the D_KL chart of a `sample` run folder (`.svg` and `.png`).
pub const DKL_CHART: &str = "dkl";
/// The stem of the learning chart of a `sample` run folder.
pub const LEARNING_CHART: &str = "learning";

/// D_KL(p* ‖ p) of the samples so far against the steps (`dkl.csv`), log–log.
pub fn dkl_chart(name: &str, sampler: &str, points: Vec<(f64, f64)>) -> Figure {
    let title = format!("{name}: D_KL(p* ‖ p) against sampling time");
    let series = vec![Series { name: sampler.into(), points }];
    Figure::Lines(LineChart::new(&title, "steps", "D_KL (nats)", [Scale::Log, Scale::Log], series))
}

/// The learned machine's D_KL to the target against the learning iteration (`learning.csv`).
pub fn learning_chart(name: &str, points: Vec<(f64, f64)>) -> Figure {
    let title = format!("{name}: the learned machine's D_KL to the target");
    let series = vec![Series { name: "learned".into(), points }];
    let scales = [Scale::Linear, Scale::Log];
    Figure::Lines(LineChart::new(&title, "iteration", "D_KL (nats)", scales, series))
}

/// Why a sampling experiment could not run.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// An unreadable or malformed calibration file.
    #[error(transparent)]
    Io(#[from] crate::io::IoError),
    /// The LIF calibration could not be fitted.
    #[error(transparent)]
    Calibration(#[from] super::lif::CalibrationError),
    /// The `[chip]` section names a chip that cannot be used.
    #[error(transparent)]
    Chip(#[from] ConfigError),
}

/// Runs the experiment. `log` receives progress lines.
///
/// # Errors
/// [`SampleError`]: an unreadable or malformed calibration file, a calibration that cannot
/// be fitted, or a chip that cannot be used.
pub fn run_sample(
    cfg: &SampleConfig,
    mut log: impl FnMut(&str),
) -> Result<SampleReport, SampleError> {
    let mut rng = SmallRng::seed_from_u64(cfg.seed);
    let k = cfg.machine.units;
    let target_bm = BoltzmannMachine::random(k, cfg.machine.w_std, cfg.machine.b_std, &mut rng);
    let target = target_bm.exact_distribution();
    let s = &cfg.sampler;
    let chip = cfg.chip_instance()?;
    let translation = match s.kind {
        SamplerKind::Lif => Some(lif_translation(cfg, chip.as_ref(), &mut log)?),
        _ => None,
    };
    let build = |bm: &BoltzmannMachine, seed: u64| -> AnySampler {
        match (s.kind, &translation) {
            (SamplerKind::Gibbs, _) => {
                AnySampler::Neural(NeuralSampler::gibbs(bm.clone(), s.order, s.chains, seed))
            }
            (SamplerKind::Lif, Some(tr)) => AnySampler::Lif(tr.network(bm, s.chains, seed)),
            _ => AnySampler::Neural(NeuralSampler::new(bm.clone(), s.tau, s.order, s.chains, seed)),
        }
    };
    let l = &cfg.learning;
    let mut machine = target_bm.clone();
    let mut learning_trace = Vec::new();
    let mut dkl_open_loop = None;
    if l.iterations > 0 {
        let checks = [1000.min(s.steps), s.steps];
        let mut open = build(&target_bm, cfg.seed ^ 0x5eed);
        dkl_open_loop = Some(record_dkl(&mut open, &target, s, &checks));
        log(&format!("open loop: D_KL {:.3e}", dkl_open_loop.unwrap_or(f64::NAN)));
        let init = if l.from_zero {
            BoltzmannMachine::new(vec![0.0; k * k], vec![0.0; k])
        } else {
            target_bm.clone()
        };
        let mut ws = WakeSleep::new(&target, &init, l.optimizer, l.clip, l.quantisation);
        let mut sampler = build(&ws.machine(), cfg.seed ^ 0x1ea2);
        for it in 1..=l.iterations {
            sampler.set_machine(&ws.machine(), translation.as_ref());
            let model = sampled_moments(&mut sampler, l.burn_in, l.steps);
            ws.update(&model);
            if it % (l.iterations / 20).max(1) == 0 || it == l.iterations {
                let d = super::quality::kl_divergence(&target, &ws.machine().exact_distribution());
                learning_trace.push((it, d));
                log(&format!("learning iteration {it}: D_KL(p* ‖ p_learned) {d:.3e}"));
            }
        }
        machine = ws.machine();
    }
    let mut sampler = build(&machine, cfg.seed.wrapping_add(1));
    let checkpoints = log_spaced(100.min(s.steps), s.steps, s.checkpoints);
    let mut trace = Vec::new();
    let mut series: Vec<Vec<f64>> = vec![Vec::new(); k];
    let keep = s.steps.min(1_000_000);
    for _ in 0..s.burn_in {
        sampler.step();
    }
    let t0 = Instant::now();
    let hist = {
        // Record, keeping chain 0's unit series for the autocorrelation time.
        let mut recorded = 0usize;
        let mut wrapper =
            Tap { inner: &mut sampler, series: &mut series, keep, recorded: &mut recorded };
        record(&mut wrapper, 0, s.steps, &checkpoints, |st, h| {
            trace.push((st, h.dkl_from(&target, s.pseudo_count)))
        })
    };
    let seconds = t0.elapsed().as_secs_f64();
    let p_hat = hist.distribution(s.pseudo_count);
    let dkl = hist.dkl_from(&target, s.pseudo_count);
    let marginal_dkl = marginal_kl_sum(&marginals(&target, k), &marginals(&p_hat, k));
    let tau_int = series.iter().map(|x| integrated_autocorrelation_time(x)).fold(0.5, f64::max);
    let samples = (s.steps * s.chains) as f64;
    log(&format!(
        "sampled {} steps × {} chains in {seconds:.2} s: D_KL {dkl:.3e}",
        s.steps, s.chains
    ));
    Ok(SampleReport {
        dkl,
        marginal_dkl,
        trace,
        dkl_open_loop,
        learning_trace,
        samples_per_second: samples / seconds,
        neuron_updates_per_second: samples * k as f64 / seconds,
        sampling_seconds: seconds,
        tau_int,
        ess: samples / (2.0 * tau_int),
        target: target_bm,
        calibration: translation.map(|t| t.host.calibration),
        chip,
    })
}

/// D_KL after the last of `checks` recorded steps of a fresh sampler.
fn record_dkl(s: &mut AnySampler, target: &[f64], cfg: &SamplerConfig, checks: &[usize]) -> f64 {
    let mut last = f64::NAN;
    record(s, cfg.burn_in, *checks.last().expect("checks"), checks, |_, h| {
        last = h.dkl_from(target, cfg.pseudo_count)
    });
    last
}

/// The samplers `spikeburn sample` can run.
enum AnySampler {
    Neural(NeuralSampler),
    Lif(super::lif::LifSampler),
}

impl AnySampler {
    /// Points persistent chains at a new machine.
    fn set_machine(&mut self, bm: &BoltzmannMachine, tr: Option<&LifSetup>) {
        match (self, tr) {
            (AnySampler::Neural(s), _) => s.set_machine(bm.clone()),
            (AnySampler::Lif(s), Some(tr)) => tr.update(s, bm),
            (AnySampler::Lif(_), None) => unreachable!("LIF samplers come with a translation"),
        }
    }

    fn inner(&self) -> &dyn Sampler {
        match self {
            AnySampler::Neural(s) => s,
            AnySampler::Lif(s) => s,
        }
    }
}

impl Sampler for AnySampler {
    fn units(&self) -> usize {
        self.inner().units()
    }
    fn chains(&self) -> usize {
        self.inner().chains()
    }
    fn dt(&self) -> f64 {
        self.inner().dt()
    }
    fn step(&mut self) {
        match self {
            AnySampler::Neural(s) => s.step(),
            AnySampler::Lif(s) => s.step(),
        }
    }
    fn state(&self, chain: usize) -> &[u8] {
        match self {
            AnySampler::Neural(s) => s.state(chain),
            AnySampler::Lif(s) => s.state(chain),
        }
    }
}

/// The host's translation of a LIF network and, on a chip, the chip it programs.
struct LifSetup {
    /// The nominal neurons with their calibration (on a chip: measured there).
    host: Translation,
    /// The chip the network runs on.
    chip: Option<LifOnChip>,
}

impl LifSetup {
    fn network(&self, bm: &BoltzmannMachine, chains: usize, seed: u64) -> super::lif::LifSampler {
        match &self.chip {
            Some(c) => c.network(&self.host, bm, chains, seed),
            None => self.host.network(bm, chains, seed),
        }
    }

    fn update(&self, s: &mut super::lif::LifSampler, bm: &BoltzmannMachine) {
        match &self.chip {
            Some(c) => c.update(&self.host, s, bm),
            None => self.host.update(s, bm),
        }
    }
}

/// The calibrated translation of the configured LIF network, on `chip` if given: loaded, or
/// swept and fitted (on the chip's neurons).
fn lif_translation(
    cfg: &SampleConfig,
    chip: Option<&Chip>,
    log: &mut impl FnMut(&str),
) -> Result<LifSetup, SampleError> {
    let l = &cfg.lif;
    let neurons = vec![l.neuron.clone(); cfg.machine.units];
    let on_chip = chip
        .map(|c| LifOnChip::new(&l.neuron, cfg.machine.units, c, l.chip_potential_unit))
        .transpose()
        .map_err(|e| ConfigError::Invalid(format!("[chip]: {e}")))?;
    if let Some(c) = chip {
        log(&format!("on chip {} (seed {})", c.profile.name, c.seed));
    }
    let calibration = match &l.calibration_file {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| crate::io::IoError::os(path, e))?;
            let cal: Calibration = serde_json::from_str(&text)
                .map_err(|e| crate::io::IoError::format(path, format!("not a calibration: {e}")))?;
            if cal.v_p05.len() != neurons.len() || cal.alpha.len() != neurons.len() {
                return Err(crate::io::IoError::format(
                    path,
                    format!(
                        "calibration of {} neurons, the machine has {}",
                        cal.v_p05.len(),
                        neurons.len()
                    ),
                )
                .into());
            }
            cal
        }
        None => {
            let sweep = CalibrationSweep {
                duration: l.calibration_duration,
                points: l.calibration_points,
                ..CalibrationSweep::around_estimate(&l.neuron, &l.noise)
            };
            let t = Instant::now();
            let cal = match &on_chip {
                Some(c) => c.calibrate(&l.noise, l.dt, &c.sweep(&l.neuron, &sweep), cfg.seed)?,
                None => try_calibrate(&neurons, &l.noise, l.dt, &sweep, cfg.seed)?,
            };
            log(&format!(
                "calibrated {} neurons in {:.1} s: v_p05 {:.3} mV, α {:.3} mV (neuron 0), max residual {:.3}",
                neurons.len(),
                t.elapsed().as_secs_f64(),
                cal.v_p05[0],
                cal.alpha[0],
                cal.max_residual.iter().cloned().fold(0.0, f64::max)
            ));
            cal
        }
    };
    let host = Translation {
        neurons,
        calibration,
        noise: l.noise.clone(),
        dt: l.dt,
        renewing: l.renewing,
    };
    Ok(LifSetup { host, chip: on_chip })
}

/// Passes steps through and keeps chain 0's unit series.
struct Tap<'a> {
    inner: &'a mut AnySampler,
    series: &'a mut Vec<Vec<f64>>,
    keep: usize,
    recorded: &'a mut usize,
}

impl Sampler for Tap<'_> {
    fn units(&self) -> usize {
        self.inner.units()
    }
    fn chains(&self) -> usize {
        self.inner.chains()
    }
    fn dt(&self) -> f64 {
        self.inner.dt()
    }
    fn step(&mut self) {
        self.inner.step();
        if *self.recorded < self.keep {
            for (s, &z) in self.series.iter_mut().zip(self.inner.state(0)) {
                s.push(z as f64);
            }
            *self.recorded += 1;
        }
    }
    fn state(&self, chain: usize) -> &[u8] {
        self.inner.state(chain)
    }
}
