// This crate's tests, doc tests, examples and benches find libtorch with no LD_LIBRARY_PATH, and
// the crates that depend on this one get the libtorch folder (see tokengym-build).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    tokengym_build::link_libtorch();
}
