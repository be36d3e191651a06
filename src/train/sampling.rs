//! Training and testing the sampling Boltzmann layer on images: wake–sleep (persistent
//! contrastive divergence) on neural-sampling states, classification by sampling the label
//! units with the image clamped, pattern completion and label-clamped generation.

use std::any::Any;

use crate::util::StdRng;
use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;

use super::config::ExperimentConfig;
use super::epochs::{Learner, StepOutcome, first_non_finite};
use super::evaluation::{Evaluation, Tally};
use super::model::TrainedModel;
use super::resume::LearnerState;
use super::rng::TrainingRng;
use crate::data::{SpikeDataset, Splits};
use crate::io::{IoError, RunDir, image};
use crate::readout::{decisions, unique_argmax};
use crate::sampling::{
    LayerState, SamplingRbm, SamplingRbmConfig, SleepChains, neural_sampling_update,
};
use crate::util::to_vec_f64;

/// Whether a pixel encoded as spike time `t` is on: its intensity 1 − (t − 0.15)/1.85 (the
/// latency code of every image dataset here; silent pixels are black) exceeds `threshold`.
pub fn pixel_on(t: f64, threshold: f64) -> bool {
    t.is_finite() && 1.0 - (t - 0.15) / 1.85 > threshold
}

/// Binarised pixels of a batch, `[batch, n_inputs]`, on the host.
pub fn binarize(batch: &SpikeDataset, threshold: f64) -> Vec<f64> {
    batch.times.iter().map(|&t| if pixel_on(t, threshold) { 1.0 } else { 0.0 }).collect()
}

fn to_tensor(values: Vec<f64>, shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn one_hot(labels: &[usize], classes: usize, device: &Device) -> Tensor<2> {
    let mut v = vec![0.0; labels.len() * classes];
    for (b, &l) in labels.iter().enumerate() {
        v[b * classes + l] = 1.0;
    }
    to_tensor(v, [labels.len(), classes], device)
}

/// Build the sampling RBM of a configuration: `dataset inputs + classes` visible/label units,
/// `network.hidden[0]` hidden units. With `train` data the visible biases start at the log-odds
/// of each pixel being on (Hinton's practical guide), else at 0.
pub fn build_sampling_rbm(
    cfg: &ExperimentConfig,
    train: Option<&SpikeDataset>,
    device: &Device,
    rng: &mut StdRng,
) -> SamplingRbm {
    let (n_in, classes) = (cfg.dataset.n_inputs(), cfg.dataset.n_classes());
    let rbm = SamplingRbmConfig::new(n_in, classes, cfg.network.hidden[0])
        .with_weight_std(cfg.sampling.weight_std)
        .init(device, rng);
    let Some(train) = train else { return rbm };
    let pixels = binarize(train, cfg.sampling.binarize_threshold);
    let n = train.len().max(1) as f64;
    let mut bias = vec![0.0; n_in + classes];
    for (i, b) in bias.iter_mut().take(n_in).enumerate() {
        let p = (pixels.iter().skip(i).step_by(n_in).sum::<f64>() / n).clamp(0.01, 0.99);
        *b = (p / (1.0 - p)).ln();
    }
    for &l in &train.labels {
        bias[n_in + l] += 1.0 / n;
    }
    for b in bias.iter_mut().skip(n_in) {
        let p = b.clamp(0.01, 0.99);
        *b = (p / (1.0 - p)).ln();
    }
    SamplingRbm {
        visible_bias: Param::from_tensor(Tensor::from_floats(bias.as_slice(), device)),
        ..rbm
    }
}

/// The optimisation state: the machine, momentum buffers and the persistent fantasy chains.
pub struct SamplingLearner<'a> {
    cfg: &'a ExperimentConfig,
    /// The machine being trained.
    pub rbm: SamplingRbm,
    velocity: (Tensor<2>, Tensor<1>, Tensor<1>),
    fantasy: (LayerState, LayerState),
    device: Device,
}

