//! Thin module wrappers around [`lif_step`]: a single-step [`LifCell`] and a [`LifLayer`] that
//! runs a whole sequence.

use burn::config::Config;
use burn::module::{Content, DisplaySettings, Module, ModuleDisplay, Param};
use burn::tensor::{Device, Tensor};
use rand::Rng;

use super::encode::TimeGrid;
use super::lif::{
    Integrator, LifBehaviour, LifParameters, LifState, LifValues, Propagator, Reset, li_step,
    lif_step,
};
use super::spike::Surrogate;
use crate::util::normal_weights;

/// Configuration of a [`LifLayer`], created with [`LifLayerConfig::init`].
#[derive(Config, Debug)]
pub struct LifLayerConfig {
    /// Number of input spike trains.
    pub n_inputs: usize,
    /// Number of neurons.
    pub n_outputs: usize,
    /// Times of the layer's bias spikes, model time units (one extra, trained, input row each).
    #[config(default = "Vec::new()")]
    pub bias_times: Vec<f64>,
    /// Mean of the normal weight initialisation, potential units.
    #[config(default = 0.0)]
    pub weight_mean: f64,
    /// Standard deviation of the normal weight initialisation, potential units.
    #[config(default = 1.0)]
    pub weight_std: f64,
    /// Neuron parameters given to every neuron.
    #[config(default = "LifValues::default()")]
    pub neuron: LifValues,
    /// The time grid.
    #[config(default = "TimeGrid { dt: 0.05, steps: 60 }")]
    pub grid: TimeGrid,
    /// How the membrane is integrated.
    #[config(default = "Integrator::Exact")]
    pub integrator: Integrator,
    /// The surrogate derivative of the spike.
    #[config(default = "Surrogate::default()")]
    pub surrogate: Surrogate,
    /// What a spike does to the membrane.
    #[config(default = "Reset::Subtract")]
    pub reset: Reset,
    /// Steps held at `v_reset` after a spike.
    #[config(default = 0)]
    pub refractory_steps: usize,
    /// Whether the reset is left out of the backward pass.
    #[config(default = true)]
    pub detach_reset: bool,
    /// `false`: leaky integrators without threshold (a readout layer).
    #[config(default = true)]
    pub spiking: bool,
}

impl LifLayerConfig {
    /// Initialise a layer: weights i.i.d. `N(weight_mean, weight_std)` from `rng` (drawn on the
    /// host, so a seed gives the same network on every backend).
    ///
    /// # Panics
    /// If a size is zero, `weight_std` is negative, a time constant or `dt` is not positive, or
    /// the grid has no steps.
    pub fn init<R: Rng + ?Sized>(&self, device: &Device, rng: &mut R) -> LifLayer {
        assert!(self.n_inputs > 0 && self.n_outputs > 0, "layer sizes must be positive: {self:?}");
        assert!(
            self.neuron.tau_mem > 0.0 && self.neuron.tau_syn > 0.0,
            "time constants must be positive: {:?}",
            self.neuron
        );
        assert!(self.grid.dt > 0.0 && self.grid.steps > 0, "bad time grid {:?}", self.grid);
        let rows = self.n_inputs + self.bias_times.len();
        let weights =
            normal_weights([rows, self.n_outputs], self.weight_mean, self.weight_std, device, rng);
        let p = LifParameters::uniform(&self.neuron, self.n_outputs, device);
        let frozen = |t: Tensor<1>| Param::from_tensor(t).set_require_grad(false);
        LifLayer {
            weights: Param::from_tensor(weights),
            cell: LifCell {
                tau_mem_inv: frozen(p.tau_mem_inv),
                tau_syn_inv: frozen(p.tau_syn_inv),
                v_th: frozen(p.v_th),
                v_leak: frozen(p.v_leak),
                v_reset: frozen(p.v_reset),
                behaviour: LifBehaviour {
                    surrogate: self.surrogate,
                    reset: self.reset,
                    refractory_steps: self.refractory_steps,
                    detach_reset: self.detach_reset,
                    ..LifBehaviour::default()
                },
                integrator: self.integrator,
                spiking: self.spiking,
            },
            bias_times: self.bias_times.clone(),
            grid: self.grid,
        }
    }
}

