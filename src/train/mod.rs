//! Training: configurations, the training loop, run folders.

pub mod config;
pub mod run;
pub mod run_dir;
pub mod sampling;
pub mod surrogate;
pub mod torch_rng;
pub mod trainer;

pub use config::{
    ConfigError, ExperimentConfig, Method, Precision, RandomStream, SamplingConfig, SleepChains,
    SurrogateConfig,
};
pub use run::{RunResult, TrainedNetwork, train_and_test};
pub use surrogate::{SurrogateLearner, evaluate_surrogate, train_surrogate};
pub use trainer::{
    BenchReport, EpochMetrics, Evaluation, Learner, StepOutcome, TrainEvent, TrainOutcome, Trainer,
    TrainingRng, TtfsLearner, bench, bench_learner, evaluate, run_epochs, train,
};
