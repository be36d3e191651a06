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
