//! A reference simulator of NIR graphs, in float64, for checking what a file means: every
//! neuron integrated exactly over each time step (the linear equations' closed forms), threshold
//! crossings located inside the step, the reset applied there and the rest of the step
//! integrated from it — the method of the NIR paper's exact LIF trace (`lif_exact.csv`), which it
//! reproduces to rounding.
//!
//! Each step every node is evaluated once, in an order that follows the edges from the inputs;
//! an edge that closes a cycle (a recurrent connection) carries its source's value of the
//! previous step. Several edges into one node are summed. A spiking node gives 1 in a step in
//! which it fired, a leaky integrator (LI, CubaLI) gives its membrane potential.

use std::collections::{BTreeMap, BTreeSet};

use super::{Graph, Neurons, NodeKind, input_size, output_size};

/// How a neuron reads the spikes that reach it (the summed, weighted input `x` of a step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpikeInput {
    /// A unit-area Dirac impulse at the start of the step: `I += w_in·x/τ_syn` (CubaLIF,
    /// CubaLI), `v += r·x/τ` (LIF, LI). NIR's equations read literally; spikeburn's exports
    /// mean this.
    Impulse,
    /// `x` held as a constant input for the whole step (the NIR paper's exact LIF trace).
    Pulse,
}

/// How to run a graph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimOptions {
    /// Step length, seconds (the graph's time unit).
    pub dt: f64,
    /// How spikes enter neurons.
    pub spikes: SpikeInput,
    /// Each neuron fires at most once and is never reset (the first-spike-time semantics of
    /// spikeburn's exact layers).
    pub first_spike_only: bool,
}

/// What a simulation produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    /// Each node's output per step, `[steps][size]`.
    pub outputs: BTreeMap<String, Vec<Vec<f64>>>,
    /// Each neuron node's membrane potential at the end of each step, `[steps][n]`.
    pub v: BTreeMap<String, Vec<Vec<f64>>>,
    /// Each spiking node's first spike time per neuron, seconds from the start (∞: silent).
    pub first_spike: BTreeMap<String, Vec<f64>>,
}

/// Run `graph` for as many steps as `inputs` have, each Input node driven by its entry of
/// `inputs` (`[steps][size]`).
///
/// # Errors
/// A message naming the Input node whose values are missing or of the wrong size, or a
/// non-positive `dt`.
pub fn simulate(
    graph: &Graph,
    inputs: &BTreeMap<String, Vec<Vec<f64>>>,
    opts: SimOptions,
) -> Result<Trace, String> {
    if !(opts.dt > 0.0 && opts.dt.is_finite()) {
        return Err(format!("dt must be positive, got {}", opts.dt));
    }
    let mut steps = None;
    for (name, node) in &graph.nodes {
        if let NodeKind::Input { .. } = node.kind {
            let x = inputs.get(name).ok_or_else(|| format!("no values for Input node '{name}'"))?;
            let n = output_size(&node.kind);
            if let Some(row) = x.iter().position(|r| r.len() != n) {
                return Err(format!(
                    "Input node '{name}' takes {n} values per step; step {row} has {}",
                    x[row].len()
                ));
            }
            if *steps.get_or_insert(x.len()) != x.len() {
                return Err(format!(
                    "Input node '{name}' has {} steps, another has more or fewer",
                    x.len()
                ));
            }
        }
    }
    let steps = steps.unwrap_or(0);
    let order = evaluation_order(graph);
    let mut state: BTreeMap<&str, NeuronState> = BTreeMap::new();
    for (name, node) in &graph.nodes {
        if let NodeKind::Neurons(n) = &node.kind {
            state.insert(name, NeuronState::new(n));
        }
    }
    let mut prev: BTreeMap<&str, Vec<f64>> =
        graph.nodes.iter().map(|(k, n)| (k.as_str(), vec![0.0; output_size(&n.kind)])).collect();
    let mut trace = Trace::default();
    // `step` indexes every Input node's rows, not one sequence.
    #[allow(clippy::needless_range_loop)]
    for step in 0..steps {
        let mut now: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for &name in &order {
            let node = &graph.nodes[name];
            let mut x = vec![0.0; input_size(&node.kind)];
            for src in graph.sources(name) {
                let value = now.get(src).unwrap_or(&prev[src]);
                for (xi, v) in x.iter_mut().zip(value) {
                    *xi += v;
                }
            }
            let out = match &node.kind {
                NodeKind::Input { .. } => inputs[name][step].clone(),
                NodeKind::Output { .. } => x,
                NodeKind::Linear { weight } | NodeKind::Affine { weight, .. } => {
                    let cols = weight.shape[1];
                    let mut y: Vec<f64> = weight
                        .data
                        .chunks(cols)
                        .map(|row| row.iter().zip(&x).map(|(w, v)| w * v).sum())
                        .collect();
                    if let NodeKind::Affine { bias, .. } = &node.kind {
                        y.iter_mut().zip(&bias.data).for_each(|(y, b)| *y += b);
                    }
                    y
                }
                NodeKind::Neurons(n) => {
                    let s = state.get_mut(name).expect("every neuron node has a state");
                    let out = s.step(n, &x, step as f64 * opts.dt, opts);
                    trace.v.entry(name.to_string()).or_default().push(s.v.clone());
                    out
                }
            };
            now.insert(name, out);
        }
        for (name, out) in &now {
            trace.outputs.entry(name.to_string()).or_default().push(out.clone());
        }
        prev.extend(now);
    }
    for (name, s) in state {
        if s.spiking {
            trace.first_spike.insert(name.to_string(), s.first_spike);
        }
    }
    Ok(trace)
}

