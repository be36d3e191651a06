//! # spikeburn
//!
//! Spiking neural networks on [Burn](https://burn.dev), trained the way the neuromorphic
//! community trains them, on Burn's backends, with every part verified (the tests run on
//! flex and ndarray in CI).
//!
//! - [`ttfs`]: exact first-spike-time layers (Göltz, Kriener et al. 2021) with analytical
//!   gradients.
//! - [`surrogate`]: time-stepped LIF layers trained with surrogate gradients (BPTT).
//! - [`sampling`]: sampling-based Boltzmann layers (neural sampling, LIF sampling, wake–sleep).
//! - [`chip`]: an emulated BrainScaleS-2 chip: profiles, fixed-pattern draws, weight
//!   resolution, trial noise.
//! - [`data`]: datasets and spike-time encoders (Yin-Yang, generated bit-exactly).
//! - [`train`]: configurations, the methods, the training loop, run outputs.
//! - [`io`]: weight interop (safetensors), `.npy`, images, charts, run folders.
//! - [`config`]: reading TOML configurations (the error type and parse helpers).
//! - [`readout`]: decisions from class scores (unique winner, decision step).
//! - [`device`]: picking the Burn backend at run time.
//! - [`error_path`]: the path a network's error takes back to its hidden layers (the data a
//!   feedback rule hands the models).
//! - [`feedback`]: feedback rules: backprop, feedback alignment, DFA, sign symmetry,
//!   Kolen–Pollack and spike-based alignment learning.
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod chip;
pub mod config;
pub mod data;
pub mod device;
pub mod error_path;
pub mod feedback;
pub mod io;
pub mod readout;
pub mod sampling;
pub mod surrogate;
pub mod train;
pub mod ttfs;
pub mod util;
