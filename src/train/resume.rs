//! Resuming a run bit for bit: the state a run saves ([`TrainingState`]: where the epoch loop
//! is, [`Position`], and everything a method holds, [`LearnerState`]) and its file,
//! `resume.safetensors` in the run folder.
//!
//! What is saved and what is rebuilt:
//! - **the network**: every float parameter of the module, its values to the bit and its
//!   parameter id (Burn's optimizer keys its state by id);
//! - **the optimizer**: Adam's moments and step counts (per layer, or Burn's optimizer record);
//! - **the method's own state**: the bump value and the layer bumped last, the feedback
//!   matrices and the rule's counters, the chip's trial-noise stream, the encoder's stream,
//!   the epoch's first batch (the feedback columns' probe);
//! - **the run's random stream** ([`super::rng::TrainingRng`], which may be PyTorch's
//!   Mersenne Twister) is not saved but replayed: the epoch loop draws from it only for the
//!   sample order, the input noise and the reference's validation passes, none of which
//!   depends on the network, so the draws of the completed batches are made again (cheap) and
//!   the stream is where it was;
//! - **the learning-rate schedule** is a function of the epoch (StepLR) and needs nothing.
//!
//! Every `f64` of the loop's position is stored as its bits, so NaN (no step in an epoch)
//! and the sums of losses survive the round trip exactly.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{DType, Device, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::epochs::EpochMetrics;
use crate::data::SpikeDataset;
use crate::feedback::FeedbackRule;
use crate::io::{IoError, write_atomic};
use crate::util::{StdRng, rng_from_state, rng_state};

/// The name of the state file in a run folder.
pub const RESUME_FILE: &str = crate::io::files::RESUME;

/// The metadata key that holds the state's JSON part.
const META_KEY: &str = "spikeburn-resume";

/// The layout version of the state file; a file of another version is refused.
const FORMAT: u32 = 1;

/// Everything a method holds that its next batch depends on: named tensors (exact bytes and
/// dtype) and named JSON values. Filled by [`super::epochs::Learner::save_state`], read back by
/// [`super::epochs::Learner::restore_state`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LearnerState {
    tensors: BTreeMap<String, TensorData>,
    values: serde_json::Map<String, serde_json::Value>,
}

impl LearnerState {
    /// The names of the tensors and values that differ between `self` and `other` (or are in
    /// one only), sorted.
    pub fn differences(&self, other: &Self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let keys = self.tensors.keys().chain(other.tensors.keys());
        for k in keys {
            if self.tensors.get(k) != other.tensors.get(k) && !names.contains(k) {
                names.push(k.clone());
            }
        }
        for k in self.values.keys().chain(other.values.keys()) {
            if self.values.get(k) != other.values.get(k) && !names.contains(k) {
                names.push(k.clone());
            }
        }
        names.sort();
        names
    }

    /// Stores `t` under `name` (its values to the bit).
    pub fn put_tensor<const D: usize>(&mut self, name: impl Into<String>, t: Tensor<D>) {
        self.tensors.insert(name.into(), t.into_data());
    }

    /// The tensor stored under `name`, on `device`.
    ///
    /// # Errors
    /// If there is none or it does not have `D` dimensions.
    pub fn tensor<const D: usize>(&self, name: &str, device: &Device) -> Result<Tensor<D>, String> {
        let data = self.tensors.get(name).ok_or_else(|| format!("no tensor '{name}'"))?;
        if data.rank() != D {
            return Err(format!("tensor '{name}' has {} dimensions, not {D}", data.rank()));
        }
        Ok(Tensor::from_data(data.clone(), device))
    }

    /// Stores `value` under `key`.
    ///
    /// # Panics
    /// If `value` cannot be written as JSON (every type stored here can).
    pub fn put(&mut self, key: &str, value: impl Serialize) {
        let v = serde_json::to_value(value).expect("learner state values serialise");
        self.values.insert(key.to_string(), v);
    }

