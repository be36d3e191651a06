//! What a training or evaluation run writes besides the network: `metrics.csv` (one row per
//! epoch) and `summary.json` ([`Summary`]).

use std::fmt::Write as _;

use serde::Serialize;

use super::config::ExperimentConfig;
use super::epochs::EpochMetrics;
use super::evaluation::Evaluation;

/// The outcome of a run, as written to `summary.json`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    /// `completed` (a run that diverged writes a [`DivergedSummary`] instead).
    pub status: String,
    /// Experiment name.
    pub name: String,
    /// Dataset name.
    pub dataset: String,
    /// `ttfs`, `surrogate` or `sampling`.
    pub method: String,
    /// The feedback rule (`bp`, `fa`, `dfa`, `sign`, `kp`, `sal`).
    pub feedback: String,
    /// Accuracy on the test split.
    pub test_accuracy: f64,
    /// Mean loss on the test split.
    pub test_loss: f64,
    /// Spikes per test sample (hidden and output neurons).
    pub test_mean_spikes: f64,
    /// Mean time to decision on the test split, model time units; `null` when no test sample
    /// decided (or the method simulates no time).
    pub test_decision_time: Option<f64>,
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
    /// On an emulated chip: profile, seed, mode and the accuracy on every instance
    /// (`test_accuracy` above is the training chip's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip: Option<super::evaluation::ChipResults>,
}

impl Summary {
    /// The summary of evaluating `cfg`'s network on the test split (no training: no validation
    /// accuracy, 0 epochs, 0 s); `train` fills those three in.
    pub fn of_test(cfg: &ExperimentConfig, device: &str, test: &Evaluation) -> Self {
        Self {
            status: "completed".into(),
            name: cfg.name.clone(),
            dataset: cfg.dataset.name().into(),
            method: cfg.method.name().into(),
            feedback: cfg.feedback.rule.name().into(),
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
            chip: test.chip.clone(),
        }
    }
}

/// The `summary.json` of a training run that diverged ([`super::Diverged`]): where and why,
/// and no test figures, since no network was tested.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DivergedSummary {
    /// `diverged`.
    pub status: String,
    /// Experiment name.
    pub name: String,
    /// `ttfs`, `surrogate` or `sampling`.
    pub method: String,
    /// Seed.
    pub seed: u64,
    /// The epoch (from 1) it diverged in.
    pub diverged_epoch: usize,
    /// The training batch (from 1) after which it was seen; absent for the validation pass.
    pub diverged_batch: Option<usize>,
    /// What was not finite.
    pub reason: String,
    /// Epochs completed before it (their rows are in `metrics.csv`).
    pub epochs_completed: usize,
    /// Device name.
    pub device: String,
    /// spikeburn version.
    pub spikeburn_version: String,
}

impl DivergedSummary {
    /// The summary of `cfg`'s run that stopped with `d` on `device`.
    pub fn of(cfg: &ExperimentConfig, device: &str, d: &super::Diverged) -> Self {
        Self {
            status: "diverged".into(),
            name: cfg.name.clone(),
            method: cfg.method.name().into(),
            seed: cfg.seed,
            diverged_epoch: d.epoch,
            diverged_batch: d.batch,
            reason: d.what.clone(),
            epochs_completed: d.history.len(),
            device: device.into(),
            spikeburn_version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// The `summary.json` of a training run that was interrupted (SIGINT, SIGTERM, SIGHUP): where
/// it stopped; the network after its last finished batch is in the folder, untested.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InterruptedSummary {
    /// `interrupted`.
    pub status: String,
    /// Experiment name.
    pub name: String,
    /// `ttfs`, `surrogate` or `sampling`.
    pub method: String,
    /// Seed.
    pub seed: u64,
    /// The epoch (from 1) it stopped in.
    pub interrupted_epoch: usize,
    /// The last batch (from 1) it finished in that epoch.
    pub interrupted_batch: usize,
    /// Epochs completed (their rows are in `metrics.csv`).
    pub epochs_completed: usize,
    /// Epochs configured.
    pub epochs: usize,
    /// Seconds in the training loop.
    pub train_seconds: f64,
    /// Device name.
    pub device: String,
    /// spikeburn version.
    pub spikeburn_version: String,
}

impl InterruptedSummary {
    /// The summary of `cfg`'s run interrupted at `at` after `completed` epochs.
    pub fn of(
        cfg: &ExperimentConfig,
        device: &str,
        at: &super::epochs::Interruption,
        completed: usize,
        train_seconds: f64,
    ) -> Self {
        Self {
            status: "interrupted".into(),
            name: cfg.name.clone(),
            method: cfg.method.name().into(),
            seed: cfg.seed,
            interrupted_epoch: at.epoch,
            interrupted_batch: at.batch,
            epochs_completed: completed,
            epochs: cfg.training.epochs,
            train_seconds,
            device: device.into(),
            spikeburn_version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// The per-epoch metrics as CSV: the shared columns, then the method's own
/// ([`EpochMetrics::extra`], named by the first epoch), then the epoch's seconds.
pub fn metrics_csv(history: &[EpochMetrics]) -> String {
    let mut csv = String::from(
        "epoch,learning_rate,train_loss,train_accuracy,val_loss,val_accuracy,bumps,clipped_fraction",
    );
    for (name, _) in history.first().map_or(&[][..], |m| &m.extra[..]) {
        write!(csv, ",{name}").expect("write to string");
    }
    csv.push_str(",seconds\n");
    for m in history {
        write!(
            csv,
            "{},{},{},{},{},{},{},{}",
            m.epoch,
            m.learning_rate,
            m.train_loss,
            m.train_accuracy,
            m.val_loss,
            m.val_accuracy,
            m.bumps,
            m.clipped_fraction,
        )
        .expect("write to string");
        for (_, value) in &m.extra {
            write!(csv, ",{value}").expect("write to string");
        }
        writeln!(csv, ",{:.4}", m.seconds).expect("write to string");
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(n: usize, extra: Vec<(String, f64)>) -> EpochMetrics {
        EpochMetrics {
            epoch: n,
            learning_rate: 0.5,
            train_loss: 1.25,
            train_accuracy: 0.5,
            val_loss: 2.0,
            val_accuracy: 0.75,
            bumps: 3,
            clipped_fraction: 0.125,
            extra,
            seconds: 1.23456,
        }
    }

    /// The shared columns in their fixed order, seconds last with 4 decimals.
    #[test]
    fn metrics_csv_shared_columns() {
        assert_eq!(
            metrics_csv(&[epoch(1, vec![])]),
            "epoch,learning_rate,train_loss,train_accuracy,val_loss,val_accuracy,bumps,\
             clipped_fraction,seconds\n1,0.5,1.25,0.5,2,0.75,3,0.125,1.2346\n"
        );
    }

    /// A method's own metrics become named columns before `seconds`, in every row.
    #[test]
    fn metrics_csv_extra_columns() {
        let extra = |a: f64| vec![("angle_0".to_string(), a), ("chip_rate".to_string(), 2.5)];
        let csv = metrics_csv(&[epoch(1, extra(10.0)), epoch(2, extra(7.5))]);
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].ends_with(",clipped_fraction,angle_0,chip_rate,seconds"), "{csv}");
        assert!(lines[1].ends_with(",0.125,10,2.5,1.2346"), "{csv}");
        assert!(lines[2].starts_with("2,") && lines[2].ends_with(",0.125,7.5,2.5,1.2346"));
    }
}
