// libtorch rpath for every target of the experiments (see ../agents/build_libtorch.rs), and
// libtorch_cuda.so forced in only for the binaries that run networks: the others (rollout,
// bandit, gridworld) would pay ~0.4 s and ~400 MB at start-up for nothing.
// Add a binary here when it starts using tch, or `--device cuda` cannot find CUDA in it.
include!("../agents/build_libtorch.rs");

const TCH_BINS: &[&str] = &["train", "eval", "pretrain-lm", "generate", "rl-lm"];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../agents/build_libtorch.rs");
    link_libtorch(CudaLink::Bins(TCH_BINS));
}
