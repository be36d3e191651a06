//! Network weights on disk: Burn checkpoints (burnpack) and the reference implementation's
//! safetensors layout.
//!
//! **Reference layout.** The authors' PyTorch code (`JulianGoeltz/fastAndDeep`) keeps layer `i`'s
//! weights as `layers.{i}.weights` with shape `[n_inputs + n_bias, n_outputs]`, input rows first,
//! then the bias rows, in float64 (float32 is accepted too). That is also how
//! [`SpikeTimeLayer`](crate::ttfs::SpikeTimeLayer) stores them, so no transposition is needed.

use std::collections::HashMap;
use std::path::Path;

use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::{Device, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::IoError;
use crate::ttfs::{SpikeTimeLayerConfig, SpikeTimeNetwork};
use crate::util::to_vec_f64;

/// Save a network as a burnpack checkpoint (the `.bpk` extension is kept as given), with
/// `metadata` (key, value) pairs besides spikeburn's version.
///
/// # Errors
/// [`IoError`] naming the path.
pub fn save_checkpoint<M: ModuleSnapshot>(
    net: &M,
    path: &Path,
    metadata: &[(&str, &str)],
) -> Result<(), IoError> {
    // burn-pack writes a scratch file beside `path`, syncs it and renames it over `path`: a
    // crash or a full disk never leaves a truncated checkpoint in its place.
    let mut store = BurnpackStore::from_file(path)
        .auto_extension(false)
        .overwrite(true)
        .metadata("spikeburn-version", env!("CARGO_PKG_VERSION"));
    for (k, v) in metadata {
        store = store.metadata(*k, *v);
    }
    net.save_into(&mut store)
        .map_err(|e| IoError::format(path, format!("cannot save checkpoint: {e}")))
}

/// A burnpack checkpoint's metadata (`spikeburn-version`, and what [`save_checkpoint`] was
/// given).
///
/// # Errors
/// [`IoError`] naming the path if it is missing or not a burnpack file.
pub fn checkpoint_metadata(
    path: &Path,
) -> Result<std::collections::BTreeMap<String, String>, IoError> {
    if !path.is_file() {
        return Err(IoError::os(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such checkpoint file"),
        ));
    }
    let reader = burn::store::burn_pack::Reader::from_file(path)
        .map_err(|e| IoError::format(path, format!("not a readable burnpack checkpoint: {e}")))?;
    Ok(reader.metadata().clone())
}

/// Load a burnpack checkpoint into a network built from `layers` (the checkpoint must hold
/// exactly the tensors of that architecture).
///
/// # Errors
/// [`IoError`] naming the path if it is missing, unreadable, or of another architecture.
pub fn load_checkpoint(
    layers: &[SpikeTimeLayerConfig],
    path: &Path,
    device: &Device,
) -> Result<SpikeTimeNetwork, IoError> {
    load_checkpoint_into(zero_network(layers, device), path)
}

/// Load a burnpack checkpoint into `net`, whose architecture it must match exactly.
///
/// # Errors
/// [`IoError`] naming the path if it is missing, unreadable, or of another architecture.
pub fn load_checkpoint_into<M: ModuleSnapshot>(mut net: M, path: &Path) -> Result<M, IoError> {
    if !path.is_file() {
        return Err(IoError::os(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such checkpoint file"),
        ));
    }
    let mut store = BurnpackStore::from_file(path).auto_extension(false).validate(true);
    let result = net
        .load_from(&mut store)
        .map_err(|e| IoError::format(path, format!("not a readable burnpack checkpoint: {e}")))?;
    if !result.errors.is_empty() || !result.missing.is_empty() || !result.unused.is_empty() {
        return Err(IoError::format(
            path,
            format!(
                "checkpoint does not match the configured network (missing {:?}, unused {:?}, errors {:?})",
                result.missing.iter().map(|m| &m.0).collect::<Vec<_>>(),
                result.unused,
                result.errors
            ),
        ));
    }
    if let Some(m) = first_non_finite_tensor(&net) {
        return Err(IoError::format(path, m));
    }
    Ok(net)
}

/// The first float tensor of `net` holding a NaN or an infinity, as a message naming it.
fn first_non_finite_tensor<M: ModuleSnapshot>(net: &M) -> Option<String> {
    use burn::tensor::DType;
    net.collect(None, None, false).into_iter().find_map(|t| {
        let bytes = t.to_bytes().ok()?;
        let bad = match t.dtype {
            DType::F64 => bytes
                .chunks_exact(8)
                .position(|c| !f64::from_le_bytes(c.try_into().expect("8 bytes")).is_finite()),
            DType::F32 => bytes
                .chunks_exact(4)
                .position(|c| !f32::from_le_bytes(c.try_into().expect("4 bytes")).is_finite()),
            _ => None,
        };
        bad.map(|i| format!("tensor '{}' holds a NaN or infinite value (element {i})", t.name))
    })
}

fn zero_network(layers: &[SpikeTimeLayerConfig], device: &Device) -> SpikeTimeNetwork {
    SpikeTimeNetwork {
        layers: layers
            .iter()
            .map(|c| {
                let rows = c.n_inputs + c.bias_times.len();
                c.init_with_weights(Tensor::zeros([rows, c.n_outputs], device))
            })
            .collect(),
    }
}

/// Read weights in the reference layout and build the network of `layers` from them.
///
/// # Errors
/// [`IoError`] naming the path: unreadable file, not safetensors, a missing `layers.{i}.weights`,
/// an unsupported dtype, or a shape that disagrees with the configuration.
pub fn load_reference_weights(
    layers: &[SpikeTimeLayerConfig],
    path: &Path,
    device: &Device,
) -> Result<SpikeTimeNetwork, IoError> {
    let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| IoError::format(path, format!("not a safetensors file: {e}")))?;
    let mut out = Vec::with_capacity(layers.len());
    for (i, cfg) in layers.iter().enumerate() {
        let name = format!("layers.{i}.weights");
        let view = st.tensor(&name).map_err(|_| {
            IoError::format(path, format!("no tensor '{name}' (found {:?})", sorted_names(&st)))
        })?;
        let expected = [cfg.n_inputs + cfg.bias_times.len(), cfg.n_outputs];
        if view.shape() != expected {
            return Err(IoError::format(
                path,
                format!(
                    "'{name}' has shape {:?}, the configuration needs {expected:?} \
                     ({} inputs + {} bias rows, {} outputs)",
                    view.shape(),
                    cfg.n_inputs,
                    cfg.bias_times.len(),
                    cfg.n_outputs
                ),
            ));
        }
        let values =
            decode_floats(&view).map_err(|m| IoError::format(path, format!("'{name}': {m}")))?;
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(IoError::format(
                path,
                format!(
                    "'{name}' holds {} at row {}, column {}: weights must be finite",
                    values[i],
                    i / expected[1],
                    i % expected[1]
                ),
            ));
        }
        let w = Tensor::<2>::from_data(TensorData::new(values, expected), device);
        out.push(cfg.init_with_weights(w));
    }
    let extra: Vec<&str> = st
        .names()
        .into_iter()
        .filter(|n| !(0..layers.len()).any(|i| *n == format!("layers.{i}.weights")))
        .collect();
    if extra.iter().any(|n| n.starts_with("layers.")) {
        return Err(IoError::format(
            path,
            format!("file has more layers than the configuration ({extra:?})"),
        ));
    }
    Ok(SpikeTimeNetwork { layers: out })
}

