//! NIR, the Neuromorphic Intermediate Representation (Pedersen et al. 2024): the exchange format
//! of snnTorch, Norse, Rockpool, Lava, Spyx, sinabs and the BrainScaleS-2 software.
//!
//! A NIR file is HDF5: a `version` string and a `node` group holding a `NIRGraph` (its `nodes`,
//! one group each with a `type` and its parameters, and `edges`, an `[n, 2]` array of node
//! names). [`Graph`] is that graph in memory; [`read()`] and [`write()`] move it to and from disk,
//! [`simulate()`](simulate::simulate) runs it, and [`convert`] turns spikeburn networks into
//! graphs and back.
//!
//! **Node types.** `Input`, `Output`, `Linear` (weight `out × in`), `Affine` (weight and bias),
//! `LIF`, `LI`, `CubaLIF` and `CubaLI`; anything else (convolutions, pooling, nested graphs,
//! delays) is refused with the node's name and type. NIR's equations, per neuron:
//!
//! ```text
//! LIF      τ dv/dt = (v_leak − v) + r·x                        spike when v > v_threshold, v ← v_reset
//! CubaLIF  τ_syn dI/dt = −I + w_in·x,   τ_mem dv/dt = (v_leak − v) + r·I     (same spike and reset)
//! LI, CubaLI: the same without threshold; their output is v.
//! ```
//!
//! **Units.** NIR stores numbers only. Every NIR example file (Norse, Rockpool, the braille
//! network) gives time constants in **seconds** (τ = 0.0025 for 2.5 ms, simulated with
//! dt = 10⁻⁴); spikeburn reads and writes seconds too, one model time unit being
//! `time_unit` seconds ([`convert::ExportOptions`], 1 ms unless set).
//!
//! **Spikes.** Two readings of the input `x` are in use, and [`simulate::SpikeInput`] offers both:
//! a spike as a unit-area Dirac impulse (the continuous equations: it adds `w_in·w/τ_syn` to `I`),
//! or as the value 1 held for one time step (the NIR paper's exact LIF trace, `lif_exact.csv`).
//! spikeburn exports with `w_in = τ_syn`, so that under the impulse reading a spike of weight `w`
//! adds exactly `w` to the current — which is also what Norse's and spikeburn's own time-stepped
//! neurons do (`I ← I + w`).

pub mod convert;
pub mod file;
pub mod simulate;

pub use file::{read, write};

use std::collections::BTreeMap;

/// The NIR version written into files (the reference Python package's `nir.version`).
pub const NIR_VERSION: &str = "1.0.8";

/// Most nodes a graph may have.
pub const MAX_NODES: usize = 10_000;

/// Most numbers one parameter array may hold (a 10⁴ × 10⁴ weight matrix).
pub const MAX_ELEMENTS: usize = 100_000_000;

/// An array of numbers with its shape (row-major; `shape = []` is a scalar).
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// The dimensions.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<f64>,
}

impl Array {
    /// A 1-D array.
    pub fn vector(data: Vec<f64>) -> Self {
        Array { shape: vec![data.len()], data }
    }

    /// An `[rows, cols]` array from row-major `data`.
    ///
    /// # Panics
    /// If `data.len() != rows·cols`.
    pub fn matrix(rows: usize, cols: usize, data: Vec<f64>) -> Self {
        assert_eq!(data.len(), rows * cols, "matrix data does not fill {rows}×{cols}");
        Array { shape: vec![rows, cols], data }
    }

