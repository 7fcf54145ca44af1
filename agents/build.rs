// libtorch rpath and CUDA linking for the agents' tests, doc tests, examples and benches
// (see build_libtorch.rs); only with the `tch` feature (without it nothing links libtorch).
include!("build_libtorch.rs");

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build_libtorch.rs");
    if std::env::var_os("CARGO_FEATURE_TCH").is_some() {
        link_libtorch(CudaLink::AllTargets);
    }
}