impl<'a> SamplingLearner<'a> {
    /// A fresh machine (see [`build_sampling_rbm`]) with fantasy chains started from
    /// `fantasy-chains` training images (or all off without data).
    pub fn new(
        cfg: &'a ExperimentConfig,
        train: Option<&SpikeDataset>,
        device: &Device,
        rng: &mut StdRng,
    ) -> Self {
        device.seed(cfg.seed);
        let rbm = build_sampling_rbm(cfg, train, device, rng);
        let (nvl, nh) = (rbm.n_visible_label(), rbm.n_hidden());
        let c = cfg.sampling.fantasy_chains;
        let fv = match train {
            Some(t) if t.len() >= c => {
                let batch = t.subset(&(0..c).collect::<Vec<_>>());
                let v = to_tensor(
                    binarize(&batch, cfg.sampling.binarize_threshold),
                    [c, batch.n_inputs],
                    device,
                );
                LayerState::from_states(Tensor::cat(
                    vec![v, one_hot(&batch.labels, rbm.n_label, device)],
                    1,
                ))
            }
            _ => LayerState::off(c, nvl, device),
        };
        let velocity = (
            Tensor::zeros([nvl, nh], device),
            Tensor::zeros([nvl], device),
            Tensor::zeros([nh], device),
        );
        let fantasy = (fv, LayerState::off(c, nh, device));
        Self { cfg, rbm, velocity, fantasy, device: device.clone() }
    }

    /// A fresh learner for `cfg` on `device` (see [`SamplingLearner::new`]) and the run's
    /// random stream: spikeburn's generator seeded with `cfg.seed`, which drew the initial
    /// couplings.
    pub fn seeded(
        cfg: &'a ExperimentConfig,
        train: Option<&SpikeDataset>,
        device: &Device,
    ) -> (Self, TrainingRng) {
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        let learner = Self::new(cfg, train, device, &mut rng);
        (learner, TrainingRng::Spikeburn(Box::new(rng)))
    }
}

/// Mean cross-entropy and correct count of the exact label posterior on a batch.
/// Also returns the log posterior itself, row-major `[batch, n_label]`.
fn exact_posterior(rbm: &SamplingRbm, v: Tensor<2>, labels: &[usize]) -> (f64, usize, Vec<f64>) {
    let lp = to_vec_f64(rbm.label_log_probs(v));
    let k = rbm.n_label;
    let mut ce = 0.0;
    let mut correct = 0;
    for (b, &l) in labels.iter().enumerate() {
        let row = &lp[b * k..(b + 1) * k];
        ce -= row[l];
        correct += usize::from(unique_argmax(row) == Some(l));
    }
    (ce / labels.len().max(1) as f64, correct, lp)
}

