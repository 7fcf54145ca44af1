// The agents' tests, doc tests, examples and benches find libtorch with no LD_LIBRARY_PATH, and
// the crates that depend on this one get the libtorch folder (see tokengym-build); only with
// the `tch` feature (without it nothing links libtorch).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_TCH").is_some() {
        tokengym_build::link_libtorch();
    }
}
