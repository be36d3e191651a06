//! Run folders: every run writes its resolved config, per-epoch metrics, a checkpoint, the
//! weights in the reference layout, and a `summary.json`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::config::ExperimentConfig;
use super::trainer::{EpochMetrics, Evaluation};
use crate::io::IoError;

/// File names inside a run folder.
pub mod files {
    /// The resolved configuration (every field, seed included).
    pub const CONFIG: &str = "config.toml";
    /// Per-epoch metrics.
    pub const METRICS: &str = "metrics.csv";
    /// The trained network, burnpack.
    pub const CHECKPOINT: &str = "model.bpk";
    /// The trained weights in the reference code's safetensors layout.
    pub const WEIGHTS: &str = "weights.safetensors";
    /// The summary.
    pub const SUMMARY: &str = "summary.json";
}

/// The outcome of a run, as written to `summary.json`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    /// Experiment name.
    pub name: String,
    /// Dataset name.
    pub dataset: String,
    /// `ttfs` or `surrogate`.
    pub method: String,
    /// Accuracy on the test split.
    pub test_accuracy: f64,
    /// Mean loss on the test split.
    pub test_loss: f64,
    /// Spikes per test sample (hidden and output neurons).
    pub test_mean_spikes: f64,
    /// Mean time to decision on the test split, model time units.
    pub test_decision_time: f64,
    /// Validation accuracy after the last epoch (absent for `eval`).
    pub val_accuracy: Option<f64>,
    /// Epochs trained (0 for `eval`).
    pub epochs: usize,
    /// Seconds in the training loop (0 for `eval`).
    pub train_seconds: f64,
    /// Device name (flex, ndarray, wgpu, vulkan).
    pub device: String,
    /// f32 or f64.
    pub precision: String,
    /// Seed.
    pub seed: u64,
    /// spikeburn version.
    pub spikeburn_version: String,
}

impl Summary {
    /// The summary of evaluating `cfg`'s network on the test split (no training: no validation
    /// accuracy, 0 epochs, 0 s); `train` fills those three in.
    pub fn of_test(cfg: &ExperimentConfig, device: &str, test: &Evaluation) -> Self {
        Self {
            name: cfg.name.clone(),
            dataset: cfg.dataset.name().into(),
            method: cfg.method.name().into(),
            test_accuracy: test.accuracy,
            test_loss: test.loss,
            test_mean_spikes: test.mean_spikes,
            test_decision_time: test.mean_decision_time,
            val_accuracy: None,
            epochs: 0,
            train_seconds: 0.0,
            device: device.into(),
            precision: cfg.precision.name().into(),
            seed: cfg.seed,
            spikeburn_version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// A folder holding one run's outputs.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The folder.
    pub path: PathBuf,
}

impl RunDir {
    /// Use `out` (created if missing), or make a fresh `runs/<name>-<UTC time>` folder.
    ///
    /// # Errors
    /// [`IoError`] naming the folder.
    pub fn create(out: Option<&Path>, name: &str) -> Result<Self, IoError> {
        let path = match out {
            Some(p) => p.to_path_buf(),
            None => {
                let base = format!("{name}-{}", utc_timestamp());
                let mut candidate = Path::new("runs").join(&base);
                let mut k = 1;
                while candidate.exists() {
                    k += 1;
                    candidate = Path::new("runs").join(format!("{base}-{k}"));
                }
                candidate
            }
        };
        std::fs::create_dir_all(&path).map_err(|e| IoError::os(&path, e))?;
        Ok(Self { path })
    }

    /// Path of a file in the folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Write a text file into the folder.
    ///
    /// # Errors
    /// [`IoError`] naming the file.
    pub fn write(&self, name: &str, text: &str) -> Result<(), IoError> {
        let p = self.file(name);
        std::fs::write(&p, text).map_err(|e| IoError::os(&p, e))
    }

    /// Write the resolved configuration.
    ///
    /// # Errors
    /// [`IoError`] naming the file.
    pub fn write_config(&self, cfg: &ExperimentConfig) -> Result<(), IoError> {
        self.write(files::CONFIG, &cfg.to_toml())
    }

    /// Write the per-epoch metrics as CSV.
    ///
    /// # Errors
    /// [`IoError`] naming the file.
    pub fn write_metrics(&self, history: &[EpochMetrics]) -> Result<(), IoError> {
        let mut csv = String::from(
            "epoch,learning_rate,train_loss,train_accuracy,val_loss,val_accuracy,bumps,clipped_fraction,seconds\n",
        );
        for m in history {
            writeln!(
                csv,
                "{},{},{},{},{},{},{},{},{:.4}",
                m.epoch,
                m.learning_rate,
                m.train_loss,
                m.train_accuracy,
                m.val_loss,
                m.val_accuracy,
                m.bumps,
                m.clipped_fraction,
                m.seconds
            )
            .expect("write to string");
        }
        self.write(files::METRICS, &csv)
    }

    /// Write `summary.json`.
    ///
    /// # Errors
    /// [`IoError`] naming the file.
    pub fn write_summary(&self, summary: &Summary) -> Result<(), IoError> {
        self.write(files::SUMMARY, &(serde_json::to_string_pretty(summary).expect("json") + "\n"))
    }
}

/// `YYYYMMDD-HHMMSS` in UTC, from the system clock.
fn utc_timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}{m:02}{d:02}-{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 → (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        // 2026-11-27 is day 20_784 since the epoch.
        assert_eq!(civil_from_days(20_784), (2026, 11, 27));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
