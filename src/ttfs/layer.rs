//! [`SpikeTimeLayer`]: a layer of exact first-spike-time LIF neurons as a Burn module.

use burn::config::Config;
use burn::module::{Content, DisplaySettings, Module, ModuleDisplay, Param};
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;

use super::functional::{self, SpikeTimeGrads};
use super::kernel;
use super::neuron::{NeuronParams, NeuronTensors, TauRatio};
use crate::util::normal_weights;

/// Configuration of a [`SpikeTimeLayer`], created with [`SpikeTimeLayerConfig::init`].
#[derive(Config, Debug)]
pub struct SpikeTimeLayerConfig {
    /// Number of input synapses (spike trains from the previous layer or the encoder).
    pub n_inputs: usize,
    /// Number of neurons in the layer.
    pub n_outputs: usize,
    /// Times of the layer's bias spikes, in model time units (one extra, trained, input row
    /// per entry; the Yin-Yang reference uses `[0.9]`).
    #[config(default = "Vec::new()")]
    pub bias_times: Vec<f64>,
    /// Mean of the normal weight initialisation.
    #[config(default = 1.0)]
    pub weight_mean: f64,
    /// Standard deviation of the normal weight initialisation.
    #[config(default = 1.0)]
    pub weight_std: f64,
    /// τm/τs.
    #[config(default = "TauRatio::Equal")]
    pub tau_ratio: TauRatio,
    /// τs, in model time units.
    #[config(default = 1.0)]
    pub tau_syn: f64,
    /// ϑ, the threshold potential.
    #[config(default = 1.0)]
    pub v_th: f64,
    /// E_l, the leak potential.
    #[config(default = 0.0)]
    pub v_leak: f64,
    /// g_l, the leak conductance; `None` means `τs/τm` (C_m = τs, the reference's choice).
    pub g_leak: Option<f64>,
    /// How spike times and gradients are computed.
    #[config(default = "Compute::Auto")]
    pub compute: Compute,
}

/// How a [`SpikeTimeLayer`] computes: both give the same results (tested to 1e-9 in f64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compute {
    /// The CPU kernel on CPU backends (flex, ndarray), tensor operations elsewhere (GPU).
    #[default]
    Auto,
    /// Burn tensor operations ([`functional`]): runs on every backend.
    Tensor,
    /// The dedicated CPU kernel ([`kernel`]): host memory, threads over samples.
    Kernel,
}

impl Compute {
    /// Whether to use the CPU kernel for tensors on `device`.
    pub fn use_kernel(self, device: &Device) -> bool {
        match self {
            Compute::Auto => crate::device::is_host_cpu(device),
            Compute::Tensor => false,
            Compute::Kernel => true,
        }
    }
}

impl SpikeTimeLayerConfig {
    /// The scalar neuron parameters this config gives every neuron.
    pub fn neuron(&self) -> NeuronParams {
        NeuronParams {
            tau_syn: self.tau_syn,
            ratio: self.tau_ratio,
            v_th: self.v_th,
            v_leak: self.v_leak,
            g_leak: self.g_leak.unwrap_or(1.0 / self.tau_ratio.value()),
        }
    }

    /// Initialise a layer: weights i.i.d. `N(weight_mean, weight_std)` from `rng` (drawn on the
    /// host, so a seed gives the same network on every backend).
    ///
    /// # Panics
    /// If a size is zero, `weight_std` is negative, or `tau_syn` is not positive.
    pub fn init<R: Rng + ?Sized>(&self, device: &Device, rng: &mut R) -> SpikeTimeLayer {
        assert!(self.n_inputs > 0 && self.n_outputs > 0, "layer sizes must be positive: {self:?}");
        assert!(self.tau_syn > 0.0, "tau_syn must be positive, got {}", self.tau_syn);
        let rows = self.n_inputs + self.bias_times.len();
        let weights =
            normal_weights([rows, self.n_outputs], self.weight_mean, self.weight_std, device, rng);
        self.init_with_weights(weights)
    }

    /// A layer with the given weights, shape `[n_inputs + n_bias, n_outputs]` (input rows first,
    /// then the bias rows: the reference's layout).
    ///
    /// # Panics
    /// If the shape disagrees with the config.
    pub fn init_with_weights(&self, weights: Tensor<2>) -> SpikeTimeLayer {
        let rows = self.n_inputs + self.bias_times.len();
        assert_eq!(weights.dims(), [rows, self.n_outputs], "weights shape for {self:?}");
        let device = weights.device();
        let p = NeuronTensors::uniform(&self.neuron(), self.n_outputs, &device);
        let frozen = |t: Tensor<1>| Param::from_tensor(t).set_require_grad(false);
        SpikeTimeLayer {
            weights: Param::from_tensor(weights),
            tau_syn: frozen(p.tau_syn),
            v_th: frozen(p.v_th),
            v_leak: frozen(p.v_leak),
            g_leak: frozen(p.g_leak),
            bias_times: self.bias_times.clone(),
            tau_ratio: self.tau_ratio,
            compute: self.compute,
        }
    }
}

