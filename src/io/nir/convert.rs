//! spikeburn networks as NIR graphs, and back.
//!
//! **First-spike-time networks** ([`SpikeTimeNetwork`]). Layer `k` becomes a `Linear` node
//! `fc{k}` (weights `out × in`, spikeburn's `[in, out]` transposed) into a `CubaLIF` node
//! `lif{k}`: `τ_syn = τs·u`, `τ_mem = (τm/τs)·τs·u` (u = the time unit in seconds), `r = 1/g_l`,
//! `v_leak = E_l`, `v_threshold = ϑ`, `w_in = τ_syn`, so that NIR's
//! `τ_syn dI/dt = −I + w_in·x`, `τ_mem dv/dt = (v_leak − v) + r·I` with unit-impulse spikes is
//! exactly `C_m du/dt = g_l(E_l − u) + I`, `I ← I + w` at each input spike. A layer's bias
//! spikes are an `Input` node `bias{k}` (one entry per bias time; its metadata `spike_times_s`
//! gives the times: the consumer sends one spike per entry at that time of each sample) through
//! a `Linear` node `fc{k}_bias`. These neurons have no reset and only their first spike counts
//! (the graph's metadata says `neuron_semantics = "first-spike"`); a NIR consumer resets them to
//! `v_reset` (written as `v_leak`) and lets them fire again, so its hidden neurons may send
//! later spikes the exact model never has: read the first spike of each output neuron, and expect
//! exact agreement only where no hidden neuron fires twice before the outputs have fired.
//! The class is the output neuron that fires first.
//!
//! **Surrogate-gradient networks** ([`SurrogateNetwork`]). The same nodes with `r = 1`,
//! `w_in = τ_syn` and the configured `v_reset`; a non-spiking output layer is a `CubaLI` node.
//! The metadata records the time step (`dt_s`), the integrator, the reset (NIR 1.0 resets to
//! `v_reset`; spikeburn's `subtract` reset, `v ← v − (ϑ − v_reset)`, has no NIR equivalent and is
//! recorded as `reset = "subtract"`), and the readout.
//!
//! Reading back ([`into_ttfs`], [`into_surrogate`]) fills a network of the configured
//! architecture from the graph's nodes (weights and every per-neuron parameter), checking each
//! size and the τm/τs ratio. spikeburn's weight is read as the current's jump `w_in·W/τ_syn`
//! (times `r` for the surrogate membrane, which takes the current as is), so a graph whose `w_in`
//! another tool rescaled reads correctly.

use std::collections::BTreeMap;

use burn::module::Param;
use burn::tensor::Tensor;

use super::{Array, Graph, Meta, Neurons, Node, NodeKind};
use crate::surrogate::SurrogateNetwork;
use crate::ttfs::SpikeTimeNetwork;
use crate::util::{from_vec_f64, to_vec_f64};

/// Graph metadata keys spikeburn writes.
pub mod keys {
    /// `ttfs` or `surrogate`.
    pub const METHOD: &str = "spikeburn_method";
    /// The experiment configuration (TOML) the network was trained with.
    pub const CONFIG: &str = "spikeburn_config";
    /// spikeburn's version.
    pub const VERSION: &str = "spikeburn_version";
    /// Seconds per model time unit.
    pub const TIME_UNIT: &str = "time_unit_s";
    /// `impulse`: a spike is a unit-area impulse.
    pub const SPIKES: &str = "spike_semantics";
    /// `first-spike` (ttfs) or `reset` (surrogate).
    pub const NEURONS: &str = "neuron_semantics";
    /// A bias Input node's spike times, seconds (node metadata).
    pub const BIAS_TIMES: &str = "spike_times_s";
}

/// How to write a graph.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    /// Seconds per model time unit (NIR files carry seconds).
    pub time_unit: f64,
    /// The experiment configuration (TOML), stored in the graph so that `spikeburn import`
    /// rebuilds the same run.
    pub config_toml: Option<String>,
}

