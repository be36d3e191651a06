//! The first-spike-time trainer, after the reference implementation (`src/training.py` of the
//! paper code): Adam with a per-epoch StepLR, per-(sample, neuron) gradient clipping, and
//! exponential, targeted weight bumping for silent neurons (a bumped batch takes no optimizer
//! step).

use std::any::Any;

use crate::util::StdRng;
use burn::optim::{Adam, AdamConfig, AdamState, AdaptiveMomentumState, Optimizer};
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::chip::{ChipSession, evaluate_on_chip, training_session, with_chips};
use super::config::ExperimentConfig;
use super::epochs::{
    Diverged, Learner, StepOutcome, TrainEvent, TrainOutcome, first_non_finite_layer, run_epochs,
};
use super::evaluation::{Evaluation, Tally};
use super::model::{TrainedModel, WithFeedback};
use super::plots::{RASTER_SAMPLES, layer_name, write_raster};
use super::resume::{LearnerState, probe, put_feedback, put_probe, restore_feedback};
use super::rng::TrainingRng;
use crate::data::SpikeDataset;
use crate::error_path::ErrorPath;
use crate::feedback::{FeedbackRule, epoch_columns, error_angle};
use crate::io::{IoError, RunDir, files, weights};
use crate::ttfs::SpikeTimeNetwork;
use crate::ttfs::loss::{TtfsLoss, predict};
use crate::ttfs::network::ForwardTrace;
use crate::util::to_vec_f64;

/// Build the network of a configuration, weights drawn from `rng`.
pub fn build_network(
    cfg: &ExperimentConfig,
    device: &Device,
    rng: &mut StdRng,
) -> SpikeTimeNetwork {
    SpikeTimeNetwork { layers: cfg.layer_configs().iter().map(|c| c.init(device, rng)).collect() }
}

impl TrainingRng {
    /// The initial first-spike-time network of `cfg`.
    pub fn init_network(&mut self, cfg: &ExperimentConfig, device: &Device) -> SpikeTimeNetwork {
        match self {
            Self::Spikeburn(rng) => build_network(cfg, device, rng),
            Self::Torch(g) => SpikeTimeNetwork {
                layers: cfg
                    .layer_configs()
                    .iter()
                    .map(|c| {
                        let shape = [c.n_inputs + c.bias_times.len(), c.n_outputs];
                        let w = g.normal(shape[0] * shape[1], c.weight_mean, c.weight_std);
                        c.init_with_weights(Tensor::from_data(TensorData::new(w, shape), device))
                    })
                    .collect(),
            },
        }
    }
}

/// Evaluate `net` on all of `data` in batches of `batch_size`.
pub fn evaluate(
    net: &SpikeTimeNetwork,
    data: &SpikeDataset,
    batch_size: usize,
    loss: &TtfsLoss,
    device: &Device,
) -> Evaluation {
    evaluate_with(data, batch_size, loss, device, |x| net.forward_trace(x))
}

/// [`evaluate`] with each batch's trace computed by `forward` (e.g. on an emulated chip).
pub fn evaluate_with(
    data: &SpikeDataset,
    batch_size: usize,
    loss: &TtfsLoss,
    device: &Device,
    mut forward: impl FnMut(Tensor<2>) -> ForwardTrace,
) -> Evaluation {
    let mut tally = Tally::default();
    let indices: Vec<usize> = (0..data.len()).collect();
    for chunk in indices.chunks(batch_size) {
        let (x, y) = data.batch(chunk, device);
        let trace = forward(x);
        let out = trace.output();
        let l = loss.forward(out.clone(), y);
        tally.loss += to_vec_f64(l.per_sample).iter().sum::<f64>();
        let pred = predict(out.clone());
        let times = to_vec_f64(out);
        let hidden = &trace.activations[1..trace.activations.len() - 1];
        for t in hidden.iter().flat_map(|a| to_vec_f64(a.clone())).chain(times.iter().copied()) {
            tally.spikes += f64::from(u8::from(t.is_finite()));
        }
        let classes = times.len() / chunk.len();
        for (b, (p, &i)) in pred.iter().zip(chunk).enumerate() {
            let first =
                times[b * classes..(b + 1) * classes].iter().copied().fold(f64::INFINITY, f64::min);
            tally.add(*p, data.labels[i], p.map(|_| first));
        }
        tally.outputs.extend(times);
    }
    tally.finish(data.len())
}

/// Weight-bumping state: the layer bumped by the previous batch and the current bump value.
struct Bumper {
    base: f64,
    value: f64,
    last: Option<usize>,
}

