//! Training the surrogate-gradient networks: backpropagation through time with Burn's autodiff
//! and Adam, driven by the shared epoch loop ([`run_epochs`]).

use std::any::Any;

use crate::util::StdRng;
use burn::module::{Module, Param};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;

use super::chip::{ChipSession, evaluate_surrogate_on_chip, training_session, with_chips};
use super::config::ExperimentConfig;
use super::epochs::{
    Diverged, Learner, StepOutcome, TrainEvent, TrainOutcome, first_non_finite_layer, run_epochs,
};
use super::evaluation::{Evaluation, Tally};
use super::model::{TrainedModel, WithFeedback};
use super::plots::{RASTER_SAMPLES, layer_name, write_raster};
use super::resume::{LearnerState, probe, put_feedback, put_probe, restore_feedback};
use super::rng::TrainingRng;
use crate::chip::{Chip, ChipMode};
use crate::data::SpikeDataset;
use crate::error_path::ErrorPath;
use crate::feedback::{FeedbackRule, epoch_columns, error_angle};
use crate::io::{IoError, RunDir};
use crate::readout::{decisions, unique_argmax};
use crate::surrogate::network::NetworkTrace;
use crate::surrogate::{SurrogateNetwork, SurrogateOnChip};
use crate::util::to_vec_f64;

/// Seed offset of the evaluation encoder (rate coding draws spikes; evaluation is repeatable).
const EVAL_SEED: u64 = 0x5EED_0E7A;

/// Build the surrogate network of a configuration, weights drawn from `rng`.
pub fn build_surrogate_network(
    cfg: &ExperimentConfig,
    device: &Device,
    rng: &mut StdRng,
) -> SurrogateNetwork {
    SurrogateNetwork {
        layers: cfg.surrogate_layer_configs().iter().map(|c| c.init(device, rng)).collect(),
        readout: cfg.surrogate.readout,
        encoder: cfg.surrogate.encoder,
    }
}

fn labels_tensor(labels: &[usize], device: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
    Tensor::from_data(TensorData::new(v, [labels.len()]), device)
}

/// Evaluate a surrogate network on all of `data` (rate-coded inputs are drawn from a fixed
/// seed, so evaluations repeat exactly).
pub fn evaluate_surrogate(
    net: &SurrogateNetwork,
    data: &SpikeDataset,
    batch_size: usize,
    cfg: &ExperimentConfig,
    device: &Device,
) -> Evaluation {
    evaluate_surrogate_with(net, data, batch_size, cfg, device, |x| net.forward(x))
}

/// [`evaluate_surrogate`] with each batch's trace computed by `forward` from the encoded
/// inputs (e.g. on an emulated chip).
pub fn evaluate_surrogate_with(
    net: &SurrogateNetwork,
    data: &SpikeDataset,
    batch_size: usize,
    cfg: &ExperimentConfig,
    device: &Device,
    mut forward: impl FnMut(&[Tensor<2>]) -> NetworkTrace,
) -> Evaluation {
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ EVAL_SEED);
    let grid = net.grid();
    let mut tally = Tally::default();
    let indices: Vec<usize> = (0..data.len()).collect();
    for chunk in indices.chunks(batch_size) {
        let batch = data.subset(chunk);
        let inputs = net.encode(&batch.times, batch.n_inputs, &mut rng, device);
        let trace = forward(&inputs);
        let scores = net.scores(&trace);
        let y = labels_tensor(&batch.labels, device);
        let loss = net.loss(scores.clone(), y, cfg.surrogate.logit_scale);
        tally.loss += to_vec_f64(loss.sum())[0];
        for (l, layer) in trace.layers.iter().enumerate() {
            if net.layers[l].cell.spiking {
                tally.spikes += to_vec_f64(Tensor::stack::<3>(layer.spikes.clone(), 0).sum())[0];
            }
        }
        let classes = scores.dims()[1];
        let running = net.running_scores(&trace);
        let decided = decisions(&running, grid.steps, chunk.len(), classes);
        for ((prediction, from), label) in decided.into_iter().zip(&batch.labels) {
            tally.add(prediction, *label, from.map(|k| (k + 1) as f64 * grid.dt));
        }
        tally.outputs.extend(to_vec_f64(scores));
    }
    tally.finish(data.len())
}

