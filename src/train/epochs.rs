//! The epoch loop every method shares ([`run_epochs`]): StepLR, shuffling and input noise from
//! the run's random stream, one validation pass per epoch, per-epoch metrics; and the same
//! batches timed for `spikeburn bench` ([`bench_learner`]).
//!
//! A method takes part by implementing [`Learner`]: one training batch, one evaluation, and an
//! optional end-of-epoch hook whose named values become extra columns of `metrics.csv`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::tensor::Tensor;
use serde::Serialize;

use super::config::ExperimentConfig;
use super::evaluation::Evaluation;
use super::model::TrainedModel;
use super::resume::{EpochSums, LearnerState, Position, TrainingState, fingerprint};
use super::rng::TrainingRng;
use crate::data::SpikeDataset;

/// What one training batch did.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    /// Mean loss of the batch; `None` if the batch took no optimizer step (the first-spike-time
    /// method spends such batches on weight bumping).
    pub loss: Option<f64>,
    /// Samples predicted correctly (before the update).
    pub correct: usize,
    /// Per-(sample, neuron) weight-gradient columns zeroed by clipping, summed over layers (0
    /// for a method that does not clip).
    pub clipped: usize,
    /// Per-(sample, neuron) columns considered for clipping, summed over layers (0 for a method
    /// that does not clip).
    pub columns: usize,
}

impl StepOutcome {
    /// A step of a method that neither skips nor clips: its loss and correct count.
    pub fn stepped(loss: f64, correct: usize) -> Self {
        Self { loss: Some(loss), correct, clipped: 0, columns: 0 }
    }
}

/// One method's training state, driven by the shared epoch loop ([`run_epochs`]).
pub trait Learner {
    /// One training batch (input noise already applied) at learning rate `lr`.
    fn step(&mut self, batch: SpikeDataset, lr: f64) -> StepOutcome;

    /// Evaluate the current network on `data` in batches of `batch_size` (the validation pass
    /// after every epoch).
    fn evaluate(&self, data: &SpikeDataset, batch_size: usize) -> Evaluation;

    /// Called once at the end of every epoch (`epoch` from 1), after its validation pass: the
    /// method's own per-epoch metrics as `(column name, value)` pairs, which `metrics.csv`
    /// writes after the shared columns. Every epoch must return the same names in the same
    /// order. The default reports nothing.
    fn end_epoch(&mut self, epoch: usize) -> Vec<(String, f64)> {
        let _ = epoch;
        Vec::new()
    }

    /// The first trained parameter holding a NaN or an infinite value, named (e.g. `layer 2
    /// weights`); `None` while every parameter is finite. The epoch loop asks after every
    /// batch and stops the run if one is not ([`Diverged`]).
    fn non_finite(&self) -> Option<String>;

    /// The trained network, without autodiff.
    fn into_trained(self: Box<Self>) -> Box<dyn TrainedModel>;

    /// Everything the next batch depends on (network, optimizer, the method's own state and
    /// random streams), for resuming the run bit for bit.
    ///
    /// # Errors
    /// Why this method cannot be resumed (the default).
    fn save_state(&self) -> Result<LearnerState, String> {
        Err("this method cannot save its training state".into())
    }

    /// Continues from `state` ([`Self::save_state`] of the same configuration), `completed`
    /// epochs into the run.
    ///
    /// # Errors
    /// What in `state` does not fit this learner.
    fn restore_state(&mut self, state: &LearnerState, completed: usize) -> Result<(), String> {
        let _ = (state, completed);
        Err("this method cannot restore a training state".into())
    }
}

/// The first of `tensors` (named) holding a NaN or an infinite value, for
/// [`Learner::non_finite`].
pub fn first_non_finite<const D: usize>(
    tensors: impl IntoIterator<Item = (String, Tensor<D>)>,
) -> Option<String> {
    tensors
        .into_iter()
        .find(|(_, t)| !t.clone().is_finite().all().into_scalar::<bool>())
        .map(|(n, _)| n)
}

