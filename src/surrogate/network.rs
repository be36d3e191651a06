//! A feed-forward network of [`LifLayer`]s with a readout, and its loss.

use crate::util::StdRng;
use burn::module::Module;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::encode::{Encoder, TimeGrid};
use super::layer::{Carrier, LayerTrace, LifLayer};
use crate::error_path::ErrorPath;
use crate::util::to_vec_f64;

/// How the output layer's activity becomes class scores (larger = more likely).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Readout {
    /// Non-spiking leaky-integrator outputs; score = maximum membrane potential over the
    /// sequence (Cramer et al. 2022).
    #[default]
    MaxMembrane,
    /// Spiking outputs; score = number of output spikes.
    SpikeCount,
    /// Spiking outputs; score = −(time of the first output spike), the end of the sequence for
    /// a silent neuron (time-to-first-spike coding with a surrogate gradient).
    FirstSpike,
}

impl Readout {
    /// Whether the output layer spikes.
    pub fn spiking(self) -> bool {
        !matches!(self, Readout::MaxMembrane)
    }
}

/// A feed-forward surrogate-gradient network: hidden [`LifLayer`]s and an output layer read out
/// by a [`Readout`]. Inputs are spike times, encoded on the layers' time grid by `encoder`.
#[derive(Module, Debug)]
pub struct SurrogateNetwork {
    /// Hidden layers, then the output layer.
    pub layers: Vec<LifLayer>,
    /// The readout.
    #[module(skip)]
    pub readout: Readout,
    /// The input encoder.
    #[module(skip)]
    pub encoder: Encoder,
}

/// Everything a forward pass did, per layer.
#[derive(Debug, Clone)]
pub struct NetworkTrace {
    /// One trace per layer, hidden layers first.
    pub layers: Vec<LayerTrace>,
}

impl SurrogateNetwork {
    /// The time grid (all layers share it).
    pub fn grid(&self) -> TimeGrid {
        self.layers[0].grid
    }

    /// Input spike trains for spike `times` (row-major `[batch, n_inputs]`, `+∞` = silent).
    ///
    /// # Shapes
    /// - returns one `[batch, n_inputs]` tensor per step.
    pub fn encode(
        &self,
        times: &[f64],
        n_inputs: usize,
        rng: &mut StdRng,
        device: &Device,
    ) -> Vec<Tensor<2>> {
        let grid = self.grid();
        let batch = times.len() / n_inputs;
        let spikes = self.encoder.encode(times, n_inputs, grid, rng);
        let dtype = self.layers[0].weights.val().dtype();
        let all = Tensor::<3>::from_data(
            TensorData::new(spikes, [grid.steps, batch, n_inputs]),
            (device, dtype),
        );
        (0..grid.steps).map(|t| all.clone().narrow(0, t, 1).reshape([batch, n_inputs])).collect()
    }

    /// Run all layers over the sequence.
    ///
    /// # Shapes
    /// - `inputs`: one `[batch, n_inputs]` spike tensor per step
    pub fn forward(&self, inputs: &[Tensor<2>]) -> NetworkTrace {
        self.forward_along(inputs, &ErrorPath::Backprop)
    }

    /// [`forward`](Self::forward) with the error of a later backward pass sent to the hidden
    /// layers along `path`: the values are those of `forward`, only the gradient paths differ
    /// (forward through `W`, backward through `B`; for direct feedback, the hidden layers feed
    /// the output layer's input current through `D` with zero value).
    ///
    /// # Panics
    /// If the path's matrices do not fit the network ([`ErrorPath::check`]).
    pub fn forward_along(&self, inputs: &[Tensor<2>], path: &ErrorPath) -> NetworkTrace {
        self.forward_probed(inputs, path, false).0
    }

    /// Each layer's `(n_inputs, n_outputs)`, real inputs only (no bias rows).
    pub fn shapes(&self) -> Vec<(usize, usize)> {
        self.layers.iter().map(|l| (l.n_inputs(), l.n_outputs())).collect()
    }

    /// [`forward_along`](Self::forward_along); with `probe`, every hidden layer's spikes pass
    /// through a zero-valued leaf per step on their way on, returned per hidden layer and step:
    /// after `loss.backward()`, a leaf's gradient is the error `∂L/∂z` that hidden layer
    /// received at that step (for comparing feedback rules' errors with backprop's).
    pub fn forward_probed(
        &self,
        inputs: &[Tensor<2>],
        path: &ErrorPath,
        probe: bool,
    ) -> (NetworkTrace, Vec<Vec<Tensor<2>>>) {
        self.forward_with(inputs, path, probe, |_, layer, x, carrier, extra| {
            layer.run_currents(with_extra(layer.input_currents(x, carrier), extra))
        })
    }

