//! Datasets as spike times, and the encoders that make them.
//!
//! Every dataset becomes a [`SpikeDataset`]: one row of input spike times per sample (model time
//! units, `+∞` = no spike) and a class label.

pub mod yinyang;

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Latency code: a value `v ∈ [0, 1]` spikes at `t_early + v·(t_late − t_early)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyEncoder {
    /// Spike time for `v = 0`, model time units.
    pub t_early: f64,
    /// Spike time for `v = 1`, model time units.
    pub t_late: f64,
}

impl LatencyEncoder {
    /// The reference encoding of Yin-Yang and MNIST: `[0.15, 2.0]`.
    pub const REFERENCE: LatencyEncoder = LatencyEncoder { t_early: 0.15, t_late: 2.0 };

    /// Spike time of a value in `[0, 1]`.
    pub fn encode(&self, v: f64) -> f64 {
        self.t_early + v * (self.t_late - self.t_early)
    }
}

/// Which dataset; named in configs and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetName {
    /// Yin-Yang, generated (no download): 4 inputs, 3 classes.
    #[default]
    Yinyang,
}

/// Train, validation and test splits of one dataset.
#[derive(Debug, Clone)]
pub struct Splits {
    /// Training samples.
    pub train: SpikeDataset,
    /// Validation samples (model selection, per-epoch curves).
    pub validation: SpikeDataset,
    /// Test samples (reported once).
    pub test: SpikeDataset,
}

impl DatasetName {
    /// Load (or generate) the three splits. `data_dir` is where downloaded datasets live
    /// (`--data-dir` / `SPIKEBURN_DATA`); Yin-Yang is generated and ignores it.
    pub fn load(self, data_dir: Option<&std::path::Path>) -> Splits {
        let _ = data_dir;
        match self {
            DatasetName::Yinyang => {
                use yinyang::{Split, YinYang};
                let enc =
                    |s| SpikeDataset::from_yinyang(&YinYang::split(s), LatencyEncoder::REFERENCE);
                Splits {
                    train: enc(Split::Train),
                    validation: enc(Split::Validation),
                    test: enc(Split::Test),
                }
            }
        }
    }

    /// Number of input spike trains.
    pub fn n_inputs(self) -> usize {
        match self {
            DatasetName::Yinyang => 4,
        }
    }

    /// Number of classes.
    pub fn n_classes(self) -> usize {
        match self {
            DatasetName::Yinyang => 3,
        }
    }
}

/// Input spike times and labels, in host memory.
#[derive(Debug, Clone, PartialEq)]
pub struct SpikeDataset {
    /// Input spike trains per sample.
    pub n_inputs: usize,
    /// Spike times, row-major `[len, n_inputs]`, model time units (`+∞` = no spike).
    pub times: Vec<f64>,
    /// Class per sample.
    pub labels: Vec<usize>,
}

impl SpikeDataset {
    /// Yin-Yang features latency-encoded.
    pub fn from_yinyang(data: &yinyang::YinYang, enc: LatencyEncoder) -> Self {
        let times = data.features().iter().flat_map(|f| f.map(|v| enc.encode(v))).collect();
        Self { n_inputs: 4, times, labels: data.labels.clone() }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// A new dataset of the samples `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Self {
        let n = self.n_inputs;
        let mut times = Vec::with_capacity(indices.len() * n);
        for &i in indices {
            times.extend_from_slice(&self.times[i * n..(i + 1) * n]);
        }
        let labels = indices.iter().map(|&i| self.labels[i]).collect();
        Self { n_inputs: n, times, labels }
    }

    /// The samples `indices` as tensors on `device`.
    ///
    /// # Shapes
    /// - returns `([indices.len(), n_inputs], [indices.len()])`
    pub fn batch(&self, indices: &[usize], device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
        self.subset(indices).into_tensors(device)
    }

    /// All samples as tensors on `device`: times `[len, n_inputs]`, labels `[len]`.
    pub fn into_tensors(self, device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
        let (len, n) = (self.len(), self.n_inputs);
        let labels: Vec<i64> = self.labels.iter().map(|&l| l as i64).collect();
        (
            Tensor::from_data(TensorData::new(self.times, [len, n]), device),
            Tensor::from_data(TensorData::new(labels, [len]), device),
        )
    }
}