/// The first layer (`layer k weights`, from 1) whose weights hold a NaN or an infinite value.
pub fn first_non_finite_layer(weights: Vec<Tensor<2>>) -> Option<String> {
    let named = weights.into_iter().enumerate();
    first_non_finite(named.map(|(l, w)| (format!("layer {} weights", l + 1), w)))
}

/// Training stopped because a loss or a parameter stopped being finite: a diverged run must
/// not be tested, saved or reported as a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("training diverged in epoch {epoch}, {}: {what} (the {} epoch(s) before it are in metrics.csv; no network was saved)", self.place(), history.len())]
pub struct Diverged {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Training batch (from 1) after which it was seen, `None` for the validation pass.
    pub batch: Option<usize>,
    /// What was not finite, e.g. `the batch loss is NaN` or `layer 2 weights hold NaN or inf`.
    pub what: String,
    /// Training batches per epoch.
    pub batches: usize,
    /// The epochs completed before it.
    pub history: Vec<EpochMetrics>,
}

impl Diverged {
    /// Where in the epoch it was seen, for the message.
    fn place(&self) -> String {
        match self.batch {
            Some(b) => format!("after batch {b} of {}", self.batches),
            None => "in the validation pass".into(),
        }
    }
}

/// Set by [`request_interrupt`]; read by the epoch loop after every batch.
static INTERRUPT: AtomicBool = AtomicBool::new(false);

/// Asks every running epoch loop of this process to stop after the batch it is in (the CLI
/// calls it on SIGINT, SIGTERM and SIGHUP). The loop returns what it has, marked
/// [`EpochsRun::interrupted`]; the request stays set for the process's lifetime.
pub fn request_interrupt() {
    INTERRUPT.store(true, Ordering::SeqCst);
}

/// Whether [`request_interrupt`] was called.
pub fn interrupt_requested() -> bool {
    INTERRUPT.load(Ordering::SeqCst)
}

/// Where an interrupted run stopped: after batch `batch` (from 1) of `batches` in epoch
/// `epoch` (from 1), whose metrics are not in the history (only completed epochs are).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Interruption {
    /// The epoch it stopped in, from 1.
    pub epoch: usize,
    /// The last batch it finished, from 1.
    pub batch: usize,
    /// Training batches per epoch.
    pub batches: usize,
}

/// What [`run_epochs`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochsRun {
    /// Per-epoch metrics of the completed epochs.
    pub history: Vec<EpochMetrics>,
    /// Seconds spent (training and validation).
    pub seconds: f64,
    /// Set if [`request_interrupt`] stopped it before its last epoch.
    pub interrupted: Option<Interruption>,
}

/// What one epoch did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochMetrics {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Learning rate used in this epoch.
    pub learning_rate: f64,
    /// Mean training loss over the batches that took a step.
    pub train_loss: f64,
    /// Training accuracy, measured on the forward passes of this epoch (before each step).
    pub train_accuracy: f64,
    /// Validation loss after the epoch.
    pub val_loss: f64,
    /// Validation accuracy after the epoch.
    pub val_accuracy: f64,
    /// Batches that took no optimizer step (weight bumping).
    pub bumps: usize,
    /// Fraction of (sample, neuron) weight-gradient columns zeroed by clipping.
    pub clipped_fraction: f64,
    /// The method's own metrics ([`Learner::end_epoch`]), `(column name, value)`.
    pub extra: Vec<(String, f64)>,
    /// Wall-clock seconds of the epoch (training and validation).
    pub seconds: f64,
}

/// Progress events for a front end (progress bar or plain lines).
#[derive(Debug, Clone)]
pub enum TrainEvent<'a> {
    /// A batch finished (`done` of `total` in this epoch).
    Batch {
        /// Epoch, from 1.
        epoch: usize,
        /// Batches done in this epoch.
        done: usize,
        /// Batches per epoch.
        total: usize,
    },
    /// An epoch finished.
    Epoch(&'a EpochMetrics),
}

