//! An emulated BrainScaleS-2 chip: how large each imperfection is (a [`ChipProfile`], read
//! from TOML in `models/chips/`), and one chip drawn from it (a [`Chip`]: profile + seed), whose
//! fixed-pattern deviations are drawn once, deterministically, per neuron and per synapse of a
//! layer, and saved as JSON so that a network is evaluated on the chip it met in training.
//!
//! Units: multiplicative spreads (τm, τs, g_l, synapse gain) are relative standard deviations,
//! a factor `1 + σ z` with `z ~ N(0, 1)`, floored at [`MIN_FACTOR`]; threshold and leak spreads
//! are in units of the neuron's threshold–leak distance `ϑ − E_l`. Every effective spread is the
//! profile's fixed-pattern σ times its calibration factor. Sources and assumptions are in the
//! profile files and in `../shared/design/chip.md`.
//!
//! This module depends on nothing of the crate but [`crate::config`]; the model folders apply
//! a chip to themselves.

use std::path::Path;

pub mod config;
pub use config::{ChipConfig, ChipMode, aware_seed};

use crate::util::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, non_finite, parse_toml, read_config_file};

/// The smallest multiplicative factor a fixed-pattern draw may give (a time constant or gain
/// never turns negative; reached only beyond 9σ at σ = 0.1).
pub const MIN_FACTOR: f64 = 0.05;

/// Fixed-pattern spreads before calibration.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct FixedPattern {
    /// τm, relative σ.
    pub tau_mem: f64,
    /// τs, relative σ (drawn independently of τm, so τm/τs differs per neuron).
    pub tau_syn: f64,
    /// Threshold ϑ, additive σ in units of ϑ − E_l.
    pub v_th: f64,
    /// Mean threshold offset, in units of ϑ − E_l.
    pub v_th_mean: f64,
    /// Leak potential E_l, additive σ in units of ϑ − E_l.
    pub v_leak: f64,
    /// Leak conductance g_l, relative σ.
    pub g_leak: f64,
    /// Per-synapse multiplicative gain (the synapse DAC), relative σ.
    pub synapse_gain: f64,
}

/// Factors by which calibration shrinks each fixed-pattern spread (1 = uncalibrated).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Calibration {
    /// τm.
    pub tau_mem: f64,
    /// τs.
    pub tau_syn: f64,
    /// ϑ (spread and mean offset).
    pub v_th: f64,
    /// E_l.
    pub v_leak: f64,
    /// g_l.
    pub g_leak: f64,
    /// Synapse gains.
    pub synapse_gain: f64,
}

impl Default for Calibration {
    fn default() -> Self {
        Self { tau_mem: 1.0, tau_syn: 1.0, v_th: 1.0, v_leak: 1.0, g_leak: 1.0, synapse_gain: 1.0 }
    }
}

/// Digital weights: signed integers `−max_level ..= max_level` times `1/levels_per_unit`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Weights {
    /// Bits of magnitude (6 on BrainScaleS-2: levels −63 … 63); 0 = continuous weights.
    pub bits: u32,
    /// Integer levels per unit model weight (30 in the authors' chip setting).
    pub levels_per_unit: f64,
}

impl Weights {
    /// The largest integer level, `2^bits − 1`.
    pub fn max_level(&self) -> i64 {
        (1_i64 << self.bits) - 1
    }

    /// The largest weight the chip realises, `max_level/levels_per_unit`; `None` for
    /// continuous weights.
    pub fn max_weight(&self) -> Option<f64> {
        (self.bits > 0).then(|| self.max_level() as f64 / self.levels_per_unit)
    }

    /// The weight the chip realises for `w`: rounded to the nearest level, saturating at
    /// `±max_level/levels_per_unit`. `w` itself where the profile has no quantisation.
    pub fn quantise(&self, w: f64) -> f64 {
        if self.bits == 0 {
            return w;
        }
        let m = self.max_level() as f64;
        (w * self.levels_per_unit).round().clamp(-m, m) / self.levels_per_unit
    }
}

