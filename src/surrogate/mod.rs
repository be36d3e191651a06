//! Surrogate-gradient LIF layers: time-stepped leaky integrate-and-fire networks trained by
//! backpropagation through time with a surrogate spike derivative — the mainstream alternative
//! to exact first-spike-time training (snnTorch, Norse, SpikingJelly; on BrainScaleS-2: Cramer
//! et al., PNAS 119, e2109194119, 2022).
//!
//! - [`config`]: the `[surrogate]` section of an experiment and its rules.
//! - [`spike`]: the spike step and its surrogate derivatives, as types.
//! - [`lif`]: the pure neuron dynamics over explicit parameter and state records.
//! - [`encode`]: spike-time data as spike trains on a time grid (latency or rate).
//! - [`layer`]: thin module wrappers, a single-step cell and a sequence layer.
//! - [`network`]: a feed-forward network with its readouts and loss.
//! - [`on_chip`]: a network on an emulated chip instance, open loop, exact and in the loop.

pub mod config;
pub mod encode;
pub mod layer;
pub mod lif;
pub mod network;
pub mod on_chip;
pub mod spike;

pub use config::SurrogateConfig;
pub use encode::{Encoder, TimeGrid};
pub use layer::{Carrier, LifCell, LifLayer, LifLayerConfig};
pub use lif::{Integrator, LifBehaviour, LifParameters, LifState, LifValues, Reset};
pub use network::{Readout, SurrogateNetwork};
pub use on_chip::SurrogateOnChip;
pub use spike::{SpikeForward, Surrogate};
