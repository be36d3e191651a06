//! Sampling-based Boltzmann layers: spiking networks whose states sample from
//! p(z) ∝ exp(½ zᵀWz + bᵀz), and learn by wake–sleep rules.
//!
//! A sampling neuron is "on" (z_k = 1) for a refractory time τ_ref after each spike, and its
//! membrane potential plays the role of the conditional log-odds u_k = b_k + Σ_j W_kj z_j
//! (Buesing et al. 2011; Petrovici et al., Phys. Rev. E 2016).
//!
//! - [`boltzmann`]: the target distribution, exact by enumeration for up to 20 units.
//! - [`quality`]: D_KL with pseudo-counts, marginal errors, autocorrelation time, ESS.
//! - [`sampler`]: the [`Sampler`] interface (time-weighted binary states of a batch of chains)
//!   and its recording drivers.
//! - [`neural`]: abstract neural sampling in discrete time, and exact Gibbs sampling.
//! - [`classifier`]: the `[sampling]` section of an experiment (the sampling classifier).
//! - [`experiment`]: the `spikeburn sample` experiment (config, run, report).
//! - [`layered`]: the tensor sampler: an RBM with visible, label and hidden units, sampled by
//!   neural sampling with layer sweeps over a batch of chains (classification, completion).
//! - [`learn`]: wake–sleep and importance-weighted learning with any sampler in the loop.
//! - [`sal`]: spike-based alignment learning: the antisymmetric STDP rule on noise-driven
//!   neural-sampling neurons with asymmetric weights, and its input-free sleep phases.
//! - [`sal_wake_sleep`]: wake–sleep from asymmetric initial weights, with and without SAL on
//!   the sleep spikes.
//! - [`lif`]: LIF sampling with Poisson, oscillating or network background; calibration and
//!   translation of (W, b) into synaptic weights and resting potentials.
pub mod boltzmann;
pub mod classifier;
pub mod experiment;
pub mod layered;
pub mod learn;
pub mod lif;
pub mod neural;
pub mod on_chip;
pub mod quality;
pub mod sal;
pub mod sal_wake_sleep;
pub mod sampler;

pub use boltzmann::{BoltzmannMachine, MAX_ENUMERATED_UNITS, correlations, marginals, pack};
pub use classifier::{SamplingConfig, SleepChains};
pub use experiment::{SampleConfig, SampleError, SampleReport, SamplerKind, run_sample};
pub use layered::{LayerState, SamplingRbm, SamplingRbmConfig, neural_sampling_update};
pub use learn::{
    ImportanceWeighted, Optimizer, Quantisation, WakeSleep, sampled_moments, visible_marginal,
};
pub use lif::{
    Calibration, CalibrationError, CalibrationSweep, FreeMembrane, LifSampler, LifSamplingNeuron,
    Noise, SynapseModel, Translation, calibrate, free_membrane, try_calibrate,
};
pub use neural::{NeuralSampler, UpdateOrder};
pub use on_chip::LifOnChip;
pub use quality::{StateHistogram, kl_divergence, marginal_kl_sum};
pub use sampler::{Sampler, dkl_trace, log_spaced, mean_states, record, record_where};