fn sorted_names(st: &SafeTensors<'_>) -> Vec<String> {
    let mut names: Vec<String> = st.names().into_iter().map(String::from).collect();
    names.sort();
    names
}

fn decode_floats(view: &TensorView<'_>) -> Result<Vec<f64>, String> {
    let data = view.data();
    match view.dtype() {
        Dtype::F64 => Ok(data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect()),
        Dtype::F32 => Ok(data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")) as f64)
            .collect()),
        other => Err(format!("dtype {other:?} is not supported (float64 or float32)")),
    }
}

/// Write a network's weights in the reference layout (float64).
///
/// # Errors
/// [`IoError`] naming the path.
pub fn save_reference_weights(net: &SpikeTimeNetwork, path: &Path) -> Result<(), IoError> {
    let named: Vec<(String, Tensor<2>)> = net
        .layers
        .iter()
        .enumerate()
        .map(|(i, layer)| (format!("layers.{i}.weights"), layer.weights.val()))
        .collect();
    save_named(&named, path)
}

/// Write named matrices as float64 safetensors.
///
/// # Errors
/// [`IoError`] naming the path.
pub fn save_named(named: &[(String, Tensor<2>)], path: &Path) -> Result<(), IoError> {
    let layers: Vec<(String, Vec<u8>, Vec<usize>)> = named
        .iter()
        .map(|(name, w)| {
            let shape = w.dims().to_vec();
            let bytes = to_vec_f64(w.clone()).iter().flat_map(|v| v.to_le_bytes()).collect();
            (name.clone(), bytes, shape)
        })
        .collect();
    let views: Vec<(String, TensorView<'_>)> = layers
        .iter()
        .map(|(n, b, s)| {
            (n.clone(), TensorView::new(Dtype::F64, s.clone(), b).expect("consistent view"))
        })
        .collect();
    let meta = HashMap::from([("producer".to_string(), "spikeburn".to_string())]);
    let bytes = safetensors::serialize(views, Some(meta))
        .map_err(|e| IoError::format(path, format!("cannot serialise: {e}")))?;
    super::write_atomic(path, &bytes)
}