impl Learner for SamplingLearner<'_> {
    /// Wake (image and label clamped, hidden sampled), sleep (fantasy chains advanced), one
    /// momentum step on the difference of the time-averaged correlations. The reported loss and
    /// accuracy are the exact label posterior's on the batch, before the update.
    fn step(&mut self, batch: SpikeDataset, lr: f64) -> StepOutcome {
        let s = &self.cfg.sampling;
        let d = &self.device;
        let b = batch.len();
        let v = to_tensor(binarize(&batch, s.binarize_threshold), [b, batch.n_inputs], d);
        let (loss, correct, _) = exact_posterior(&self.rbm, v.clone(), &batch.labels);
        let vl = Tensor::cat(vec![v, one_hot(&batch.labels, self.rbm.n_label, d)], 1);
        // Wake: the clamped layer drives the hidden units the same at every step.
        let drive = self.rbm.hidden_potentials(vl.clone());
        let mut h = LayerState::off(b, self.rbm.n_hidden(), d);
        let mut h_sum = Tensor::zeros([b, self.rbm.n_hidden()], d);
        for _ in 0..s.wake_steps {
            h = neural_sampling_update(drive.clone(), h, s.tau);
            h_sum = h_sum + h.z.clone();
        }
        let h_data = h_sum / s.wake_steps as f64;
        let pos_w = vl.clone().transpose().matmul(h_data.clone()) / b as f64;
        let pos_v: Tensor<1> = vl.clone().mean_dim(0).squeeze_dim(0);
        let pos_h: Tensor<1> = h_data.mean_dim(0).squeeze_dim(0);
        // Sleep: persistent chains or the data (CD-k), time-averaged joint states.
        let persistent = s.sleep_chains == SleepChains::Persistent;
        let (mut fv, mut fh) = if persistent {
            self.fantasy.clone()
        } else {
            (LayerState::from_states(vl.clone()), LayerState::off(b, self.rbm.n_hidden(), d))
        };
        let chains = if persistent { s.fantasy_chains } else { b };
        let (nvl, nh) = (self.rbm.n_visible_label(), self.rbm.n_hidden());
        let mut neg_w = Tensor::zeros([nvl, nh], d);
        let mut neg_v = Tensor::zeros([nvl], d);
        let mut neg_h = Tensor::zeros([nh], d);
        for _ in 0..s.sleep_steps {
            (fv, fh) = self.rbm.sweep(fv, fh, None, s.tau);
            neg_w = neg_w + fv.z.clone().transpose().matmul(fh.z.clone());
            neg_v = neg_v + fv.z.clone().sum_dim(0).squeeze_dim(0);
            neg_h = neg_h + fh.z.clone().sum_dim(0).squeeze_dim(0);
        }
        if persistent {
            self.fantasy = (fv, fh);
        }
        let n = (s.sleep_steps * chains) as f64;
        let w = self.rbm.weights.val();
        let grad_w = pos_w - neg_w / n - w.clone() * s.weight_decay;
        let grad_v = pos_v - neg_v / n;
        let grad_h = pos_h - neg_h / n;
        let m = s.momentum;
        let (vw, vv, vh) = self.velocity.clone();
        let vw = vw * m + grad_w * lr;
        let vv = vv * m + grad_v * lr;
        let vh = vh * m + grad_h * lr;
        self.rbm.weights = Param::from_tensor(w + vw.clone());
        self.rbm.visible_bias = Param::from_tensor(self.rbm.visible_bias.val() + vv.clone());
        self.rbm.hidden_bias = Param::from_tensor(self.rbm.hidden_bias.val() + vh.clone());
        self.velocity = (vw, vv, vh);
        StepOutcome::stepped(loss, correct)
    }

    /// Validation during training uses the exact label posterior (cheap); the test split is
    /// classified by sampling ([`evaluate_sampling`]).
    fn evaluate(&self, data: &SpikeDataset, batch_size: usize) -> Evaluation {
        evaluate_exact(&self.rbm, data, batch_size, self.cfg, &self.device)
    }

    fn non_finite(&self) -> Option<String> {
        let r = &self.rbm;
        first_non_finite([
            ("couplings".to_string(), r.weights.val().flatten::<1>(0, 1)),
            ("visible biases".to_string(), r.visible_bias.val()),
            ("hidden biases".to_string(), r.hidden_bias.val()),
        ])
    }

    fn into_trained(self: Box<Self>) -> Box<dyn TrainedModel> {
        Box::new(self.rbm)
    }

    fn save_state(&self) -> Result<LearnerState, String> {
        Err(NOT_RESUMABLE.into())
    }
}

/// Why a sampling run cannot be resumed bit for bit.
const NOT_RESUMABLE: &str = "the sampling method cannot be resumed: its chains draw from the \
    backend's random generator (Device::seed), whose state Burn does not expose";

/// The batches of `data` with their binarised pixel tensors `[batch, n_inputs]`, the exact
/// posterior's cross-entropy summed over the batch, and the log posterior `[batch, n_label]`.
fn binarized_batches<'d>(
    rbm: &'d SamplingRbm,
    data: &'d SpikeDataset,
    batch_size: usize,
    cfg: &'d ExperimentConfig,
    device: &'d Device,
) -> impl Iterator<Item = (SpikeDataset, Tensor<2>, f64, Vec<f64>)> + 'd {
    let indices: Vec<usize> = (0..data.len()).collect();
    let chunks: Vec<Vec<usize>> = indices.chunks(batch_size).map(<[usize]>::to_vec).collect();
    chunks.into_iter().map(move |chunk| {
        let batch = data.subset(&chunk);
        let pixels = binarize(&batch, cfg.sampling.binarize_threshold);
        let v = to_tensor(pixels, [chunk.len(), batch.n_inputs], device);
        let (ce, _, lp) = exact_posterior(rbm, v.clone(), &batch.labels);
        (batch, v, ce * chunk.len() as f64, lp)
    })
}