/// One time step of a population of LIF neurons (or leaky integrators), parameters per neuron.
/// Created inside a [`LifLayer`]; [`LifCell::step`] is [`lif_step`] with this cell's values.
#[derive(Module, Debug)]
pub struct LifCell {
    /// 1/τm per neuron, per model time unit, shape `[n]` (frozen).
    pub tau_mem_inv: Param<Tensor<1>>,
    /// 1/τs per neuron, per model time unit, shape `[n]` (frozen).
    pub tau_syn_inv: Param<Tensor<1>>,
    /// ϑ per neuron, potential units, shape `[n]` (frozen).
    pub v_th: Param<Tensor<1>>,
    /// Leak potential per neuron, potential units, shape `[n]` (frozen).
    pub v_leak: Param<Tensor<1>>,
    /// Reset potential per neuron, potential units, shape `[n]` (frozen).
    pub v_reset: Param<Tensor<1>>,
    /// Surrogate, reset and refractoriness.
    #[module(skip)]
    pub behaviour: LifBehaviour,
    /// How the membrane is integrated.
    #[module(skip)]
    pub integrator: Integrator,
    /// `false`: leaky integrators (no threshold, no spikes).
    #[module(skip)]
    pub spiking: bool,
}

impl LifCell {
    /// The per-neuron parameters.
    pub fn parameters(&self) -> LifParameters {
        LifParameters {
            tau_mem_inv: self.tau_mem_inv.val(),
            tau_syn_inv: self.tau_syn_inv.val(),
            v_th: self.v_th.val(),
            v_leak: self.v_leak.val(),
            v_reset: self.v_reset.val(),
        }
    }

    /// The step coefficients for `dt` (compute once per sequence).
    pub fn propagator(&self, dt: f64) -> Propagator {
        Propagator::new(&self.parameters(), dt, self.integrator)
    }

    /// One step: `input` current jumps `[batch, n]` → spikes `[batch, n]` (for a leaky
    /// integrator: zeros) and the new state.
    pub fn step(&self, input: Tensor<2>, state: LifState, p: &Propagator) -> (Tensor<2>, LifState) {
        if self.spiking {
            lif_step(input, state, p, &self.behaviour)
        } else {
            let (v, i) = li_step(input, state.v, state.i, p);
            (v.zeros_like(), LifState { v, i, refractory: state.refractory })
        }
    }
}

/// A fully connected layer of current-based LIF neurons, time-stepped, trained by
/// backpropagation through time with a surrogate spike derivative (Neftci, Mostafa & Zenke
/// 2019; on BrainScaleS-2: Cramer et al., PNAS 119, e2109194119, 2022). Create it with
/// [`LifLayerConfig`].
#[derive(Module, Debug)]
#[module(custom_display)]
pub struct LifLayer {
    /// Weights, potential units, shape `[n_inputs + n_bias, n_outputs]`: input rows, then bias
    /// rows (the layout of the first-spike-time layers).
    pub weights: Param<Tensor<2>>,
    /// The neurons.
    pub cell: LifCell,
    /// Bias spike times, model time units.
    #[module(skip)]
    pub bias_times: Vec<f64>,
    /// The time grid.
    #[module(skip)]
    pub grid: TimeGrid,
}

/// What a layer did over a sequence.
#[derive(Debug, Clone)]
pub struct LayerTrace {
    /// Spikes per step, each `[batch, n_outputs]` (zeros for a leaky-integrator layer).
    pub spikes: Vec<Tensor<2>>,
    /// Membrane potential per step (after reset), each `[batch, n_outputs]`.
    pub v: Vec<Tensor<2>>,
}