impl Default for ExportOptions {
    /// One model time unit = 1 ms; no configuration.
    fn default() -> Self {
        ExportOptions { time_unit: 1e-3, config_toml: None }
    }
}

/// One layer's values in spikeburn's layout and units.
struct LayerValues {
    /// `[n_inputs + n_bias, n_out]` row-major.
    weights: Vec<f64>,
    n_rows: usize,
    bias_times: Vec<f64>,
    neurons: Neurons,
}

fn text(s: &str) -> Meta {
    Meta::Text(s.to_string())
}

fn number(x: f64) -> Meta {
    Meta::Numbers(Array { shape: vec![], data: vec![x] })
}

/// The common part: layers (already in NIR units) to a chain graph.
fn chain_graph(layers: &[LayerValues], opts: &ExportOptions, method: &str) -> Graph {
    let mut g = Graph::new();
    g.metadata.insert(keys::METHOD.into(), text(method));
    g.metadata.insert(keys::VERSION.into(), text(env!("CARGO_PKG_VERSION")));
    g.metadata.insert(keys::TIME_UNIT.into(), number(opts.time_unit));
    g.metadata.insert(keys::SPIKES.into(), text("impulse"));
    if let Some(c) = &opts.config_toml {
        g.metadata.insert(keys::CONFIG.into(), text(c));
    }
    let n_in = layers[0].n_rows - layers[0].bias_times.len();
    g.add("input", Node::new(NodeKind::Input { shape: vec![n_in] }));
    let mut prev = "input".to_string();
    for (k, l) in layers.iter().enumerate() {
        let n_out = l.neurons.len();
        let n_bias = l.bias_times.len();
        let n_inputs = l.n_rows - n_bias;
        // spikeburn [in, out] → NIR [out, in].
        let column = |rows: std::ops::Range<usize>| {
            let mut w = Vec::with_capacity(rows.len() * n_out);
            for j in 0..n_out {
                w.extend(rows.clone().map(|i| l.weights[i * n_out + j]));
            }
            w
        };
        let (fc, lif) = (format!("fc{k}"), format!("lif{k}"));
        let weight = Array::matrix(n_out, n_inputs, column(0..n_inputs));
        g.add(&fc, Node::new(NodeKind::Linear { weight }));
        g.connect(&prev, &fc);
        g.connect(&fc, &lif);
        if n_bias > 0 {
            let (bias, fcb) = (format!("bias{k}"), format!("fc{k}_bias"));
            let mut node = Node::new(NodeKind::Input { shape: vec![n_bias] });
            let times = l.bias_times.iter().map(|t| t * opts.time_unit).collect();
            node.metadata.insert(keys::BIAS_TIMES.into(), Meta::Numbers(Array::vector(times)));
            g.add(&bias, node);
            let weight = Array::matrix(n_out, n_bias, column(n_inputs..l.n_rows));
            g.add(&fcb, Node::new(NodeKind::Linear { weight }));
            g.connect(&bias, &fcb);
            g.connect(&fcb, &lif);
        }
        g.add(&lif, Node::new(NodeKind::Neurons(l.neurons.clone())));
        prev = lif;
    }
    let n_classes = layers.last().expect("a network has layers").neurons.len();
    g.add("output", Node::new(NodeKind::Output { shape: vec![n_classes] }));
    g.connect(&prev, "output");
    g
}

