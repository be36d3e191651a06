//! Files in and out: Burn checkpoints (burnpack), the reference code's safetensors weights, and
//! `.npy` arrays of output spike times, PNG images, charts (SVG and PNG), NIR graphs, and run
//! folders.

pub mod image;
pub mod nir;
pub mod npy;
pub mod plot;
pub mod run_dir;
pub mod weights;

pub use run_dir::{Existing, RunDir, files, sanitise_name, write_atomic};

use std::path::{Path, PathBuf};

/// Errors reading or writing model and output files. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// An operating-system IO error.
    #[error("{path}: {source}")]
    Os {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file exists but its contents are not what was expected.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
}

impl IoError {
    pub(crate) fn os(path: &Path, source: std::io::Error) -> Self {
        IoError::Os { path: path.to_path_buf(), source }
    }

    pub(crate) fn format(path: &Path, message: impl Into<String>) -> Self {
        IoError::Format { path: path.to_path_buf(), message: message.into() }
    }
}
