//! Small helpers: tensors to and from host memory, weight initialisation, process memory.

use burn::tensor::{DType, Device, Int, Tensor, TensorData};
use rand::Rng;
use rand_distr::{Distribution, Normal};

/// spikeburn's random generator: ChaCha12, the generator behind rand's `StdRng` (same seeding,
/// same stream), used directly so that its position can be saved ([`rng_state`]) and restored
/// ([`rng_from_state`]) when a run is resumed.
pub type StdRng = chacha20::ChaCha12Rng;

/// The full state of a [`StdRng`] (seed, stream, position) as lowercase hex.
pub fn rng_state(rng: &StdRng) -> String {
    rng.serialize_state().iter().map(|b| format!("{b:02x}")).collect()
}

/// The generator [`rng_state`] described, or `None` if `hex` is not such a state.
pub fn rng_from_state(hex: &str) -> Option<StdRng> {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| hex.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect::<Option<_>>()?;
    let state: chacha20::SerializedRngState = bytes.try_into().ok()?;
    Some(StdRng::deserialize_state(&state))
}

/// A `[rows, cols]` weight matrix drawn i.i.d. from `N(mean, std)` on the host (row-major, so a
/// seed gives the same weights on every backend).
///
/// # Panics
/// If `std` is negative or a parameter is not finite (the message names them).
pub fn normal_weights<R: Rng + ?Sized>(
    [rows, cols]: [usize; 2],
    mean: f64,
    std: f64,
    device: &Device,
    rng: &mut R,
) -> Tensor<2> {
    let normal =
        Normal::new(mean, std).unwrap_or_else(|e| panic!("bad weight init N({mean}, {std}): {e}"));
    let values: Vec<f64> = (0..rows * cols).map(|_| normal.sample(rng)).collect();
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

/// A float tensor's values as f64, row-major.
pub fn to_vec_f64<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_into_vec::<f64>().expect("float tensor data")
}

/// A float tensor of `dtype` on `device` from f64 values, row-major (converted on the host, so
/// no f64 tensor is created on a device that has none).
pub fn from_vec_f64<const D: usize>(
    values: Vec<f64>,
    shape: [usize; D],
    device: &Device,
    dtype: DType,
) -> Tensor<D> {
    let data = TensorData::new(values, shape);
    let data = if dtype == DType::F64 { data } else { data.convert::<f32>() };
    Tensor::from_data(data, (device, dtype))
}

/// An int tensor's values as i64, row-major.
pub fn to_vec_i64<const D: usize>(t: Tensor<D, Int>) -> Vec<i64> {
    t.into_data().convert::<i64>().try_into_vec::<i64>().expect("int tensor data")
}

/// The process's peak resident memory so far (`VmHWM` of `/proc/self/status`), in bytes;
/// `None` where that file does not exist (not Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The memory the system can still give (`MemAvailable` of `/proc/meminfo`), in bytes; `None`
/// where unavailable.
pub fn available_memory_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A run whose estimated memory exceeds what the machine has.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{what} would need at least {} of memory ({how}); this machine has {} available: make it \
     smaller",
    gib(*.needed),
    gib(*.available)
)]
pub struct TooLarge {
    /// What is run.
    pub what: String,
    /// The lower bound, bytes.
    pub needed: u128,
    /// What the estimate is made of.
    pub how: String,
    /// The memory available, bytes.
    pub available: u128,
}

fn gib(bytes: u128) -> String {
    let g = bytes as f64 / (1u64 << 30) as f64;
    if g >= 1e4 { format!("{g:.3e} GiB") } else { format!("{g:.2} GiB") }
}