/// Accuracy and cross-entropy of the exact label posterior p(label | image) (one-hot labels,
/// hidden units summed out). No spikes are simulated: `mean_spikes` is 0 and there is no decision
/// time (`None`).
pub fn evaluate_exact(
    rbm: &SamplingRbm,
    data: &SpikeDataset,
    batch_size: usize,
    cfg: &ExperimentConfig,
    device: &Device,
) -> Evaluation {
    let mut tally = Tally::default();
    for (batch, _, ce, lp) in binarized_batches(rbm, data, batch_size, cfg, device) {
        tally.loss += ce;
        let k = rbm.n_label;
        for (b, &l) in batch.labels.iter().enumerate() {
            tally.add(unique_argmax(&lp[b * k..(b + 1) * k]), l, None);
        }
        tally.outputs.extend(lp.iter().map(|x| x.exp()));
    }
    tally.finish(data.len())
}

/// Classification by sampling: the binarised image is clamped, label and hidden units sample
/// for `readout-burn-in` + `readout-steps` steps (refractory time `readout-tau`), and the label
/// unit that was on longest wins (a tie is no decision). Spikes per sample are the label and
/// hidden on-time divided by τ; the decision time is the first step (1-based) from which on the
/// running winner no longer changes, in steps. The loss is the exact posterior's cross-entropy;
/// `outputs` are the label on-time fractions.
pub fn evaluate_sampling(
    rbm: &SamplingRbm,
    data: &SpikeDataset,
    batch_size: usize,
    cfg: &ExperimentConfig,
    device: &Device,
) -> Evaluation {
    let s = &cfg.sampling;
    device.seed(cfg.seed ^ 0x5A3F);
    let mut tally = Tally::default();
    let k = rbm.n_label;
    for (batch, v, ce, _) in binarized_batches(rbm, data, batch_size, cfg, device) {
        tally.loss += ce;
        let b = batch.len();
        let (running, hidden_on) =
            rbm.sample_labels(v, s.readout_tau, s.readout_burn_in, s.readout_steps);
        let last = running.last().expect("readout-steps ≥ 1").clone();
        let running = to_vec_f64(Tensor::stack::<3>(running, 0));
        tally.spikes += (to_vec_f64(last.clone().sum())[0] + hidden_on) / s.readout_tau as f64;
        for ((prediction, from), &label) in
            decisions(&running, s.readout_steps, b, k).into_iter().zip(&batch.labels)
        {
            tally.add(prediction, label, from.map(|f| (f + 1) as f64));
        }
        tally.outputs.extend(to_vec_f64(last / s.readout_steps as f64));
    }
    tally.finish(data.len())
}

/// Steps a label-clamped generation runs before it is recorded.
pub const GENERATION_BURN_IN: usize = 500;

/// Images a sampling machine completes (bottom half occluded) in `completions.png`.
const COMPLETIONS: usize = 12;

impl TrainedModel for SamplingRbm {
    /// Classification by sampling ([`evaluate_sampling`]).
    fn test(&self, data: &SpikeDataset, cfg: &ExperimentConfig, device: &Device) -> Evaluation {
        evaluate_sampling(self, data, cfg.training.batch_size_eval, cfg, device)
    }

    /// The checkpoint (there is no reference layout for sampling machines).
    fn save(&self, run: &RunDir, cfg: &ExperimentConfig) -> Result<(), IoError> {
        super::model::save_checkpoint_of(self, run, cfg)
    }