    /// `n` copies of `x`.
    pub fn full(n: usize, x: f64) -> Self {
        Array::vector(vec![x; n])
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// No elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// A metadata value (NIR's optional `metadata` group of a node or graph).
#[derive(Debug, Clone, PartialEq)]
pub enum Meta {
    /// A string.
    Text(String),
    /// Numbers.
    Numbers(Array),
}

/// Per-neuron parameters of NIR's neuron nodes, one entry per neuron.
#[derive(Debug, Clone, PartialEq)]
pub struct Neurons {
    /// τ_mem (LIF/LI: τ), seconds.
    pub tau_mem: Vec<f64>,
    /// τ_syn, seconds (`None` for LIF and LI, which have no synaptic current).
    pub tau_syn: Option<Vec<f64>>,
    /// Resistance r.
    pub r: Vec<f64>,
    /// Leak potential.
    pub v_leak: Vec<f64>,
    /// Threshold (`None` for the non-spiking LI and CubaLI).
    pub v_threshold: Option<Vec<f64>>,
    /// Reset potential (NIR's default 0 where a file has none; `None` when non-spiking).
    pub v_reset: Option<Vec<f64>>,
    /// Input weight w_in (CubaLIF/CubaLI; NIR's default 1).
    pub w_in: Option<Vec<f64>>,
}

impl Neurons {
    /// Number of neurons.
    pub fn len(&self) -> usize {
        self.tau_mem.len()
    }

    /// No neurons.
    pub fn is_empty(&self) -> bool {
        self.tau_mem.is_empty()
    }

    /// The NIR type name: `LIF`, `LI`, `CubaLIF` or `CubaLI`.
    pub fn type_name(&self) -> &'static str {
        match (self.tau_syn.is_some(), self.v_threshold.is_some()) {
            (false, true) => "LIF",
            (false, false) => "LI",
            (true, true) => "CubaLIF",
            (true, false) => "CubaLI",
        }
    }

    /// Every named parameter array, in NIR's spelling.
    fn arrays(&self) -> Vec<(&'static str, &Vec<f64>)> {
        let mut out = Vec::new();
        if let Some(ts) = &self.tau_syn {
            out.push(("tau_syn", ts));
            out.push(("tau_mem", &self.tau_mem));
        } else {
            out.push(("tau", &self.tau_mem));
        }
        out.push(("r", &self.r));
        out.push(("v_leak", &self.v_leak));
        for (name, a) in
            [("v_threshold", &self.v_threshold), ("v_reset", &self.v_reset), ("w_in", &self.w_in)]
        {
            if let Some(a) = a {
                out.push((name, a));
            }
        }
        out
    }
}

/// What a node computes.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A graph input of the given shape.
    Input {
        /// Its shape.
        shape: Vec<usize>,
    },
    /// A graph output of the given (declared) shape.
    Output {
        /// Its shape.
        shape: Vec<usize>,
    },
    /// `y = W x`, W `[out, in]`.
    Linear {
        /// The weights.
        weight: Array,
    },
    /// `y = W x + b`.
    Affine {
        /// The weights `[out, in]`.
        weight: Array,
        /// The bias `[out]`.
        bias: Array,
    },
    /// A population of neurons (LIF, LI, CubaLIF or CubaLI).
    Neurons(Neurons),
}

impl NodeKind {
    /// The NIR type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            NodeKind::Input { .. } => "Input",
            NodeKind::Output { .. } => "Output",
            NodeKind::Linear { .. } => "Linear",
            NodeKind::Affine { .. } => "Affine",
            NodeKind::Neurons(n) => n.type_name(),
        }
    }
}

/// A node: what it computes and its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What it computes.
    pub kind: NodeKind,
    /// Its metadata (may be empty).
    pub metadata: BTreeMap<String, Meta>,
}

impl Node {
    /// A node without metadata.
    pub fn new(kind: NodeKind) -> Self {
        Node { kind, metadata: BTreeMap::new() }
    }
}

/// A NIR graph: named nodes, directed edges between them (several edges into one node are
/// summed), and metadata.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    /// The NIR version of the file it was read from (or [`NIR_VERSION`]).
    pub version: String,
    /// The nodes by name.
    pub nodes: BTreeMap<String, Node>,
    /// The edges, source first.
    pub edges: Vec<(String, String)>,
    /// The graph's metadata.
    pub metadata: BTreeMap<String, Meta>,
}

/// A graph that breaks one of NIR's rules, or one spikeburn cannot use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    /// An edge names a node the graph does not have.
    #[error("edge {from} → {to}: there is no node '{missing}'")]
    UnknownNode {
        /// Source.
        from: String,
        /// Target.
        to: String,
        /// The missing one.
        missing: String,
    },
    /// A node's parameters are inconsistent or out of range.
    #[error("node '{node}' ({kind}): {message}")]
    BadNode {
        /// The node.
        node: String,
        /// Its type.
        kind: &'static str,
        /// What is wrong.
        message: String,
    },
    /// An edge joins nodes of different sizes.
    #[error("edge {from} → {to}: '{from}' gives {out} values, '{to}' takes {input}")]
    SizeMismatch {
        /// Source.
        from: String,
        /// Target.
        to: String,
        /// Source's output size.
        out: usize,
        /// Target's input size.
        input: usize,
    },
    /// The graph has more nodes than [`MAX_NODES`].
    #[error("the graph has {0} nodes, more than spikeburn reads ({MAX_NODES})")]
    TooManyNodes(usize),
    /// The graph has no Input node.
    #[error("the graph has no Input node")]
    NoInput,
}

impl Graph {
    /// An empty graph of the current version.
    pub fn new() -> Self {
        Graph { version: NIR_VERSION.into(), ..Default::default() }
    }

