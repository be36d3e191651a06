//! What an evaluation measures ([`Evaluation`]) and the running sums every method's evaluation
//! fills in (`Tally`).

use serde::Serialize;

/// Accuracy and loss on a dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evaluation {
    /// Fraction of samples whose earliest output spike is the label's.
    pub accuracy: f64,
    /// Mean loss.
    pub loss: f64,
    /// Fraction of samples in which no output neuron fired (for a non-spiking readout: in
    /// which the scores tie).
    pub silent_fraction: f64,
    /// Spikes per sample, summed over all hidden and output neurons (input spikes excluded).
    pub mean_spikes: f64,
    /// Time to decision, model time units, averaged over the samples with a prediction: for
    /// first-spike times the earliest output spike; for a time-stepped readout the end of the
    /// step from which on the running prediction no longer changes. `None` when no sample
    /// decided (or the method simulates no time).
    pub mean_decision_time: Option<f64>,
    /// Outputs, row-major `[samples, classes]`: first-spike times (`+∞` = silent), or the
    /// readout scores of a surrogate-gradient network.
    #[serde(skip)]
    pub outputs: Vec<f64>,
    /// Per sample, in order: the predicted class (`None`: no output fired, or a tie).
    #[serde(skip)]
    pub predictions: Vec<Option<usize>>,
    /// Per sample, in order: the time to decision (`None`: undecided, or no time simulated).
    #[serde(skip)]
    pub decision_times: Vec<Option<f64>>,
    /// On an emulated chip: the accuracy on every test instance and of the ideal network
    /// (the fields above are the first instance's, the training chip).
    pub chip: Option<ChipResults>,
}

/// Mean and sample standard deviation of `v` (the std is 0 for one value).
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// A network's accuracies on its chip instances.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChipResults {
    /// The chip profile's name.
    pub profile: String,
    /// The training chip's seed (instance `k` has seed `seed + k`).
    pub seed: u64,
    /// How training used the chip (`open-loop`, `in-the-loop`, `exact`).
    pub mode: String,
    /// Test accuracy per chip instance, the training chip first.
    pub accuracies: Vec<f64>,
    /// Their mean.
    pub accuracy_mean: f64,
    /// Their sample standard deviation (0 for one instance).
    pub accuracy_std: f64,
    /// The same network's test accuracy without a chip.
    pub ideal_accuracy: f64,
}

impl ChipResults {
    /// The results of testing on instances of `chip`'s profile, `chip` the first.
    pub fn new(
        chip: &crate::chip::Chip,
        mode: crate::chip::ChipMode,
        accuracies: Vec<f64>,
        ideal_accuracy: f64,
    ) -> Self {
        let (mean, std) = mean_std(&accuracies);
        Self {
            profile: chip.profile.name.clone(),
            seed: chip.seed,
            mode: mode.name().into(),
            accuracies,
            accuracy_mean: mean,
            accuracy_std: std,
            ideal_accuracy,
        }
    }
}

/// Running sums of an evaluation.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) correct: usize,
    pub(crate) silent: usize,
    pub(crate) loss: f64,
    pub(crate) spikes: f64,
    pub(crate) decided: usize,
    pub(crate) decision_time: f64,
    pub(crate) outputs: Vec<f64>,
    pub(crate) predictions: Vec<Option<usize>>,
    pub(crate) decision_times: Vec<Option<f64>>,
}

impl Tally {
    /// One sample: its prediction, label and (if decided) decision time.
    pub(crate) fn add(&mut self, prediction: Option<usize>, label: usize, time: Option<f64>) {
        self.predictions.push(prediction);
        self.decision_times.push(time);
        match prediction {
            Some(k) if k == label => self.correct += 1,
            None => self.silent += 1,
            _ => {}
        }
        if let Some(t) = time {
            self.decided += 1;
            self.decision_time += t;
        }
    }

    /// Means over `n` samples.
    pub(crate) fn finish(self, n: usize) -> Evaluation {
        let n = n.max(1) as f64;
        Evaluation {
            accuracy: self.correct as f64 / n,
            loss: self.loss / n,
            silent_fraction: self.silent as f64 / n,
            mean_spikes: self.spikes / n,
            mean_decision_time: (self.decided > 0)
                .then(|| self.decision_time / self.decided as f64),
            outputs: self.outputs,
            predictions: self.predictions,
            decision_times: self.decision_times,
            chip: None,
        }
    }
}