/// A trained network of any method (`N`: its type, without autodiff) and its history.
#[derive(Debug)]
pub struct TrainOutcome<N> {
    /// The trained network.
    pub network: N,
    /// Per-epoch metrics.
    pub history: Vec<EpochMetrics>,
    /// Seconds spent in the epoch loop (training and validation).
    pub train_seconds: f64,
    /// Set if the run was interrupted: `network` is then the network after the last batch
    /// it finished.
    pub interrupted: Option<Interruption>,
}

/// The learning rate of an epoch (from 1) under StepLR.
pub fn learning_rate(cfg: &ExperimentConfig, epoch: usize) -> f64 {
    let t = &cfg.training;
    t.learning_rate * t.lr_gamma.powi(((epoch - 1) / t.lr_step) as i32)
}

/// The training batch of samples `chunk`, with input noise if configured.
fn training_batch(
    cfg: &ExperimentConfig,
    data: &SpikeDataset,
    chunk: &[usize],
    rng: &mut TrainingRng,
) -> SpikeDataset {
    let mut samples = data.subset(chunk);
    if cfg.training.input_noise > 0.0 {
        rng.add_input_noise(&mut samples.times, cfg.training.input_noise);
    }
    samples
}

/// Receives each saved state of a run, or why its learner has none ([`Learner::save_state`]).
pub type CheckpointSink<'a> = &'a mut dyn FnMut(Result<&TrainingState, &str>);

/// How a run is driven beyond its configuration: where it starts, when it saves its state
/// and when it stops ([`run_epochs_with`]).
pub struct Control<'a> {
    /// Continue from this position of a saved state ([`TrainingState`]) whose learner state
    /// the learner already holds ([`Learner::restore_state`]). The run's random stream must be
    /// fresh (as [`super::method::MethodKind::learner`] returns it): the loop replays the draws
    /// of the batches before the position.
    pub resume: Option<Position>,
    /// Save the state after every this many epochs and after the last one (0: only when
    /// stopped).
    pub checkpoint_every: usize,
    /// Receives every saved state (periodic, last epoch, and when stopped), or why the
    /// learner has none. Without it no state is made.
    pub on_checkpoint: Option<CheckpointSink<'a>>,
    /// Asked after every batch whether to stop there ([`interrupt_requested`] by default).
    pub stop: &'a dyn Fn() -> bool,
}

impl Default for Control<'_> {
    fn default() -> Self {
        Self { resume: None, checkpoint_every: 0, on_checkpoint: None, stop: &interrupt_requested }
    }
}

