// Link-time glue for libtorch, shared by the build scripts of every crate whose binaries or tests
// link tch (`agents/build.rs` and `experiments/build.rs` `include!` this file).
//
// - rpath: bakes torch-sys's libtorch folder (`DEP_TCH_LIBTORCH_LIB`, i.e. `$LIBTORCH/lib`; the
//   crate must depend on `torch-sys` directly to see it) into the package's tests, binaries,
//   examples and benches, so they run without `LD_LIBRARY_PATH`. libtorch's own rpath then finds
//   the CUDA runtime of the PyPI wheel (`$ORIGIN/../../nvidia/*/lib`).
// - CUDA: links `libtorch_cuda.so` with `--no-as-needed` when the libtorch has it; otherwise the
//   linker drops it (nothing references it directly), CUDA is never registered and tch silently
//   runs on the CPU even on a GPU machine (tch-rs issue #980). Loading it costs ~0.4 s and ~400 MB
//   at start-up, so binaries that do not use tch should not get it: see [`CudaLink`].
// - exports `TOKENGYM_LIBTORCH_LIB` (the folder, or empty) to the crate's code.

use std::path::Path;

/// Which of the package's link targets get `libtorch_cuda.so` forced in.
#[allow(dead_code)] // each build script uses one variant
enum CudaLink<'a> {
    /// Tests, binaries, examples and benches alike.
    AllTargets,
    /// Only these binaries (each must exist: cargo rejects unknown names).
    Bins(&'a [&'a str]),
}

fn link_libtorch(cuda: CudaLink<'_>) {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Some(lib) = std::env::var_os("DEP_TCH_LIBTORCH_LIB") else {
        // torch-sys sets it on Linux and macOS; elsewhere rely on the system's search path.
        println!("cargo:rustc-env=TOKENGYM_LIBTORCH_LIB=");
        return;
    };
    let lib = Path::new(&lib);
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os == "macos" {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
    if target_os == "linux" && lib.join("libtorch_cuda.so").exists() {
        let args = ["-Wl,--no-as-needed", "-ltorch_cuda", "-Wl,--as-needed"];
        match cuda {
            CudaLink::AllTargets => {
                for a in args {
                    println!("cargo:rustc-link-arg={a}");
                }
            }
            CudaLink::Bins(bins) => {
                for bin in bins {
                    for a in args {
                        println!("cargo:rustc-link-arg-bin={bin}={a}");
                    }
                }
            }
        }
    }
    println!("cargo:rustc-env=TOKENGYM_LIBTORCH_LIB={}", lib.display());
}