    /// The value stored under `key`.
    ///
    /// # Errors
    /// If there is none or it is not a `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<T, String> {
        let v = self.values.get(key).ok_or_else(|| format!("no value '{key}'"))?;
        serde_json::from_value(v.clone()).map_err(|e| format!("value '{key}': {e}"))
    }

    /// Stores a random stream's position under `key`.
    pub fn put_rng(&mut self, key: &str, rng: &StdRng) {
        self.put(key, rng_state(rng));
    }

    /// The random stream stored under `key`.
    ///
    /// # Errors
    /// If there is none or it is not a generator state.
    pub fn rng(&self, key: &str) -> Result<StdRng, String> {
        let hex: String = self.get(key)?;
        rng_from_state(&hex).ok_or_else(|| format!("value '{key}' is not a generator state"))
    }

    /// Stores raw bytes under `name` (e.g. Burn's optimizer record).
    pub fn put_bytes(&mut self, name: impl Into<String>, bytes: Vec<u8>) {
        let n = bytes.len();
        self.tensors.insert(name.into(), TensorData::from_bytes_vec(bytes, [n], DType::U8));
    }

    /// The bytes stored under `name`.
    ///
    /// # Errors
    /// If there are none.
    pub fn bytes(&self, name: &str) -> Result<Vec<u8>, String> {
        let data = self.tensors.get(name).ok_or_else(|| format!("no bytes '{name}'"))?;
        Ok(data.as_bytes().to_vec())
    }

    /// Stores every float parameter of `module` (in the module's order) under `prefix.{k}`,
    /// and their ids under `prefix.ids`.
    pub fn put_module<M: Module>(&mut self, prefix: &str, module: &M) {
        let mut visitor = Collect::default();
        module.visit(&mut visitor);
        let ids: Vec<u64> = visitor.params.iter().map(|(id, _)| *id).collect();
        for (k, (_, data)) in visitor.params.into_iter().enumerate() {
            self.tensors.insert(format!("{prefix}.{k}"), data);
        }
        self.put(&format!("{prefix}.ids"), ids);
    }

    /// `module` with every float parameter replaced by the one [`Self::put_module`] stored
    /// under `prefix` (values and id; whether it tracks gradients is `module`'s).
    ///
    /// # Errors
    /// If the stored parameters are not as many, or not of the same shapes, as `module`'s.
    pub fn module<M: Module>(&self, prefix: &str, module: M) -> Result<M, String> {
        let ids: Vec<u64> = self.get(&format!("{prefix}.ids"))?;
        let mut params = Vec::with_capacity(ids.len());
        for (k, id) in ids.into_iter().enumerate() {
            let name = format!("{prefix}.{k}");
            let data = self.tensors.get(&name).ok_or_else(|| format!("no tensor '{name}'"))?;
            params.push((name, id, data.clone()));
        }
        let mut mapper = Replace { params: params.into_iter(), error: None, seen: 0 };
        let module = module.map(&mut mapper);
        if let Some(e) = mapper.error {
            return Err(e);
        }
        if mapper.params.len() > 0 {
            return Err(format!(
                "'{prefix}' holds {} parameters more than the network has ({})",
                mapper.params.len(),
                mapper.seen
            ));
        }
        Ok(module)
    }
}

/// `module` with its float parameters' ids numbered 1, 2, … in the module's order. A learner
/// numbers its network so that its state (and Burn's optimizer record, keyed by id) is the
/// same in every process: a resumed run then ends in exactly the state of the run that never
/// stopped, ids included. Ids only need to be unique within one module.
pub fn number_params<M: Module>(module: M) -> M {
    struct Number(u64);
    impl ModuleMapper for Number {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            self.0 += 1;
            let (_, tensor, mapper) = param.consume();
            Param::from_mapped_value(ParamId::from(self.0), tensor, mapper)
        }
    }
    module.map(&mut Number(0))
}

/// Collects every float parameter's id and values.
#[derive(Default)]
struct Collect {
    params: Vec<(u64, TensorData)>,
}

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.params.push((param.id.val(), param.val().into_data()));
    }
}

/// Replaces every float parameter by the next stored one.
struct Replace {
    params: std::vec::IntoIter<(String, u64, TensorData)>,
    error: Option<String>,
    seen: usize,
}

impl ModuleMapper for Replace {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        self.seen += 1;
        if self.error.is_some() {
            return param;
        }
        let Some((name, id, data)) = self.params.next() else {
            self.error =
                Some(format!("the network has more parameters than the state ({})", self.seen - 1));
            return param;
        };
        let (_, tensor, mapper) = param.consume();
        if data.shape().as_slice() != tensor.dims().as_slice() {
            self.error = Some(format!(
                "tensor '{name}' has shape {:?}, the network's parameter {:?}",
                data.shape().as_slice(),
                tensor.dims()
            ));
            return Param::from_mapped_value(ParamId::from(id), tensor, mapper);
        }
        let tracks = tensor.is_require_grad();
        let mut value = Tensor::<D>::from_data(data, &tensor.device());
        if tracks {
            value = value.require_grad();
        }
        Param::from_mapped_value(ParamId::from(id), value, mapper)
    }
}

