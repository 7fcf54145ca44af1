//! Choosing the device (`--device auto|cpu|cuda`) and checking that CUDA is really there.
//!
//! tch links `libtorch_cuda.so` only if the linker keeps it; with as-needed linking it is silently
//! dropped, CUDA is never registered and everything runs on the CPU (tch-rs issue #980). This
//! workspace's build scripts link it with `--no-as-needed`; [`cuda_linked`] checks that it is
//! actually loaded in this process, so `cuda` can fail loudly instead of falling back.

use std::fmt;
use std::str::FromStr;

#[cfg(feature = "tch")]
use tch::{Cuda, Device};

use crate::error::{Error, Result};

/// The device a user asks for.
///
/// ```
/// use tokengym_agents::nn::DeviceChoice;
///
/// assert_eq!("cpu".parse::<DeviceChoice>()?, DeviceChoice::Cpu);
/// assert_eq!(DeviceChoice::Cuda.to_string(), "cuda");
/// assert!("tpu".parse::<DeviceChoice>().is_err());
/// # Ok::<(), tokengym_agents::error::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// CUDA device 0 when CUDA is usable, otherwise the CPU.
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// CUDA device 0; an error when CUDA is not usable.
    Cuda,
}

impl FromStr for DeviceChoice {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda),
            other => Err(Error::InvalidArgument(format!(
                "unknown device {other:?}: expected one of auto, cpu, cuda"
            ))),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
        })
    }
}

#[cfg(feature = "tch")]
impl DeviceChoice {
    /// The `tch::Device` to use; `Cuda` fails when CUDA is not usable (no GPU, no driver, or
    /// `libtorch_cuda.so` not linked) rather than silently running on the CPU (only with the
    /// `tch` feature).
    ///
    /// ```
    /// use tokengym_agents::nn::DeviceChoice;
    /// assert_eq!(DeviceChoice::Cpu.resolve()?, tch::Device::Cpu);
    /// # Ok::<(), tokengym_agents::error::Error>(())
    /// ```
    pub fn resolve(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::Cpu),
            Self::Auto => Ok(if Cuda::is_available() {
                Device::Cuda(0)
            } else {
                Device::Cpu
            }),
            Self::Cuda => {
                if Cuda::is_available() {
                    Ok(Device::Cuda(0))
                } else if !cuda_linked() {
                    Err(Error::CudaUnavailable(
                        "libtorch_cuda.so is not loaded in this binary (linked with as-needed?); \
                         build through this workspace so its build script links it"
                            .to_owned(),
                    ))
                } else {
                    Err(Error::CudaUnavailable(
                        "libtorch_cuda.so is loaded but torch sees no CUDA device \
                         (no GPU or no NVIDIA driver)"
                            .to_owned(),
                    ))
                }
            }
        }
    }
}

/// Whether `libtorch_cuda.so` is loaded into this process (so CUDA can be registered).
///
/// Reads `/proc/self/maps`; on systems without it, falls back to whether torch sees a CUDA device.
#[cfg(feature = "tch")]
pub fn cuda_linked() -> bool {
    match std::fs::read_to_string("/proc/self/maps") {
        Ok(maps) => maps.lines().any(|l| l.contains("libtorch_cuda.so")),
        Err(_) => Cuda::is_available(),
    }
}

/// One line describing the device situation, for logs: the chosen device, whether the CUDA
/// library is linked and how many CUDA devices torch sees.
#[cfg(feature = "tch")]
pub fn describe_device(device: Device) -> String {
    format!(
        "device {device:?} (libtorch_cuda linked: {}, CUDA devices: {})",
        cuda_linked(),
        Cuda::device_count()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_choices_and_rejects_unknown() {
        assert_eq!(
            "auto".parse::<DeviceChoice>().ok(),
            Some(DeviceChoice::Auto)
        );
        assert_eq!("CPU".parse::<DeviceChoice>().ok(), Some(DeviceChoice::Cpu));
        assert_eq!(
            "cuda".parse::<DeviceChoice>().ok(),
            Some(DeviceChoice::Cuda)
        );
        let err = "tpu".parse::<DeviceChoice>().unwrap_err().to_string();
        assert!(err.contains("auto, cpu, cuda"), "{err}");
        for c in [DeviceChoice::Auto, DeviceChoice::Cpu, DeviceChoice::Cuda] {
            assert_eq!(c.to_string().parse::<DeviceChoice>().ok(), Some(c));
        }
    }

    #[cfg(feature = "tch")]
    #[test]
    fn cpu_always_resolves_and_auto_matches_availability() {
        assert_eq!(DeviceChoice::Cpu.resolve().ok(), Some(Device::Cpu));
        let auto = DeviceChoice::Auto.resolve().ok();
        let cuda = DeviceChoice::Cuda.resolve();
        if Cuda::is_available() {
            assert_eq!(auto, Some(Device::Cuda(0)));
            assert_eq!(cuda.ok(), Some(Device::Cuda(0)));
        } else {
            assert_eq!(auto, Some(Device::Cpu));
            assert!(matches!(cuda, Err(Error::CudaUnavailable(_))));
        }
    }

    /// The build script links libtorch_cuda.so with --no-as-needed; without it CUDA could never
    /// be registered on a GPU machine. Whenever the libtorch we build against is a CUDA build
    /// (the PyPI wheel is), the library must be loaded in the test binary.
    #[cfg(feature = "tch")]
    #[test]
    fn libtorch_cuda_is_linked_when_libtorch_has_it() {
        let lib = std::path::Path::new(env!("TOKENGYM_LIBTORCH_LIB"));
        let has_cuda = lib.join("libtorch_cuda.so").exists();
        let _ = Cuda::device_count();
        assert_eq!(
            cuda_linked(),
            has_cuda,
            "{} (libtorch at {})",
            describe_device(Device::Cpu),
            lib.display()
        );
    }
}