/// A first-spike-time network as a NIR graph (see the module docs for the mapping).
pub fn from_ttfs(net: &SpikeTimeNetwork, opts: &ExportOptions) -> Graph {
    let u = opts.time_unit;
    let layers: Vec<LayerValues> = net
        .layers
        .iter()
        .map(|l| {
            let ratio = l.tau_ratio.value();
            let tau_syn: Vec<f64> = to_vec_f64(l.tau_syn.val()).iter().map(|t| t * u).collect();
            let v_leak = to_vec_f64(l.v_leak.val());
            LayerValues {
                weights: to_vec_f64(l.weights.val()),
                n_rows: l.weights.val().dims()[0],
                bias_times: l.bias_times.clone(),
                neurons: Neurons {
                    tau_mem: tau_syn.iter().map(|t| t * ratio).collect(),
                    r: to_vec_f64(l.g_leak.val()).iter().map(|g| 1.0 / g).collect(),
                    v_threshold: Some(to_vec_f64(l.v_th.val())),
                    v_reset: Some(v_leak.clone()),
                    w_in: Some(tau_syn.clone()),
                    tau_syn: Some(tau_syn),
                    v_leak,
                },
            }
        })
        .collect();
    let mut g = chain_graph(&layers, opts, "ttfs");
    g.metadata.insert(keys::NEURONS.into(), text("first-spike"));
    g
}

/// A surrogate-gradient network as a NIR graph (see the module docs for the mapping).
///
/// # Errors
/// A neuron whose synaptic current never decays (τs = ∞) has no NIR form.
pub fn from_surrogate(net: &SurrogateNetwork, opts: &ExportOptions) -> Result<Graph, String> {
    let u = opts.time_unit;
    let mut layers = Vec::new();
    for (k, l) in net.layers.iter().enumerate() {
        let c = &l.cell;
        let inv = |p: &Param<Tensor<1>>| -> Vec<f64> {
            to_vec_f64(p.val()).iter().map(|r| u / r).collect()
        };
        let tau_syn = inv(&c.tau_syn_inv);
        if tau_syn.iter().any(|t| !t.is_finite()) {
            return Err(format!(
                "layer {k}: a synaptic current that never decays (tau-syn = ∞) has no NIR form"
            ));
        }
        let n = tau_syn.len();
        layers.push(LayerValues {
            weights: to_vec_f64(l.weights.val()),
            n_rows: l.weights.val().dims()[0],
            bias_times: l.bias_times.clone(),
            neurons: Neurons {
                tau_mem: inv(&c.tau_mem_inv),
                r: vec![1.0; n],
                v_leak: to_vec_f64(c.v_leak.val()),
                v_threshold: c.spiking.then(|| to_vec_f64(c.v_th.val())),
                v_reset: c.spiking.then(|| to_vec_f64(c.v_reset.val())),
                w_in: Some(tau_syn.clone()),
                tau_syn: Some(tau_syn),
            },
        });
    }
    let mut g = chain_graph(&layers, opts, "surrogate");
    let first = &net.layers[0];
    g.metadata.insert(keys::NEURONS.into(), text("reset"));
    g.metadata.insert("dt_s".into(), number(first.grid.dt * u));
    g.metadata.insert("steps".into(), number(first.grid.steps as f64));
    g.metadata.insert("integrator".into(), text(&format!("{:?}", first.cell.integrator)));
    g.metadata.insert("reset".into(), text(&format!("{:?}", first.cell.behaviour.reset)));
    g.metadata.insert("readout".into(), text(&format!("{:?}", net.readout)));
    Ok(g)
}