/// Trial-to-trial noise (redrawn on every run of the chip).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Trial {
    /// Threshold noise redrawn per batch (shared by its samples), σ in units of ϑ − E_l.
    pub v_th_batch: f64,
    /// Threshold noise redrawn per sample, σ in units of ϑ − E_l.
    pub v_th_sample: f64,
    /// Gaussian spike-time jitter, σ in units of τs.
    pub jitter: f64,
    /// Probability that an emitted spike is lost.
    pub spike_loss: f64,
    /// Readout clock period in model time units (spike times are floored to it); 0 = none.
    pub clock: f64,
}

/// The time scale: one model time unit in microseconds of chip time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct TimeScale {
    /// Chip microseconds per model time unit (τs = 1 model unit ≈ 6 µs on BrainScaleS-2).
    pub us_per_unit: f64,
    /// How much faster than biology the chip runs (1000 on BrainScaleS-2).
    pub speedup: f64,
}

impl Default for TimeScale {
    fn default() -> Self {
        Self { us_per_unit: 6.0, speedup: 1000.0 }
    }
}

impl TimeScale {
    /// A model duration in chip microseconds.
    pub fn to_chip_us(&self, model: f64) -> f64 {
        model * self.us_per_unit
    }

    /// The same duration in biological milliseconds (chip time × speed-up).
    pub fn to_biological_ms(&self, model: f64) -> f64 {
        self.to_chip_us(model) * self.speedup / 1000.0
    }
}

/// How large each imperfection of an emulated chip is.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ChipProfile {
    /// A short name (`ideal`, `bss2`, …).
    pub name: String,
    /// What the profile models and where its numbers come from.
    #[serde(default)]
    pub description: String,
    /// Fixed-pattern spreads before calibration.
    #[serde(default)]
    pub fixed_pattern: FixedPattern,
    /// What calibration leaves of each spread.
    #[serde(default)]
    pub calibration: Calibration,
    /// Weight resolution.
    #[serde(default)]
    pub weights: Weights,
    /// Trial-to-trial noise.
    #[serde(default)]
    pub trial: Trial,
    /// Model units ↔ chip time.
    #[serde(default)]
    pub time: TimeScale,
}

