//! Picking the Burn backend at run time: `--device flex|ndarray|wgpu|vulkan`.
//!
//! Each backend is behind its Cargo feature; naming one that was not compiled in is an error
//! that says which feature to enable.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

/// A compute device choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceChoice {
    /// Burn's pure-Rust CPU backend (feature `flex`, the default).
    #[default]
    Flex,
    /// The ndarray CPU backend (feature `ndarray`; deprecated upstream).
    Ndarray,
    /// A GPU through wgpu, graphics API chosen at run time (feature `wgpu`).
    Wgpu,
    /// A GPU through wgpu pinned to Vulkan (feature `vulkan`).
    Vulkan,
}

/// Errors when selecting a device.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeviceError {
    /// The backend's Cargo feature was not enabled at build time.
    #[error("device '{name}' is not compiled into this build: rebuild with `--features {name}`")]
    NotCompiled {
        /// The device name, which is also the feature name.
        name: &'static str,
    },
    /// The name is not a known device.
    #[error("unknown device '{0}': expected one of flex, ndarray, wgpu, vulkan")]
    Unknown(String),
}

impl DeviceChoice {
    /// The name used on the command line and in configs.
    pub fn name(self) -> &'static str {
        match self {
            DeviceChoice::Flex => "flex",
            DeviceChoice::Ndarray => "ndarray",
            DeviceChoice::Wgpu => "wgpu",
            DeviceChoice::Vulkan => "vulkan",
        }
    }

    /// Parse a device name (as in `BURN_DEVICE`).
    ///
    /// # Errors
    /// [`DeviceError::Unknown`] for any other name.
    pub fn parse(name: &str) -> Result<Self, DeviceError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "flex" => Ok(DeviceChoice::Flex),
            "ndarray" => Ok(DeviceChoice::Ndarray),
            "wgpu" => Ok(DeviceChoice::Wgpu),
            "vulkan" => Ok(DeviceChoice::Vulkan),
            other => Err(DeviceError::Unknown(other.to_string())),
        }
    }

    /// The device to use when none is named: `BURN_DEVICE` if set, else flex.
    ///
    /// # Errors
    /// If `BURN_DEVICE` names an unknown device.
    pub fn from_env() -> Result<Self, DeviceError> {
        match std::env::var("BURN_DEVICE") {
            Ok(v) if !v.trim().is_empty() => Self::parse(&v),
            _ => Ok(DeviceChoice::Flex),
        }
    }

    /// The Burn device (without autodiff; spikeburn's exact layers compute their own gradients).
    ///
    /// # Errors
    /// [`DeviceError::NotCompiled`] if the backend's feature is off.
    pub fn device(self) -> Result<Device, DeviceError> {
        match self {
            #[cfg(feature = "flex")]
            DeviceChoice::Flex => Ok(Device::flex()),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            DeviceChoice::Ndarray => Ok(Device::ndarray()),
            #[cfg(feature = "wgpu")]
            DeviceChoice::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
            #[cfg(feature = "vulkan")]
            DeviceChoice::Vulkan => Ok(Device::vulkan(burn::tensor::DeviceKind::DefaultDevice)),
            #[allow(unreachable_patterns)]
            other => Err(DeviceError::NotCompiled { name: other.name() }),
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether tensors on `device` live in host memory (the flex or ndarray backend), where the
/// dedicated CPU kernels apply.
pub fn is_host_cpu(device: &Device) -> bool {
    #[cfg(feature = "flex")]
    if *device == Device::flex() {
        return true;
    }
    #[cfg(feature = "ndarray")]
    #[allow(deprecated)]
    if *device == Device::ndarray() {
        return true;
    }
    let _ = device;
    false
}