/// Stores a feedback rule's matrices (`feedback.{k}`) and counters.
pub fn put_feedback(state: &mut LearnerState, rule: &dyn FeedbackRule) {
    let matrices = rule.matrices();
    state.put("feedback.count", matrices.len());
    for (k, m) in matrices.into_iter().enumerate() {
        state.put_tensor(format!("feedback.{k}"), m.detach());
    }
    state.put("feedback.counters", rule.counters());
}

/// Gives `rule` the matrices and counters [`put_feedback`] stored (matrices on `device`).
///
/// # Errors
/// If they are missing or not as many as the rule's.
pub fn restore_feedback(
    state: &LearnerState,
    rule: &mut dyn FeedbackRule,
    device: &Device,
) -> Result<(), String> {
    let n: usize = state.get("feedback.count")?;
    if n != rule.matrices().len() {
        return Err(format!("{n} feedback matrices, the rule has {}", rule.matrices().len()));
    }
    let matrices = (0..n)
        .map(|k| state.tensor::<2>(&format!("feedback.{k}"), device))
        .collect::<Result<Vec<_>, _>>()?;
    rule.set_matrices(matrices);
    rule.set_counters(state.get("feedback.counters")?);
    Ok(())
}

/// The epoch's first batch (the feedback columns' probe), if the epoch has one yet.
pub fn put_probe(state: &mut LearnerState, probe: Option<&SpikeDataset>) {
    state.put("probe", probe.map(|p| (p.n_inputs, &p.labels, bits_of(&p.times))));
}

/// The probe [`put_probe`] stored.
///
/// # Errors
/// If there is none or it is malformed.
pub fn probe(state: &LearnerState) -> Result<Option<SpikeDataset>, String> {
    let saved: Option<(usize, Vec<usize>, Vec<u64>)> = state.get("probe")?;
    Ok(saved.map(|(n_inputs, labels, times)| SpikeDataset {
        n_inputs,
        labels,
        times: times.into_iter().map(f64::from_bits).collect(),
    }))
}

fn bits_of(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// Where the epoch loop is: in epoch `epoch` (from 1) after `batch` of its batches (0: at its
/// start), with that epoch's running sums and the completed epochs' metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Position {
    /// The epoch in progress (or next to start), from 1.
    pub epoch: usize,
    /// Batches of it done.
    pub batch: usize,
    /// Running sums of the epoch in progress.
    pub sums: EpochSums,
    /// The completed epochs.
    pub history: Vec<EpochMetrics>,
    /// Seconds in the epoch loop so far, over every session of the run.
    pub seconds: f64,
}

/// Running sums of an epoch's batches.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EpochSums {
    /// Sum of the losses of the batches that stepped.
    pub loss_sum: f64,
    /// Batches that stepped.
    pub stepped: usize,
    /// Samples predicted correctly.
    pub correct: usize,
    /// Batches that bumped.
    pub bumps: usize,
    /// Gradient columns clipped.
    pub clipped: usize,
    /// Gradient columns considered.
    pub columns: usize,
    /// Seconds spent in the epoch.
    pub seconds: f64,
}

/// [`Position`] as stored: every `f64` as its bits.
#[derive(Serialize, Deserialize)]
struct SavedPosition {
    epoch: usize,
    batch: usize,
    sums: (u64, usize, usize, usize, usize, usize, u64),
    history: Vec<SavedEpoch>,
    seconds: u64,
}

#[derive(Serialize, Deserialize)]
struct SavedEpoch {
    epoch: usize,
    rates: [u64; 6],
    bumps: usize,
    extra: Vec<(String, u64)>,
    seconds: u64,
}

impl From<&Position> for SavedPosition {
    fn from(p: &Position) -> Self {
        let s = &p.sums;
        let history = p
            .history
            .iter()
            .map(|m| SavedEpoch {
                epoch: m.epoch,
                rates: [
                    m.learning_rate,
                    m.train_loss,
                    m.train_accuracy,
                    m.val_loss,
                    m.val_accuracy,
                    m.clipped_fraction,
                ]
                .map(f64::to_bits),
                bumps: m.bumps,
                extra: m.extra.iter().map(|(k, v)| (k.clone(), v.to_bits())).collect(),
                seconds: m.seconds.to_bits(),
            })
            .collect();
        Self {
            epoch: p.epoch,
            batch: p.batch,
            sums: (
                s.loss_sum.to_bits(),
                s.stepped,
                s.correct,
                s.bumps,
                s.clipped,
                s.columns,
                s.seconds.to_bits(),
            ),
            history,
            seconds: p.seconds.to_bits(),
        }
    }
}