/// The graph's layers, input side first, in spikeburn's layout and model units (`time_unit`
/// seconds per unit): a chain Input → Linear → neurons → Linear → … → Output, each neuron node
/// optionally also fed by a bias Input (metadata `spike_times_s`) through its own Linear.
/// spikeburn's weight is the current's jump `w_in·W/τ_syn`, times `r` where `fold_r` (the
/// surrogate membrane takes the current as is; the first-spike-time one divides it by g_l = 1/r).
fn layers_of(graph: &Graph, time_unit: f64, fold_r: bool) -> Result<Vec<LayerValues>, String> {
    let is_bias = |n: &Node| n.metadata.contains_key(keys::BIAS_TIMES);
    let data_inputs: Vec<&String> = graph
        .nodes
        .iter()
        .filter(|(_, n)| matches!(n.kind, NodeKind::Input { .. }) && !is_bias(n))
        .map(|(k, _)| k)
        .collect();
    let [start] = data_inputs.as_slice() else {
        return Err(format!(
            "spikeburn's layers take one data input; the graph has {} Input nodes without \
             spike_times_s metadata",
            data_inputs.len()
        ));
    };
    let weight_of = |name: &str| -> Result<&Array, String> {
        match &graph.nodes[name].kind {
            NodeKind::Linear { weight } => Ok(weight),
            NodeKind::Affine { weight, bias } if bias.data.iter().all(|&b| b == 0.0) => Ok(weight),
            NodeKind::Affine { .. } => Err(format!(
                "node '{name}': an Affine bias is a constant current; spikeburn's layers take \
                 their bias as spikes (bias Input nodes)"
            )),
            k => Err(format!("node '{name}' is a {}, expected Linear", k.type_name())),
        }
    };
    let only = |from: &str, what: &str| -> Result<String, String> {
        match graph.targets(from).as_slice() {
            [one] => Ok(one.to_string()),
            many => Err(format!(
                "node '{from}' feeds {} nodes; spikeburn's layers form a chain (expected one {what})",
                many.len()
            )),
        }
    };
    let mut layers = Vec::new();
    let mut current = start.to_string();
    loop {
        let fc = only(&current, "Linear")?;
        if matches!(graph.nodes[&fc].kind, NodeKind::Output { .. }) {
            break;
        }
        let w = weight_of(&fc)?;
        let cell = only(&fc, "neuron node")?;
        if layers.len() >= graph.nodes.len() || cell == current {
            return Err(format!("the chain through '{cell}' loops back (a recurrent graph)"));
        }
        let NodeKind::Neurons(neurons) = &graph.nodes[&cell].kind else {
            return Err(format!("node '{fc}' feeds '{cell}', which is not a neuron node"));
        };
        let tau_syn = neurons.tau_syn.as_ref().ok_or_else(|| {
            format!(
                "node '{cell}' is {}; spikeburn's layers are current-based (CubaLIF, CubaLI)",
                neurons.type_name()
            )
        })?;
        let n_out = neurons.len();
        let mut bias_times = Vec::new();
        let mut bias_w: Option<&Array> = None;
        for src in graph.sources(&cell) {
            if src == fc {
                continue;
            }
            let feeders = graph.sources(src);
            let bias_node = match feeders.as_slice() {
                [b] if is_bias(&graph.nodes[*b]) => *b,
                _ => {
                    return Err(format!(
                        "node '{cell}' is also fed by '{src}' (a recurrent or second input); \
                         spikeburn's layers are feed-forward with bias Input nodes only"
                    ));
                }
            };
            if bias_w.is_some() {
                return Err(format!("node '{cell}' has more than one bias input"));
            }
            bias_w = Some(weight_of(src)?);
            if let Some(Meta::Numbers(t)) = graph.nodes[bias_node].metadata.get(keys::BIAS_TIMES) {
                bias_times = t.data.iter().map(|t| t / time_unit).collect();
            }
        }
        let n_inputs = w.shape[1];
        let n_bias = bias_times.len();
        if bias_w.is_some_and(|b| b.shape[1] != n_bias) {
            return Err(format!("node '{cell}': its bias Linear does not match its bias times"));
        }
        // spikeburn's weight from NIR's (NIR [out, in] → spikeburn [in, out]).
        let ones = vec![1.0; n_out];
        let w_in = neurons.w_in.as_ref().unwrap_or(&ones);
        let n_rows = n_inputs + n_bias;
        let mut weights = vec![0.0; n_rows * n_out];
        for j in 0..n_out {
            let r = if fold_r { neurons.r[j] } else { 1.0 };
            let scale = r * w_in[j] / tau_syn[j];
            for i in 0..n_inputs {
                weights[i * n_out + j] = w.data[j * n_inputs + i] * scale;
            }
            if let Some(b) = bias_w {
                for i in 0..n_bias {
                    weights[(n_inputs + i) * n_out + j] = b.data[j * n_bias + i] * scale;
                }
            }
        }
        let scaled = |xs: &Vec<f64>| xs.iter().map(|t| t / time_unit).collect::<Vec<_>>();
        let mut neurons = neurons.clone();
        neurons.tau_syn = Some(scaled(tau_syn));
        neurons.tau_mem = scaled(&neurons.tau_mem);
        layers.push(LayerValues { weights, n_rows, bias_times, neurons });
        current = cell;
    }
    if layers.is_empty() {
        return Err("the graph has no layer between its input and its output".into());
    }
    Ok(layers)
}