impl LifLayer {
    /// Number of (non-bias) inputs.
    pub fn n_inputs(&self) -> usize {
        self.weights.val().dims()[0] - self.bias_times.len()
    }

    /// Number of neurons.
    pub fn n_outputs(&self) -> usize {
        self.weights.val().dims()[1]
    }

    /// Run the layer over a whole sequence from rest.
    ///
    /// # Shapes
    /// - `inputs`: one `[batch, n_inputs]` tensor of input spikes per step (`grid.steps` of them)
    /// - returns one `[batch, n_outputs]` tensor per step in each [`LayerTrace`] field
    ///
    /// # Panics
    /// If the number of steps or the input width is wrong.
    pub fn forward(&self, inputs: &[Tensor<2>]) -> LayerTrace {
        self.run_currents(self.input_currents(inputs, Carrier::Weights))
    }

    /// The synaptic input current of every step (input spikes through the weights, plus the
    /// bias rows at their steps), with the gradient to the inputs carried as `carrier` says.
    /// The values do not depend on `carrier`.
    ///
    /// # Shapes
    /// - `inputs`: one `[batch, n_inputs]` tensor per step → one `[batch, n_outputs]` per step
    ///
    /// # Panics
    /// If the number of steps, the input width or the carrier's shape is wrong.
    pub fn input_currents(&self, inputs: &[Tensor<2>], carrier: Carrier) -> Vec<Tensor<2>> {
        self.input_currents_with(self.weights.val(), inputs, carrier)
    }

    /// [`input_currents`](Self::input_currents) through the weights `w` (of the layer's shape,
    /// bias rows included) in place of the layer's own: the weights an emulated chip realises.
    ///
    /// # Panics
    /// As [`input_currents`](Self::input_currents), or if `w` has another shape.
    pub fn input_currents_with(
        &self,
        w: Tensor<2>,
        inputs: &[Tensor<2>],
        carrier: Carrier,
    ) -> Vec<Tensor<2>> {
        assert_eq!(w.dims(), self.weights.val().dims(), "LifLayer weights of another shape");
        assert_eq!(inputs.len(), self.grid.steps, "LifLayer expects one input per step");
        let n_in = self.n_inputs();
        let [_, got] = inputs[0].dims();
        assert_eq!(got, n_in, "LifLayer expects {n_in} input columns, got {got}");
        if let Carrier::Matrix(b) = &carrier {
            assert_eq!(b.dims(), [n_in, self.n_outputs()], "feedback matrix shape");
        }
        let w_in = w.clone().narrow(0, 0, n_in);
        let bias: Vec<(usize, Tensor<2>)> = self
            .bias_times
            .iter()
            .enumerate()
            .filter_map(|(k, t)| self.grid.step_of(*t).map(|s| (s, k)))
            .map(|(s, k)| (s, w.clone().narrow(0, n_in + k, 1)))
            .collect();
        let mut currents = Vec::with_capacity(inputs.len());
        for (t, x) in inputs.iter().enumerate() {
            let mut current = match &carrier {
                Carrier::Weights => x.clone().matmul(w_in.clone()),
                // Forward through W, backward through B: x·B − (x·B) is exactly 0 in value.
                Carrier::Matrix(b) => {
                    let xb = x.clone().matmul((**b).clone());
                    x.clone().detach().matmul(w_in.clone()) + (xb.clone() - xb.detach())
                }
                Carrier::Nothing => x.clone().detach().matmul(w_in.clone()),
            };
            for (_, row) in bias.iter().filter(|(s, _)| *s == t) {
                current = current + row.clone();
            }
            currents.push(current);
        }
        currents
    }

