//! Collecting a PPO rollout does not allocate once the buffers are warm: acting (native
//! network, sampling), stepping the vector environment, episode bookkeeping, normalisation and
//! the final-observation values of truncated episodes. (Its own test binary: the counting
//! allocator is global.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use tokengym::vector::AutoresetMode;
use tokengym_agents::common::RewardNormalizer;
use tokengym_agents::common::rollout::{RolloutBuffer, VecRunner};
use tokengym_agents::nn::DeviceChoice;
use tokengym_agents::ppo::{Ppo, PpoConfig};

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|a| a.set(a.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|a| a.set(a.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn collecting_a_rollout_does_not_allocate() {
    let config = PpoConfig {
        num_envs: 4,
        n_steps: 256,
        batch_size: 64,
        normalize_obs: true,
        normalize_reward: true,
        ..PpoConfig::default()
    };
    // Pendulum: a Gaussian policy, and every episode is truncated at 200 steps, so the
    // final-observation values are computed inside the measured rollouts.
    let make = tokengym::MakeOptions::default();
    let mut ppo = Ppo::new("Pendulum-v1", &make, config, 0, DeviceChoice::Cpu).unwrap();
    let envs = tokengym_envs::make_vec("Pendulum-v1", 4, &make)
        .unwrap()
        .with_autoreset_mode(AutoresetMode::SameStep);
    let actor = ppo.actor();
    let norm = RewardNormalizer::new(4, 0.99, 10.0);
    let mut runner = VecRunner::new(envs, actor, Some(norm), Some(0), true).unwrap();
    let mut buf = RolloutBuffer::new(4, 256, 3, 1);
    let mut rng = tokengym::seeding::rng_from_seed(Some(1));
    // Warm-up: buffers grow to their largest size.
    for _ in 0..2 {
        assert!(
            runner
                .collect(actor, &mut buf, &mut rng, &mut ())
                .unwrap()
                .is_continue()
        );
    }
    let before = ALLOCS.with(Cell::get);
    for _ in 0..2 {
        assert!(
            runner
                .collect(actor, &mut buf, &mut rng, &mut ())
                .unwrap()
                .is_continue()
        );
    }
    let allocations = ALLOCS.with(Cell::get) - before;
    assert!(
        buf.truncated.iter().any(|&t| t),
        "no truncation was exercised"
    );
    assert_eq!(
        allocations, 0,
        "2 x 1024 steps allocated {allocations} times"
    );
}