impl Bumper {
    /// If a layer has too many silent neurons, raise the incoming weights of every neuron that
    /// was silent for at least one sample, and return the layer. Only the first offending hidden
    /// layer is bumped; the output layer only if no hidden layer offends. `frozen` layers are
    /// never bumped (nor checked).
    fn check(
        &mut self,
        net: &mut SpikeTimeNetwork,
        activations: &[Tensor<2>],
        max_missing: &[f64],
        frozen: &[usize],
    ) -> Option<usize> {
        let n_layers = net.layers.len();
        let mut offending = None;
        for l in (0..n_layers).filter(|l| !frozen.contains(l)) {
            let out = &activations[l + 1];
            let [b, m] = out.dims();
            let silent = out.clone().is_inf();
            let frac = to_vec_f64(silent.clone().float().sum())[0] / (b * m) as f64;
            if frac > max_missing[l] {
                offending = Some((l, silent));
                break;
            }
        }
        let Some((l, silent)) = offending else {
            self.last = None;
            self.value = self.base;
            return None;
        };
        self.value = if self.last == Some(l) { self.value * 2.0 } else { self.base };
        self.last = Some(l);
        let any_silent = silent.any_dim(0).float(); // [1, M]
        let w = net.layers[l].weights.val();
        let bumped = w.clone() + any_silent.mul_scalar(self.value).expand(w.dims());
        net.set_weights(l, bumped);
        Some(l)
    }
}

/// The optimisation state of a training run: network, Adam, weight bumping.
pub struct Trainer<'a> {
    cfg: &'a ExperimentConfig,
    /// The network being trained.
    pub network: SpikeTimeNetwork,
    /// How the error reaches the hidden layers (`cfg.feedback`).
    pub feedback: Box<dyn FeedbackRule>,
    /// The chip training runs on (`in-the-loop` or `exact`; `None` for ideal training).
    pub chip: Option<ChipSession>,
    /// The chips the trained network is tested on (`[chip]`; none without a chip).
    pub test_chips: Vec<crate::chip::Chip>,
    /// With a chip of limited weight resolution (any mode): its largest weight. Weights are
    /// clipped to ± this after every step and bump (as the reference's hardware runs clip
    /// them), so training learns weights the chip can realise.
    pub weight_limit: Option<f64>,
    adam: Adam,
    states: Vec<Option<AdamState<2>>>,
    bumper: Bumper,
}

impl<'a> Trainer<'a> {
    /// A fresh optimiser for `network` (e.g. from [`TrainingRng::init_network`]), trained as
    /// `cfg` says.
    pub fn with_network(cfg: &'a ExperimentConfig, network: SpikeTimeNetwork) -> Self {
        let t = &cfg.training;
        let adam = AdamConfig::new()
            .with_beta_1(t.adam_beta1 as f32)
            .with_beta_2(t.adam_beta2 as f32)
            .with_epsilon(t.adam_epsilon as f32)
            .build();
        let network = super::resume::number_params(network);
        let states = vec![None; network.layers.len()];
        let bumper = Bumper { base: t.bump_value, value: t.bump_value, last: None };
        let init = &cfg.network.weight_init;
        let device = network.layers[0].weights.val().device();
        let feedback = cfg.feedback.init(&network.shapes(), init, cfg.seed, &device);
        // Resolved once per run (validation already read the same files).
        let test_chips = cfg.chips().unwrap_or_else(|e| panic!("{e}"));
        let weight_limit = test_chips.first().and_then(|c| c.profile.weights.max_weight());
        let chip = training_session(&network, &test_chips, cfg.chip.mode);
        Self { cfg, network, feedback, chip, test_chips, weight_limit, adam, states, bumper }
    }

    /// Every layer's weights, input side first.
    pub fn weights(&self) -> Vec<Tensor<2>> {
        self.network.layers.iter().map(|l| l.weights.val()).collect()
    }

