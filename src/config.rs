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