    /// The exact-posterior test accuracy, pattern completion of occluded test digits
    /// (`completions.png`: originals, occluded inputs, completions) and label-clamped generation
    /// (`generated.png`, one digit per class), with their figures in `sampling.json`.
    fn write_reports(
        &self,
        cfg: &ExperimentConfig,
        data: &Splits,
        device: &Device,
        run: &RunDir,
    ) -> Result<Vec<String>, IoError> {
        let exact = evaluate_exact(self, &data.test, cfg.training.batch_size_eval, cfg, device);
        let side = (cfg.dataset.n_inputs() as f64).sqrt().round() as usize;
        let occluded = side / 2;
        let c = complete_images(
            self,
            &data.test,
            COMPLETIONS,
            Occlusion::Bottom(occluded),
            cfg.sampling.readout_steps,
            cfg,
            device,
        );
        c.write_png(&run.file("completions.png"))?;
        let generated = generate_per_class(self, cfg, device);
        let cells: Vec<Option<Vec<f64>>> = generated.into_iter().map(Some).collect();
        let (w, h, px) = image::tile(&cells, side, cells.len(), 4);
        image::write_gray_png(&run.file("generated.png"), w, h, &px)?;
        let labels = &data.test.labels[..c.inferred_labels.len()];
        let label_hits = c.inferred_labels.iter().zip(labels).filter(|(a, b)| a == b).count();
        let report = serde_json::json!({
            "test_accuracy_exact_posterior": exact.accuracy,
            "completion_occluded_rows": occluded,
            "completion_pixel_error": c.error,
            "completion_baseline_error": c.baseline_error,
            "completion_labels_correct": label_hits,
            "completion_images": c.inferred_labels.len(),
        });
        run.write_json("sampling.json", &report)?;
        Ok(vec![format!(
            "exact label posterior: test accuracy {:.2} %; completion of the bottom {occluded} \
             rows: {:.1} % pixels wrong (most-frequent-value baseline {:.1} %), label inferred \
             for {label_hits}/{}; completions.png, generated.png",
            100.0 * exact.accuracy,
            100.0 * c.error,
            100.0 * c.baseline_error,
            c.inferred_labels.len()
        )])
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Which pixels of a square image a completion hides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Occlusion {
    /// The bottom `n` rows.
    Bottom(usize),
    /// The right `n` columns.
    Right(usize),
    /// Each pixel with probability `fraction` (a fixed pattern per image from `seed`).
    Random {
        /// Fraction hidden.
        fraction: f64,
        /// Seed of the pattern.
        seed: u64,
    },
}

impl Occlusion {
    /// Hidden-pixel mask of image `i` (`true` = hidden), `[side²]`.
    pub fn mask(&self, side: usize, i: usize) -> Vec<bool> {
        match *self {
            Occlusion::Bottom(n) => {
                (0..side * side).map(|p| p / side >= side - n.min(side)).collect()
            }
            Occlusion::Right(n) => {
                (0..side * side).map(|p| p % side >= side - n.min(side)).collect()
            }
            Occlusion::Random { fraction, seed } => {
                use rand::RngExt;
                let mut rng = StdRng::seed_from_u64(seed.wrapping_add(i as u64));
                (0..side * side).map(|_| rng.random::<f64>() < fraction).collect()
            }
        }
    }
}

/// Pattern completion on images: the occluded pixels (and the label) are unknown, the rest is
/// clamped; the sampler fills them in.
#[derive(Debug, Clone)]
pub struct Completion {
    /// Binarised originals, `[n][side²]`.
    pub originals: Vec<Vec<f64>>,
    /// The inputs the sampler saw: known pixels, 0.5 where hidden, `[n][side²]`.
    pub occluded: Vec<Vec<f64>>,
    /// On-time fraction of every pixel in the completion (clamped pixels: their value).
    pub completions: Vec<Vec<f64>>,
    /// Fraction of occluded pixels whose completion (on-time > ½) differs from the original.
    pub error: f64,
    /// The same error for filling every occluded pixel with its most frequent training value
    /// (the sign of its visible bias; the baseline a completion has to beat).
    pub baseline_error: f64,
    /// Which label unit was on longest during the completion, per image (`usize::MAX` on a
    /// tie; the label was not given).
    pub inferred_labels: Vec<usize>,
}

impl Completion {
    /// Writes the completion as a PNG: a row of originals, a row of what the sampler saw
    /// (hidden pixels gray), a row of completions (on-time), each image scaled up 4×.
    ///
    /// # Errors
    /// [`crate::io::IoError`] naming the file.
    pub fn write_png(&self, path: &std::path::Path) -> Result<(), crate::io::IoError> {
        let side = self.originals.first().map_or(0, |o| (o.len() as f64).sqrt().round() as usize);
        let cells: Vec<Option<Vec<f64>>> = [&self.originals, &self.occluded, &self.completions]
            .into_iter()
            .flatten()
            .cloned()
            .map(Some)
            .collect();
        let (w, h, px) = crate::io::image::tile(&cells, side, self.originals.len().max(1), 4);
        crate::io::image::write_gray_png(path, w, h, &px)
    }
}

/// Completes the first `n` images of `data` with the `occlusion` hidden, sampling for
/// `readout-burn-in` + `steps` steps with refractory time `readout-tau`.
///
/// # Panics
/// If the images are not square.
pub fn complete_images(
    rbm: &SamplingRbm,
    data: &SpikeDataset,
    n: usize,
    occlusion: Occlusion,
    steps: usize,
    cfg: &ExperimentConfig,
    device: &Device,
) -> Completion {
    let s = &cfg.sampling;
    device.seed(cfg.seed ^ 0xC0);
    let side = (data.n_inputs as f64).sqrt().round() as usize;
    assert_eq!(side * side, data.n_inputs, "images must be square");
    let n = n.min(data.len());
    let batch = data.subset(&(0..n).collect::<Vec<_>>());
    let (nv, nl) = (rbm.n_visible(), rbm.n_label);
    let pixels = binarize(&batch, s.binarize_threshold);
    let masks: Vec<Vec<bool>> = (0..n).map(|i| occlusion.mask(side, i)).collect();
    let mut values = Vec::with_capacity(n * (nv + nl));
    let mut known = Vec::with_capacity(n * (nv + nl));
    for (i, hidden) in masks.iter().enumerate() {
        // Occluded pixels start off: the sampler never sees their true values.
        values.extend((0..nv).map(|p| if hidden[p] { 0.0 } else { pixels[i * nv + p] }));
        values.extend(std::iter::repeat_n(0.0, nl));
        known.extend(hidden.iter().map(|&h| if h { 0.0 } else { 1.0 }));
        known.extend(std::iter::repeat_n(0.0, nl));
    }
    let out = to_vec_f64(rbm.complete(
        to_tensor(values, [n, nv + nl], device),
        to_tensor(known, [n, nv + nl], device),
        s.readout_tau,
        s.readout_burn_in,
        steps,
    ));
    let bias = to_vec_f64(rbm.visible_bias.val());
    let (mut wrong, mut wrong_base, mut hidden_px) = (0usize, 0usize, 0usize);
    let mut c = Completion {
        originals: Vec::with_capacity(n),
        occluded: Vec::with_capacity(n),
        completions: Vec::with_capacity(n),
        error: 0.0,
        baseline_error: 0.0,
        inferred_labels: Vec::with_capacity(n),
    };
    for (i, hidden) in masks.iter().enumerate() {
        let row = &out[i * (nv + nl)..(i + 1) * (nv + nl)];
        let original = &pixels[i * nv..(i + 1) * nv];
        for p in (0..nv).filter(|&p| hidden[p]) {
            hidden_px += 1;
            let truth = original[p] > 0.5;
            wrong += usize::from((row[p] > 0.5) != truth);
            wrong_base += usize::from((bias[p] > 0.0) != truth);
        }
        c.completions.push(row[..nv].to_vec());
        c.originals.push(original.to_vec());
        c.occluded.push((0..nv).map(|p| if hidden[p] { 0.5 } else { original[p] }).collect());
        c.inferred_labels.push(unique_argmax(&row[nv..]).unwrap_or(usize::MAX));
    }
    c.error = wrong as f64 / hidden_px.max(1) as f64;
    c.baseline_error = wrong_base as f64 / hidden_px.max(1) as f64;
    c
}

/// Generation: the label unit of each class is clamped on (the others off) and the pixels
/// sample freely, started from the data-mean image (visible biases) and run for
/// [`GENERATION_BURN_IN`] steps before `readout-steps` are averaged; returns each class's pixel
/// on-time fractions, `[classes][n_visible]`.
pub fn generate_per_class(
    rbm: &SamplingRbm,
    cfg: &ExperimentConfig,
    device: &Device,
) -> Vec<Vec<f64>> {
    let s = &cfg.sampling;
    device.seed(cfg.seed ^ 0x6E);
    let (nv, nl) = (rbm.n_visible(), rbm.n_label);
    let bias = to_vec_f64(rbm.visible_bias.val());
    let mut values = vec![0.0; nl * (nv + nl)];
    let mut known = vec![0.0; nl * (nv + nl)];
    for c in 0..nl {
        for p in 0..nv {
            values[c * (nv + nl) + p] = f64::from(bias[p] > 0.0);
        }
        values[c * (nv + nl) + nv + c] = 1.0;
        for l in 0..nl {
            known[c * (nv + nl) + nv + l] = 1.0;
        }
    }
    let out = to_vec_f64(rbm.complete(
        to_tensor(values, [nl, nv + nl], device),
        to_tensor(known, [nl, nv + nl], device),
        s.readout_tau,
        GENERATION_BURN_IN,
        s.readout_steps,
    ));
    (0..nl).map(|c| out[c * (nv + nl)..c * (nv + nl) + nv].to_vec()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DatasetName;
    use crate::train::config::Method;
    use crate::train::epochs::run_epochs;
    use rand::RngExt;

    /// Ten random 16×16 prototypes; samples flip each pixel with probability 5 %. Pixels are
    /// encoded as the latency code does (on: t = 0.15, off: silent).
    fn prototypes(n: usize, seed: u64) -> SpikeDataset {
        let mut rng = StdRng::seed_from_u64(1);
        let protos: Vec<Vec<bool>> =
            (0..10).map(|_| (0..256).map(|_| rng.random_bool(0.3)).collect()).collect();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut times = Vec::with_capacity(n * 256);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let l = i % 10;
            labels.push(l);
            times.extend(
                protos[l].iter().map(
                    |&on| {
                        if on ^ rng.random_bool(0.05) { 0.15 } else { f64::INFINITY }
                    },
                ),
            );
        }
        SpikeDataset { n_inputs: 256, times, labels }
    }

    /// Both sleep-phase variants (PCD and CD-1) learn the prototypes: the exact label posterior
    /// and the sampled readout classify held-out noisy samples.
    #[test]
    fn pcd_and_cd1_learn_prototypes() {
        let device = Device::default();
        let (train, test) = (prototypes(2000, 2), prototypes(300, 3));
        for chains in [SleepChains::Persistent, SleepChains::Data] {
            let mut cfg = ExperimentConfig {
                method: Method::Sampling,
                dataset: DatasetName::Mnist16,
                ..Default::default()
            };
            cfg.network.hidden = vec![40];
            cfg.training.epochs = 2;
            cfg.training.batch_size = 50;
            cfg.training.learning_rate = 0.05;
            cfg.sampling.sleep_chains = chains;
            cfg.sampling.readout_steps = 50;
            cfg.validate().expect("valid");
            let mut rng = StdRng::seed_from_u64(0);
            let mut learner = SamplingLearner::new(&cfg, Some(&train), &device, &mut rng);
            run_epochs(
                &cfg,
                &mut learner,
                &train,
                &test,
                &mut TrainingRng::Spikeburn(Box::new(rng)),
                &mut |_| {},
            )
            .expect("finite");
            let exact = evaluate_exact(&learner.rbm, &test, 300, &cfg, &device).accuracy;
            let sampled = evaluate_sampling(&learner.rbm, &test, 300, &cfg, &device).accuracy;
            assert!(exact > 0.95 && sampled > 0.9, "{chains:?}: exact {exact}, sampled {sampled}");
        }
    }

    /// An infinite learning rate makes the couplings infinite at the first step: the run stops
    /// there, naming them, instead of sampling from a broken machine.
    #[test]
    fn an_infinite_learning_rate_diverges_at_once() {
        let device = Device::default();
        let train = prototypes(200, 2);
        let mut cfg = ExperimentConfig {
            method: Method::Sampling,
            dataset: DatasetName::Mnist16,
            ..Default::default()
        };
        cfg.network.hidden = vec![10];
        cfg.training.epochs = 2;
        cfg.training.batch_size = 50;
        cfg.training.learning_rate = f64::INFINITY;
        let mut rng = StdRng::seed_from_u64(0);
        let mut learner = SamplingLearner::new(&cfg, Some(&train), &device, &mut rng);
        let d = run_epochs(
            &cfg,
            &mut learner,
            &train,
            &train,
            &mut TrainingRng::Spikeburn(Box::new(rng)),
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!((d.epoch, d.batch), (1, Some(1)), "{d}");
        assert!(d.what.contains("couplings") || d.what.contains("biases"), "{d}");
    }

    #[test]
    fn pixels_binarise_at_the_threshold() {
        // intensity 1 − (t − 0.15)/1.85: t = 1.075 is exactly half.
        assert!(pixel_on(1.0, 0.5) && !pixel_on(1.2, 0.5) && !pixel_on(f64::INFINITY, 0.5));
    }
}