    /// One batch: forward; then either a weight bump (no step) or loss, exact backward with
    /// clipping, and an Adam step at learning rate `lr`.
    ///
    /// # Shapes
    /// - `x`: `[batch, n_inputs]`, `y`: `[batch]`; `labels` are `y` on the host.
    pub fn step(
        &mut self,
        x: Tensor<2>,
        y: Tensor<1, Int>,
        labels: &[usize],
        lr: f64,
    ) -> StepOutcome {
        let t = &self.cfg.training;
        let chip_trace = self
            .chip
            .as_mut()
            .map(|c| c.view.forward_trace(&self.network, x.clone(), &mut c.noise));
        let trace = match &chip_trace {
            Some(c) => c.observed.clone(),
            None => self.network.forward_trace(x),
        };
        let correct =
            predict(trace.output()).iter().zip(labels).filter(|(p, l)| **p == Some(**l)).count();
        let mut outcome = StepOutcome { loss: None, correct, clipped: 0, columns: 0 };
        let before = self.weights();
        // On a chip the bump looks at the neurons' threshold crossings, not at the observed
        // spikes: a spike lost (or moved) on its way out says nothing about the weights, and
        // with spike loss every batch would bump and none would learn.
        let crossed: Vec<Tensor<2>>;
        let activity = match &chip_trace {
            Some(c) => {
                crossed = std::iter::once(c.observed.activations[0].clone())
                    .chain(c.crossings.iter().cloned())
                    .collect();
                &crossed
            }
            None => &trace.activations,
        };
        let bumped =
            self.bumper.check(&mut self.network, activity, &t.max_missing, &t.frozen_layers);
        if bumped.is_some() {
            self.clip_weights();
            self.follow(&before);
            return outcome;
        }
        let out = self.cfg.loss.forward(trace.output(), y);
        outcome.loss = Some(to_vec_f64(out.per_sample.mean())[0]);
        let max_dw = (t.max_dw_norm > 0.0).then_some(t.max_dw_norm);
        let path = self.feedback.path(&before);
        let grads = match (&self.chip, &chip_trace) {
            (Some(c), Some(ct)) if c.mode == crate::chip::ChipMode::Exact => {
                c.view.backward_exact(&self.network, ct, out.delta, max_dw, &path)
            }
            (Some(c), Some(ct)) => {
                c.view.backward_in_the_loop(&self.network, ct, out.delta, max_dw, &path)
            }
            _ => self.network.backward_along(&trace, out.delta, max_dw, &path),
        };
        for (l, g) in grads.layers.into_iter().enumerate() {
            if t.frozen_layers.contains(&l) {
                continue;
            }
            let [bs, m] = g.clipped.dims();
            outcome.clipped += to_vec_f64(g.clipped.float().sum())[0] as usize;
            outcome.columns += bs * m;
            let w = self.network.layers[l].weights.val();
            let (w, state) = self.adam.step(lr, w, g.weights, self.states[l].take());
            self.states[l] = state;
            self.network.set_weights(l, w);
        }
        self.clip_weights();
        self.follow(&before);
        outcome
    }

    /// Saves the network, Adam's moments, the bump state, the feedback rule and the chip's
    /// trial-noise stream (see [`crate::train::resume`]).
    pub fn save_state(&self, state: &mut LearnerState) {
        state.put_module("network", &self.network);
        let mut times = Vec::new();
        for (l, s) in self.states.iter().enumerate() {
            times.push(s.as_ref().map(|s| s.momentum.time));
            if let Some(s) = s {
                state.put_tensor(format!("adam.{l}.moment_1"), s.momentum.moment_1.clone());
                state.put_tensor(format!("adam.{l}.moment_2"), s.momentum.moment_2.clone());
            }
        }
        state.put("adam.time", times);
        state.put("bump", (self.bumper.value.to_bits(), self.bumper.last));
        put_feedback(state, self.feedback.as_ref());
        if let Some(c) = &self.chip {
            c.save_state(state);
        }
    }

    /// Continues from [`Self::save_state`], `completed` epochs into the run.
    ///
    /// # Errors
    /// What in `state` does not fit this trainer's network.
    pub fn restore_state(&mut self, state: &LearnerState, completed: usize) -> Result<(), String> {
        let device = self.network.layers[0].weights.val().device();
        self.network = state.module("network", self.network.clone())?;
        let times: Vec<Option<usize>> = state.get("adam.time")?;
        if times.len() != self.states.len() {
            return Err(format!(
                "Adam states for {} layers, not {}",
                times.len(),
                self.states.len()
            ));
        }
        for (l, time) in times.into_iter().enumerate() {
            self.states[l] = match time {
                Some(time) => {
                    let m1 = state.tensor::<2>(&format!("adam.{l}.moment_1"), &device)?;
                    let m2 = state.tensor::<2>(&format!("adam.{l}.moment_2"), &device)?;
                    Some(AdamState::new(AdaptiveMomentumState::new(time, m1, m2)))
                }
                None => None,
            };
        }
        let (value, last): (u64, Option<usize>) = state.get("bump")?;
        (self.bumper.value, self.bumper.last) = (f64::from_bits(value), last);
        restore_feedback(state, self.feedback.as_mut(), &device)?;
        if let Some(c) = &mut self.chip {
            c.restore_state(&self.network, state, completed)?;
        }
        Ok(())
    }