/// A burnpack optimizer record with its tensors sorted by name: Burn writes them in the order
/// of a hash map, so the same state would give other bytes in every process.
fn canonical_record(bytes: burn::tensor::Bytes) -> Result<Vec<u8>, burn::store::burn_pack::Error> {
    use burn::store::burn_pack::{Reader, Writer};
    let reader = Reader::from_bytes(bytes)?;
    let (scalars, metadata) = (reader.scalars().clone(), reader.metadata().clone());
    let mut tensors = reader.into_tensors()?;
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    let mut writer = Writer::new(tensors);
    for (k, v) in &scalars {
        writer = writer.with_scalar(k, *v);
    }
    for (k, v) in &metadata {
        writer = writer.with_metadata(k, v);
    }
    Ok(writer.into_bytes()?.to_vec())
}

/// Adam as `cfg` sets it.
fn adam(cfg: &ExperimentConfig) -> ModuleOptimizer {
    let t = &cfg.training;
    AdamConfig::new()
        .with_beta_1(t.adam_beta1 as f32)
        .with_beta_2(t.adam_beta2 as f32)
        .with_epsilon(t.adam_epsilon as f32)
        .init()
}

/// The optimisation state of a surrogate-gradient run: the network on the autodiff device,
/// Adam, and the encoder's random stream.
pub struct SurrogateLearner<'a> {
    cfg: &'a ExperimentConfig,
    /// The network (parameters on the autodiff device).
    pub network: SurrogateNetwork,
    /// How the error reaches the hidden layers (`cfg.feedback`).
    pub feedback: Box<dyn FeedbackRule>,
    /// The epoch's first batch, on which the feedback columns compare errors.
    probe: Option<SpikeDataset>,
    optimizer: ModuleOptimizer,
    device: Device,
    rng: StdRng,
    /// The chip training runs on (`in-the-loop`, `exact` or `aware`; `None` for ideal
    /// training).
    pub chip: Option<ChipSession<SurrogateOnChip>>,
    /// The chips the trained network is tested on (`[chip]`; none without a chip).
    pub test_chips: Vec<Chip>,
    /// With a chip of limited weight resolution (any mode): its largest weight; weights are
    /// clipped to ± this after every step, so training learns weights the chip can realise.
    pub weight_limit: Option<f64>,
}

impl<'a> SurrogateLearner<'a> {
    /// A fresh network (weights from `rng`) and Adam for `cfg`, computing on `device`.
    pub fn new(cfg: &'a ExperimentConfig, device: &Device, rng: &mut StdRng) -> Self {
        let network = build_surrogate_network(cfg, &device.clone().autodiff(), rng);
        let network = super::resume::number_params(network);
        let optimizer = adam(cfg);
        let rng = StdRng::seed_from_u64(cfg.seed.wrapping_add(1));
        let feedback = cfg.feedback.init(
            &network.shapes(),
            &cfg.network.weight_init,
            cfg.seed,
            &device.clone().autodiff(),
        );
        // Resolved once per run (validation already read the same files).
        let test_chips = cfg.chips().unwrap_or_else(|e| panic!("{e}"));
        let weight_limit = test_chips.first().and_then(|c| c.profile.weights.max_weight());
        let chip = training_session(&network, &test_chips, cfg.chip.mode);
        Self {
            cfg,
            network,
            feedback,
            probe: None,
            optimizer,
            device: device.clone(),
            rng,
            chip,
            test_chips,
            weight_limit,
        }
    }

    /// Saves the network (parameters and ids), Adam's record, the encoder's and the chip's
    /// random streams and the feedback rule (see [`crate::train::resume`]).
    fn save(&self, state: &mut LearnerState) -> Result<(), String> {
        state.put_module("network", &self.network);
        let record = self.optimizer.into_bytes().map_err(|e| format!("Adam's state: {e}"))?;
        state
            .put_bytes("adam", canonical_record(record).map_err(|e| format!("Adam's state: {e}"))?);
        state.put_rng("encoder", &self.rng);
        put_feedback(state, self.feedback.as_ref());
        if let Some(c) = &self.chip {
            c.save_state(state);
        }
        put_probe(state, self.probe.as_ref());
        Ok(())
    }

    /// Continues from [`Self::save`], `completed` epochs into the run.
    fn restore(&mut self, state: &LearnerState, completed: usize) -> Result<(), String> {
        self.network = state.module("network", self.network.clone())?;
        let record = burn::tensor::Bytes::from_bytes_vec(state.bytes("adam")?);
        self.optimizer =
            adam(self.cfg).from_bytes(record).map_err(|e| format!("Adam's state: {e}"))?;
        self.rng = state.rng("encoder")?;
        restore_feedback(state, self.feedback.as_mut(), &self.device.clone().autodiff())?;
        if let Some(c) = &mut self.chip {
            c.restore_state(&self.network, state, completed)?;
        }
        self.probe = probe(state)?;
        Ok(())
    }

