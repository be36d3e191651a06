//! [`SpikeTimeNetwork`]: a feed-forward stack of [`SpikeTimeLayer`]s with exact backpropagation.

use burn::module::{Module, Param};
use burn::tensor::{Int, Tensor};

use super::functional::SpikeTimeGrads;
use super::layer::SpikeTimeLayer;
use super::loss::{LossOutput, TtfsLoss};
use crate::error_path::{ErrorPath, direct_error};

/// A feed-forward network of first-spike-time layers. Each layer's output spike times are the
/// next layer's input times; the last layer's are the class outputs.
#[derive(Module, Debug)]
pub struct SpikeTimeNetwork {
    /// The layers, input side first.
    pub layers: Vec<SpikeTimeLayer>,
}

/// Every layer's output of one forward pass, kept for the backward pass.
#[derive(Debug, Clone)]
pub struct ForwardTrace {
    /// The network input, then each layer's output: `layers.len() + 1` tensors `[batch, n]`.
    pub activations: Vec<Tensor<2>>,
}

impl ForwardTrace {
    /// The network's output spike times, `[batch, n_classes]`.
    pub fn output(&self) -> Tensor<2> {
        self.activations.last().expect("at least the input").clone()
    }
}

/// The result of [`SpikeTimeNetwork::backward`].
#[derive(Debug, Clone)]
pub struct NetworkGrads {
    /// Per layer (input side first): weight gradient and clipping record.
    pub layers: Vec<SpikeTimeGrads>,
    /// ∂L/∂(network input times), `[batch, n_inputs]`.
    pub input_times: Tensor<2>,
    /// The error each layer's outputs received (input side first, `[batch, n_out]`): the
    /// output layer's is the loss's δ, a hidden layer's is what the [`ErrorPath`] delivered.
    pub deltas: Vec<Tensor<2>>,
}

impl SpikeTimeNetwork {
    /// Output spike times.
    ///
    /// # Shapes
    /// - `times`: `[batch, n_inputs]` → `[batch, n_classes]`
    pub fn forward(&self, times: Tensor<2>) -> Tensor<2> {
        self.layers.iter().fold(times, |x, layer| layer.forward(x))
    }

    /// Forward pass that keeps every layer's output.
    pub fn forward_trace(&self, times: Tensor<2>) -> ForwardTrace {
        let mut activations = vec![times];
        for layer in &self.layers {
            let next = layer.forward(activations.last().expect("non-empty").clone());
            activations.push(next);
        }
        ForwardTrace { activations }
    }

    /// Exact backpropagation of `delta = ∂L/∂(output times)` through all layers.
    pub fn backward(
        &self,
        trace: &ForwardTrace,
        delta: Tensor<2>,
        max_dw: Option<f64>,
    ) -> NetworkGrads {
        self.backward_along(trace, delta, max_dw, &ErrorPath::Backprop)
    }

    /// The exact layer-local gradients, with the error sent back to the hidden layers along
    /// `path` (a feedback rule's matrices in place of the weights, or direct feedback, which
    /// sends the error of the outputs that fired: a silent output's error reaches no layer
    /// under backprop either).
    /// [`ErrorPath::Backprop`] is [`backward`](Self::backward).
    ///
    /// # Panics
    /// If the path's matrices do not fit the network ([`ErrorPath::check`]).
    pub fn backward_along(
        &self,
        trace: &ForwardTrace,
        delta: Tensor<2>,
        max_dw: Option<f64>,
        path: &ErrorPath,
    ) -> NetworkGrads {
        let acts = &trace.activations;
        self.backward_with(&trace.output(), delta, path, |l, layer, delta, feedback| {
            layer.backward_through(acts[l].clone(), acts[l + 1].clone(), delta, max_dw, feedback)
        })
    }

    /// The walk of [`backward_along`](Self::backward_along) from the output layer down, with
    /// each layer's gradients computed by `layer_grads(l, layer, δ_l, carrier_l)` (the
    /// emulated chip computes them at its observed spike times): the error each layer's
    /// outputs receive is the next layer's input error, or along `path`'s direct matrices the
    /// error of the network `output`s that fired.
    ///
    /// # Panics
    /// If the path's matrices do not fit the network ([`ErrorPath::check`]).
    pub fn backward_with(
        &self,
        output: &Tensor<2>,
        delta: Tensor<2>,
        path: &ErrorPath,
        mut layer_grads: impl FnMut(
            usize,
            &SpikeTimeLayer,
            Tensor<2>,
            Option<Tensor<2>>,
        ) -> SpikeTimeGrads,
    ) -> NetworkGrads {
        path.check(&self.shapes());
        let n = self.layers.len();
        // Direct feedback sends only the error of outputs that fired (as backprop does).
        let silent = output.clone().is_finite().bool_not();
        let output_delta = delta.clone().mask_fill(silent, 0.0);
        let mut delta = delta;
        let mut grads = Vec::with_capacity(n);
        let mut deltas = Vec::with_capacity(n);
        for (l, layer) in self.layers.iter().enumerate().rev() {
            if let Some(d) = path.direct(l).filter(|_| l + 1 < n) {
                delta = direct_error(&output_delta, d);
            }
            deltas.push(delta.clone());
            let g = layer_grads(l, layer, delta, path.carrier(l).cloned());
            delta = g.input_times.clone();
            grads.push(g);
        }
        grads.reverse();
        deltas.reverse();
        NetworkGrads { layers: grads, input_times: delta, deltas }
    }

    /// Each layer's `(n_inputs, n_outputs)`, real inputs only (no bias rows).
    pub fn shapes(&self) -> Vec<(usize, usize)> {
        self.layers.iter().map(|l| (l.n_inputs(), l.n_outputs())).collect()
    }

    /// Forward, loss and backward in one call.
    pub fn loss_and_grads(
        &self,
        times: Tensor<2>,
        labels: Tensor<1, Int>,
        loss: &TtfsLoss,
        max_dw: Option<f64>,
    ) -> (ForwardTrace, LossOutput, NetworkGrads) {
        let trace = self.forward_trace(times);
        let out = loss.forward(trace.output(), labels);
        let grads = self.backward(&trace, out.delta.clone(), max_dw);
        (trace, out, grads)
    }

    /// Replaces layer `l`'s weights, keeping the parameter's identity.
    pub fn set_weights(&mut self, l: usize, weights: Tensor<2>) {
        let layer = &mut self.layers[l];
        let id = layer.weights.id;
        layer.weights = Param::initialized(id, weights);
    }
}