impl ChipProfile {
    /// Parses and checks a profile.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] for bad TOML or unknown keys, [`ConfigError::Invalid`] naming
    /// the first value that cannot work.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let p: ChipProfile = parse_toml(text, origin)?;
        if let Some(m) = non_finite(&p) {
            return Err(ConfigError::Invalid(format!("{origin}: {m}")));
        }
        p.validate().map_err(|m| ConfigError::Invalid(format!("{origin}: {m}")))?;
        Ok(p)
    }

    /// Reads a profile file.
    ///
    /// # Errors
    /// As [`from_toml`](Self::from_toml), or [`ConfigError::Read`].
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        Self::from_toml(&read_config_file(path)?, &path.display().to_string())
    }

    /// The first rule a value breaks, as a message naming the key and the value.
    fn validate(&self) -> Result<(), String> {
        let f = &self.fixed_pattern;
        let c = &self.calibration;
        let spreads = [
            ("fixed-pattern.tau-mem", f.tau_mem),
            ("fixed-pattern.tau-syn", f.tau_syn),
            ("fixed-pattern.v-th", f.v_th),
            ("fixed-pattern.v-leak", f.v_leak),
            ("fixed-pattern.g-leak", f.g_leak),
            ("fixed-pattern.synapse-gain", f.synapse_gain),
            ("calibration.tau-mem", c.tau_mem),
            ("calibration.tau-syn", c.tau_syn),
            ("calibration.v-th", c.v_th),
            ("calibration.v-leak", c.v_leak),
            ("calibration.g-leak", c.g_leak),
            ("calibration.synapse-gain", c.synapse_gain),
            ("trial.v-th-batch", self.trial.v_th_batch),
            ("trial.v-th-sample", self.trial.v_th_sample),
            ("trial.jitter", self.trial.jitter),
            ("trial.clock", self.trial.clock),
        ];
        for (key, v) in spreads {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{key} must be a finite number ≥ 0, got {v}"));
            }
        }
        if !f.v_th_mean.is_finite() {
            return Err(format!("fixed-pattern.v-th-mean must be finite, got {}", f.v_th_mean));
        }
        if !(0.0..1.0).contains(&self.trial.spike_loss) {
            return Err(format!(
                "trial.spike-loss must be in [0, 1), got {}",
                self.trial.spike_loss
            ));
        }
        let w = &self.weights;
        if w.bits > 16 {
            return Err(format!("weights.bits must be at most 16, got {}", w.bits));
        }
        if w.bits > 0 && !(w.levels_per_unit.is_finite() && w.levels_per_unit > 0.0) {
            return Err(format!(
                "weights.levels-per-unit must be > 0 with weights.bits = {}, got {}",
                w.bits, w.levels_per_unit
            ));
        }
        let t = &self.time;
        if !(t.us_per_unit > 0.0 && t.speedup > 0.0) {
            return Err(format!(
                "time.us-per-unit and time.speedup must be > 0, got {} and {}",
                t.us_per_unit, t.speedup
            ));
        }
        Ok(())
    }

    /// Whether the profile changes nothing (no spread, no quantisation, no noise): a network
    /// on an ideal chip is the network itself.
    pub fn is_ideal(&self) -> bool {
        let f = &self.fixed_pattern;
        let t = &self.trial;
        [f.tau_mem, f.tau_syn, f.v_th, f.v_th_mean, f.v_leak, f.g_leak, f.synapse_gain]
            .iter()
            .chain(&[t.v_th_batch, t.v_th_sample, t.jitter, t.spike_loss, t.clock])
            .all(|v| *v == 0.0)
            && self.weights.bits == 0
    }

    /// The effective (calibrated) fixed-pattern spreads.
    pub fn effective(&self) -> FixedPattern {
        let (f, c) = (&self.fixed_pattern, &self.calibration);
        FixedPattern {
            tau_mem: f.tau_mem * c.tau_mem,
            tau_syn: f.tau_syn * c.tau_syn,
            v_th: f.v_th * c.v_th,
            v_th_mean: f.v_th_mean * c.v_th,
            v_leak: f.v_leak * c.v_leak,
            g_leak: f.g_leak * c.g_leak,
            synapse_gain: f.synapse_gain * c.synapse_gain,
        }
    }
}

/// One layer's fixed pattern on a chip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerPattern {
    /// Number of input rows (synapses per neuron, bias rows included).
    pub rows: usize,
    /// Number of neurons.
    pub neurons: usize,
    /// Per neuron: factor on τm.
    pub tau_mem: Vec<f64>,
    /// Per neuron: factor on τs.
    pub tau_syn: Vec<f64>,
    /// Per neuron: threshold offset in units of ϑ − E_l.
    pub v_th: Vec<f64>,
    /// Per neuron: leak offset in units of ϑ − E_l.
    pub v_leak: Vec<f64>,
    /// Per neuron: factor on g_l.
    pub g_leak: Vec<f64>,
    /// Per synapse, row-major `[rows, neurons]`: factor on the weight.
    pub synapse_gain: Vec<f64>,
}

/// Which fixed-pattern quantity a random stream draws (each has its own stream, so changing
/// one spread leaves the others' draws as they were).
#[derive(Clone, Copy)]
enum Quantity {
    TauMem = 1,
    TauSyn,
    VTh,
    VLeak,
    GLeak,
    SynapseGain,
}