/// A layer of current-based LIF neurons that emit one spike each, at a time given in closed form
/// (Göltz, Kriener et al. 2021, arXiv:1912.11443). Create it with [`SpikeTimeLayerConfig`].
///
/// Trained with exact gradients of the spike times ([`SpikeTimeLayer::backward`]).
#[derive(Module, Debug)]
#[module(custom_display)]
pub struct SpikeTimeLayer {
    /// Weights, shape `[n_inputs + n_bias, n_outputs]`: input rows, then bias rows.
    pub weights: Param<Tensor<2>>,
    /// τs per neuron, shape `[n_outputs]` (frozen).
    pub tau_syn: Param<Tensor<1>>,
    /// ϑ per neuron, shape `[n_outputs]` (frozen).
    pub v_th: Param<Tensor<1>>,
    /// E_l per neuron, shape `[n_outputs]` (frozen).
    pub v_leak: Param<Tensor<1>>,
    /// g_l per neuron, shape `[n_outputs]` (frozen).
    pub g_leak: Param<Tensor<1>>,
    /// Bias spike times, model time units.
    #[module(skip)]
    pub bias_times: Vec<f64>,
    /// τm/τs of all neurons.
    #[module(skip)]
    pub tau_ratio: TauRatio,
    /// How spike times and gradients are computed.
    #[module(skip)]
    pub compute: Compute,
}

impl SpikeTimeLayer {
    /// Number of (non-bias) inputs.
    pub fn n_inputs(&self) -> usize {
        self.weights.val().dims()[0] - self.bias_times.len()
    }

    /// Number of neurons.
    pub fn n_outputs(&self) -> usize {
        self.weights.val().dims()[1]
    }

    /// The per-neuron parameters as tensors.
    pub fn neurons(&self) -> NeuronTensors {
        NeuronTensors {
            tau_syn: self.tau_syn.val(),
            v_th: self.v_th.val(),
            v_leak: self.v_leak.val(),
            g_leak: self.g_leak.val(),
            ratio: self.tau_ratio,
        }
    }

    /// Input times with the bias spikes appended as extra columns.
    ///
    /// # Shapes
    /// - `times`: `[batch, n_inputs]` → `[batch, n_inputs + n_bias]`
    pub fn with_bias(&self, times: Tensor<2>) -> Tensor<2> {
        if self.bias_times.is_empty() {
            return times;
        }
        let [batch, _] = times.dims();
        let bias = Tensor::<1>::from_data(
            TensorData::new(self.bias_times.clone(), [self.bias_times.len()]),
            (&times.device(), times.dtype()),
        );
        let bias = bias.unsqueeze_dim::<2>(0).expand([batch, self.bias_times.len()]);
        Tensor::cat(vec![times, bias], 1)
    }

    /// A feedback matrix `[n_inputs, n_outputs]` with zero rows appended for the bias inputs
    /// (the bias spikes receive no error), the shape of the weights.
    ///
    /// # Panics
    /// If `b` does not have the real-input shape.
    pub fn with_bias_rows(&self, b: Tensor<2>) -> Tensor<2> {
        assert_eq!(b.dims(), [self.n_inputs(), self.n_outputs()], "feedback matrix shape");
        match self.bias_times.len() {
            0 => b,
            n_bias => Tensor::cat(
                vec![b.clone(), b.zeros_like().narrow(0, 0, 1).repeat_dim(0, n_bias)],
                0,
            ),
        }
    }

    /// First output spike times.
    ///
    /// # Shapes
    /// - `times`: `[batch, n_inputs]` (`+∞` = no input spike)
    /// - returns: `[batch, n_outputs]` (`+∞` = the neuron does not fire)
    ///
    /// # Panics
    /// If `times` does not have `n_inputs` columns.
    pub fn forward(&self, times: Tensor<2>) -> Tensor<2> {
        let n_in = self.n_inputs();
        let [_, got] = times.dims();
        assert_eq!(got, n_in, "SpikeTimeLayer expects {n_in} input columns, got {got}");
        let (x, w) = (self.with_bias(times), self.weights.val());
        if self.compute.use_kernel(&w.device()) {
            kernel::first_spike_times(x, w, &self.neurons())
        } else {
            functional::first_spike_times(x, w, &self.neurons())
        }
    }