    /// Clips every trainable layer's weights to the chip's range ([`Self::weight_limit`]).
    fn clip_weights(&mut self) {
        let Some(limit) = self.weight_limit else { return };
        for l in 0..self.network.layers.len() {
            if !self.cfg.training.frozen_layers.contains(&l) {
                let w = self.network.layers[l].weights.val().clamp(-limit, limit);
                self.network.set_weights(l, w);
            }
        }
    }

    /// Lets the feedback rule see this batch's change of the weights from `before` (a step
    /// or a bump) and writes back what it rewrites (Kolen–Pollack's decay).
    fn follow(&mut self, before: &[Tensor<2>]) {
        let frozen = &self.cfg.training.frozen_layers;
        let mut after = self.weights();
        if self.feedback.after_update(before, &mut after, frozen) {
            for (l, w) in after.into_iter().enumerate() {
                if !frozen.contains(&l) {
                    self.network.set_weights(l, w);
                }
            }
        }
    }

    /// The feedback columns of `metrics.csv` after an epoch: the rule's own (SAL's sleep),
    /// then per feedback matrix its angle, norm ratio and sign agreement with what it stands in
    /// for, and the angle between the rule's hidden errors and backprop's on `probe`.
    pub fn feedback_columns(
        &mut self,
        epoch: usize,
        probe: Option<&SpikeDataset>,
        device: &Device,
    ) -> Vec<(String, f64)> {
        let weights = self.weights();
        let (network, cfg) = (&self.network, self.cfg);
        let delta_angles = |path: &ErrorPath| {
            let (x, y) = probe?.clone().into_tensors(device);
            let trace = network.forward_trace(x);
            let out = cfg.loss.forward(trace.output(), y);
            let max_dw = Some(cfg.training.max_dw_norm).filter(|m| *m > 0.0);
            let ours = network.backward_along(&trace, out.delta.clone(), max_dw, path);
            let bp = network.backward(&trace, out.delta, max_dw);
            Some(ours.deltas.into_iter().zip(bp.deltas).map(|(a, b)| error_angle(a, b)).collect())
        };
        epoch_columns(self.feedback.as_mut(), epoch, &weights, delta_angles)
    }
}

/// The first-spike-time trainer on `device`, for the shared epoch loop.
pub struct TtfsLearner<'a> {
    /// The trainer.
    pub trainer: Trainer<'a>,
    /// The device.
    pub device: Device,
    /// The epoch's first batch, on which the feedback columns compare errors (`None` until
    /// the epoch's first step).
    probe: Option<SpikeDataset>,
}

impl<'a> TtfsLearner<'a> {
    /// A fresh network and optimiser for `cfg` on `device`, and the run's random stream
    /// ([`TrainingRng::new`], which drew the initial weights).
    pub fn seeded(cfg: &'a ExperimentConfig, device: &Device) -> (Self, TrainingRng) {
        let mut rng = TrainingRng::new(cfg);
        let trainer = Trainer::with_network(cfg, rng.init_network(cfg, device));
        (Self { trainer, device: device.clone(), probe: None }, rng)
    }
}

impl Learner for TtfsLearner<'_> {
    fn step(&mut self, batch: SpikeDataset, lr: f64) -> StepOutcome {
        if self.probe.is_none() {
            self.probe = Some(batch.clone());
        }
        let labels = batch.labels.clone();
        let (x, y) = batch.into_tensors(&self.device);
        self.trainer.step(x, y, &labels, lr)
    }

    fn evaluate(&self, data: &SpikeDataset, batch_size: usize) -> Evaluation {
        let (cfg, net) = (self.trainer.cfg, &self.trainer.network);
        match &self.trainer.chip {
            Some(c) => evaluate_on_chip(net, &c.chip, data, batch_size, &cfg.loss, &self.device),
            None => evaluate(net, data, batch_size, &cfg.loss, &self.device),
        }
    }

    fn end_epoch(&mut self, epoch: usize) -> Vec<(String, f64)> {
        if let Some(c) =
            self.trainer.chip.as_mut().filter(|c| c.mode == crate::chip::ChipMode::Aware)
        {
            c.redraw(&self.trainer.network, epoch);
        }
        let probe = self.probe.take();
        self.trainer.feedback_columns(epoch, probe.as_ref(), &self.device)
    }

    fn non_finite(&self) -> Option<String> {
        first_non_finite_layer(self.trainer.weights())
    }

    fn save_state(&self) -> Result<LearnerState, String> {
        let mut state = LearnerState::default();
        self.trainer.save_state(&mut state);
        put_probe(&mut state, self.probe.as_ref());
        Ok(state)
    }

    fn restore_state(&mut self, state: &LearnerState, completed: usize) -> Result<(), String> {
        self.trainer.restore_state(state, completed)?;
        self.probe = probe(state)?;
        Ok(())
    }

    fn into_trained(self: Box<Self>) -> Box<dyn TrainedModel> {
        let Trainer { network, feedback, test_chips, .. } = self.trainer;
        with_chips(WithFeedback::wrap(Box::new(network), feedback.as_ref()), test_chips)
    }
}

