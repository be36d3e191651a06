//! What an evaluation measures ([`Evaluation`]) and the running sums every method's evaluation
//! fills in (`Tally`).

use serde::Serialize;

/// Accuracy and loss on a dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// step from which on the running prediction no longer changes.
    pub mean_decision_time: f64,
    /// Outputs, row-major `[samples, classes]`: first-spike times (`+∞` = silent), or the
    /// readout scores of a surrogate-gradient network.
    #[serde(skip)]
    pub outputs: Vec<f64>,
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
}

impl Tally {
    /// One sample: its prediction, label and (if decided) decision time.
    pub(crate) fn add(&mut self, prediction: Option<usize>, label: usize, time: Option<f64>) {
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
            mean_decision_time: self.decision_time / self.decided.max(1) as f64,
            outputs: self.outputs,
        }
    }
}