/// The epoch loop shared by all methods: StepLR, shuffling and input noise from `rng`, one
/// validation pass per epoch, then the learner's end-of-epoch hook. Returns the history and the
/// seconds spent; after [`request_interrupt`] it stops at the end of the batch it is in.
///
/// # Errors
/// [`Diverged`] as soon as a batch's loss, a trained parameter ([`Learner::non_finite`]) or
/// the validation loss is NaN or infinite.
pub fn run_epochs(
    cfg: &ExperimentConfig,
    learner: &mut dyn Learner,
    train: &SpikeDataset,
    validation: &SpikeDataset,
    rng: &mut TrainingRng,
    on_event: &mut dyn FnMut(TrainEvent<'_>),
) -> Result<EpochsRun, Diverged> {
    run_epochs_with(cfg, learner, train, validation, rng, Control::default(), on_event)
}

/// The draws of the run's random stream up to `at` (the reference's first validation pass,
/// then per epoch the order, the input noise of each batch and the validation pass), made
/// again on a fresh stream, with `order` shuffled as it was.
fn replay(
    cfg: &ExperimentConfig,
    train: &SpikeDataset,
    rng: &mut TrainingRng,
    order: &mut [usize],
    at: &Position,
) {
    let t = &cfg.training;
    let batches = |rng: &mut TrainingRng, order: &[usize], n: usize| {
        if t.input_noise > 0.0 {
            for chunk in order.chunks(t.batch_size).take(n) {
                let _ = training_batch(cfg, train, chunk, rng);
            }
        }
    };
    rng.validation_pass();
    for _ in 1..at.epoch {
        rng.shuffle(order);
        batches(rng, order, usize::MAX);
        rng.validation_pass();
    }
    if at.batch > 0 {
        rng.shuffle(order);
        batches(rng, order, at.batch);
    }
}

/// [`run_epochs`] driven by `control`: resumed from a saved position, saving its state every
/// `checkpoint_every` epochs and when stopped, stopping when `control.stop` says so.
///
/// # Errors
/// [`Diverged`] as [`run_epochs`].
pub fn run_epochs_with(
    cfg: &ExperimentConfig,
    learner: &mut dyn Learner,
    train: &SpikeDataset,
    validation: &SpikeDataset,
    rng: &mut TrainingRng,
    mut control: Control<'_>,
    on_event: &mut dyn FnMut(TrainEvent<'_>),
) -> Result<EpochsRun, Diverged> {
    let t = &cfg.training;
    let mut order: Vec<usize> = (0..train.len()).collect();
    let n_batches = train.len().div_ceil(t.batch_size);
    let start = Instant::now();
    let resume = control.resume.take();
    let (first_epoch, skip, mut sums, mut history, earlier_seconds) = match resume {
        Some(p) => {
            replay(cfg, train, rng, &mut order, &p);
            (p.epoch, p.batch, p.sums, p.history, p.seconds)
        }
        None => {
            rng.validation_pass(); // the reference validates the untrained network
            (1, 0, EpochSums::default(), Vec::new(), 0.0)
        }
    };
    let (config, data) = match control.on_checkpoint {
        Some(_) => (cfg.to_toml(), fingerprint(train)),
        None => (String::new(), 0),
    };
    let seconds = |start: Instant| earlier_seconds + start.elapsed().as_secs_f64();
    let mut checkpoint = |learner: &dyn Learner, position: Position| {
        if let Some(sink) = control.on_checkpoint.as_mut() {
            match learner.save_state() {
                Ok(l) => {
                    sink(Ok(&TrainingState { position, learner: l, config: config.clone(), data }))
                }
                Err(why) => sink(Err(&why)),
            }
        }
    };

    let mut interrupted = None;
    'epochs: for epoch in first_epoch..=t.epochs {
        let resumed_here = epoch == first_epoch && skip > 0;
        let epoch_start = Instant::now();
        let earlier_in_epoch = if resumed_here { sums.seconds } else { 0.0 };
        let lr = learning_rate(cfg, epoch);
        let diverged =
            |batch, what, history| Diverged { epoch, batch, what, batches: n_batches, history };
        if !resumed_here {
            rng.shuffle(&mut order);
            sums = EpochSums::default();
        }
        let first_batch = if resumed_here { skip } else { 0 };
        for (b, chunk) in order.chunks(t.batch_size).enumerate().skip(first_batch) {
            let step = learner.step(training_batch(cfg, train, chunk, rng), lr);
            sums.correct += step.correct;
            sums.clipped += step.clipped;
            sums.columns += step.columns;
            match step.loss {
                Some(l) if !l.is_finite() => {
                    let what = format!("the batch loss is {l}");
                    return Err(diverged(Some(b + 1), what, history));
                }
                Some(l) => {
                    sums.loss_sum += l;
                    sums.stepped += 1;
                }
                None => sums.bumps += 1,
            }
            if let Some(name) = learner.non_finite() {
                let what = format!("{name} hold NaN or inf");
                return Err(diverged(Some(b + 1), what, history));
            }
            on_event(TrainEvent::Batch { epoch, done: b + 1, total: n_batches });
            if (control.stop)() {
                interrupted = Some(Interruption { epoch, batch: b + 1, batches: n_batches });
                sums.seconds = earlier_in_epoch + epoch_start.elapsed().as_secs_f64();
                let position = Position {
                    epoch,
                    batch: b + 1,
                    sums,
                    history: history.clone(),
                    seconds: seconds(start),
                };
                checkpoint(&*learner, position);
                break 'epochs;
            }
        }
        let val = learner.evaluate(validation, t.batch_size_eval);
        if !val.loss.is_finite() && !validation.is_empty() {
            let what = format!("the validation loss is {}", val.loss);
            return Err(diverged(None, what, history));
        }
        rng.validation_pass();
        let extra = learner.end_epoch(epoch);
        let s = &sums;
        let metrics = EpochMetrics {
            epoch,
            learning_rate: lr,
            train_loss: if s.stepped > 0 { s.loss_sum / s.stepped as f64 } else { f64::NAN },
            train_accuracy: s.correct as f64 / train.len().max(1) as f64,
            val_loss: val.loss,
            val_accuracy: val.accuracy,
            bumps: s.bumps,
            clipped_fraction: if s.columns > 0 { s.clipped as f64 / s.columns as f64 } else { 0.0 },
            extra,
            seconds: earlier_in_epoch + epoch_start.elapsed().as_secs_f64(),
        };
        on_event(TrainEvent::Epoch(&metrics));
        history.push(metrics);
        let every = control.checkpoint_every;
        if every > 0 && (epoch.is_multiple_of(every) || epoch == t.epochs) {
            let position = Position {
                epoch: epoch + 1,
                batch: 0,
                sums: EpochSums::default(),
                history: history.clone(),
                seconds: seconds(start),
            };
            checkpoint(&*learner, position);
        }
    }
    Ok(EpochsRun { history, seconds: seconds(start), interrupted })
}

/// Throughput of a configuration on a device, measured on real batches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// Training batches timed (forward, bump check or backward, Adam step, batch assembly).
    pub train_batches: usize,
    /// Training images per second.
    pub train_images_per_second: f64,
    /// Evaluation (forward only) images per second, over the validation split.
    pub eval_images_per_second: f64,
    /// Estimated seconds per epoch: the training split at the training rate plus the validation
    /// split at the evaluation rate.
    pub epoch_seconds: f64,
}