/// Train a first-spike-time network on `train`, validating on `validation` after every epoch.
///
/// # Errors
/// [`Diverged`] if a loss or a weight stops being finite.
pub fn train(
    cfg: &ExperimentConfig,
    train: &SpikeDataset,
    validation: &SpikeDataset,
    device: &Device,
    on_event: &mut dyn FnMut(TrainEvent<'_>),
) -> Result<TrainOutcome<SpikeTimeNetwork>, Diverged> {
    let (mut learner, mut rng) = TtfsLearner::seeded(cfg, device);
    let run = run_epochs(cfg, &mut learner, train, validation, &mut rng, on_event)?;
    Ok(TrainOutcome {
        network: learner.trainer.network,
        history: run.history,
        train_seconds: run.seconds,
        interrupted: run.interrupted,
    })
}

impl TrainedModel for SpikeTimeNetwork {
    fn test(&self, data: &SpikeDataset, cfg: &ExperimentConfig, device: &Device) -> Evaluation {
        evaluate(self, data, cfg.training.batch_size_eval, &cfg.loss, device)
    }

    fn test_on_chip(
        &self,
        chip: &crate::chip::Chip,
        data: &SpikeDataset,
        cfg: &ExperimentConfig,
        device: &Device,
    ) -> Option<Evaluation> {
        let bs = cfg.training.batch_size_eval;
        Some(evaluate_on_chip(self, chip, data, bs, &cfg.loss, device))
    }

    /// The checkpoint and the reference layout (`weights.safetensors`).
    fn save(&self, run: &RunDir, cfg: &ExperimentConfig) -> Result<(), IoError> {
        super::model::save_checkpoint_of(self, run, cfg)?;
        weights::save_reference_weights(self, &run.file(files::WEIGHTS))
    }

    /// `raster.svg`/`.png`: the first test samples' spike times in every layer.
    fn write_reports(
        &self,
        cfg: &ExperimentConfig,
        data: &crate::data::Splits,
        device: &Device,
        run: &RunDir,
    ) -> Result<Vec<String>, IoError> {
        let n = data.test.len().min(RASTER_SAMPLES);
        if n == 0 {
            return Ok(Vec::new());
        }
        let idx: Vec<usize> = (0..n).collect();
        let (x, _) = data.test.batch(&idx, device);
        let trace = self.forward_trace(x);
        // The prediction as the evaluation makes it.
        let predictions = predict(trace.output());
        let layers: Vec<(Vec<f64>, usize)> =
            trace.activations.iter().map(|a| (to_vec_f64(a.clone()), a.dims()[1])).collect();
        let samples = (0..n)
            .map(|s| {
                let predicted = predictions[s].map_or("none".to_string(), |p| p.to_string());
                let title =
                    format!("sample {s}: label {}, predicted {predicted}", data.test.labels[s]);
                let per_layer = layers
                    .iter()
                    .enumerate()
                    .map(|(l, (v, w))| {
                        let times = v[s * w..(s + 1) * w]
                            .iter()
                            .map(|&t| if t.is_finite() { vec![t] } else { Vec::new() })
                            .collect();
                        (layer_name(l, layers.len()), times)
                    })
                    .collect();
                (title, per_layer)
            })
            .collect();
        write_raster(run, &cfg.name, "time (model units)", samples)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feedback::FeedbackRuleName;
    use crate::ttfs::SpikeTimeLayerConfig;
    use burn::tensor::TensorData;
    use rand::SeedableRng;

    fn net() -> SpikeTimeNetwork {
        let device = Device::default();
        let mut rng = StdRng::seed_from_u64(0);
        SpikeTimeNetwork {
            layers: vec![
                SpikeTimeLayerConfig::new(2, 3).init(&device, &mut rng),
                SpikeTimeLayerConfig::new(3, 2).init(&device, &mut rng),
            ],
        }
    }

    fn t(v: &[f64], shape: [usize; 2]) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v.to_vec(), shape), &Device::default())
    }

    /// The run folder's raster has a dot for every spike of the first test samples in every
    /// layer (inputs, hidden, output), and a legend dot per layer.
    #[test]
    fn raster_shows_every_spike_of_the_first_samples() {
        let net = net();
        let inf = f64::INFINITY;
        let times = vec![0.1, 0.5, inf, 0.2, 0.3, 0.3];
        let test = SpikeDataset { n_inputs: 2, times: times.clone(), labels: vec![0, 1, 1] };
        let data = crate::data::Splits { train: test.clone(), validation: test.clone(), test };
        let dir = std::env::temp_dir().join(format!("spikeburn-raster-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let run = RunDir { path: dir.clone() };
        let cfg = ExperimentConfig::default();
        let lines = net.write_reports(&cfg, &data, &Device::default(), &run).unwrap();
        assert!(lines[0].contains("3 test samples"), "{lines:?}");
        let trace = net.forward_trace(t(&times, [3, 2]));
        let spikes: usize = trace
            .activations
            .iter()
            .map(|a| to_vec_f64(a.clone()).iter().filter(|v| v.is_finite()).count())
            .sum();
        assert!(spikes > 5, "the hidden or output layer fires: {spikes}");
        let svg = std::fs::read_to_string(dir.join("raster.svg")).unwrap();
        assert_eq!(svg.matches("<circle").count(), spikes + 3, "one dot per spike + legend");
        assert!(dir.join("raster.png").is_file());
        std::fs::remove_dir_all(dir).ok();
    }

    /// Hidden layer: 2 samples × 3 neurons, neuron 1 silent once (1/6 missing), neuron 2
    /// silent twice (3/6 missing in all > 0.3): bump neurons 1 and 2 of layer 0 only.
    #[test]
    fn bumps_first_offending_layer_targeted_and_exponential() {
        let inf = f64::INFINITY;
        let mut n = net();
        let before = to_vec_f64(n.layers[0].weights.val());
        let acts = vec![
            t(&[0.0; 4], [2, 2]),
            t(&[1.0, inf, inf, 1.0, 1.0, inf], [2, 3]),
            t(&[inf, inf, inf, inf], [2, 2]),
        ];
        let mut b = Bumper { base: 0.01, value: 0.01, last: None };
        assert_eq!(b.check(&mut n, &acts, &[0.3, 0.0], &[]), Some(0));
        let after = to_vec_f64(n.layers[0].weights.val());
        for (k, (a, o)) in after.iter().zip(&before).enumerate() {
            let expect = if k % 3 == 0 { 0.0 } else { 0.01 };
            assert!((a - o - expect).abs() < 1e-6, "weight {k}");
        }
        // Same layer again: the bump doubles.
        assert_eq!(b.check(&mut n, &acts, &[0.3, 0.0], &[]), Some(0));
        let again = to_vec_f64(n.layers[0].weights.val());
        assert!((again[1] - after[1] - 0.02).abs() < 1e-6);
        // Hidden fine, output silent: the output layer is bumped, value reset.
        let ok_hidden = vec![acts[0].clone(), t(&[1.0; 6], [2, 3]), acts[2].clone()];
        assert_eq!(b.check(&mut n, &ok_hidden, &[0.3, 0.0], &[]), Some(1));
        assert_eq!(b.value, 0.01);
        // Nothing silent: no bump, state reset.
        let all_fire = vec![acts[0].clone(), t(&[1.0; 6], [2, 3]), t(&[1.0; 4], [2, 2])];
        assert_eq!(b.check(&mut n, &all_fire, &[0.3, 0.0], &[]), None);
        assert_eq!(b.last, None);
    }

    /// A short real training run on Yin-Yang learns (the full accuracy targets are measured by
    /// the release benchmarks, see BENCHMARKS.md).
    /// The same seed gives the same network, bit for bit (thread scheduling must not leak into
    /// the arithmetic), and another seed a different one.
    #[test]
    fn training_is_reproducible() {
        let mut cfg = ExperimentConfig::default();
        cfg.training.epochs = 2;
        let data = crate::data::DatasetName::Yinyang.load(None).expect("generated");
        let device = Device::default();
        let weights = |cfg: &ExperimentConfig| {
            let out =
                train(cfg, &data.train, &data.validation, &device, &mut |_| {}).expect("finite");
            out.network.layers.iter().flat_map(|l| to_vec_f64(l.weights.val())).collect::<Vec<_>>()
        };
        let a = weights(&cfg);
        assert_eq!(a, weights(&cfg));
        cfg.seed = 1;
        assert_ne!(a, weights(&cfg));
    }

    /// Ten epochs of the default configuration learn *with* the hidden layer. The bound is what
    /// a network whose hidden layer never learns reaches in the same 10 epochs: the same run
    /// with the hidden layer frozen at its initial weights (the random-feature control, run
    /// here: the readout alone learns). Measured (seed 0): 0.926 against the control's 0.792;
    /// over seeds 0–4 the full run reaches ≥ 0.905, the control ≤ 0.857, so 0.88 lies between.
    /// (Trained to convergence, 300 epochs, the control reaches 89–93 %, BENCHMARKS.md: it is the
    /// same budget that separates them.)
    #[test]
    fn hidden_layer_learns_beyond_the_frozen_control() {
        let mut cfg = ExperimentConfig::default();
        cfg.training.epochs = 10;
        let data = crate::data::DatasetName::Yinyang.load(None).expect("generated");
        let device = Device::default();
        let full =
            train(&cfg, &data.train, &data.validation, &device, &mut |_| {}).expect("finite");
        cfg.training.frozen_layers = vec![0];
        let control =
            train(&cfg, &data.train, &data.validation, &device, &mut |_| {}).expect("finite");
        let (f, c) = (full.history[9].val_accuracy, control.history[9].val_accuracy);
        println!("validation after 10 epochs: {f} (control with frozen hidden layer {c})");
        assert!(f > 0.88 && f > c + 0.05, "hidden layer does not learn: {f} vs control {c}");
        assert!(full.history.iter().all(|m| m.train_loss.is_finite()));
        // The control's hidden weights are exactly the initial ones; its readout did learn.
        let init = TrainingRng::new(&cfg).init_network(&cfg, &device);
        let w = |n: &SpikeTimeNetwork, l: usize| to_vec_f64(n.layers[l].weights.val());
        assert_eq!(w(&control.network, 0), w(&init, 0));
        assert_ne!(w(&control.network, 1), w(&init, 1));
    }

    /// A 1–2–2 network without bias spikes and hand-set weights.
    fn tiny(w0: [f64; 2], w1: [f64; 4]) -> SpikeTimeNetwork {
        let layer = |n_in: usize, w: &[f64]| {
            SpikeTimeLayerConfig::new(n_in, 2).init_with_weights(t(w, [n_in, 2]))
        };
        SpikeTimeNetwork { layers: vec![layer(1, &w0), layer(2, &w1)] }
    }

    /// Spikes per sample and the decision time, against the scalar oracle: hidden neuron 0
    /// fires (weight 3), hidden neuron 1 never does (weight −1); output 0 fires from hidden 0,
    /// output 1 fires only for the early input (its weight from hidden 0 is smaller). Each
    /// sample's spike count is its finite hidden and output times; the decision time is the
    /// earliest output spike, averaged over the samples with a unique earliest output.
    #[test]
    fn evaluation_counts_spikes_and_decision_times() {
        use crate::ttfs::neuron::{NeuronParams, TauRatio};
        use crate::ttfs::scalar::first_spike_time;
        let (w0, w1) = ([3.0, -1.0], [4.0, 2.2, 0.5, 0.5]);
        let net = tiny(w0, w1);
        let data = SpikeDataset { n_inputs: 1, times: vec![0.1, 0.8, 1.5], labels: vec![0, 1, 0] };
        let eval = evaluate(&net, &data, 2, &TtfsLoss::default(), &Device::default());
        let p = NeuronParams::reference(TauRatio::Equal);
        let (mut spikes, mut decided, mut decision, mut correct) = (0.0, 0.0, 0.0, 0.0);
        for (&x, &label) in data.times.iter().zip(&data.labels) {
            let hidden: Vec<f64> = (0..2).map(|j| first_spike_time(&p, &[x], &[w0[j]])).collect();
            let out: Vec<f64> =
                (0..2).map(|j| first_spike_time(&p, &hidden, &[w1[j], w1[2 + j]])).collect();
            spikes += hidden.iter().chain(&out).filter(|t| t.is_finite()).count() as f64;
            let first = out[0].min(out[1]);
            if first.is_finite() && out[0] != out[1] {
                decided += 1.0;
                decision += first;
                correct += f64::from(u8::from((out[1] < out[0]) == (label == 1)));
            }
        }
        assert!(spikes >= 4.0, "the case must have spikes to count: {spikes}");
        assert!(
            (eval.mean_spikes - spikes / 3.0).abs() < 1e-9,
            "{} vs {}",
            eval.mean_spikes,
            spikes / 3.0
        );
        let mean = eval.mean_decision_time.expect("samples decided");
        assert!((mean - decision / decided).abs() < 1e-5, "{eval:?}");
        assert!((eval.accuracy - correct / 3.0).abs() < 1e-12, "{eval:?}");
    }

    /// A batch spent on weight bumping takes no optimizer step: the loss is `None`, Adam has no
    /// state, the output layer is untouched, and the silent hidden layer's incoming weights rose
    /// by exactly the bump value. The next batch with a firing network steps every layer.
    #[test]
    fn bumped_batches_take_no_optimizer_step() {
        let mut cfg = ExperimentConfig::default();
        cfg.network.hidden = vec![2];
        cfg.dataset = crate::data::DatasetName::Yinyang;
        let device = Device::default();
        let mut net = TrainingRng::new(&cfg).init_network(&cfg, &device);
        let w0 = net.layers[0].weights.val();
        net.set_weights(0, w0.ones_like().mul_scalar(-1.0)); // every hidden neuron silent
        let mut trainer = Trainer::with_network(&cfg, net);
        let before: Vec<Vec<f64>> =
            trainer.network.layers.iter().map(|l| to_vec_f64(l.weights.val())).collect();
        let data = crate::data::DatasetName::Yinyang.load(None).expect("generated");
        let batch = data.train.subset(&(0..8).collect::<Vec<_>>());
        let labels = batch.labels.clone();
        let (x, y) = batch.into_tensors(&device);
        let outcome = trainer.step(x.clone(), y.clone(), &labels, 0.005);
        assert_eq!(outcome.loss, None, "a bumped batch has no loss");
        assert!(trainer.states.iter().all(Option::is_none), "Adam took a step");
        let after: Vec<Vec<f64>> =
            trainer.network.layers.iter().map(|l| to_vec_f64(l.weights.val())).collect();
        assert_eq!(after[1], before[1], "the output layer changed");
        for (a, b) in after[0].iter().zip(&before[0]) {
            assert!((a - b - cfg.training.bump_value).abs() < 1e-7, "{a} vs {b}");
        }
        // The same network with bumping off (any silence tolerated): the step is taken.
        cfg.training.max_missing = vec![1.0, 1.0];
        let net = TrainingRng::new(&cfg).init_network(&cfg, &device);
        let mut trainer = Trainer::with_network(&cfg, net);
        let outcome = trainer.step(x, y, &labels, 0.005);
        assert!(outcome.loss.is_some() && trainer.states.iter().all(Option::is_some));
    }

    /// Kolen–Pollack's `B` follows a weight bump as it follows a step: on a batch that bumps
    /// the silent output layer, `W − B` (real rows) shrinks by exactly `1 − λ`, as on a step.
    #[test]
    fn kolen_pollack_feedback_follows_bumps() {
        let mut cfg = ExperimentConfig::default();
        cfg.network.hidden = vec![4];
        cfg.dataset = crate::data::DatasetName::Yinyang;
        cfg.feedback.rule = FeedbackRuleName::Kp;
        cfg.feedback.kp_decay = 0.01;
        let device = Device::default();
        let mut net = TrainingRng::new(&cfg).init_network(&cfg, &device);
        let w1 = net.layers[1].weights.val();
        net.set_weights(1, w1.ones_like().mul_scalar(-1.0)); // every output neuron silent
        let w0 = net.layers[0].weights.val();
        net.set_weights(0, w0.ones_like().mul_scalar(2.0)); // hidden neurons fire
        let mut trainer = Trainer::with_network(&cfg, net);
        let gap = |t: &Trainer| -> Vec<f64> {
            let b = to_vec_f64(t.feedback.matrices()[0].clone());
            let w = to_vec_f64(t.network.layers[1].weights.val().narrow(0, 0, 4));
            w.iter().zip(&b).map(|(w, b)| w - b).collect()
        };
        let before = gap(&trainer);
        let w_before = to_vec_f64(trainer.network.layers[1].weights.val());
        let data = crate::data::DatasetName::Yinyang.load(None).expect("generated");
        let batch = data.train.subset(&(0..8).collect::<Vec<_>>());
        let labels = batch.labels.clone();
        let (x, y) = batch.into_tensors(&device);
        let outcome = trainer.step(x, y, &labels, 0.005);
        assert_eq!(outcome.loss, None, "the batch must be a bump");
        let w_after = to_vec_f64(trainer.network.layers[1].weights.val());
        assert!(w_after.iter().zip(&w_before).any(|(a, b)| a != b), "the output layer moved");
        for (a, b) in gap(&trainer).iter().zip(&before) {
            assert!((a - 0.99 * b).abs() < 1e-6, "{a} vs 0.99 × {b}");
        }
    }
}
