//! NIR graphs in HDF5 files, the layout of the reference Python package (`nir.write`): a
//! `version` string and a `node` group of type `NIRGraph` with `nodes/<name>/…` and `edges`.
//! Numbers are written as float64 (lossless for spikeburn's float32 and float64 networks);
//! any float or integer type is read.

use std::collections::BTreeMap;
use std::path::Path;

use hdf5_pure::{DType, Dataset, File, FileBuilder, Group, GroupBuilder};

use super::{Array, Graph, MAX_ELEMENTS, Meta, Neurons, Node, NodeKind};
use crate::io::{IoError, write_atomic};

/// Read a NIR file and check the graph ([`Graph::validate`]); returns the graph and the
/// validation's warnings.
///
/// # Errors
/// [`IoError`] naming the file: missing, not HDF5, not a NIR graph, a node type spikeburn does
/// not support (named with the node), or a graph that breaks NIR's rules.
pub fn read(path: &Path) -> Result<(Graph, Vec<String>), IoError> {
    if !path.is_file() {
        return Err(IoError::os(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such NIR file"),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
    let fmt = |m: String| IoError::format(path, m);
    if !hdf5_pure::is_hdf5_bytes(&bytes) {
        return Err(fmt("not an HDF5 file (NIR files are HDF5)".into()));
    }
    // A malformed file must give an error, never a panic: the HDF5 parser is guarded.
    let parsed = std::panic::catch_unwind(|| -> Result<Graph, String> {
        let file = File::from_bytes(bytes).map_err(|e| format!("unreadable HDF5: {e}"))?;
        parse(&file)
    });
    let graph = match parsed {
        Ok(r) => r.map_err(fmt)?,
        Err(_) => return Err(fmt("malformed HDF5 (the parser failed)".into())),
    };
    let warnings = graph.validate().map_err(|e| fmt(e.to_string()))?;
    Ok((graph, warnings))
}

fn parse(file: &File) -> Result<Graph, String> {
    let root = file.root();
    let version = match root.dataset("version") {
        Ok(ds) => text(&ds).map_err(|e| format!("version: {e}"))?,
        Err(_) => "unknown".into(),
    };
    let node = root.group("node").map_err(|_| "no 'node' group: not a NIR file".to_string())?;
    let kind = text(&node.dataset("type").map_err(|_| "node has no 'type'".to_string())?)?;
    if kind != "NIRGraph" {
        return Err(format!("the top node is a {kind}, not a NIRGraph"));
    }
    let mut graph = Graph { version, ..Graph::default() };
    let nodes = node.group("nodes").map_err(|_| "the NIRGraph has no 'nodes'".to_string())?;
    let names = nodes.groups().map_err(|e| format!("nodes: {e}"))?;
    if names.len() > super::MAX_NODES {
        return Err(super::GraphError::TooManyNodes(names.len()).to_string());
    }
    for name in names {
        let g = nodes.group(&name).map_err(|e| format!("node '{name}': {e}"))?;
        let n = read_node(&g).map_err(|e| format!("node '{name}': {e}"))?;
        graph.nodes.insert(name, n);
    }
    if let Ok(ds) = node.dataset("edges") {
        let shape = ds.shape().map_err(|e| format!("edges: {e}"))?;
        let strings = if shape.iter().product::<u64>() == 0 {
            Vec::new()
        } else {
            ds.read_string().map_err(|e| format!("edges: {e}"))?
        };
        if strings.len() % 2 != 0 || (shape.len() == 2 && shape[1] != 2) {
            return Err(format!("edges has shape {shape:?}; NIR edges are [n, 2]"));
        }
        graph.edges = strings.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect();
    }
    graph.metadata = read_metadata(&node)?;
    Ok(graph)
}

fn read_node(g: &Group) -> Result<Node, String> {
    let kind = text(&g.dataset("type").map_err(|_| "no 'type'".to_string())?)?;
    let arr = |name: &str| -> Result<Array, String> {
        let ds = g.dataset(name).map_err(|_| format!("{kind} has no '{name}'"))?;
        numbers(&ds).map_err(|e| format!("{name}: {e}"))
    };
    let opt = |name: &str| -> Result<Option<Vec<f64>>, String> {
        match g.dataset(name) {
            Ok(ds) => Ok(Some(numbers(&ds).map_err(|e| format!("{name}: {e}"))?.data)),
            Err(_) => Ok(None),
        }
    };
    let vec = |name: &str| arr(name).map(|a| a.data);
    let shape = |name: &str| -> Result<Vec<usize>, String> {
        arr(name)?
            .data
            .iter()
            .map(|&x| {
                if x >= 0.0 && x.fract() == 0.0 && x <= MAX_ELEMENTS as f64 {
                    Ok(x as usize)
                } else {
                    Err(format!("{name} holds {x}, not a size"))
                }
            })
            .collect()
    };
    let zeros = |n: usize| vec![0.0; n];
    let ones = |n: usize| vec![1.0; n];
    let kind = match kind.as_str() {
        "Input" => NodeKind::Input { shape: shape("shape")? },
        "Output" => NodeKind::Output { shape: shape("shape")? },
        "Linear" => NodeKind::Linear { weight: arr("weight")? },
        "Affine" => NodeKind::Affine { weight: arr("weight")?, bias: arr("bias")? },
        "LIF" | "LI" | "CubaLIF" | "CubaLI" => {
            let cuba = kind.starts_with("Cuba");
            let spiking = kind.ends_with("LIF");
            let tau_mem = vec(if cuba { "tau_mem" } else { "tau" })?;
            let n = tau_mem.len();
            NodeKind::Neurons(Neurons {
                tau_syn: if cuba { Some(vec("tau_syn")?) } else { None },
                r: vec("r")?,
                v_leak: vec("v_leak")?,
                v_threshold: if spiking { Some(vec("v_threshold")?) } else { None },
                v_reset: if spiking {
                    Some(opt("v_reset")?.unwrap_or_else(|| zeros(n)))
                } else {
                    None
                },
                // w_in may be a scalar (NIR broadcasts it); absent, NIR's default 1.
                w_in: if cuba {
                    let w = opt("w_in")?.unwrap_or_else(|| ones(n));
                    Some(if w.len() == 1 { vec![w[0]; n] } else { w })
                } else {
                    None
                },
                tau_mem,
            })
        }
        other => {
            return Err(format!(
                "node type {other} is not supported (spikeburn reads Input, Output, Linear, \
                 Affine, LIF, LI, CubaLIF and CubaLI)"
            ));
        }
    };
    Ok(Node { kind, metadata: read_metadata(g)? })
}

fn read_metadata(g: &Group) -> Result<BTreeMap<String, Meta>, String> {
    let mut out = BTreeMap::new();
    let Ok(m) = g.group("metadata") else { return Ok(out) };
    for name in m.datasets().map_err(|e| format!("metadata: {e}"))? {
        let ds = m.dataset(&name).map_err(|e| format!("metadata {name}: {e}"))?;
        let value = if is_text(&ds) {
            Meta::Text(text(&ds).map_err(|e| format!("metadata {name}: {e}"))?)
        } else {
            match numbers(&ds) {
                Ok(a) => Meta::Numbers(a),
                Err(_) => continue, // metadata of a kind spikeburn has no use for
            }
        };
        out.insert(name, value);
    }
    Ok(out)
}

fn is_text(ds: &Dataset) -> bool {
    matches!(ds.dtype(), Ok(DType::String | DType::VariableLengthString))
}

fn text(ds: &Dataset) -> Result<String, String> {
    let mut s = ds.read_string().map_err(|e| e.to_string())?;
    if s.len() != 1 {
        return Err(format!("expected one string, found {}", s.len()));
    }
    Ok(s.remove(0))
}

fn numbers(ds: &Dataset) -> Result<Array, String> {
    let shape = ds.shape().map_err(|e| e.to_string())?;
    let n = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
    match n {
        Some(n) if n <= MAX_ELEMENTS as u64 => {}
        _ => return Err(format!("shape {shape:?} is larger than spikeburn reads")),
    }
    let data = ds.read_f64().map_err(|e| e.to_string())?;
    let shape: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    if data.len() != shape.iter().product::<usize>() {
        return Err(format!("{} values for shape {shape:?}", data.len()));
    }
    Ok(Array { shape, data })
}

/// Write `graph` as a NIR file (replacing `path` atomically).
///
/// # Errors
/// [`IoError`] naming the path.
pub fn write(graph: &Graph, path: &Path) -> Result<(), IoError> {
    let mut fb = FileBuilder::new();
    fb.create_dataset("version").with_vlen_strings(&[&graph.version]).with_shape(&[]);
    let mut node = fb.create_group("node");
    string(&mut node, "type", "NIRGraph");
    let flat: Vec<&str> = graph.edges.iter().flat_map(|(a, b)| [a.as_str(), b.as_str()]).collect();
    if !flat.is_empty() {
        node.create_dataset("edges")
            .with_vlen_strings(&flat)
            .with_shape(&[flat.len() as u64 / 2, 2]);
    }
    let mut nodes = node.create_group("nodes");
    for (name, n) in &graph.nodes {
        let mut g = nodes.create_group(name);
        string(&mut g, "type", n.kind.type_name());
        match &n.kind {
            NodeKind::Input { shape } | NodeKind::Output { shape } => {
                let s: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
                g.create_dataset("shape").with_i64_data(&s).with_shape(&[s.len() as u64]);
            }
            NodeKind::Linear { weight } => array(&mut g, "weight", weight),
            NodeKind::Affine { weight, bias } => {
                array(&mut g, "weight", weight);
                array(&mut g, "bias", bias);
            }
            NodeKind::Neurons(ns) => {
                for (label, xs) in ns.arrays() {
                    g.create_dataset(label).with_f64_data(xs).with_shape(&[xs.len() as u64]);
                }
            }
        }
        metadata(&mut g, &n.metadata);
        nodes.add_group(g.finish());
    }
    node.add_group(nodes.finish());
    metadata(&mut node, &graph.metadata);
    fb.add_group(node.finish());
    let bytes =
        fb.finish().map_err(|e| IoError::format(path, format!("cannot encode NIR: {e}")))?;
    write_atomic(path, &bytes)
}

fn string(g: &mut GroupBuilder, name: &str, value: &str) {
    g.create_dataset(name).with_vlen_strings(&[value]).with_shape(&[]);
}

fn array(g: &mut GroupBuilder, name: &str, a: &Array) {
    let shape: Vec<u64> = a.shape.iter().map(|&d| d as u64).collect();
    g.create_dataset(name).with_f64_data(&a.data).with_shape(&shape);
}

fn metadata(g: &mut GroupBuilder, meta: &BTreeMap<String, Meta>) {
    if meta.is_empty() {
        return;
    }
    let mut m = g.create_group("metadata");
    for (k, v) in meta {
        match v {
            Meta::Text(s) => string(&mut m, k, s),
            Meta::Numbers(a) => array(&mut m, k, a),
        }
    }
    g.add_group(m.finish());
}