    /// Add a node.
    pub fn add(&mut self, name: impl Into<String>, node: Node) {
        self.nodes.insert(name.into(), node);
    }

    /// Add an edge.
    pub fn connect(&mut self, from: impl Into<String>, to: impl Into<String>) {
        self.edges.push((from.into(), to.into()));
    }

    /// A text metadata entry of the graph.
    pub fn meta_text(&self, key: &str) -> Option<&str> {
        match self.metadata.get(key) {
            Some(Meta::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// A numeric metadata entry of the graph.
    pub fn meta_numbers(&self, key: &str) -> Option<&[f64]> {
        match self.metadata.get(key) {
            Some(Meta::Numbers(a)) => Some(&a.data),
            _ => None,
        }
    }

    /// The edges into `node`, as source names.
    pub fn sources(&self, node: &str) -> Vec<&str> {
        self.edges.iter().filter(|(_, to)| to == node).map(|(from, _)| from.as_str()).collect()
    }

    /// The edges out of `node`, as target names.
    pub fn targets(&self, node: &str) -> Vec<&str> {
        self.edges.iter().filter(|(from, _)| from == node).map(|(_, to)| to.as_str()).collect()
    }

    /// Check the graph: every edge joins existing nodes of matching sizes, every node's
    /// parameters agree in length and are finite, time constants are positive. Returns
    /// warnings for what NIR producers are known to get wrong and a reader can ignore (an
    /// Output node declaring a shape other than what reaches it: Rockpool's example file).
    ///
    /// # Errors
    /// The first [`GraphError`].
    pub fn validate(&self) -> Result<Vec<String>, GraphError> {
        if self.nodes.len() > MAX_NODES {
            return Err(GraphError::TooManyNodes(self.nodes.len()));
        }
        for (name, node) in &self.nodes {
            check_node(name, &node.kind)?;
        }
        if !self.nodes.values().any(|n| matches!(n.kind, NodeKind::Input { .. })) {
            return Err(GraphError::NoInput);
        }
        let mut warnings = Vec::new();
        for (from, to) in &self.edges {
            let get = |n: &String| {
                self.nodes.get(n).ok_or_else(|| GraphError::UnknownNode {
                    from: from.clone(),
                    to: to.clone(),
                    missing: n.clone(),
                })
            };
            let (a, b) = (get(from)?, get(to)?);
            let out = output_size(&a.kind);
            let input = input_size(&b.kind);
            if out == input {
                continue;
            }
            if let NodeKind::Output { shape } = &b.kind {
                warnings.push(format!(
                    "output '{to}' declares shape {shape:?} but receives {out} values from \
                     '{from}'; its shape is taken as [{out}]"
                ));
                continue;
            }
            return Err(GraphError::SizeMismatch {
                from: from.clone(),
                to: to.clone(),
                out,
                input,
            });
        }
        Ok(warnings)
    }
}

/// The number of values a node takes in.
pub fn input_size(kind: &NodeKind) -> usize {
    match kind {
        NodeKind::Input { shape } | NodeKind::Output { shape } => shape.iter().product(),
        NodeKind::Linear { weight } | NodeKind::Affine { weight, .. } => weight.shape[1],
        NodeKind::Neurons(n) => n.len(),
    }
}

/// The number of values a node gives out.
pub fn output_size(kind: &NodeKind) -> usize {
    match kind {
        NodeKind::Input { shape } | NodeKind::Output { shape } => shape.iter().product(),
        NodeKind::Linear { weight } | NodeKind::Affine { weight, .. } => weight.shape[0],
        NodeKind::Neurons(n) => n.len(),
    }
}

fn check_node(name: &str, kind: &NodeKind) -> Result<(), GraphError> {
    let bad = |message: String| GraphError::BadNode {
        node: name.to_string(),
        kind: kind.type_name(),
        message,
    };
    let finite = |label: &str, xs: &[f64]| match xs.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(bad(format!("{label}[{i}] is {}, not a finite number", xs[i]))),
        None => Ok(()),
    };
    match kind {
        NodeKind::Input { shape } | NodeKind::Output { shape } => {
            if shape.is_empty() || shape.contains(&0) {
                return Err(bad(format!("shape {shape:?} has no elements")));
            }
            let n = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
            if n.is_none_or(|n| n > MAX_ELEMENTS) {
                return Err(bad(format!(
                    "shape {shape:?} has more than {MAX_ELEMENTS} elements, more than spikeburn reads"
                )));
            }
        }
        NodeKind::Linear { weight } | NodeKind::Affine { weight, .. } => {
            if weight.shape.len() != 2 || weight.shape.contains(&0) {
                return Err(bad(format!(
                    "weight has shape {:?}; NIR weights are [out, in] matrices",
                    weight.shape
                )));
            }
            finite("weight", &weight.data)?;
            if let NodeKind::Affine { bias, .. } = kind {
                if bias.len() != weight.shape[0] {
                    return Err(bad(format!(
                        "bias has {} entries for {} outputs",
                        bias.len(),
                        weight.shape[0]
                    )));
                }
                finite("bias", &bias.data)?;
            }
        }
        NodeKind::Neurons(n) => {
            if n.is_empty() {
                return Err(bad("no neurons".into()));
            }
            for (label, xs) in n.arrays() {
                if xs.len() != n.len() {
                    return Err(bad(format!(
                        "{label} has {} entries, {} has {}",
                        xs.len(),
                        n.arrays()[0].0,
                        n.len()
                    )));
                }
                finite(label, xs)?;
            }
            let mem = if n.tau_syn.is_some() { "tau_mem" } else { "tau" };
            let taus = [Some((mem, &n.tau_mem)), n.tau_syn.as_ref().map(|t| ("tau_syn", t))];
            for (label, xs) in taus.into_iter().flatten() {
                if let Some(i) = xs.iter().position(|&t| t <= 0.0) {
                    return Err(bad(format!("{label}[{i}] = {} must be positive", xs[i])));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lif(n: usize) -> Node {
        Node::new(NodeKind::Neurons(Neurons {
            tau_mem: vec![1e-3; n],
            tau_syn: None,
            r: vec![1.0; n],
            v_leak: vec![0.0; n],
            v_threshold: Some(vec![1.0; n]),
            v_reset: Some(vec![0.0; n]),
            w_in: None,
        }))
    }

    fn chain() -> Graph {
        let mut g = Graph::new();
        g.add("in", Node::new(NodeKind::Input { shape: vec![2] }));
        g.add("fc", Node::new(NodeKind::Linear { weight: Array::matrix(3, 2, vec![1.0; 6]) }));
        g.add("lif", lif(3));
        g.add("out", Node::new(NodeKind::Output { shape: vec![3] }));
        g.connect("in", "fc");
        g.connect("fc", "lif");
        g.connect("lif", "out");
        g
    }

    #[test]
    fn a_consistent_chain_validates() {
        assert_eq!(chain().validate(), Ok(vec![]));
    }

    #[test]
    fn each_broken_rule_is_named() {
        let mut g = chain();
        g.connect("lif", "nowhere");
        assert!(
            matches!(g.validate(), Err(GraphError::UnknownNode { missing, .. }) if missing == "nowhere")
        );

        let mut g = chain();
        g.add("fc", Node::new(NodeKind::Linear { weight: Array::matrix(4, 2, vec![1.0; 8]) }));
        let e = g.validate().unwrap_err();
        assert_eq!(e.to_string(), "edge fc → lif: 'fc' gives 4 values, 'lif' takes 3");

        let mut g = chain();
        let mut node = lif(3);
        if let NodeKind::Neurons(n) = &mut node.kind {
            n.tau_mem[1] = 0.0;
            n.r.pop();
        }
        g.add("lif", node.clone());
        let e = g.validate().unwrap_err().to_string();
        assert!(e.contains("node 'lif' (LIF): r has 2 entries, tau has 3"), "{e}");
        if let NodeKind::Neurons(n) = &mut node.kind {
            n.r.push(1.0);
        }
        g.add("lif", node);
        let e = g.validate().unwrap_err().to_string();
        assert!(e.contains("tau[1] = 0 must be positive"), "{e}");

        let mut g = chain();
        g.add("fc", Node::new(NodeKind::Linear { weight: Array::matrix(3, 2, vec![f64::NAN; 6]) }));
        assert!(g.validate().unwrap_err().to_string().contains("weight[0] is NaN"));

        // A declared shape whose size overflows (or is merely huge) is refused, not allocated.
        let mut g = chain();
        g.add("in", Node::new(NodeKind::Input { shape: vec![100_000_000; 3] }));
        let e = g.validate().unwrap_err().to_string();
        assert!(e.contains("node 'in' (Input)") && e.contains("more than spikeburn reads"), "{e}");

        let mut g = chain();
        g.nodes.remove("in");
        g.edges.remove(0);
        assert_eq!(g.validate(), Err(GraphError::NoInput));
    }

    #[test]
    fn an_output_of_another_declared_size_is_a_warning() {
        let mut g = chain();
        g.add("out", Node::new(NodeKind::Output { shape: vec![5] }));
        let w = g.validate().unwrap();
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("declares shape [5] but receives 3 values"), "{}", w[0]);
    }
}
