// Link-time glue for libtorch, shared by every crate whose binaries or tests link tch
// (`experiments/build.rs` includes this file).
//
// - rpath: bakes torch-sys's libtorch folder (`DEP_TCH_LIBTORCH_LIB`, i.e. `$LIBTORCH/lib`) into
//   this package's tests, binaries, examples and benches, so they run without `LD_LIBRARY_PATH`.
//   libtorch's own rpath then finds the CUDA runtime of the PyPI wheel (`../../nvidia/*/lib`).
// - CUDA: links `libtorch_cuda.so` with `--no-as-needed` when the libtorch has it; otherwise the
//   linker drops it (nothing references it directly), CUDA is never registered and tch silently
//   runs on the CPU even on a GPU machine (tch-rs issue #980).
// - exports `TOKENGYM_LIBTORCH_LIB` to the crate's code (tests check the CUDA library is loaded).

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Some(lib) = std::env::var_os("DEP_TCH_LIBTORCH_LIB") else {
        // torch-sys always sets it on Linux and macOS; elsewhere rely on the system's search path.
        println!("cargo:rustc-env=TOKENGYM_LIBTORCH_LIB=");
        return;
    };
    let lib = Path::new(&lib);
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os == "macos" {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
    if target_os == "linux" && lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
    println!("cargo:rustc-env=TOKENGYM_LIBTORCH_LIB={}", lib.display());
}