/// Nodes in an order in which each node's sources come first, where the edges allow it; a
/// cycle is broken at the node met first (its incoming edge from inside the cycle is then a
/// one-step delay).
fn evaluation_order(graph: &Graph) -> Vec<&str> {
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::new();
    let names: Vec<&str> = graph.nodes.keys().map(String::as_str).collect();
    while order.len() < names.len() {
        let ready = names.iter().find(|n| {
            !done.contains(*n) && graph.sources(n).iter().all(|s| done.contains(s) || s == *n)
        });
        // No node is ready: a cycle. Take the first pending node that an evaluated node feeds.
        let pick = ready.copied().unwrap_or_else(|| {
            names
                .iter()
                .copied()
                .find(|n| !done.contains(n) && graph.sources(n).iter().any(|s| done.contains(s)))
                .unwrap_or_else(|| *names.iter().find(|n| !done.contains(*n)).expect("pending"))
        });
        done.insert(pick);
        order.push(pick);
    }
    order
}

struct NeuronState {
    v: Vec<f64>,
    i: Vec<f64>,
    first_spike: Vec<f64>,
    spiking: bool,
}

impl NeuronState {
    fn new(n: &Neurons) -> Self {
        NeuronState {
            v: n.v_leak.clone(),
            i: vec![0.0; n.len()],
            first_spike: vec![f64::INFINITY; n.len()],
            spiking: n.v_threshold.is_some(),
        }
    }

    /// One step from time `t0` with summed input `x`; returns the node's output.
    fn step(&mut self, n: &Neurons, x: &[f64], t0: f64, opts: SimOptions) -> Vec<f64> {
        let dt = opts.dt;
        let mut out = vec![0.0; n.len()];
        for k in 0..n.len() {
            let tau_m = n.tau_mem[k];
            let cuba = n.tau_syn.as_ref().map(|ts| (ts[k], n.w_in.as_ref().map_or(1.0, |w| w[k])));
            // The drive held over the step, after an impulse has been applied.
            let drive = match opts.spikes {
                SpikeInput::Impulse => {
                    match cuba {
                        Some((ts, w_in)) => self.i[k] += w_in * x[k] / ts,
                        None => self.v[k] += n.r[k] * x[k] / tau_m,
                    }
                    0.0
                }
                SpikeInput::Pulse => x[k],
            };
            let p = Segment { tau_m, cuba, r: n.r[k], v_leak: n.v_leak[k], drive };
            let (v0, i0) = (self.v[k], self.i[k]);
            let (mut v1, i1) = p.evolve(v0, i0, dt);
            if let Some(th) = &n.v_threshold {
                let th = th[k];
                let may_fire = !(opts.first_spike_only && self.first_spike[k].is_finite());
                if may_fire && v1 > th {
                    let s = if v0 > th { 0.0 } else { p.crossing(v0, i0, th, dt) };
                    out[k] = 1.0;
                    if self.first_spike[k].is_infinite() {
                        self.first_spike[k] = t0 + s;
                    }
                    if !opts.first_spike_only {
                        let reset = n.v_reset.as_ref().map_or(0.0, |r| r[k]);
                        let (_, i_s) = p.evolve(v0, i0, s);
                        v1 = p.evolve(reset, i_s, dt - s).0;
                    }
                }
            } else {
                out[k] = v1;
            }
            self.v[k] = v1;
            self.i[k] = i1;
        }
        out
    }
}

/// One neuron over a stretch of time with a constant drive.
struct Segment {
    tau_m: f64,
    /// (τ_syn, w_in) of a current-based neuron.
    cuba: Option<(f64, f64)>,
    r: f64,
    v_leak: f64,
    drive: f64,
}

