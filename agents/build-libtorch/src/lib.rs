//! # tokengym-build
//!
//! Build-script glue for libtorch: call [`link_libtorch`] from the `build.rs` of any crate that
//! depends on `tokengym-agents` (with `tch`) or `tokengym-lm`, and the crate's binaries, tests,
//! examples and benches find libtorch at run time with no `LD_LIBRARY_PATH`:
//!
//! ```no_run
//! // The whole of build.rs: fn main() { tokengym_build::link_libtorch(); }
//! tokengym_build::link_libtorch();
//! ```
//!
//! The directives it prints, for a libtorch without CUDA on Linux:
//!
//! ```
//! use std::path::Path;
//! use tokengym_build::{CudaLink, directives};
//! let lib = Path::new("/opt/torch/lib");
//! let lines = directives(Some(lib), "linux", false, CudaLink::AllTargets, false);
//! assert_eq!(lines, [
//!     "cargo:rustc-link-arg=-Wl,-rpath,/opt/torch/lib",
//!     "cargo:rustc-env=TOKENGYM_LIBTORCH_LIB=/opt/torch/lib",
//! ]);
//! ```
//!
//! What it does, on Linux and macOS:
//! - **rpath**: the libtorch folder `tch` was built against (`$LIBTORCH/lib`, as torch-sys
//!   reports it) is baked into every link target of the crate, so `libtorch_cpu.so` is found at
//!   start-up; libtorch's own rpath then finds the CUDA runtime of a PyPI wheel.
//! - **CUDA**: `libtorch_cuda.so` is linked with `--no-as-needed` when the libtorch has it.
//!   Nothing references it directly, so without this the linker drops it, CUDA is never
//!   registered and tch runs on the CPU even on a GPU machine (tch-rs issue #980). Loading it
//!   costs about 0.4 s and 400 MB at start-up: [`link_libtorch_with`] limits it to some
//!   binaries.
//! - the folder is also given to the crate's code as the compile-time variable
//!   `TOKENGYM_LIBTORCH_LIB` (empty when unknown).
//!
//! Where the folder comes from: cargo passes a dependency's build metadata only to the build
//! scripts of the crates that depend on it directly. torch-sys reports it as
//! `DEP_TCH_LIBTORCH_LIB`; `tokengym-agents` and `tokengym-lm` pass it on to *their* direct
//! dependents (as `DEP_TOKENGYM_AGENTS_LIBTORCH_LIB` and `DEP_TOKENGYM_LM_LIBTORCH_LIB`, through
//! their `links` keys), so a crate that depends on either needs nothing else. A crate with a
//! `links` key of its own passes the folder on in turn.

#![warn(missing_docs)]

use std::path::{Path, PathBuf};

/// The build-script variables, most direct first, that may hold the libtorch `lib/` folder.
pub const LIBTORCH_LIB_VARS: [&str; 3] = [
    "DEP_TCH_LIBTORCH_LIB",
    "DEP_TOKENGYM_LM_LIBTORCH_LIB",
    "DEP_TOKENGYM_AGENTS_LIBTORCH_LIB",
];

/// Which of the crate's link targets get `libtorch_cuda.so` forced in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CudaLink<'a> {
    /// Tests, binaries, examples and benches alike.
    AllTargets,
    /// Only these binaries (each must exist: cargo rejects unknown names).
    Bins(&'a [&'a str]),
    /// None: every target runs tch on the CPU only.
    None,
}

/// [`link_libtorch_with`] with CUDA for every target.
pub fn link_libtorch() {
    link_libtorch_with(CudaLink::AllTargets);
}

