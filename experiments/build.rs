// libtorch's rpath for every target of the experiments (see tokengym-build), and
// libtorch_cuda.so forced in only for the binaries that run networks: the others (rollout,
// bandit, gridworld) would pay ~0.4 s and ~400 MB at start-up for nothing.
// Add a binary here when it starts using tch, or `--device cuda` cannot find CUDA in it.

use tokengym_build::CudaLink;

const TCH_BINS: &[&str] = &["train", "eval", "pretrain-lm", "generate", "rl-lm"];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    tokengym_build::link_libtorch_with(CudaLink::Bins(TCH_BINS));
}