    /// Exact gradients given the forward pass (`times` as passed to [`forward`](Self::forward),
    /// `out` its result) and `delta = ∂L/∂out`. The weight gradient includes the bias rows; the
    /// propagated error covers the `n_inputs` real inputs only.
    ///
    /// # Shapes
    /// - `times`: `[batch, n_inputs]`, `out`, `delta`: `[batch, n_outputs]`
    /// - returned weights gradient: `[n_inputs + n_bias, n_outputs]`; input error `[batch, n_inputs]`
    pub fn backward(
        &self,
        times: Tensor<2>,
        out: Tensor<2>,
        delta: Tensor<2>,
        max_dw: Option<f64>,
    ) -> SpikeTimeGrads {
        self.backward_through(times, out, delta, max_dw, None)
    }

    /// [`backward`](Self::backward) with the error carried to the inputs by `feedback` instead
    /// of the weights ([`functional::backward_with`]); `None` is backpropagation.
    ///
    /// # Shapes
    /// As [`backward`](Self::backward); `feedback`: `[n_inputs, n_outputs]` (no bias rows: the
    /// bias spikes receive no error).
    pub fn backward_through(
        &self,
        times: Tensor<2>,
        out: Tensor<2>,
        delta: Tensor<2>,
        max_dw: Option<f64>,
        feedback: Option<Tensor<2>>,
    ) -> SpikeTimeGrads {
        let n_in = self.n_inputs();
        let (x, w) = (self.with_bias(times), self.weights.val());
        let feedback = feedback.map(|b| self.with_bias_rows(b));
        let use_kernel = self.compute.use_kernel(&w.device());
        let backward = if use_kernel { kernel::backward_with } else { functional::backward_with };
        let mut grads = backward(x, w, feedback, &self.neurons(), out, delta, max_dw);
        grads.input_times = grads.input_times.narrow(1, 0, n_in);
        grads
    }
}

impl ModuleDisplay for SpikeTimeLayer {
    fn custom_settings(&self) -> Option<DisplaySettings> {
        DisplaySettings::new().with_new_line_after_attribute(false).optional()
    }

    fn custom_content(&self, content: Content) -> Option<Content> {
        content
            .add("n_inputs", &self.n_inputs())
            .add("n_bias", &self.bias_times.len())
            .add("n_outputs", &self.n_outputs())
            .add("tau_ratio", &format!("{:?}", self.tau_ratio))
            .optional()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::StdRng;
    use rand::SeedableRng;

    fn layer() -> SpikeTimeLayer {
        SpikeTimeLayerConfig::new(4, 3)
            .with_bias_times(vec![0.9])
            .init(&Device::default(), &mut StdRng::seed_from_u64(0))
    }

    #[test]
    /// 5×3 weights (4 inputs + 1 bias row) and 4×3 frozen per-neuron parameters = 27.
    fn display_is_pinned() {
        assert_eq!(
            format!("{}", layer()),
            "SpikeTimeLayer {n_inputs: 4, n_bias: 1, n_outputs: 3, tau_ratio: Equal, params: 27}"
        );
    }

    #[test]
    fn shapes_and_bias_columns() {
        let l = layer();
        assert_eq!(l.weights.val().dims(), [5, 3]);
        let x = Tensor::<2>::full([2, 4], 0.5, &Device::default());
        assert_eq!(l.with_bias(x.clone()).dims(), [2, 5]);
        assert_eq!(l.forward(x).dims(), [2, 3]);
    }

    #[test]
    #[should_panic(expected = "SpikeTimeLayer expects 4 input columns, got 3")]
    fn forward_checks_input_width() {
        let _ = layer().forward(Tensor::<2>::zeros([1, 3], &Device::default()));
    }

    #[test]
    #[should_panic(expected = "tau_syn must be positive")]
    fn init_rejects_bad_tau() {
        let _ = SpikeTimeLayerConfig::new(2, 2)
            .with_tau_syn(0.0)
            .init(&Device::default(), &mut StdRng::seed_from_u64(0));
    }

    #[test]
    fn same_seed_same_weights() {
        let a = crate::util::to_vec_f64(layer().weights.val());
        let b = crate::util::to_vec_f64(layer().weights.val());
        assert_eq!(a, b);
        let mean = a.iter().sum::<f64>() / a.len() as f64;
        assert!((mean - 1.0).abs() < 0.6, "N(1, 1) init, mean {mean}");
    }
}