/// The graph's layers ([`layers_of`]), checked to have the sizes of `expected`
/// (`(n_inputs, n_bias, n_out)` per layer).
fn sized_layers(
    graph: &Graph,
    time_unit: f64,
    fold_r: bool,
    expected: &[(usize, usize, usize)],
) -> Result<Vec<LayerValues>, String> {
    let layers = layers_of(graph, time_unit, fold_r)?;
    if layers.len() != expected.len() {
        return Err(format!(
            "the graph has {} layers, the configured network {}",
            layers.len(),
            expected.len()
        ));
    }
    for (k, (l, &(n_in, n_bias, n_out))) in layers.iter().zip(expected).enumerate() {
        let got = (l.n_rows - l.bias_times.len(), l.bias_times.len(), l.neurons.len());
        if got != (n_in, n_bias, n_out) {
            return Err(format!(
                "layer {k}: the graph has {} inputs, {} bias spikes and {} neurons, the \
                 configured network {n_in}, {n_bias} and {n_out}",
                got.0, got.1, got.2
            ));
        }
    }
    Ok(layers)
}

/// The graph's time unit (seconds per model unit): its `time_unit_s` metadata, else `fallback`.
pub fn time_unit(graph: &Graph, fallback: f64) -> f64 {
    graph.meta_numbers(keys::TIME_UNIT).and_then(|x| x.first().copied()).unwrap_or(fallback)
}

fn set1(p: &mut Param<Tensor<1>>, values: Vec<f64>) {
    let t = p.val();
    let n = values.len();
    *p = Param::from_tensor(from_vec_f64(values, [n], &t.device(), t.dtype()))
        .set_require_grad(false);
}