impl From<SavedPosition> for Position {
    fn from(p: SavedPosition) -> Self {
        let (loss_sum, stepped, correct, bumps, clipped, columns, seconds) = p.sums;
        let history = p
            .history
            .into_iter()
            .map(|m| {
                let [learning_rate, train_loss, train_accuracy, val_loss, val_accuracy, clipped] =
                    m.rates.map(f64::from_bits);
                EpochMetrics {
                    epoch: m.epoch,
                    learning_rate,
                    train_loss,
                    train_accuracy,
                    val_loss,
                    val_accuracy,
                    bumps: m.bumps,
                    clipped_fraction: clipped,
                    extra: m.extra.into_iter().map(|(k, v)| (k, f64::from_bits(v))).collect(),
                    seconds: f64::from_bits(m.seconds),
                }
            })
            .collect();
        Position {
            epoch: p.epoch,
            batch: p.batch,
            sums: EpochSums {
                loss_sum: f64::from_bits(loss_sum),
                stepped,
                correct,
                bumps,
                clipped,
                columns,
                seconds: f64::from_bits(seconds),
            },
            history,
            seconds: f64::from_bits(p.seconds),
        }
    }
}

/// A run's saved state: where the loop is, what the method holds, and what the run was
/// started with (its configuration and a fingerprint of its training split).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingState {
    /// Where the epoch loop is.
    pub position: Position,
    /// What the method holds.
    pub learner: LearnerState,
    /// The resolved configuration the run was started with (TOML).
    pub config: String,
    /// [`fingerprint`] of the training split.
    pub data: u64,
}

/// The JSON part of the file.
#[derive(Serialize, Deserialize)]
struct Meta {
    format: u32,
    position: SavedPosition,
    values: serde_json::Map<String, serde_json::Value>,
    config: String,
    data: String,
}

/// A fingerprint (FNV-1a, 64 bits) of a split's inputs and labels: a resumed run must see the
/// samples the interrupted one saw.
pub fn fingerprint(data: &SpikeDataset) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |x: u64| {
        for b in x.to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(data.n_inputs as u64);
    data.times.iter().for_each(|t| eat(t.to_bits()));
    data.labels.iter().for_each(|l| eat(*l as u64));
    h
}

fn safetensors_dtype(d: DType) -> Option<Dtype> {
    Some(match d {
        DType::F64 => Dtype::F64,
        DType::F32 => Dtype::F32,
        DType::F16 => Dtype::F16,
        DType::BF16 => Dtype::BF16,
        DType::I64 => Dtype::I64,
        DType::I32 => Dtype::I32,
        DType::U8 => Dtype::U8,
        DType::Bool(_) => Dtype::BOOL,
        _ => return None,
    })
}

fn burn_dtype(d: Dtype) -> Option<DType> {
    Some(match d {
        Dtype::F64 => DType::F64,
        Dtype::F32 => DType::F32,
        Dtype::F16 => DType::F16,
        Dtype::BF16 => DType::BF16,
        Dtype::I64 => DType::I64,
        Dtype::I32 => DType::I32,
        Dtype::U8 => DType::U8,
        _ => return None,
    })
}

impl TrainingState {
    /// Writes the state to `path` atomically (temp file, fsync, rename).
    ///
    /// # Errors
    /// [`IoError`] naming the path.
    pub fn save(&self, path: &Path) -> Result<(), IoError> {
        let meta = Meta {
            format: FORMAT,
            position: (&self.position).into(),
            values: self.learner.values.clone(),
            config: self.config.clone(),
            data: format!("{:016x}", self.data),
        };
        let json = serde_json::to_string(&meta)
            .map_err(|e| IoError::format(path, format!("cannot serialise the state: {e}")))?;
        let mut views = Vec::new();
        for (name, data) in &self.learner.tensors {
            let dtype = safetensors_dtype(data.dtype()).ok_or_else(|| {
                IoError::format(path, format!("tensor '{name}' has dtype {:?}", data.dtype()))
            })?;
            let view = TensorView::new(dtype, data.shape().as_slice().to_vec(), data.as_bytes())
                .map_err(|e| IoError::format(path, format!("tensor '{name}': {e}")))?;
            views.push((name.clone(), view));
        }
        let bytes =
            safetensors::serialize(views, Some(HashMap::from([(META_KEY.into(), json)])))
                .map_err(|e| IoError::format(path, format!("cannot serialise the state: {e}")))?;
        write_atomic(path, &bytes)
    }

