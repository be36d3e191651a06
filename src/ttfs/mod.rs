//! Exact first-spike-time (time-to-first-spike) layers, after Göltz, Kriener et al., "Fast and
//! energy-efficient neuromorphic deep learning with first-spike times", Nat. Mach. Intell. 3,
//! 823–835 (2021), arXiv:1912.11443.
//!
//! - [`neuron`]: the neuron model and its parameters.
//! - [`lambert`]: the Lambert W₀ function (scalar and tensor).
//! - [`scalar`]: single-neuron f64 closed forms and gradients, the oracle for tests.
//! - [`general`]: spike times and exact gradients for any τm/τs per neuron (mismatch).
//! - [`general_kernel`]: the batched CPU kernel of heterogeneous layers (spike times, gradients).
//! - [`simulate`]: an independent fine-step ODE simulation of the same neuron.
//! - [`functional`]: batched spike times and exact gradients on Burn tensors (any backend).
//! - [`kernel`]: the same on host memory, a dedicated multi-threaded CPU kernel.
//! - [`layer`], [`network`]: the modules.
//! - [`on_chip`]: a network on an emulated chip (mismatch, weight levels, trial noise).
//! - [`loss`]: the paper's loss and the earliest-spike prediction.

pub mod functional;
pub mod general;
pub mod general_kernel;
pub mod kernel;
pub mod lambert;
pub mod layer;
pub mod loss;
pub mod network;
pub mod neuron;
pub mod on_chip;
pub mod scalar;
pub mod simulate;

pub use layer::{Compute, SpikeTimeLayer, SpikeTimeLayerConfig};
pub use loss::TtfsLoss;
pub use network::SpikeTimeNetwork;
pub use neuron::{NeuronParams, TauRatio};