    /// Every layer's weights (detached), input side first.
    pub fn weights(&self) -> Vec<Tensor<2>> {
        self.network.layers.iter().map(|l| l.weights.val().detach()).collect()
    }

    /// A fresh learner for `cfg` on `device` and the run's random stream: spikeburn's
    /// generator seeded with `cfg.seed`, which drew the initial weights.
    pub fn seeded(cfg: &'a ExperimentConfig, device: &Device) -> (Self, TrainingRng) {
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let learner = Self::new(cfg, device, &mut rng);
        (learner, TrainingRng::Spikeburn(Box::new(rng)))
    }

    /// The trained network without autodiff (for evaluation and saving).
    pub fn inference_network(&self) -> SurrogateNetwork {
        self.network.valid()
    }
}

impl Learner for SurrogateLearner<'_> {
    /// Encode, run the sequence, cross-entropy of the scaled scores, backpropagation through
    /// time, one Adam step. Every batch starts from rest: no state or graph crosses batches.
    fn step(&mut self, batch: SpikeDataset, lr: f64) -> StepOutcome {
        let device = self.device.clone().autodiff();
        if self.probe.is_none() {
            self.probe = Some(batch.clone());
        }
        let inputs = self.network.encode(&batch.times, batch.n_inputs, &mut self.rng, &device);
        let before = self.weights();
        let path = self.feedback.path(&before);
        let trace = match &mut self.chip {
            Some(c) if c.mode == ChipMode::Exact => {
                c.view.forward(&self.network, &inputs, &path, &mut c.noise)
            }
            Some(c) => c.view.forward_in_the_loop(&self.network, &inputs, &path, &mut c.noise),
            None => self.network.forward_along(&inputs, &path),
        };
        let scores = self.network.scores(&trace);
        let classes = scores.dims()[1];
        let values = to_vec_f64(scores.clone().detach().inner());
        let correct = batch
            .labels
            .iter()
            .enumerate()
            .filter(|(b, l)| unique_argmax(&values[b * classes..(b + 1) * classes]) == Some(**l))
            .count();
        let y = labels_tensor(&batch.labels, &device);
        let loss = self.network.loss(scores, y, self.cfg.surrogate.logit_scale).mean();
        let loss_value = to_vec_f64(loss.clone().detach().inner())[0];
        let mut grads = GradientsParams::from_grads(loss.backward(), &self.network);
        for &l in &self.cfg.training.frozen_layers {
            let _ = grads.remove::<2>(self.network.layers[l].weights.id);
        }
        self.network = self.optimizer.step(lr, self.network.clone(), grads);
        let frozen = &self.cfg.training.frozen_layers;
        let mut after = self.weights();
        let rewritten = self.feedback.after_update(&before, &mut after, frozen);
        if rewritten || self.weight_limit.is_some() {
            for (l, w) in after.into_iter().enumerate() {
                if !frozen.contains(&l) {
                    let w = match self.weight_limit {
                        Some(limit) => w.clamp(-limit, limit).detach(),
                        None => w,
                    };
                    let layer = &mut self.network.layers[l];
                    // `after_update` hands back detached tensors: fresh leaves that can track.
                    layer.weights = Param::initialized(layer.weights.id, w.require_grad());
                }
            }
        }
        StepOutcome::stepped(loss_value, correct)
    }

    /// The feedback columns of `metrics.csv` (as the first-spike-time trainer's): the rule's
    /// own, alignment of every matrix, and the angle between the hidden layers' errors under
    /// the rule and under backprop on the epoch's first batch (same encoded inputs).
    fn end_epoch(&mut self, epoch: usize) -> Vec<(String, f64)> {
        if let Some(c) = self.chip.as_mut().filter(|c| c.mode == ChipMode::Aware) {
            c.redraw(&self.network, epoch);
        }
        let weights = self.weights();
        let probe = self.probe.take();
        let (network, cfg, device) = (&self.network, self.cfg, &self.device);
        let delta_angles = |path: &ErrorPath| {
            let batch = probe?;
            let device = device.clone().autodiff();
            let mut rng = StdRng::seed_from_u64(cfg.seed ^ EVAL_SEED ^ epoch as u64);
            let inputs = network.encode(&batch.times, batch.n_inputs, &mut rng, &device);
            let errors = |p: &ErrorPath| hidden_errors(network, cfg, &inputs, &batch.labels, p);
            let (ours, bp) = (errors(path), errors(&ErrorPath::Backprop));
            Some(ours.into_iter().zip(bp).map(|(a, b)| error_angle(a, b)).collect())
        };
        epoch_columns(self.feedback.as_mut(), epoch, &weights, delta_angles)
    }

    fn evaluate(&self, data: &SpikeDataset, batch_size: usize) -> Evaluation {
        let (net, cfg, device) = (&self.inference_network(), self.cfg, &self.device);
        match &self.chip {
            Some(c) => evaluate_surrogate_on_chip(net, &c.chip, data, batch_size, cfg, device),
            None => evaluate_surrogate(net, data, batch_size, cfg, device),
        }
    }

    fn non_finite(&self) -> Option<String> {
        first_non_finite_layer(self.weights())
    }

    fn save_state(&self) -> Result<LearnerState, String> {
        let mut state = LearnerState::default();
        self.save(&mut state)?;
        Ok(state)
    }

    fn restore_state(&mut self, state: &LearnerState, completed: usize) -> Result<(), String> {
        self.restore(state, completed)
    }

    fn into_trained(self: Box<Self>) -> Box<dyn TrainedModel> {
        let network = Box::new(self.inference_network());
        with_chips(WithFeedback::wrap(network, self.feedback.as_ref()), self.test_chips)
    }
}

