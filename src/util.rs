//! Small helpers for moving tensors to and from host memory.

use burn::tensor::{Int, Tensor};

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
