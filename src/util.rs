//! Small helpers: tensors to and from host memory, weight initialisation, process memory.

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::Rng;
use rand_distr::{Distribution, Normal};

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