    /// [`forward_probed`](Self::forward_probed) with each layer run by `run(l, layer, inputs,
    /// carrier, extra)`: its trace from its input spikes (one tensor per step), the gradient to
    /// them carried as `carrier` says, and `extra` (empty, or one zero-valued tensor per step
    /// that carries direct feedback) added to its input currents ([`with_extra`]). The trace's spikes are what the next layer and the readout
    /// receive (an emulated chip runs its own neurons and weights here and hands on the spikes
    /// it emitted, [`super::on_chip`]).
    ///
    /// # Panics
    /// If the path's matrices do not fit the network ([`ErrorPath::check`]).
    pub fn forward_with(
        &self,
        inputs: &[Tensor<2>],
        path: &ErrorPath,
        probe: bool,
        mut run: impl FnMut(usize, &LifLayer, &[Tensor<2>], Carrier, &[Tensor<2>]) -> LayerTrace,
    ) -> (NetworkTrace, Vec<Vec<Tensor<2>>>) {
        path.check(&self.shapes());
        let n = self.layers.len();
        let mut layers: Vec<LayerTrace> = Vec::with_capacity(n);
        let mut feeds: Vec<Vec<Tensor<2>>> = Vec::with_capacity(n);
        let mut probes = Vec::new();
        for (l, layer) in self.layers.iter().enumerate() {
            let x = if l == 0 { inputs } else { &feeds[l - 1][..] };
            let carrier = match (l, path) {
                (0, _) | (_, ErrorPath::Backprop) => Carrier::Weights,
                (_, ErrorPath::Feedback(_)) => {
                    Carrier::Matrix(Box::new(path.carrier(l).expect("checked").clone()))
                }
                (_, ErrorPath::Direct(_)) => Carrier::Nothing,
            };
            // Direct feedback: the hidden spikes reach the output layer's input current through
            // `D` with zero value (the values are those of backprop).
            let mut extra: Vec<Tensor<2>> = Vec::new();
            if l + 1 == n {
                for (h, feed) in feeds.iter().enumerate() {
                    let Some(d) = path.direct(h) else { continue };
                    let terms = feed.iter().map(|z| {
                        let zd = z.clone().matmul(d.clone());
                        zd.clone() - zd.detach()
                    });
                    extra = if extra.is_empty() {
                        terms.collect()
                    } else {
                        extra.into_iter().zip(terms).map(|(a, b)| a + b).collect()
                    };
                }
            }
            let trace = run(l, layer, x, carrier, &extra);
            if l + 1 < n {
                let feed: Vec<Tensor<2>> = if probe {
                    let leaves: Vec<Tensor<2>> =
                        trace.spikes.iter().map(|z| z.zeros_like().require_grad()).collect();
                    let fed = trace.spikes.iter().zip(&leaves).map(|(z, p)| z.clone() + p.clone());
                    let fed = fed.collect();
                    probes.push(leaves);
                    fed
                } else {
                    trace.spikes.clone()
                };
                feeds.push(feed);
            }
            layers.push(trace);
        }
        (NetworkTrace { layers }, probes)
    }

    /// Class scores of a forward pass, `[batch, n_classes]` (differentiable).
    pub fn scores(&self, trace: &NetworkTrace) -> Tensor<2> {
        let out = trace.layers.last().expect("at least one layer");
        let [batch, classes] = out.v[0].dims();
        match self.readout {
            Readout::MaxMembrane => {
                Tensor::stack::<3>(out.v.clone(), 0).max_dim(0).reshape([batch, classes])
            }
            Readout::SpikeCount => {
                Tensor::stack::<3>(out.spikes.clone(), 0).sum_dim(0).reshape([batch, classes])
            }
            Readout::FirstSpike => {
                let grid = self.grid();
                // t_first = Σ_k t_k z_k Π_{j<k}(1 − z_j) + t_end Π_k (1 − z_k), t_k = (k+1)·dt.
                let device = out.v[0].device();
                let mut alive = Tensor::<2>::ones([batch, classes], &device);
                let mut t_first = Tensor::<2>::zeros([batch, classes], &device);
                for (k, z) in out.spikes.iter().enumerate() {
                    let first = z.clone() * alive.clone();
                    t_first = t_first + first.clone() * ((k + 1) as f64 * grid.dt);
                    alive = alive - first;
                }
                -(t_first + alive * grid.duration())
            }
        }
    }

    /// Cross-entropy of `scale · scores` against `labels`, per sample `[batch]`.
    pub fn loss(&self, scores: Tensor<2>, labels: Tensor<1, Int>, scale: f64) -> Tensor<1> {
        let [batch, _] = scores.dims();
        let logp = log_softmax(scores * scale, 1);
        -logp.gather(1, labels.reshape([batch, 1])).reshape([batch])
    }

    /// Per-step running scores on the host, row-major `[steps, batch, classes]`: what the
    /// readout would give if the sequence ended after each step (for decision times).
    pub fn running_scores(&self, trace: &NetworkTrace) -> Vec<f64> {
        let out = trace.layers.last().expect("at least one layer");
        let [batch, classes] = out.v[0].dims();
        let steps = out.v.len();
        let read = |ts: &[Tensor<2>]| -> Vec<f64> {
            to_vec_f64(Tensor::stack::<3>(ts.to_vec(), 0).detach().inner())
        };
        let stride = batch * classes;
        match self.readout {
            Readout::MaxMembrane | Readout::SpikeCount => {
                let mut score =
                    read(if self.readout == Readout::MaxMembrane { &out.v } else { &out.spikes });
                for j in stride..score.len() {
                    let prev = score[j - stride];
                    score[j] = match self.readout {
                        Readout::MaxMembrane => score[j].max(prev),
                        _ => score[j] + prev,
                    };
                }
                score
            }
            Readout::FirstSpike => {
                // Score = steps − (first spike step) from the first spike on, 0 before.
                let spikes = read(&out.spikes);
                let mut score = vec![0.0; spikes.len()];
                for j in 0..stride {
                    if let Some(f) = (0..steps).find(|k| spikes[k * stride + j] > 0.5) {
                        for k in f..steps {
                            score[k * stride + j] = (steps - f) as f64;
                        }
                    }
                }
                score
            }
        }
    }
}

/// `currents` plus `extra` step by step (`extra` empty: `currents` as they are).
pub fn with_extra(currents: Vec<Tensor<2>>, extra: &[Tensor<2>]) -> Vec<Tensor<2>> {
    if extra.is_empty() {
        return currents;
    }
    currents.into_iter().zip(extra).map(|(c, e)| c + e.clone()).collect()
}
