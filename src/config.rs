//! Reading TOML configurations: the error type and the parse/read helpers every config type of
//! the crate shares (experiments, `spikeburn sample`, each model's section).
//!
//! This module depends on nothing else of the crate, so every model folder can check its own
//! section without importing the training layer.

use std::path::Path;

/// Errors in a configuration: reading, parsing, or a value that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema (unknown keys included).
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What was wrong, with its location.
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// Parses a TOML document into any config type (missing fields take their defaults where the
/// type says `serde(default)`; unknown keys are errors where it says `deny_unknown_fields`).
///
/// # Errors
/// [`ConfigError::Parse`] naming `origin`.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    text: &str,
    origin: &str,
) -> Result<T, ConfigError> {
    toml::from_str(text)
        .map_err(|e| ConfigError::Parse { path: origin.into(), message: e.to_string() })
}

/// Reads a config file's text.
///
/// # Errors
/// [`ConfigError::Read`] naming the path.
pub fn read_config_file(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })
}

/// `x > 0`, false for NaN: validation rejects NaN with the same message as a non-positive value.
pub fn positive(x: f64) -> bool {
    x > 0.0
}

/// Every number of a configuration is finite: one check for all of them, through the
/// configuration's TOML form, so that no key (present or added later) can carry a NaN or an
/// infinity past validation. Range rules stay with each section's `validate`.
///
/// # Errors
/// [`ConfigError::Invalid`] naming the first non-finite key (`training.bump-value`,
/// `network.weight-init[1][0]`) and its value.
pub fn require_finite(config: &impl serde::Serialize) -> Result<(), ConfigError> {
    non_finite(config).map_or(Ok(()), |m| Err(ConfigError::Invalid(m)))
}

/// [`require_finite`]'s message, if a number is not finite (for callers that prefix it).
pub fn non_finite(config: &impl serde::Serialize) -> Option<String> {
    let value = match toml::Value::try_from(config) {
        Ok(v) => v,
        Err(e) => return Some(format!("cannot inspect the configuration: {e}")),
    };
    first_non_finite(&value, "")
        .map(|(key, x)| format!("{key} = {x}: every number in a configuration must be finite"))
}

/// The key path and value of the first non-finite float in `value` (tables in key order).
fn first_non_finite(value: &toml::Value, key: &str) -> Option<(String, f64)> {
    match value {
        toml::Value::Float(x) if !x.is_finite() => Some((key.to_string(), *x)),
        toml::Value::Table(t) => t.iter().find_map(|(k, v)| {
            let path = if key.is_empty() { k.clone() } else { format!("{key}.{k}") };
            first_non_finite(v, &path)
        }),
        toml::Value::Array(a) => {
            a.iter().enumerate().find_map(|(i, v)| first_non_finite(v, &format!("{key}[{i}]")))
        }
        _ => None,
    }
}

/// `0 ≤ x < 1` (false for NaN), for keys such as Adam's β.
pub fn in_unit_interval(x: f64) -> bool {
    (0.0..1.0).contains(&x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Inner {
        rate: f64,
        pairs: Vec<[f64; 2]>,
        maybe: Option<f64>,
    }

    #[derive(serde::Serialize)]
    struct Outer {
        name: String,
        inner: Inner,
    }

    fn outer(rate: f64, pair: f64, maybe: Option<f64>) -> Outer {
        Outer {
            name: "x".into(),
            inner: Inner { rate, pairs: vec![[1.0, 2.0], [3.0, pair]], maybe },
        }
    }

    /// The error names the nested key (arrays by index) and the value; finite configs pass.
    #[test]
    fn non_finite_numbers_are_named_by_key() {
        assert!(require_finite(&outer(1.0, 2.0, Some(3.0))).is_ok());
        assert!(require_finite(&outer(1.0, 2.0, None)).is_ok());
        let e = require_finite(&outer(f64::NAN, 2.0, None)).unwrap_err().to_string();
        assert!(e.contains("inner.rate = NaN"), "{e}");
        let e = require_finite(&outer(1.0, f64::INFINITY, None)).unwrap_err().to_string();
        assert!(e.contains("inner.pairs[1][1] = inf"), "{e}");
        let e = require_finite(&outer(1.0, 2.0, Some(f64::NEG_INFINITY))).unwrap_err().to_string();
        assert!(e.contains("inner.maybe = -inf"), "{e}");
    }
}
