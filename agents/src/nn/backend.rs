//! Choosing and building a [`PolicyValueNet`] backend from the configuration.

use crate::error::{Error, Result};
use crate::nn::device::DeviceChoice;
use crate::nn::native::NativeActorCritic;
use crate::nn::net::{NetSpec, PolicyValueNet};
use crate::nn::net_config::Backend;
#[cfg(feature = "tch")]
use crate::nn::tch_net::TchActorCritic;

/// Builds the network of shape `spec` on the chosen backend and device, seeded with `seed`.
///
/// [`Backend::Auto`] resolves the device first and takes the native backend on the CPU and tch
/// on CUDA; [`Backend::Native`] runs on the CPU (the device choice `cuda` is an error,
/// `auto` means the CPU); [`Backend::Tch`] runs tch on the resolved device. Built without the
/// `tch` feature, `auto` is always the CPU and the native backend, and `Backend::Tch` or the
/// device `cuda` is an error.
///
/// ```
/// use tokengym_agents::nn::Backend;
/// use tokengym_agents::nn::{build_net, ActionHead, Activation, AdamConfig, DeviceChoice,
///     NetSpec, Trunk};
///
/// let spec = NetSpec {
///     obs_dim: 4,
///     head: ActionHead::Categorical { n: 2 },
///     hidden: vec![8],
///     activation: Activation::Tanh,
///     trunk: Trunk::Separate,
///     log_std_init: 0.0,
///     adam: AdamConfig::default(),
/// };
/// let mut net = build_net(&spec, Backend::Native, DeviceChoice::Cpu, 7)?;
/// let (mut logits, mut values) = ([0.0f32; 4], [0.0f32; 2]);
/// net.infer(&[0.0, 0.1, 0.2, 0.3, 1.0, 0.0, -1.0, 0.5], &mut logits, &mut values)?;
/// assert!(logits.iter().chain(&values).all(|x| x.is_finite()));
/// assert!(build_net(&spec, Backend::Native, DeviceChoice::Cuda, 7).is_err());
/// # Ok::<(), tokengym_agents::error::Error>(())
/// ```
pub fn build_net(
    spec: &NetSpec,
    backend: Backend,
    device: DeviceChoice,
    seed: u64,
) -> Result<Box<dyn PolicyValueNet>> {
    match backend {
        Backend::Native => {
            if device == DeviceChoice::Cuda {
                return Err(Error::InvalidArgument(
                    "the native backend runs on the CPU only; use --device cpu or the tch \
                     backend for CUDA"
                        .to_owned(),
                ));
            }
            Ok(Box::new(NativeActorCritic::new(spec, seed)?))
        }
        #[cfg(feature = "tch")]
        Backend::Tch => Ok(Box::new(TchActorCritic::new(
            spec,
            device.resolve()?,
            seed,
        )?)),
        #[cfg(feature = "tch")]
        Backend::Auto => match device.resolve()? {
            tch::Device::Cpu => Ok(Box::new(NativeActorCritic::new(spec, seed)?)),
            d => Ok(Box::new(TchActorCritic::new(spec, d, seed)?)),
        },
        #[cfg(not(feature = "tch"))]
        Backend::Tch => Err(without_tch("the tch backend")),
        #[cfg(not(feature = "tch"))]
        Backend::Auto => match device {
            DeviceChoice::Cuda => Err(without_tch("CUDA")),
            DeviceChoice::Auto | DeviceChoice::Cpu => {
                Ok(Box::new(NativeActorCritic::new(spec, seed)?))
            }
        },
    }
}

/// The error for what needs libtorch in a build without the `tch` feature.
#[cfg(not(feature = "tch"))]
fn without_tch(what: &str) -> Error {
    Error::CudaUnavailable(format!(
        "{what} needs libtorch: tokengym-agents was built without its `tch` feature (only the \
         native CPU backend is available)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::architecture::{Activation, Trunk};
    use crate::nn::net::{ActionHead, AdamConfig};

    #[cfg(feature = "tch")]
    #[test]
    fn backends_resolve_as_documented() {
        let spec = NetSpec {
            obs_dim: 3,
            head: ActionHead::Gaussian { dim: 2 },
            hidden: vec![4],
            activation: Activation::Relu,
            trunk: Trunk::Shared,
            log_std_init: -0.5,
            adam: AdamConfig::default(),
        };
        let err = build_net(&spec, Backend::Native, DeviceChoice::Cuda, 0)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("CPU only"), "{err}");
        for backend in [Backend::Native, Backend::Tch, Backend::Auto] {
            let net = build_net(&spec, backend, DeviceChoice::Cpu, 0).unwrap();
            assert_eq!(net.log_std(), vec![-0.5, -0.5]);
            assert_eq!(net.parameters().unwrap().len(), 7);
        }
        // The native backend's optimiser state is non-empty, tch's is empty: Auto on the CPU
        // is native.
        let auto = build_net(&spec, Backend::Auto, DeviceChoice::Cpu, 0).unwrap();
        assert!(!auto.optimizer_state().unwrap().is_empty());
        let tch = build_net(&spec, Backend::Tch, DeviceChoice::Cpu, 0).unwrap();
        assert!(tch.optimizer_state().unwrap().is_empty());
        let mut bad = spec.clone();
        bad.obs_dim = 0;
        assert!(build_net(&bad, Backend::Native, DeviceChoice::Cpu, 0).is_err());
    }

    #[cfg(not(feature = "tch"))]
    #[test]
    fn without_tch_only_the_native_backend_builds() {
        let spec = NetSpec {
            obs_dim: 3,
            head: ActionHead::Categorical { n: 2 },
            hidden: vec![4],
            activation: Activation::Tanh,
            trunk: Trunk::Separate,
            log_std_init: 0.0,
            adam: AdamConfig::default(),
        };
        for device in [DeviceChoice::Auto, DeviceChoice::Cpu] {
            let net = build_net(&spec, Backend::Auto, device, 0).unwrap();
            assert!(!net.optimizer_state().unwrap().is_empty(), "native");
        }
        for (backend, device) in [
            (Backend::Tch, DeviceChoice::Cpu),
            (Backend::Auto, DeviceChoice::Cuda),
        ] {
            let err = build_net(&spec, backend, device, 0)
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains("`tch` feature"), "{err}");
        }
    }
}