    /// Reads a state [`Self::save`] wrote.
    ///
    /// # Errors
    /// [`IoError`] naming the path: missing, not a spikeburn state, another format version.
    pub fn load(path: &Path) -> Result<Self, IoError> {
        let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
        let bad = |m: String| IoError::format(path, m);
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let json =
            header.metadata().as_ref().and_then(|m| m.get(META_KEY)).ok_or_else(|| {
                bad(format!("no '{META_KEY}' metadata: not a spikeburn run state"))
            })?;
        let meta: Meta =
            serde_json::from_str(json).map_err(|e| bad(format!("malformed run state: {e}")))?;
        if meta.format != FORMAT {
            return Err(bad(format!(
                "run state format {} (this spikeburn reads format {FORMAT})",
                meta.format
            )));
        }
        let data = u64::from_str_radix(&meta.data, 16)
            .map_err(|_| bad(format!("malformed data fingerprint '{}'", meta.data)))?;
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in st.tensors() {
            let dtype = burn_dtype(view.dtype())
                .ok_or_else(|| bad(format!("tensor '{name}' has dtype {:?}", view.dtype())))?;
            let data =
                TensorData::from_bytes_vec(view.data().to_vec(), view.shape().to_vec(), dtype);
            tensors.insert(name, data);
        }
        Ok(Self {
            position: meta.position.into(),
            learner: LearnerState { tensors, values: meta.values },
            config: meta.config,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ttfs::{SpikeTimeLayerConfig, SpikeTimeNetwork};
    use rand::SeedableRng;

    fn net(seed: u64) -> SpikeTimeNetwork {
        let device = Device::default();
        let mut rng = StdRng::seed_from_u64(seed);
        SpikeTimeNetwork {
            layers: vec![
                SpikeTimeLayerConfig::new(2, 3).init(&device, &mut rng),
                SpikeTimeLayerConfig::new(3, 2).init(&device, &mut rng),
            ],
        }
    }

    /// A state written and read back is the same state: tensors to the bit, NaN sums, the
    /// module's parameters with their ids; a network of other shapes is refused by name.
    #[test]
    fn state_round_trips_through_its_file() {
        let dir = std::env::temp_dir().join(format!("spikeburn-resume-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(RESUME_FILE);
        let a = net(1);
        let mut learner = LearnerState::default();
        learner.put_module("network", &a);
        learner.put("bump", (0.25f64.to_bits(), Some(1usize)));
        learner.put_rng("noise", &StdRng::seed_from_u64(3));
        learner.put_bytes("blob", vec![1, 2, 3]);
        put_probe(&mut learner, None);
        let mut position = Position { epoch: 3, batch: 2, ..Position::default() };
        position.sums.loss_sum = f64::NAN;
        let state = TrainingState { position, learner, config: "seed = 1\n".into(), data: 7 };
        state.save(&path).unwrap();
        let back = TrainingState::load(&path).unwrap();
        assert!(back.position.sums.loss_sum.is_nan());
        assert_eq!(back.learner, state.learner);
        assert_eq!((back.config.as_str(), back.data, back.position.batch), ("seed = 1\n", 7, 2));
        let restored = back.learner.module("network", net(2)).unwrap();
        let ids = |n: &SpikeTimeNetwork| n.layers.iter().map(|l| l.weights.id).collect::<Vec<_>>();
        assert_eq!(ids(&restored), ids(&a));
        for (r, o) in restored.layers.iter().zip(&a.layers) {
            assert_eq!(r.weights.val().into_data(), o.weights.val().into_data());
        }
        assert_eq!(back.learner.bytes("blob").unwrap(), [1, 2, 3]);
        assert_eq!(probe(&back.learner).unwrap(), None);
        let device = Device::default();
        let other = SpikeTimeNetwork {
            layers: vec![
                SpikeTimeLayerConfig::new(2, 4).init(&device, &mut StdRng::seed_from_u64(0)),
            ],
        };
        let err = back.learner.module("network", other).unwrap_err();
        assert!(err.contains("shape"), "{err}");
        std::fs::write(&path, b"not a state").unwrap();
        assert!(TrainingState::load(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
