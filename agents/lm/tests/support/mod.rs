//! What the language-model integration tests share.

use std::sync::{Mutex, MutexGuard};

/// Serialises the tests of one test binary around libtorch's global RNG.
///
/// `tch::manual_seed` and every parameter initialisation (a GPT, a value head, a reward head)
/// use one process-wide generator, and the tests of a binary run on parallel threads: without
/// this lock, a test's "seeded" weights depend on what the other tests drew meanwhile, and a
/// learning test passes or fails by chance. Every test of a binary that touches the generator
/// holds the guard for its whole run (they take about a second together).
pub fn torch_rng_lock() -> MutexGuard<'static, ()> {
    static TORCH_RNG: Mutex<()> = Mutex::new(());
    // A test that failed while holding the lock leaves nothing half-done behind.
    TORCH_RNG
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
