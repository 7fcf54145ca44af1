// The experiments' binaries link tch through tokengym-agents: same rpath and CUDA linking.
include!("../agents/build.rs");