/// Time `batches` training batches of any method (after one untimed warm-up batch) and one
/// pass over the validation split.
///
/// # Panics
/// If `train` is empty (every dataset `DatasetName::load` returns has 5000 or 50 000 training
/// samples).
pub fn bench_learner(
    cfg: &ExperimentConfig,
    learner: &mut dyn Learner,
    train: &SpikeDataset,
    validation: &SpikeDataset,
    rng: &mut TrainingRng,
    batches: usize,
) -> BenchReport {
    let t = &cfg.training;
    let mut order: Vec<usize> = (0..train.len()).collect();
    rng.shuffle(&mut order);
    let mut chunks = order.chunks(t.batch_size).cycle();
    let mut run = |chunk: &[usize], rng: &mut TrainingRng| {
        learner.step(training_batch(cfg, train, chunk, rng), t.learning_rate);
    };
    run(chunks.next().expect("non-empty"), rng);
    let start = Instant::now();
    let mut images = 0;
    for _ in 0..batches {
        let chunk = chunks.next().expect("non-empty");
        images += chunk.len();
        run(chunk, rng);
    }
    let train_rate = images as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let _ = learner.evaluate(validation, t.batch_size_eval);
    let eval_rate = validation.len() as f64 / start.elapsed().as_secs_f64();
    BenchReport {
        train_batches: batches,
        train_images_per_second: train_rate,
        eval_images_per_second: eval_rate,
        epoch_seconds: train.len() as f64 / train_rate + validation.len() as f64 / eval_rate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ttfs::SpikeTimeNetwork;

    /// Steps without learning; counts its epochs and reports them as a column.
    struct Counting {
        epochs_seen: Vec<usize>,
        steps: usize,
        rates: Vec<f64>,
    }

    impl Learner for Counting {
        fn step(&mut self, batch: SpikeDataset, lr: f64) -> StepOutcome {
            self.steps += 1;
            self.rates.push(lr);
            StepOutcome::stepped(1.0, batch.len())
        }

        fn evaluate(&self, _data: &SpikeDataset, _batch_size: usize) -> Evaluation {
            super::super::evaluation::Tally::default().finish(1)
        }

        fn end_epoch(&mut self, epoch: usize) -> Vec<(String, f64)> {
            self.epochs_seen.push(epoch);
            vec![("steps_so_far".into(), self.steps as f64)]
        }

        fn non_finite(&self) -> Option<String> {
            None
        }

        fn into_trained(self: Box<Self>) -> Box<dyn TrainedModel> {
            Box::new(SpikeTimeNetwork { layers: Vec::new() })
        }
    }

    /// Goes bad at step `at` (counted from 1 over the whole run) in the way `how` says.
    struct Failing {
        steps: usize,
        at: usize,
        how: Failure,
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Failure {
        Loss(f64),
        Weights,
        Validation,
    }

    impl Learner for Failing {
        fn step(&mut self, batch: SpikeDataset, _lr: f64) -> StepOutcome {
            self.steps += 1;
            match self.how {
                Failure::Loss(l) if self.steps == self.at => StepOutcome::stepped(l, 0),
                _ => StepOutcome::stepped(1.0, batch.len()),
            }
        }

        fn evaluate(&self, _data: &SpikeDataset, _batch_size: usize) -> Evaluation {
            let mut e = super::super::evaluation::Tally::default().finish(1);
            if self.how == Failure::Validation && self.steps >= self.at {
                e.loss = f64::NAN;
            }
            e
        }

        fn non_finite(&self) -> Option<String> {
            (self.how == Failure::Weights && self.steps >= self.at)
                .then(|| "layer 2 weights".to_string())
        }

        fn into_trained(self: Box<Self>) -> Box<dyn TrainedModel> {
            Box::new(SpikeTimeNetwork { layers: Vec::new() })
        }
    }

    /// A NaN or infinite batch loss, a parameter that is not finite, or a NaN validation loss
    /// stops the run at once with the epoch and batch named and the completed epochs kept.
    #[test]
    fn divergence_stops_the_run_where_it_happens() {
        let mut cfg = ExperimentConfig::default();
        (cfg.training.epochs, cfg.training.batch_size) = (4, 4);
        let data = SpikeDataset { n_inputs: 1, times: vec![0.5; 12], labels: vec![0; 12] };
        let run = |how, at| {
            let mut learner = Failing { steps: 0, at, how };
            let mut rng = TrainingRng::new(&cfg);
            let r = run_epochs(&cfg, &mut learner, &data, &data, &mut rng, &mut |_| {});
            (r.map(|_| ()).unwrap_err(), learner.steps)
        };
        // 3 batches per epoch: step 5 is epoch 2, batch 2.
        let (d, steps) = run(Failure::Loss(f64::NAN), 5);
        assert_eq!((d.epoch, d.batch, d.history.len(), steps), (2, Some(2), 1, 5));
        assert!(d.what.contains("loss is NaN"), "{}", d.what);
        let text = d.to_string();
        assert!(text.contains("epoch 2") && text.contains("batch 2 of 3"), "{text}");
        let (d, _) = run(Failure::Loss(f64::INFINITY), 1);
        assert_eq!((d.epoch, d.batch, d.history.len()), (1, Some(1), 0));
        assert!(d.what.contains("inf"), "{}", d.what);
        let (d, steps) = run(Failure::Weights, 9);
        assert_eq!((d.epoch, d.batch, d.history.len(), steps), (3, Some(3), 2, 9));
        assert!(d.what.contains("layer 2 weights"), "{}", d.what);
        let (d, steps) = run(Failure::Validation, 6);
        assert_eq!((d.epoch, d.batch, d.history.len(), steps), (2, None, 1, 6));
        assert!(d.to_string().contains("validation pass"), "{d}");
        // Never failing: all four epochs.
        let mut learner = Failing { steps: 0, at: usize::MAX, how: Failure::Weights };
        let mut rng = TrainingRng::new(&cfg);
        let h =
            run_epochs(&cfg, &mut learner, &data, &data, &mut rng, &mut |_| {}).unwrap().history;
        assert_eq!(h.len(), 4);
    }

    /// `first_non_finite` names the first tensor with a NaN or an infinity, and only such.
    #[test]
    fn first_non_finite_names_the_bad_tensor() {
        let d = burn::tensor::Device::default();
        let t = |v: [f32; 3]| Tensor::<1>::from_floats(v, &d);
        let named = |v: Vec<[f32; 3]>| {
            v.into_iter().enumerate().map(|(i, x)| (format!("t{i}"), t(x))).collect::<Vec<_>>()
        };
        assert_eq!(first_non_finite(named(vec![[1.0, -2.0, 3e38], [0.0; 3]])), None);
        let bad = named(vec![[1.0; 3], [0.0, f32::NAN, 1.0], [f32::INFINITY; 3]]);
        assert_eq!(first_non_finite(bad).as_deref(), Some("t1"));
        let inf = named(vec![[1.0, f32::NEG_INFINITY, 1.0]]);
        assert_eq!(first_non_finite(inf).as_deref(), Some("t0"));
    }

    /// The end-of-epoch hook runs once per epoch, after that epoch's batches, and its values
    /// reach the epoch's metrics under their names.
    #[test]
    fn end_epoch_hook_reports_named_columns() {
        let mut cfg = ExperimentConfig::default();
        cfg.training.epochs = 3;
        cfg.training.batch_size = 4;
        let data = SpikeDataset { n_inputs: 1, times: vec![0.5; 10], labels: vec![0; 10] };
        let mut learner = Counting { epochs_seen: Vec::new(), steps: 0, rates: Vec::new() };
        let mut rng = TrainingRng::new(&cfg);
        let history = run_epochs(&cfg, &mut learner, &data, &data, &mut rng, &mut |_| {})
            .expect("finite")
            .history;
        assert_eq!(learner.epochs_seen, [1, 2, 3]);
        let steps: Vec<f64> = history.iter().map(|m| m.extra[0].1).collect();
        assert_eq!(steps, [3.0, 6.0, 9.0], "10 samples in batches of 4: 3 steps per epoch");
        assert!(history.iter().all(|m| m.extra[0].0 == "steps_so_far" && m.bumps == 0));
        assert_eq!(history[0].train_accuracy, 1.0);
    }

    /// StepLR: the rate is multiplied by `lr-gamma` every `lr-step` epochs, every batch of an
    /// epoch learns at that epoch's rate, and `metrics.csv` records it.
    #[test]
    fn step_lr_schedule_reaches_every_batch() {
        let mut cfg = ExperimentConfig::default();
        (cfg.training.epochs, cfg.training.batch_size) = (5, 4);
        (cfg.training.learning_rate, cfg.training.lr_step, cfg.training.lr_gamma) = (0.01, 2, 0.5);
        let data = SpikeDataset { n_inputs: 1, times: vec![0.5; 8], labels: vec![0; 8] };
        let mut learner = Counting { epochs_seen: Vec::new(), steps: 0, rates: Vec::new() };
        let mut rng = TrainingRng::new(&cfg);
        let history = run_epochs(&cfg, &mut learner, &data, &data, &mut rng, &mut |_| {})
            .expect("finite")
            .history;
        let want = [0.01, 0.01, 0.005, 0.005, 0.0025];
        let per_epoch: Vec<f64> = history.iter().map(|m| m.learning_rate).collect();
        assert_eq!(per_epoch, want);
        let per_batch: Vec<f64> = want.iter().flat_map(|&r| [r, r]).collect();
        assert_eq!(learner.rates, per_batch, "2 batches of 4 per epoch");
    }
}