impl Segment {
    /// (v, I) after time `s` from (v0, i0), exactly.
    fn evolve(&self, v0: f64, i0: f64, s: f64) -> (f64, f64) {
        let beta = 1.0 / self.tau_m;
        let a = (-beta * s).exp();
        match self.cuba {
            None => {
                let v_inf = self.v_leak + self.r * self.drive;
                (v_inf + (v0 - v_inf) * a, 0.0)
            }
            Some((ts, w_in)) => {
                let alpha = 1.0 / ts;
                let i_inf = w_in * self.drive;
                let v_inf = self.v_leak + self.r * i_inf;
                // g(s) = β/(β−α)·(e^{−αs} − e^{−βs}), written to stay exact as α → β.
                let d = beta - alpha;
                let g = if d == 0.0 { beta * s * a } else { beta * a * (d * s).exp_m1() / d };
                let v = v_inf + (v0 - v_inf) * a + self.r * (i0 - i_inf) * g;
                (v, i_inf + (i0 - i_inf) * (-alpha * s).exp())
            }
        }
    }

    /// The first time in (0, dt] at which v reaches `th`, given v(0) ≤ th < v(dt): the closed
    /// form for LIF, bisection (to rounding) for the current-based neuron.
    fn crossing(&self, v0: f64, i0: f64, th: f64, dt: f64) -> f64 {
        if self.cuba.is_none() {
            let v_inf = self.v_leak + self.r * self.drive;
            return (self.tau_m * ((v0 - v_inf) / (th - v_inf)).ln()).clamp(0.0, dt);
        }
        let (mut lo, mut hi) = (0.0, dt);
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if self.evolve(v0, i0, mid).0 > th {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RK4 of τ_syn dI/dt = −I + w_in·u, τ_mem dv/dt = (v_leak − v) + r·I over `s`.
    fn rk4(p: &Segment, v0: f64, i0: f64, s: f64, n: usize) -> (f64, f64) {
        let (ts, w_in) = p.cuba.unwrap();
        let f = |v: f64, i: f64| ((p.v_leak - v + p.r * i) / p.tau_m, (-i + w_in * p.drive) / ts);
        let h = s / n as f64;
        let (mut v, mut i) = (v0, i0);
        for _ in 0..n {
            let k1 = f(v, i);
            let k2 = f(v + 0.5 * h * k1.0, i + 0.5 * h * k1.1);
            let k3 = f(v + 0.5 * h * k2.0, i + 0.5 * h * k2.1);
            let k4 = f(v + h * k3.0, i + h * k3.1);
            v += h / 6.0 * (k1.0 + 2.0 * k2.0 + 2.0 * k3.0 + k4.0);
            i += h / 6.0 * (k1.1 + 2.0 * k2.1 + 2.0 * k3.1 + k4.1);
        }
        (v, i)
    }

    #[test]
    fn the_current_based_closed_form_matches_a_fine_simulation() {
        for (tau_m, ts) in [(2.0, 1.0), (1.0, 1.0), (1.0, 1.0 + 1e-12), (0.5, 3.0)] {
            let p = Segment { tau_m, cuba: Some((ts, 0.7)), r: 1.3, v_leak: -0.2, drive: 0.9 };
            for s in [0.01, 0.5, 2.0, 7.0] {
                let (v, i) = p.evolve(0.3, 1.1, s);
                let (v2, i2) = rk4(&p, 0.3, 1.1, s, 20_000);
                assert!((v - v2).abs() < 1e-10, "τm {tau_m} τs {ts} s {s}: v {v} vs {v2}");
                assert!((i - i2).abs() < 1e-10, "τm {tau_m} τs {ts} s {s}: I {i} vs {i2}");
            }
        }
    }

    #[test]
    fn the_crossing_is_where_the_potential_reaches_threshold() {
        let p = Segment { tau_m: 2.0, cuba: Some((1.0, 1.0)), r: 1.0, v_leak: 0.0, drive: 3.0 };
        let (v0, i0, th, dt) = (0.1, 0.5, 0.8, 2.0);
        assert!(p.evolve(v0, i0, dt).0 > th);
        let s = p.crossing(v0, i0, th, dt);
        assert!((p.evolve(v0, i0, s).0 - th).abs() < 1e-12, "v(s*) = {}", p.evolve(v0, i0, s).0);
        // The first crossing: below threshold everywhere before it.
        assert!((1..100).all(|k| p.evolve(v0, i0, s * k as f64 / 100.0).0 < th));
        let lif = Segment { tau_m: 2.0, cuba: None, r: 1.0, v_leak: 0.0, drive: 3.0 };
        let s = lif.crossing(v0, 0.0, th, dt);
        assert!((lif.evolve(v0, 0.0, s).0 - th).abs() < 1e-12);
    }
}