/// Refuses a run that needs at least `needed` bytes (`how`: the terms of the estimate) before
/// anything is allocated, if it exceeds the available memory (never where that is unknown).
///
/// # Errors
/// [`TooLarge`] with the estimate.
pub fn check_memory(what: &str, needed: u128, how: &str) -> Result<(), TooLarge> {
    match available_memory_bytes() {
        Some(available) if needed > u128::from(available) => Err(TooLarge {
            what: what.into(),
            needed,
            how: how.into(),
            available: u128::from(available),
        }),
        _ => Ok(()),
    }
}

/// The process's current resident memory (`VmRSS`), in bytes; `None` where unavailable.
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Reset the peak-memory mark to the current resident memory (Linux `clear_refs` 5), so that
/// [`peak_rss_bytes`] measures from now on. Returns whether it worked.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The logistic function 1/(1 + e^{−x}) elementwise, at the tensor's own precision on every
/// backend. Burn's default `activation::sigmoid` (used by backends without their own, such as
/// ndarray in 0.22.1) computes in f32 even for f64 tensors (errors up to 6·10⁻⁸, enough to
/// spoil an f64 finite-difference check). f32 tensors lose nothing there and go to Burn's
/// sigmoid unchanged (so every f32 result stays bit for bit what it was); other precisions get
/// flex's own formula — `1/(1 + e^{−x})` for x ≥ 0, `e^x/(1 + e^x)` below — with each branch fed
/// only its own half of the inputs (the other half set to 0), so no exponential overflows,
/// forward or backward, and the gradient is exact at 0 too.
pub fn sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if x.dtype() == burn::tensor::DType::F32 {
        return burn::tensor::activation::sigmoid(x);
    }
    let upper = x.clone().greater_equal_elem(0.0);
    let x_high = x.clone().mask_fill(upper.clone().bool_not(), 0.0);
    let x_low = x.mask_fill(upper.clone(), 0.0);
    let high = x_high.neg().exp().add_scalar(1.0).recip();
    let e = x_low.exp();
    let low = e.clone() / e.add_scalar(1.0);
    low.mask_where(upper, high)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// The generator is rand's `StdRng` (same seeding, same stream, through u32, u64 and f64
    /// draws), and its saved state continues the stream exactly, from any position (inside a
    /// block, after an odd number of words).
    #[test]
    fn generator_is_rands_and_its_state_round_trips() {
        let mut ours = StdRng::seed_from_u64(42);
        let mut rands = rand::rngs::StdRng::seed_from_u64(42);
        for i in 0..1000 {
            match i % 3 {
                0 => assert_eq!(ours.random::<u32>(), rands.random::<u32>()),
                1 => assert_eq!(ours.random::<u64>(), rands.random::<u64>()),
                _ => assert_eq!(ours.random::<f64>().to_bits(), rands.random::<f64>().to_bits()),
            }
        }
        for skip in [0usize, 1, 7, 16, 33] {
            let mut a = StdRng::seed_from_u64(7);
            (0..skip).for_each(|_| {
                let _: u32 = a.random();
            });
            let mut b = rng_from_state(&rng_state(&a)).expect("a state");
            let draws = |r: &mut StdRng| (0..100).map(|_| r.random::<u64>()).collect::<Vec<_>>();
            assert_eq!(draws(&mut a), draws(&mut b), "after {skip} words");
        }
        assert!(rng_from_state("zz").is_none() && rng_from_state("00ff").is_none());
    }

    /// f32 tensors (the training precision) take Burn's own sigmoid: the values are its values,
    /// so no f32 result changed when this function replaced it.
    #[test]
    fn sigmoid_in_f32_is_burns() {
        let xs: Vec<f32> = (-400..=400).map(|i| i as f32 * 0.0731).collect();
        let n = xs.len();
        let x = Tensor::<1>::from_data(TensorData::new(xs, [n]), &Device::default());
        let ours = sigmoid(x.clone()).into_data().try_to_vec::<f32>().expect("f32");
        let burn =
            burn::tensor::activation::sigmoid(x).into_data().try_to_vec::<f32>().expect("f32");
        assert_eq!(ours, burn);
    }
}
