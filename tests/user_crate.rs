//! A crate outside the workspace, as a user writes one (`tests/user_crate/`: tokengym's crates as
//! path dependencies and the one-line `build.rs` of tokengym-build), builds and its binary runs
//! with no `LD_LIBRARY_PATH`: it trains PPO with the libtorch backend on its own environment.
//!
//! The crate gets its own target folder (under cargo's `CARGO_TARGET_TMPDIR`), so the first run
//! compiles its dependencies once (a few minutes on 2 cores); later runs reuse them.

use std::path::Path;
use std::process::Command;

#[test]
fn a_user_crate_builds_and_runs_without_library_paths() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = root.join("tests/user_crate/Cargo.toml");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("user-crate");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let build = Command::new(cargo)
        .args(["build", "--quiet", "--locked", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("cargo runs");
    assert!(
        build.status.success(),
        "the user crate does not build:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let run = Command::new(target.join("debug/tokengym-user-crate"))
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("LIBTORCH")
        .output()
        .expect("the user crate's binary starts");
    let out = String::from_utf8_lossy(&run.stdout);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "the user crate's binary failed:\n{out}\n{err}"
    );
    assert!(out.contains("mean return 1"), "{out}");
}