fn set_weights(p: &mut Param<Tensor<2>>, values: Vec<f64>) {
    let t = p.val();
    let dims = t.dims();
    *p = Param::from_tensor(from_vec_f64(values, dims, &t.device(), t.dtype()));
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Fill `net` (the configured architecture) from `graph`: weights, τs, ϑ, E_l, g_l and bias
/// times of every layer.
///
/// # Errors
/// A message naming the first layer or node that does not fit.
pub fn into_ttfs(
    mut net: SpikeTimeNetwork,
    graph: &Graph,
    time_unit: f64,
) -> Result<SpikeTimeNetwork, String> {
    let expected: Vec<_> =
        net.layers.iter().map(|l| (l.n_inputs(), l.bias_times.len(), l.n_outputs())).collect();
    let layers = sized_layers(graph, time_unit, false, &expected)?;
    for (k, (layer, v)) in net.layers.iter_mut().zip(layers).enumerate() {
        let kind = v.neurons.type_name();
        let n = v.neurons;
        let (Some(tau_syn), Some(v_th)) = (n.tau_syn, n.v_threshold) else {
            return Err(format!(
                "layer {k}: a first-spike-time layer spikes (CubaLIF), got {}",
                kind
            ));
        };
        let ratio = layer.tau_ratio.value();
        if let Some(j) = (0..tau_syn.len()).find(|&j| !close(n.tau_mem[j], ratio * tau_syn[j])) {
            return Err(format!(
                "layer {k}, neuron {j}: τ_mem/τ_syn = {}, the configured network has τm/τs = {ratio}",
                n.tau_mem[j] / tau_syn[j]
            ));
        }
        set_weights(&mut layer.weights, v.weights);
        set1(&mut layer.tau_syn, tau_syn);
        set1(&mut layer.v_th, v_th);
        set1(&mut layer.v_leak, n.v_leak);
        set1(&mut layer.g_leak, n.r.iter().map(|r| 1.0 / r).collect());
        layer.bias_times = v.bias_times;
    }
    Ok(net)
}

/// Fill `net` (the configured architecture) from `graph`: weights, τm, τs, ϑ, leak and reset
/// potentials and bias times of every layer.
///
/// # Errors
/// A message naming the first layer or node that does not fit.
pub fn into_surrogate(
    mut net: SurrogateNetwork,
    graph: &Graph,
    time_unit: f64,
) -> Result<SurrogateNetwork, String> {
    let expected: Vec<_> =
        net.layers.iter().map(|l| (l.n_inputs(), l.bias_times.len(), l.n_outputs())).collect();
    let layers = sized_layers(graph, time_unit, true, &expected)?;
    for (k, (layer, v)) in net.layers.iter_mut().zip(layers).enumerate() {
        let kind = v.neurons.type_name();
        let n = v.neurons;
        let Some(tau_syn) = n.tau_syn else {
            return Err(format!(
                "layer {k}: a surrogate layer is current-based (CubaLIF, CubaLI), got {}",
                kind
            ));
        };
        if n.v_threshold.is_some() != layer.cell.spiking {
            return Err(format!(
                "layer {k}: the graph has a {} node, the configured layer is {}",
                kind,
                if layer.cell.spiking {
                    "spiking (CubaLIF)"
                } else {
                    "a leaky integrator (CubaLI)"
                }
            ));
        }
        // spikeburn's membrane takes the current as is (r = 1): the weights carry r already.
        let inv = |xs: Vec<f64>| xs.into_iter().map(|t| 1.0 / t).collect::<Vec<_>>();
        set_weights(&mut layer.weights, v.weights);
        let c = &mut layer.cell;
        set1(&mut c.tau_mem_inv, inv(n.tau_mem));
        set1(&mut c.tau_syn_inv, inv(tau_syn));
        set1(&mut c.v_leak, n.v_leak);
        if let (Some(th), Some(reset)) = (n.v_threshold, n.v_reset) {
            set1(&mut c.v_th, th);
            set1(&mut c.v_reset, reset);
        }
        layer.bias_times = v.bias_times;
    }
    Ok(net)
}

/// What [`describe`] says about a graph: one line per node, then the edges.
pub fn describe(graph: &Graph) -> Vec<String> {
    let mut lines = vec![format!(
        "NIR {} graph: {} nodes, {} edges",
        graph.version,
        graph.nodes.len(),
        graph.edges.len()
    )];
    let sizes: BTreeMap<&str, (usize, usize)> = graph
        .nodes
        .iter()
        .map(|(k, n)| (k.as_str(), (super::input_size(&n.kind), super::output_size(&n.kind))))
        .collect();
    for (name, node) in &graph.nodes {
        let (i, o) = sizes[name.as_str()];
        let detail = match &node.kind {
            NodeKind::Input { shape } | NodeKind::Output { shape } => format!("shape {shape:?}"),
            NodeKind::Linear { .. } | NodeKind::Affine { .. } => format!("{i} → {o}"),
            NodeKind::Neurons(n) => format!("{} neurons", n.len()),
        };
        lines.push(format!("  {name}: {} ({detail})", node.kind.type_name()));
    }
    for (a, b) in &graph.edges {
        lines.push(format!("  {a} → {b}"));
    }
    lines
}
