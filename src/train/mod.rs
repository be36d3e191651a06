//! Training: configurations, the training loop, run folders.

pub mod config;
pub mod run_dir;
pub mod trainer;

pub use config::{ConfigError, ExperimentConfig, Precision};
pub use trainer::{EpochMetrics, Evaluation, TrainEvent, TrainOutcome, evaluate, train};
