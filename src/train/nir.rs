//! Trained networks to and from NIR files ([`crate::io::nir`]): the glue between a
//! [`TrainedModel`] with its configuration and the graph converters.

use std::path::Path;

use super::config::ExperimentConfig;
use super::model::TrainedModel;
use crate::io::nir::{Graph, convert};
use crate::surrogate::SurrogateNetwork;
use crate::ttfs::SpikeTimeNetwork;

/// `model` (trained with `cfg`) as a NIR graph, one model time unit being `time_unit` seconds;
/// the graph carries `cfg` so that `spikeburn import` rebuilds the run.
///
/// # Errors
/// A message for a network with no NIR form (the sampling machine, an undecaying current).
pub fn export_nir(
    model: &dyn TrainedModel,
    cfg: &ExperimentConfig,
    time_unit: f64,
) -> Result<Graph, String> {
    if !(time_unit > 0.0 && time_unit.is_finite()) {
        return Err(format!(
            "the time unit (--time-unit) must be a positive number of seconds, got {time_unit}"
        ));
    }
    let config_toml = toml::to_string(cfg).map_err(|e| format!("cannot write the config: {e}"))?;
    let opts = convert::ExportOptions { time_unit, config_toml: Some(config_toml) };
    let any = model.as_any();
    if let Some(net) = any.downcast_ref::<SpikeTimeNetwork>() {
        Ok(convert::from_ttfs(net, &opts))
    } else if let Some(net) = any.downcast_ref::<SurrogateNetwork>() {
        convert::from_surrogate(net, &opts)
    } else {
        Err(format!(
            "the {} method's networks have no NIR form (NIR describes deterministic spiking \
             neurons; the sampling machine's neurons are stochastic)",
            cfg.method.name()
        ))
    }
}

/// The configuration stored in a NIR graph written by spikeburn (`spikeburn_config`).
///
/// # Errors
/// A message if the graph has none (written by another tool) or it does not parse.
pub fn config_of(graph: &Graph, path: &Path) -> Result<ExperimentConfig, String> {
    let text = graph.meta_text(convert::keys::CONFIG).ok_or_else(|| {
        format!(
            "{}: the graph carries no spikeburn configuration (it was not written by spikeburn); \
             give the network's configuration with --config",
            path.display()
        )
    })?;
    ExperimentConfig::from_toml_str(text, &format!("{} (spikeburn_config)", path.display()))
        .map_err(|e| e.to_string())
}