/// The error each hidden layer's spikes of `network` (on the autodiff device) receive on the
/// encoded `inputs` along `path`, per hidden layer flattened over steps (for comparing rules
/// with backprop).
fn hidden_errors(
    network: &SurrogateNetwork,
    cfg: &ExperimentConfig,
    inputs: &[Tensor<2>],
    labels: &[usize],
    path: &ErrorPath,
) -> Vec<Tensor<2>> {
    let device = inputs[0].device();
    let (trace, probes) = network.forward_probed(inputs, path, true);
    let scores = network.scores(&trace);
    let y = labels_tensor(labels, &device);
    let loss = network.loss(scores, y, cfg.surrogate.logit_scale).mean();
    let grads = loss.backward();
    probes
        .iter()
        .map(|steps| {
            let g: Vec<Tensor<2>> = steps
                .iter()
                .map(|p| p.grad(&grads).unwrap_or_else(|| p.clone().inner().zeros_like()))
                .map(Tensor::from_inner)
                .collect();
            Tensor::cat(g, 0)
        })
        .collect()
}

/// Train a surrogate-gradient network on `train`, validating on `validation` after every epoch.
///
/// # Errors
/// [`Diverged`] if a loss or a weight stops being finite.
pub fn train_surrogate(
    cfg: &ExperimentConfig,
    train: &SpikeDataset,
    validation: &SpikeDataset,
    device: &Device,
    on_event: &mut dyn FnMut(TrainEvent<'_>),
) -> Result<TrainOutcome<SurrogateNetwork>, Diverged> {
    let (mut learner, mut rng) = SurrogateLearner::seeded(cfg, device);
    let run = run_epochs(cfg, &mut learner, train, validation, &mut rng, on_event)?;
    Ok(TrainOutcome {
        network: learner.inference_network(),
        history: run.history,
        train_seconds: run.seconds,
        interrupted: run.interrupted,
    })
}

impl TrainedModel for SurrogateNetwork {
    fn test(&self, data: &SpikeDataset, cfg: &ExperimentConfig, device: &Device) -> Evaluation {
        evaluate_surrogate(self, data, cfg.training.batch_size_eval, cfg, device)
    }

    /// `raster.svg`/`.png`: the first test samples' input spike trains (encoded as the test
    /// encodes them) and every spiking layer's spikes; a leaky-integrator readout has none and
    /// is left out.
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
        let batch = data.test.subset(&(0..n).collect::<Vec<_>>());
        let mut rng = StdRng::seed_from_u64(cfg.seed ^ EVAL_SEED);
        let inputs = self.encode(&batch.times, batch.n_inputs, &mut rng, device);
        let trace = self.forward(&inputs);
        let dt = self.grid().dt;
        // Per layer: name and its spikes, step by step, row-major [batch, n].
        let mut layers: Vec<(String, Vec<Vec<f64>>, usize)> = vec![(
            "input".into(),
            inputs.iter().map(|t| to_vec_f64(t.clone())).collect(),
            batch.n_inputs,
        )];
        let spiking = trace.layers.len() - usize::from(!self.readout.spiking());
        for (l, lt) in trace.layers.iter().take(spiking).enumerate() {
            let w = lt.spikes.first().map_or(0, |t| t.dims()[1]);
            let steps = lt.spikes.iter().map(|t| to_vec_f64(t.clone())).collect();
            layers.push((layer_name(l + 1, trace.layers.len() + 1), steps, w));
        }
        let samples = (0..n)
            .map(|s| {
                let title = format!("sample {s}: label {}", batch.labels[s]);
                let per_layer = layers
                    .iter()
                    .map(|(name, steps, w)| {
                        let times = (0..*w)
                            .map(|k| {
                                steps
                                    .iter()
                                    .enumerate()
                                    .filter(|(_, v)| v[s * w + k] > 0.5)
                                    .map(|(t, _)| (t + 1) as f64 * dt)
                                    .collect()
                            })
                            .collect();
                        (name.clone(), times)
                    })
                    .collect();
                (title, per_layer)
            })
            .collect();
        write_raster(run, &cfg.name, "time (model units)", samples)
    }

    fn test_on_chip(
        &self,
        chip: &Chip,
        data: &SpikeDataset,
        cfg: &ExperimentConfig,
        device: &Device,
    ) -> Option<Evaluation> {
        let bs = cfg.training.batch_size_eval;
        Some(evaluate_surrogate_on_chip(self, chip, data, bs, cfg, device))
    }

    /// The checkpoint (there is no reference layout for time-stepped networks).
    fn save(&self, run: &RunDir, cfg: &ExperimentConfig) -> Result<(), IoError> {
        super::model::save_checkpoint_of(self, run, cfg)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::config::Method;

    fn cfg() -> ExperimentConfig {
        let mut cfg = ExperimentConfig { method: Method::Surrogate, ..Default::default() };
        cfg.network.hidden = vec![30];
        cfg.network.weight_init = vec![[0.0, 1.5], [0.0, 0.5]];
        cfg.surrogate.steps = 40;
        cfg.surrogate.logit_scale = 2.0;
        cfg
    }

    /// Three batches in a row: a graph or state leaking from one batch into the next would
    /// make the second backward walk into a consumed graph and panic; the loss falls.
    #[test]
    fn batches_are_independent_and_learn() {
        let cfg = cfg();
        let data = crate::data::DatasetName::Yinyang.load(None).expect("generated");
        let device = Device::default();
        let mut rng = StdRng::seed_from_u64(0);
        let mut learner = SurrogateLearner::new(&cfg, &device, &mut rng);
        let batch = data.train.subset(&(0..150).collect::<Vec<_>>());
        let first = learner.step(batch.clone(), 0.01).loss.expect("a step");
        for _ in 0..20 {
            learner.step(batch.clone(), 0.01);
        }
        let last = learner.step(batch, 0.01).loss.expect("a step");
        assert!(last < first * 0.8, "loss {first} → {last}");
        let eval = learner.evaluate(&data.validation.subset(&[0, 1, 2, 3]), 2);
        assert!(eval.mean_spikes > 0.0 && eval.loss.is_finite());
    }

    /// Kolen–Pollack through the surrogate learner: its rewritten weights go back into the
    /// network as trainable leaves (a computed tensor put there panicked on the next step:
    /// "Can't convert a non leaf tensor into a tracked tensor"), `W − B` shrinks by exactly
    /// `1 − λ` per step, and the steps keep learning.
    #[test]
    fn kolen_pollack_steps_keep_the_weights_trainable() {
        let mut cfg = cfg();
        cfg.feedback.rule = crate::feedback::FeedbackRuleName::Kp;
        cfg.feedback.kp_decay = 0.01;
        let data = crate::data::DatasetName::Yinyang.load(None).expect("generated");
        let device = Device::default();
        let mut rng = StdRng::seed_from_u64(0);
        let mut learner = SurrogateLearner::new(&cfg, &device, &mut rng);
        let gap = |l: &SurrogateLearner| -> Vec<f64> {
            let b = to_vec_f64(l.feedback.matrices()[0].clone().inner());
            let w = to_vec_f64(l.weights()[1].clone().narrow(0, 0, 30).inner());
            w.iter().zip(&b).map(|(w, b)| w - b).collect()
        };
        let batch = data.train.subset(&(0..150).collect::<Vec<_>>());
        let first = learner.step(batch.clone(), 0.01).loss.expect("a step");
        for _ in 0..10 {
            let before = gap(&learner);
            learner.step(batch.clone(), 0.01);
            for (a, b) in gap(&learner).iter().zip(&before) {
                assert!((a - 0.99 * b).abs() < 1e-5, "{a} vs 0.99 × {b}");
            }
        }
        let last = learner.step(batch, 0.01).loss.expect("a step");
        assert!(last < first, "loss {first} → {last}");
    }
}
