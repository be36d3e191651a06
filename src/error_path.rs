//! How a layered network sends its output error back to its hidden layers: the data a feedback
//! rule hands a model's backward pass. The rules themselves (which matrices, how they learn) are
//! in [`crate::feedback`]; the model folders only take this value.
//!
//! Layers are numbered from the input side, `0 ..= L−1`, the output layer last. Layer `k`'s
//! weights `W_k` (`[n_in_k + n_bias, n_out_k]`, the crate's layout) carry the error from layer
//! `k`'s outputs back to layer `k − 1`'s outputs under backpropagation.

use burn::tensor::Tensor;

/// The path the error takes from the output back to every hidden layer.
#[derive(Debug, Clone, Default)]
pub enum ErrorPath {
    /// Backpropagation: the error reaches layer `k − 1` through the forward weights `W_k`.
    #[default]
    Backprop,
    /// Layer by layer through feedback matrices: entry `k − 1` (for `k = 1 ..= L−1`) takes the
    /// place of `W_k` as the carrier of the error, shape `[n_in_k, n_out_k]` (the real-input rows
    /// of `W_k`, no bias rows). Feedback alignment, sign symmetry, Kolen–Pollack, SAL.
    Feedback(Vec<Tensor<2>>),
    /// Direct feedback alignment: the output layer's error straight to every hidden layer;
    /// entry `h` (for hidden layer `h = 0 ..= L−2`) has shape `[n_out_h, n_classes]`, and hidden
    /// layer `h` receives `δ_out · D_hᵀ`.
    Direct(Vec<Tensor<2>>),
}

impl ErrorPath {
    /// Checks the matrices' count and shapes against the layers' `(n_in, n_out)` (real inputs).
    ///
    /// # Panics
    /// On a count or shape that does not fit the network.
    pub fn check(&self, layers: &[(usize, usize)]) {
        let n = layers.len();
        let n_classes = layers.last().map_or(0, |l| l.1);
        match self {
            Self::Backprop => {}
            Self::Feedback(b) => {
                assert_eq!(
                    b.len(),
                    n.saturating_sub(1),
                    "one feedback matrix per layer above the first"
                );
                for (k, m) in b.iter().enumerate() {
                    let (i, o) = layers[k + 1];
                    assert_eq!(m.dims(), [i, o], "feedback matrix for layer {}", k + 1);
                }
            }
            Self::Direct(d) => {
                assert_eq!(d.len(), n.saturating_sub(1), "one direct matrix per hidden layer");
                for (h, m) in d.iter().enumerate() {
                    assert_eq!(m.dims(), [layers[h].1, n_classes], "direct matrix for layer {h}");
                }
            }
        }
    }

    /// The matrix that carries the error back through layer `k`, if it is not `W_k` itself
    /// (`None` under backpropagation, and for the first layer).
    pub fn carrier(&self, k: usize) -> Option<&Tensor<2>> {
        match self {
            Self::Feedback(b) if k >= 1 => b.get(k - 1),
            _ => None,
        }
    }

    /// The direct matrix of hidden layer `h` (direct feedback alignment only).
    pub fn direct(&self, h: usize) -> Option<&Tensor<2>> {
        match self {
            Self::Direct(d) => d.get(h),
            _ => None,
        }
    }
}

/// `δ_out · Dᵀ` with non-finite entries of `δ_out` (silent outputs) counted as 0.
///
/// # Shapes
/// - `output_delta`: `[batch, n_classes]`, `direct`: `[n_hidden, n_classes]` → `[batch, n_hidden]`
pub fn direct_error(output_delta: &Tensor<2>, direct: &Tensor<2>) -> Tensor<2> {
    let d = output_delta.clone();
    let bad = d.clone().is_finite().bool_not();
    d.mask_fill(bad, 0.0).matmul(direct.clone().transpose())
}
