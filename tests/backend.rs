//! The backend the tests run on is the one `BURN_DEVICE` names (flex when unset): CI's second
//! pass sets `BURN_DEVICE=ndarray` with the `ndarray` feature, and this test makes sure that pass
//! really computes on ndarray rather than silently on the default backend.

use burn::tensor::Device;

#[test]
fn tests_run_on_the_backend_burn_device_names() {
    let name = std::env::var("BURN_DEVICE").unwrap_or_default().to_lowercase();
    let name = if name.is_empty() { "flex".to_string() } else { name };
    let device = format!("{:?}", Device::default()).to_lowercase();
    println!("BURN_DEVICE {name}: {device}");
    assert!(device.contains(&name), "BURN_DEVICE={name} but the default device is {device}");
}
