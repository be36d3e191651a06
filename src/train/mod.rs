//! Training: configurations, the methods, the training loop, run outputs.
//!
//! Dependencies point down: [`run`] (whole runs) → [`method`] (the one place that knows the
//! methods) → the trainers [`ttfs`], [`surrogate`], [`sampling`] → the method-neutral parts
//! ([`epochs`], [`evaluation`], [`model`], [`rng`], [`report`], [`config`]).

pub mod chip;
pub mod config;
pub mod epochs;
pub mod evaluation;
pub mod method;
pub mod model;
pub mod nir;
pub mod plots;
pub mod report;
pub mod resume;
pub mod rng;
pub mod robustness;
pub mod run;
pub mod sampling;
pub mod surrogate;
pub mod torch_rng;
pub mod ttfs;

pub use config::{
    ChipConfig, ChipMode, ConfigError, ExperimentConfig, FeedbackConfig, FeedbackRuleName, Method,
    Precision, RandomStream, SamplingConfig, SleepChains, SurrogateConfig,
};
pub use epochs::{
    BenchReport, CheckpointSink, Control, Diverged, EpochMetrics, EpochsRun, Interruption, Learner,
    StepOutcome, TrainEvent, TrainOutcome, bench_learner, first_non_finite, first_non_finite_layer,
    interrupt_requested, request_interrupt, run_epochs, run_epochs_with,
};
pub use evaluation::{ChipResults, Evaluation};
pub use method::{LoadError, MethodKind, NetworkSource};
pub use model::{TrainedModel, WithFeedback};
pub use report::{DivergedSummary, InterruptedSummary, Summary};
pub use resume::{LearnerState, Position, TrainingState};
pub use rng::TrainingRng;
pub use run::{
    EvalResult, RunResult, Session, Stopped, bench, evaluate_saved, train_and_test,
    train_and_test_with, write_diverged, write_interrupted,
};
pub use surrogate::{SurrogateLearner, evaluate_surrogate, train_surrogate};
pub use ttfs::{Trainer, TtfsLearner, evaluate, train};
