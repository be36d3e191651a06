//! Whole runs of any method, what the CLI, the examples and the benchmarks share: train then
//! test ([`train_and_test`]), evaluate a saved network ([`evaluate_saved`]), time a
//! configuration ([`bench()`]), and write each run's folder.

use burn::tensor::Device;

use super::config::ExperimentConfig;
use super::epochs::{
    BenchReport, CheckpointSink, Control, Diverged, EpochMetrics, Interruption, Learner,
    TrainEvent, bench_learner, interrupt_requested, run_epochs_with,
};
use super::evaluation::Evaluation;
use super::method::{LoadError, NetworkSource};
use super::model::TrainedModel;
use super::plots::write_run_plots;
use super::report::{DivergedSummary, InterruptedSummary, Summary, metrics_csv};
use super::resume::{Position, TrainingState, fingerprint};
use crate::data::{SpikeDataset, Splits};
use crate::io::{IoError, RunDir, files};

/// What a training run produced.
#[derive(Debug)]
pub struct RunResult {
    /// The trained network.
    pub network: Box<dyn TrainedModel>,
    /// Per-epoch metrics.
    pub history: Vec<EpochMetrics>,
    /// Seconds in the epoch loop (training and validation).
    pub train_seconds: f64,
    /// The test-split evaluation of the trained network.
    pub test: Evaluation,
}

/// Why a training run ended without a tested network.
#[derive(Debug, thiserror::Error)]
pub enum Stopped {
    /// A loss or a parameter stopped being finite: no network is worth keeping.
    #[error(transparent)]
    Diverged(#[from] Diverged),
    /// An interruption was requested ([`super::epochs::request_interrupt`]): the network after
    /// the last finished batch and the completed epochs, untested.
    #[error(
        "training interrupted in epoch {}, after batch {} of {} ({} epoch(s) completed)",
        at.epoch, at.batch, at.batches, history.len()
    )]
    Interrupted {
        /// Where it stopped.
        at: Interruption,
        /// The network after the last finished batch.
        network: Box<dyn TrainedModel>,
        /// The completed epochs.
        history: Vec<EpochMetrics>,
        /// Seconds in the epoch loop.
        train_seconds: f64,
    },
    /// A saved state that does not continue this run (another configuration or data, a
    /// finished run, a state of another network).
    #[error("cannot resume: {0}")]
    CannotResume(String),
}

/// How [`train_and_test_with`] continues and saves a run.
#[derive(Default)]
pub struct Session<'a> {
    /// Continue from this saved state (of the same configuration and training data).
    pub resume: Option<TrainingState>,
    /// Receives the run's state every `training.checkpoint-every` epochs, after the last and
    /// when interrupted, or why the method has none. Without it no state is made.
    pub on_checkpoint: Option<CheckpointSink<'a>>,
}

/// The first line where two configurations (TOML) differ, for the message.
fn first_difference(saved: &str, now: &str) -> String {
    let (mut a, mut b) = (saved.lines(), now.lines());
    for line in 1.. {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (x, y) => {
                let show = |l: Option<&str>| l.map_or("(nothing)".into(), |l| format!("'{l}'"));
                return format!("line {line}: {} when started, {} now", show(x), show(y));
            }
        }
    }
    unreachable!("the loop returns at the first difference")
}

/// Checks that `state` continues `cfg` on `data`, gives the learner its state and returns
/// where the epoch loop goes on.
fn prepare_resume(
    cfg: &ExperimentConfig,
    data: &Splits,
    learner: &mut dyn Learner,
    state: TrainingState,
) -> Result<Position, Stopped> {
    let no = |m: String| Err(Stopped::CannotResume(m));
    let now = cfg.to_toml();
    if state.config != now {
        return no(format!(
            "the configuration differs from the one the run was started with ({})",
            first_difference(&state.config, &now)
        ));
    }
    if state.data != fingerprint(&data.train) {
        return no("the training split differs from the one the run was started with".into());
    }
    let p = &state.position;
    let t = &cfg.training;
    let batches = data.train.len().div_ceil(t.batch_size);
    if p.epoch > t.epochs {
        return no(format!("the run finished all its {} epochs", t.epochs));
    }
    if p.epoch == 0 || p.batch > batches || p.history.len() != p.epoch - 1 {
        return no(format!(
            "malformed position (epoch {}, batch {} of {batches}, {} epochs of history)",
            p.epoch,
            p.batch,
            p.history.len()
        ));
    }
    learner.restore_state(&state.learner, p.history.len()).map_err(|e| {
        Stopped::CannotResume(format!("the saved state does not fit the network: {e}"))
    })?;
    Ok(state.position)
}

