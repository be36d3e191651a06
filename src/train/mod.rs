//! Training: configurations, the training loop, run folders.

pub mod config;
pub mod run_dir;
pub mod trainer;

pub use config::{ConfigError, ExperimentConfig, Precision};
pub use trainer::{
    BenchReport, EpochMetrics, Evaluation, StepOutcome, TrainEvent, TrainOutcome, Trainer, bench,
    evaluate, train,
};