/// Prints the cargo directives that let the crate's targets find libtorch (see the crate
/// docs), with `libtorch_cuda.so` forced into the targets `cuda` names. Without a libtorch
/// folder in any of [`LIBTORCH_LIB_VARS`] it prints a cargo warning saying what to depend on.
pub fn link_libtorch_with(cuda: CudaLink<'_>) {
    for var in LIBTORCH_LIB_VARS {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let lib = find_lib_dir(|var| std::env::var_os(var).map(PathBuf::from));
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let has_cuda = lib
        .as_deref()
        .is_some_and(|l| l.join("libtorch_cuda.so").exists());
    let links = std::env::var_os("CARGO_MANIFEST_LINKS").is_some();
    for line in directives(lib.as_deref(), &target_os, has_cuda, cuda, links) {
        println!("{line}");
    }
}

/// The libtorch folder from the first of [`LIBTORCH_LIB_VARS`] that `get` finds non-empty.
pub fn find_lib_dir(get: impl Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    LIBTORCH_LIB_VARS
        .iter()
        .find_map(|var| get(var).filter(|p| !p.as_os_str().is_empty()))
}

/// The cargo directives for the libtorch folder `lib` on `target_os` (`has_cuda`: the folder
/// has `libtorch_cuda.so`; `links`: the crate has a `links` key and passes the folder on).
pub fn directives(
    lib: Option<&Path>,
    target_os: &str,
    has_cuda: bool,
    cuda: CudaLink<'_>,
    links: bool,
) -> Vec<String> {
    let Some(lib) = lib else {
        return vec![
            "cargo:warning=tokengym-build: no libtorch folder in DEP_TCH_LIBTORCH_LIB, \
             DEP_TOKENGYM_LM_LIBTORCH_LIB or DEP_TOKENGYM_AGENTS_LIBTORCH_LIB; depend directly \
             on tokengym-agents (with its tch feature) or tokengym-lm, or set LD_LIBRARY_PATH"
                .to_owned(),
            "cargo:rustc-env=TOKENGYM_LIBTORCH_LIB=".to_owned(),
        ];
    };
    let lib = lib.display();
    let mut out = Vec::new();
    if target_os == "linux" || target_os == "macos" {
        out.push(format!("cargo:rustc-link-arg=-Wl,-rpath,{lib}"));
    }
    if target_os == "linux" && has_cuda {
        let args = ["-Wl,--no-as-needed", "-ltorch_cuda", "-Wl,--as-needed"];
        match cuda {
            CudaLink::AllTargets => {
                out.extend(args.iter().map(|a| format!("cargo:rustc-link-arg={a}")));
            }
            CudaLink::Bins(bins) => {
                for bin in bins {
                    out.extend(
                        args.iter()
                            .map(|a| format!("cargo:rustc-link-arg-bin={bin}={a}")),
                    );
                }
            }
            CudaLink::None => {}
        }
    }
    out.push(format!("cargo:rustc-env=TOKENGYM_LIBTORCH_LIB={lib}"));
    if links {
        out.push(format!("cargo:libtorch_lib={lib}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_direct_variable_wins_and_empty_ones_are_skipped() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |var: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == var)
                    .map(|(_, v)| PathBuf::from(v))
            }
        };
        assert_eq!(find_lib_dir(env(&[])), None);
        assert_eq!(
            find_lib_dir(env(&[
                ("DEP_TOKENGYM_AGENTS_LIBTORCH_LIB", "/a"),
                ("DEP_TCH_LIBTORCH_LIB", "/t")
            ])),
            Some(PathBuf::from("/t"))
        );
        assert_eq!(
            find_lib_dir(env(&[
                ("DEP_TCH_LIBTORCH_LIB", ""),
                ("DEP_TOKENGYM_AGENTS_LIBTORCH_LIB", "/a")
            ])),
            Some(PathBuf::from("/a"))
        );
    }

    #[test]
    fn linux_gets_the_rpath_and_cuda_where_asked() {
        let lib = Path::new("/opt/torch/lib");
        let all = directives(Some(lib), "linux", true, CudaLink::AllTargets, true);
        assert_eq!(
            all,
            [
                "cargo:rustc-link-arg=-Wl,-rpath,/opt/torch/lib",
                "cargo:rustc-link-arg=-Wl,--no-as-needed",
                "cargo:rustc-link-arg=-ltorch_cuda",
                "cargo:rustc-link-arg=-Wl,--as-needed",
                "cargo:rustc-env=TOKENGYM_LIBTORCH_LIB=/opt/torch/lib",
                "cargo:libtorch_lib=/opt/torch/lib",
            ]
        );
        let bins = directives(Some(lib), "linux", true, CudaLink::Bins(&["train"]), false);
        assert!(bins.contains(&"cargo:rustc-link-arg-bin=train=-ltorch_cuda".to_owned()));
        assert!(
            !bins
                .iter()
                .any(|l| l == "cargo:rustc-link-arg=-ltorch_cuda")
        );
        assert!(!bins.iter().any(|l| l.starts_with("cargo:libtorch_lib")));
        let cpu = directives(Some(lib), "linux", false, CudaLink::AllTargets, false);
        assert_eq!(cpu.len(), 2, "no CUDA library, no CUDA link: {cpu:?}");
        let none = directives(Some(lib), "linux", true, CudaLink::None, false);
        assert!(!none.iter().any(|l| l.contains("torch_cuda")));
    }

    #[test]
    fn other_systems_and_a_missing_folder() {
        let win = directives(
            Some(Path::new("C:/t")),
            "windows",
            true,
            CudaLink::AllTargets,
            false,
        );
        assert_eq!(win, ["cargo:rustc-env=TOKENGYM_LIBTORCH_LIB=C:/t"]);
        let missing = directives(None, "linux", false, CudaLink::AllTargets, true);
        assert!(missing[0].starts_with("cargo:warning=") && missing[0].contains("tokengym-agents"));
        assert_eq!(missing[1], "cargo:rustc-env=TOKENGYM_LIBTORCH_LIB=");
    }
}
