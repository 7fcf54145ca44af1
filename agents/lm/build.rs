// libtorch rpath and CUDA linking for this crate's tests, doc tests, examples and benches
// (see ../build_libtorch.rs).
include!("../build_libtorch.rs");

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../build_libtorch.rs");
    link_libtorch(CudaLink::AllTargets);
}