/// A stream seed from (chip seed, layer, quantity): SplitMix64 finalisation of their mix.
fn stream_seed(seed: u64, layer: usize, q: Quantity) -> u64 {
    let mut z = seed
        ^ (layer as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (q as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn normals(seed: u64, layer: usize, q: Quantity, n: usize) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(stream_seed(seed, layer, q));
    (0..n).map(|_| StandardNormal.sample(&mut rng)).collect()
}

/// One emulated chip: a profile and a seed, with the fixed pattern of every layer it was asked
/// for. Draws are deterministic in (seed, layer index, quantity, position).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chip {
    /// How large each effect is.
    pub profile: ChipProfile,
    /// The seed the fixed pattern was drawn from.
    pub seed: u64,
    /// The fixed pattern per layer, input side first.
    pub layers: Vec<LayerPattern>,
}

/// Errors loading a chip file or fitting it to a network.
#[derive(Debug, thiserror::Error)]
pub enum ChipError {
    /// Reading or writing the file failed.
    #[error("chip file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not a chip.
    #[error("chip file {path} is not a chip instance: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The chip was drawn for a network of another shape.
    #[error("the chip has layers {chip:?} (rows × neurons), the network {network:?}")]
    Shape {
        /// The chip's layer shapes.
        chip: Vec<(usize, usize)>,
        /// The network's.
        network: Vec<(usize, usize)>,
    },
}

impl Chip {
    /// Draws the fixed pattern of a network with layers of `(rows, neurons)` (rows = inputs
    /// plus bias rows) from `profile` and `seed`.
    pub fn draw(profile: ChipProfile, seed: u64, shapes: &[(usize, usize)]) -> Self {
        let e = profile.effective();
        let factor = |z: f64, s: f64| (1.0 + s * z).max(MIN_FACTOR);
        let layers = shapes
            .iter()
            .enumerate()
            .map(|(l, &(rows, neurons))| {
                let draw = |q, n, f: &dyn Fn(f64) -> f64| -> Vec<f64> {
                    normals(seed, l, q, n).into_iter().map(f).collect()
                };
                LayerPattern {
                    rows,
                    neurons,
                    tau_mem: draw(Quantity::TauMem, neurons, &|z| factor(z, e.tau_mem)),
                    tau_syn: draw(Quantity::TauSyn, neurons, &|z| factor(z, e.tau_syn)),
                    v_th: draw(Quantity::VTh, neurons, &|z| e.v_th_mean + e.v_th * z),
                    v_leak: draw(Quantity::VLeak, neurons, &|z| e.v_leak * z),
                    g_leak: draw(Quantity::GLeak, neurons, &|z| factor(z, e.g_leak)),
                    synapse_gain: draw(Quantity::SynapseGain, rows * neurons, &|z| {
                        factor(z, e.synapse_gain)
                    }),
                }
            })
            .collect();
        Self { profile, seed, layers }
    }

    /// The layer shapes `(rows, neurons)` this chip was drawn for.
    pub fn shapes(&self) -> Vec<(usize, usize)> {
        self.layers.iter().map(|l| (l.rows, l.neurons)).collect()
    }

    /// Checks that the chip fits a network with these layer shapes.
    ///
    /// # Errors
    /// [`ChipError::Shape`] naming both.
    pub fn check_shapes(&self, network: &[(usize, usize)]) -> Result<(), ChipError> {
        if self.shapes() == network {
            Ok(())
        } else {
            Err(ChipError::Shape { chip: self.shapes(), network: network.to_vec() })
        }
    }

    /// Writes the chip (profile, seed and every drawn value) as JSON.
    ///
    /// # Errors
    /// [`ChipError::Io`].
    pub fn save(&self, path: &Path) -> Result<(), ChipError> {
        let io = |source| ChipError::Io { path: path.display().to_string(), source };
        let text = serde_json::to_string(self).expect("a chip serialises");
        crate::io::write_atomic(path, text.as_bytes()).map_err(|e| match e {
            crate::io::IoError::Os { source, .. } => io(source),
            crate::io::IoError::Format { message, .. } => io(std::io::Error::other(message)),
        })
    }

    /// Reads a chip written by [`save`](Self::save); the drawn values are taken from the file
    /// (not redrawn), so a chip stays the same chip across versions of the generator.
    ///
    /// # Errors
    /// [`ChipError::Io`], or [`ChipError::Parse`] for a file that is not a valid chip.
    pub fn load(path: &Path) -> Result<Self, ChipError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| ChipError::Io { path: name.clone(), source })?;
        let chip: Chip = serde_json::from_str(&text)
            .map_err(|e| ChipError::Parse { path: name.clone(), message: e.to_string() })?;
        let parse = |message: String| ChipError::Parse { path: name.clone(), message };
        chip.profile.validate().map_err(parse)?;
        for (l, p) in chip.layers.iter().enumerate() {
            let n = p.neurons;
            let lens = [p.tau_mem.len(), p.tau_syn.len(), p.v_th.len(), p.v_leak.len()];
            if lens.iter().chain(&[p.g_leak.len()]).any(|&k| k != n)
                || p.rows.checked_mul(n) != Some(p.synapse_gain.len())
            {
                return Err(parse(format!("layer {l}: value counts do not match {n} neurons")));
            }
            let all = [&p.tau_mem, &p.tau_syn, &p.v_th, &p.v_leak, &p.g_leak, &p.synapse_gain];
            if all.iter().any(|v| v.iter().any(|x| !x.is_finite())) {
                return Err(parse(format!("layer {l}: a value is not finite")));
            }
            let factors = [&p.tau_mem, &p.tau_syn, &p.g_leak, &p.synapse_gain];
            if factors.iter().any(|v| v.iter().any(|x| *x <= 0.0)) {
                return Err(parse(format!("layer {l}: a factor is not positive")));
            }
        }
        Ok(chip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bss2() -> ChipProfile {
        let text = include_str!("../../models/chips/bss2.toml");
        ChipProfile::from_toml(text, "bss2.toml").expect("bss2 profile")
    }

    #[test]
    /// The shipped profiles parse; `ideal` is ideal, the others are not; calibration shrinks
    /// by the calix bounds.
    fn shipped_profiles() {
        let ideal = include_str!("../../models/chips/ideal.toml");
        assert!(ChipProfile::from_toml(ideal, "ideal.toml").unwrap().is_ideal());
        let unc = include_str!("../../models/chips/bss2-uncalibrated.toml");
        let unc = ChipProfile::from_toml(unc, "bss2-uncalibrated.toml").unwrap();
        let cal = bss2();
        assert!(!cal.is_ideal() && !unc.is_ideal());
        assert_eq!(cal.fixed_pattern, unc.fixed_pattern);
        let (e, u) = (cal.effective(), unc.effective());
        for (got, raw, k) in [
            (e.tau_mem, u.tau_mem, 0.45),
            (e.tau_syn, u.tau_syn, 0.20),
            (e.v_th, u.v_th, 0.35),
            (e.v_leak, u.v_leak, 0.30),
        ] {
            assert!((got - raw * k).abs() < 1e-15, "{got} vs {raw}·{k}");
        }
        // The published calibrated threshold spread (≈ 3 % of ϑ − E_l) and 63 levels of 1/30.
        assert!((e.v_th - 0.03).abs() < 1e-3, "calibrated ϑ spread {}", e.v_th);
        assert_eq!(cal.weights.max_level(), 63);
        assert_eq!(cal.weights.quantise(10.0), 2.1);
    }

    #[test]
    fn bad_values_are_named() {
        let e = ChipProfile::from_toml("name = 'x'\n[trial]\nspike-loss = 1.5\n", "t.toml");
        assert!(e.unwrap_err().to_string().contains("trial.spike-loss must be in [0, 1), got 1.5"));
        let e = ChipProfile::from_toml("name = 'x'\n[fixed-pattern]\ntau-mem = -0.1\n", "t");
        assert!(e.unwrap_err().to_string().contains("fixed-pattern.tau-mem"));
        let e = ChipProfile::from_toml("name = 'x'\n[weights]\nbits = 6\n", "t");
        assert!(e.unwrap_err().to_string().contains("weights.levels-per-unit"));
        let e = ChipProfile::from_toml("name = 'x'\n[trial]\nnoise = 1\n", "t");
        assert!(e.unwrap_err().to_string().contains("unknown field `noise`"));
    }

    #[test]
    /// Quantisation: exact levels, round to nearest, saturation at ±63/30.
    fn quantisation_levels() {
        let w = bss2().weights;
        for k in -63..=63 {
            let level = k as f64 / 30.0;
            assert_eq!(w.quantise(level), level);
            assert_eq!(w.quantise(level + 0.4 / 30.0), level, "rounds down below half a step");
        }
        assert_eq!(w.quantise(0.6 / 30.0), 1.0 / 30.0);
        assert_eq!(w.quantise(-100.0), -2.1);
        let mut values: Vec<i64> =
            (-3000..3000).map(|i| (w.quantise(i as f64 * 1e-3) * 30.0).round() as i64).collect();
        values.dedup();
        assert_eq!(values.len(), 127, "−63 … 63");
    }

    #[test]
    /// Same seed, same chip; another seed or layer, another pattern; one stream per quantity.
    fn draws_are_deterministic_and_independent() {
        let shapes = [(5, 120), (121, 3)];
        let a = Chip::draw(bss2(), 7, &shapes);
        assert_eq!(a, Chip::draw(bss2(), 7, &shapes));
        assert_ne!(a.layers[0].v_th, Chip::draw(bss2(), 8, &shapes).layers[0].v_th);
        assert_ne!(a.layers[0].tau_mem, a.layers[0].tau_syn, "τm and τs drawn independently");
        let mut p = bss2();
        p.fixed_pattern.tau_mem *= 2.0;
        let b = Chip::draw(p, 7, &shapes);
        assert_eq!(a.layers[1].v_th, b.layers[1].v_th, "one spread leaves the others alone");
        assert_eq!(a.shapes(), shapes);
        assert!(a.check_shapes(&[(5, 120)]).is_err());
    }

    /// Sample mean and standard deviation.
    fn moments(v: &[f64]) -> (f64, f64) {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        (m, (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt())
    }

    #[test]
    /// Every drawn spread lies within its 99.9 % confidence interval of the configured σ
    /// (n = 20 000 neurons: the sample σ has standard error σ/√(2n); the mean σ/√n).
    fn drawn_spreads_match_the_profile() {
        let p = bss2();
        let e = p.effective();
        let n = 20_000;
        let chip = Chip::draw(p, 3, &[(4, n)]);
        let l = &chip.layers[0];
        let z = 3.29;
        for (name, values, mean, sigma) in [
            ("tau_mem", &l.tau_mem, 1.0, e.tau_mem),
            ("tau_syn", &l.tau_syn, 1.0, e.tau_syn),
            ("v_th", &l.v_th, e.v_th_mean, e.v_th),
            ("v_leak", &l.v_leak, 0.0, e.v_leak),
            ("g_leak", &l.g_leak, 1.0, e.g_leak),
            ("synapse_gain", &l.synapse_gain, 1.0, e.synapse_gain),
        ] {
            let k = values.len() as f64;
            let (m, s) = moments(values);
            assert!(sigma > 0.0, "{name}: the profile has a spread");
            assert!((m - mean).abs() < z * sigma / k.sqrt(), "{name}: mean {m} vs {mean}");
            assert!((s - sigma).abs() < z * sigma / (2.0 * k).sqrt(), "{name}: σ {s} vs {sigma}");
        }
        // τm/τs differs per neuron, with the spread of the two factors combined.
        let ratio: Vec<f64> = l.tau_mem.iter().zip(&l.tau_syn).map(|(m, s)| m / s).collect();
        let (_, s) = moments(&ratio);
        let expect = (e.tau_mem.powi(2) + e.tau_syn.powi(2)).sqrt();
        assert!((s - expect).abs() < 0.1 * expect, "ratio σ {s} vs ≈ {expect}");
    }

    #[test]
    /// A saved chip loads back equal; a file of another shape or with bad values is refused.
    fn save_and_load() {
        let dir = std::env::temp_dir().join(format!("spikeburn-chip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("chip.json");
        let chip = Chip::draw(bss2(), 11, &[(3, 4), (5, 2)]);
        chip.save(&path).unwrap();
        assert_eq!(Chip::load(&path).unwrap(), chip);
        let mut bad = chip.clone();
        bad.layers[1].g_leak[0] = -1.0;
        bad.save(&path).unwrap();
        let e = Chip::load(&path).unwrap_err().to_string();
        assert!(e.contains("layer 1: a factor is not positive"), "{e}");
        std::fs::write(&path, "{\"seed\": 1}").unwrap();
        assert!(Chip::load(&path).unwrap_err().to_string().contains("not a chip instance"));
        let e = Chip::load(&dir.join("missing.json")).unwrap_err().to_string();
        assert!(e.contains("missing.json"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn time_scale() {
        let t = TimeScale::default();
        assert_eq!(t.to_chip_us(1.0), 6.0);
        assert_eq!(t.to_biological_ms(1.0), 6.0);
    }
}