/// Train `cfg`'s method on `data.train` (validating on `data.validation` every epoch), then
/// evaluate on `data.test`.
///
/// # Errors
/// [`Stopped::Diverged`] if a loss or a parameter stopped being finite (nothing is tested),
/// [`Stopped::Interrupted`] if an interruption was requested (nothing is tested).
pub fn train_and_test(
    cfg: &ExperimentConfig,
    data: &Splits,
    device: &Device,
    on_event: &mut dyn FnMut(TrainEvent<'_>),
) -> Result<RunResult, Stopped> {
    train_and_test_with(cfg, data, device, Session::default(), on_event)
}

/// [`train_and_test`] continued from a saved state and saving its own ([`Session`]).
///
/// # Errors
/// As [`train_and_test`], and [`Stopped::CannotResume`] if `session.resume` does not continue
/// this configuration on this data.
pub fn train_and_test_with(
    cfg: &ExperimentConfig,
    data: &Splits,
    device: &Device,
    session: Session<'_>,
    on_event: &mut dyn FnMut(TrainEvent<'_>),
) -> Result<RunResult, Stopped> {
    let (mut learner, mut rng) = cfg.method.kind().learner(cfg, &data.train, device);
    let resume = match session.resume {
        Some(state) => Some(prepare_resume(cfg, data, learner.as_mut(), state)?),
        None => None,
    };
    let control = Control {
        resume,
        checkpoint_every: cfg.training.checkpoint_every,
        on_checkpoint: session.on_checkpoint,
        stop: &interrupt_requested,
    };
    let (train, validation) = (&data.train, &data.validation);
    let run =
        run_epochs_with(cfg, learner.as_mut(), train, validation, &mut rng, control, on_event)?;
    let network = learner.into_trained();
    if let Some(at) = run.interrupted {
        let (history, train_seconds) = (run.history, run.seconds);
        return Err(Stopped::Interrupted { at, network, history, train_seconds });
    }
    let test = network.test(&data.test, cfg, device);
    Ok(RunResult { network, history: run.history, train_seconds: run.seconds, test })
}

impl RunResult {
    /// Write the run into `run` (whose `config.toml` the caller wrote before training): the
    /// network, `metrics.csv`, `summary.json` (`device` names the backend), then the method's
    /// reports, so that a report that cannot be written loses none of the rest. Returns the
    /// reports' console lines.
    ///
    /// # Errors
    /// [`IoError`] naming the file.
    pub fn write(
        &self,
        cfg: &ExperimentConfig,
        data: &Splits,
        device: &Device,
        device_name: &str,
        run: &RunDir,
    ) -> Result<Vec<String>, IoError> {
        self.network.save(run, cfg)?;
        let metrics = metrics_csv(&self.history);
        run.write(files::METRICS, &metrics)?;
        let summary = Summary {
            val_accuracy: self.history.last().map(|m| m.val_accuracy),
            epochs: cfg.training.epochs,
            train_seconds: self.train_seconds,
            ..Summary::of_test(cfg, device_name, &self.test)
        };
        run.write_json(files::SUMMARY, &summary)?;
        let test = (&self.test, &data.test.labels[..], cfg.dataset.n_classes());
        let charts = write_run_plots(run, &cfg.name, Some(&metrics), Some(test))?;
        let mut lines = self.network.write_reports(cfg, data, device, run)?;
        lines.extend(charts_line(&charts));
        Ok(lines)
    }
}

/// Write what a diverged run leaves into `run`: the completed epochs' `metrics.csv` and a
/// `summary.json` saying where and why it diverged ([`DivergedSummary`]); no network.
///
/// # Errors
/// [`IoError`] naming the file.
pub fn write_diverged(
    cfg: &ExperimentConfig,
    diverged: &Diverged,
    device_name: &str,
    run: &RunDir,
) -> Result<(), IoError> {
    let metrics = metrics_csv(&diverged.history);
    run.write(files::METRICS, &metrics)?;
    run.write_json(files::SUMMARY, &DivergedSummary::of(cfg, device_name, diverged))?;
    write_run_plots(run, &cfg.name, Some(&metrics), None).map(|_| ())
}

/// Write what an interrupted run leaves into `run`: the network after its last finished batch
/// (`model.bpk`, and the method's other network files; loadable with `eval`), the completed
/// epochs' `metrics.csv` and a `summary.json` saying where it stopped
/// ([`InterruptedSummary`]).
///
/// # Errors
/// [`IoError`] naming the file.
pub fn write_interrupted(
    cfg: &ExperimentConfig,
    stopped: &Stopped,
    device_name: &str,
    run: &RunDir,
) -> Result<(), IoError> {
    let Stopped::Interrupted { at, network, history, train_seconds } = stopped else {
        return Ok(());
    };
    network.save(run, cfg)?;
    let metrics = metrics_csv(history);
    run.write(files::METRICS, &metrics)?;
    let summary = InterruptedSummary::of(cfg, device_name, at, history.len(), *train_seconds);
    run.write_json(files::SUMMARY, &summary)?;
    write_run_plots(run, &cfg.name, Some(&metrics), None).map(|_| ())
}

/// The console line naming the charts written, if any.
fn charts_line(charts: &[String]) -> Option<String> {
    (!charts.is_empty()).then(|| format!("charts (.svg and .png): {}", charts.join(", ")))
}

/// A saved network and its test-split evaluation.
#[derive(Debug)]
pub struct EvalResult {
    /// The network read from disk.
    pub network: Box<dyn TrainedModel>,
    /// Its evaluation on the test split.
    pub test: Evaluation,
}

/// Read `cfg`'s network from `source` and evaluate it on `data.test`.
///
/// # Errors
/// [`LoadError`] naming the file, or a source the method cannot read.
pub fn evaluate_saved(
    cfg: &ExperimentConfig,
    source: &NetworkSource,
    data: &Splits,
    device: &Device,
) -> Result<EvalResult, LoadError> {
    let network = cfg.method.kind().load(cfg, source, device)?;
    let test = network.test(&data.test, cfg, device);
    Ok(EvalResult { network, test })
}

impl EvalResult {
    /// Write the evaluation into `run`: `config.toml`, `summary.json` (`device` names the
    /// backend), then the method's reports. Returns the reports' console lines.
    ///
    /// # Errors
    /// [`IoError`] naming the file.
    pub fn write(
        &self,
        cfg: &ExperimentConfig,
        data: &Splits,
        device: &Device,
        device_name: &str,
        run: &RunDir,
    ) -> Result<Vec<String>, IoError> {
        run.write(files::CONFIG, &cfg.to_toml())?;
        run.write_json(files::SUMMARY, &Summary::of_test(cfg, device_name, &self.test))?;
        let test = (&self.test, &data.test.labels[..], cfg.dataset.n_classes());
        let charts = write_run_plots(run, &cfg.name, None, Some(test))?;
        let mut lines = self.network.write_reports(cfg, data, device, run)?;
        lines.extend(charts_line(&charts));
        Ok(lines)
    }
}

/// Time `batches` training batches of `cfg`'s method (after one untimed warm-up batch) and one
/// pass over the validation split.
pub fn bench(
    cfg: &ExperimentConfig,
    train: &SpikeDataset,
    validation: &SpikeDataset,
    device: &Device,
    batches: usize,
) -> BenchReport {
    let (mut learner, mut rng) = cfg.method.kind().learner(cfg, train, device);
    bench_learner(cfg, learner.as_mut(), train, validation, &mut rng, batches)
}
