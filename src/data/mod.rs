//! Datasets as spike times, and the encoders that make them.
//!
//! Every dataset becomes a [`SpikeDataset`]: one row of input spike times per sample (model time
//! units, `+∞` = no spike) and a class label.

pub mod idx;
pub mod images;
pub mod yinyang;

pub use idx::DataError;

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
    /// MNIST at the paper's 16×16 resolution: 256 inputs, 10 classes.
    Mnist16,
    /// MNIST at full resolution: 784 inputs, 10 classes.
    Mnist,
    /// Fashion-MNIST at 16×16 (the MNIST pipeline): 256 inputs, 10 classes.
    Fashion16,
    /// Fashion-MNIST at full resolution: 784 inputs, 10 classes.
    Fashion,
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
    /// (`--data-dir` / `SPIKEBURN_DATA`): `DIR/mnist/` and `DIR/fashion-mnist/` with the
    /// official IDX file names. Yin-Yang is generated and ignores it.
    ///
    /// Image splits: train = official training images 0–49 999, validation = 50 000–59 999,
    /// test = the official 10 000 test images.
    ///
    /// # Errors
    /// [`DataError`] naming the file or folder if the data is missing or malformed.
    pub fn load(self, data_dir: Option<&std::path::Path>) -> Result<Splits, DataError> {
        if self == DatasetName::Yinyang {
            use yinyang::{Split, YinYang};
            let enc = |s| SpikeDataset::from_yinyang(&YinYang::split(s), LatencyEncoder::REFERENCE);
            return Ok(Splits {
                train: enc(Split::Train),
                validation: enc(Split::Validation),
                test: enc(Split::Test),
            });
        }
        let subdir = self.subdir();
        let dir = data_dir
            .ok_or_else(|| DataError::NoDataDir {
                dataset: self.name().into(),
                subdir: subdir.into(),
            })?
            .join(subdir);
        let train = idx::read_image_set(&dir, "train")?;
        let test = idx::read_image_set(&dir, "t10k")?;
        for (set, prefix) in [(&train, "train"), (&test, "t10k")] {
            if (set.rows, set.cols) != (28, 28) {
                return Err(DataError::Malformed {
                    path: dir.join(format!("{prefix}-images-idx3-ubyte")),
                    reason: format!("images are {}×{}, expected 28×28", set.rows, set.cols),
                });
            }
        }
        if test.is_empty() {
            // Nothing to evaluate: every test figure would be 0 and every report empty.
            return Err(DataError::Malformed {
                path: dir.join("t10k-images-idx3-ubyte"),
                reason: "no test images".into(),
            });
        }
        if train.len() != 60_000 {
            return Err(DataError::Malformed {
                path: dir.join("train-images-idx3-ubyte"),
                reason: format!(
                    "{} training images, expected 60000 (50000 train + 10000 validation)",
                    train.len()
                ),
            });
        }
        let encode =
            |set: &idx::ImageSet, range: std::ops::Range<usize>| self.encode_images(set, range);
        Ok(Splits {
            train: encode(&train, 0..50_000),
            validation: encode(&train, 50_000..60_000),
            test: encode(&test, 0..test.len()),
        })
    }

    fn encode_images(self, set: &idx::ImageSet, range: std::ops::Range<usize>) -> SpikeDataset {
        let full = matches!(self, DatasetName::Mnist | DatasetName::Fashion);
        let mut times = Vec::with_capacity(range.len() * self.n_inputs());
        for i in range.clone() {
            if full {
                times.extend(images::encode_full(set.image(i)));
            } else {
                times.extend(images::encode_16x16(set.image(i)));
            }
        }
        let labels = set.labels[range].iter().map(|&l| l as usize).collect();
        SpikeDataset { n_inputs: self.n_inputs(), times, labels }
    }

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            DatasetName::Yinyang => "yinyang",
            DatasetName::Mnist16 => "mnist16",
            DatasetName::Mnist => "mnist",
            DatasetName::Fashion16 => "fashion16",
            DatasetName::Fashion => "fashion",
        }
    }

    /// Sub-folder of the data folder holding the IDX files.
    pub fn subdir(self) -> &'static str {
        match self {
            DatasetName::Yinyang => "",
            DatasetName::Mnist16 | DatasetName::Mnist => "mnist",
            DatasetName::Fashion16 | DatasetName::Fashion => "fashion-mnist",
        }
    }

    /// Number of input spike trains.
    pub fn n_inputs(self) -> usize {
        match self {
            DatasetName::Yinyang => 4,
            DatasetName::Mnist16 | DatasetName::Fashion16 => 256,
            DatasetName::Mnist | DatasetName::Fashion => 784,
        }
    }

    /// Number of classes.
    pub fn n_classes(self) -> usize {
        match self {
            DatasetName::Yinyang => 3,
            _ => 10,
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