    /// Run the neurons from rest on the given input current of every step.
    ///
    /// # Shapes
    /// - `currents`: one `[batch, n_outputs]` tensor per step (`grid.steps` of them)
    ///
    /// # Panics
    /// If the number of steps is wrong.
    pub fn run_currents(&self, currents: Vec<Tensor<2>>) -> LayerTrace {
        assert_eq!(currents.len(), self.grid.steps, "LifLayer expects one current per step");
        let [batch, _] = currents[0].dims();
        let p = self.cell.propagator(self.grid.dt);
        let mut state = LifState::initial(batch, &p);
        let mut trace = LayerTrace { spikes: vec![], v: vec![] };
        for current in currents {
            let (z, next) = self.cell.step(current, state, &p);
            state = next;
            trace.v.push(state.v.clone());
            trace.spikes.push(z);
        }
        trace
    }
}

/// What carries a layer's error back to its input spikes ([`LifLayer::input_currents`]).
#[derive(Debug, Clone)]
pub enum Carrier {
    /// The weights themselves: backpropagation.
    Weights,
    /// A feedback matrix `B` (`[n_inputs, n_outputs]`) in place of the weights: the forward pass
    /// goes through `W`, the gradient to the inputs through `B`.
    Matrix(Box<Tensor<2>>),
    /// Nothing: the inputs receive no gradient through this layer (direct feedback alignment
    /// delivers their error another way).
    Nothing,
}

impl ModuleDisplay for LifLayer {
    fn custom_settings(&self) -> Option<DisplaySettings> {
        DisplaySettings::new().with_new_line_after_attribute(false).optional()
    }

    fn custom_content(&self, content: Content) -> Option<Content> {
        content
            .add("n_inputs", &self.n_inputs())
            .add("n_outputs", &self.n_outputs())
            .add("n_bias", &self.bias_times.len())
            .add("spiking", &self.cell.spiking)
            .add("steps", &self.grid.steps)
            .add("dt", &self.grid.dt)
            .optional()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::StdRng;
    use crate::util::to_vec_f64;
    use rand::SeedableRng;

    fn layer(spiking: bool) -> LifLayer {
        LifLayerConfig::new(3, 2)
            .with_bias_times(vec![0.0])
            .with_grid(TimeGrid { dt: 0.1, steps: 5 })
            .with_spiking(spiking)
            .init(&Device::default(), &mut StdRng::seed_from_u64(0))
    }

    #[test]
    fn display_is_pinned() {
        assert_eq!(
            format!("{}", layer(true)),
            "LifLayer {n_inputs: 3, n_outputs: 2, n_bias: 1, spiking: true, steps: 5, dt: 0.1, params: 18}"
        );
    }

    /// One input spike into a leaky integrator (τm = τs = 1) at step 0: the membrane follows
    /// `v(t) = w (t/τ) e^{−t/τ}` at the step ends `t = 0.1, 0.2, …` (the bias row adds its
    /// weight at step 0 too).
    #[test]
    fn leaky_integrator_follows_the_psp() {
        let l = layer(false);
        let device = Device::default();
        let mut inputs = vec![Tensor::<2>::zeros([1, 3], &device); 5];
        inputs[0] =
            Tensor::from_data(burn::tensor::TensorData::new(vec![1.0, 0.0, 0.0], [1, 3]), &device);
        let trace = l.forward(&inputs);
        let w = to_vec_f64(l.weights.val());
        for (k, v) in trace.v.iter().enumerate() {
            let t = 0.1 * (k + 1) as f64;
            let v = to_vec_f64(v.clone());
            for j in 0..2 {
                let want = (w[j] + w[3 * 2 + j]) * t * (-t).exp();
                assert!((v[j] - want).abs() < 1e-5, "step {k} neuron {j}: {} vs {want}", v[j]);
            }
            assert!(to_vec_f64(trace.spikes[k].clone()).iter().all(|z| *z == 0.0));
        }
    }

    #[test]
    #[should_panic(expected = "expects 3 input columns")]
    fn forward_checks_input_width() {
        let inputs = vec![Tensor::<2>::zeros([1, 4], &Device::default()); 5];
        layer(true).forward(&inputs);
    }
}
