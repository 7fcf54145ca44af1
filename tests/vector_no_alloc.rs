//! Stepping a vector environment does not allocate (checked with a counting global allocator).
//!
//! This file holds a single test so that no other test allocates concurrently; the counter is
//! global, so allocations on the parallel environment's worker threads are counted too.

mod vector_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokengym::vector::{AutoresetMode, ParallelOptions, ParallelVecEnv, SyncVecEnv, VecEnv};
use vector_common::Counter;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

type DynVec = dyn VecEnv<ObsSpace = <Counter as tokengym::Env>::ObsSpace, ActSpace = tokengym::space::Discrete>;

/// Allocations made while running `f`.
fn allocations(f: impl FnOnce()) -> usize {
    ALLOCS.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    f();
    COUNTING.store(false, Ordering::SeqCst);
    ALLOCS.load(Ordering::SeqCst)
}

/// Warms `v` up, then counts the allocations of 1000 steps with varying actions (episodes end
/// and autoreset all the time: sub-env `i` ends every `i % 4 + 2` steps).
fn steps_allocate(v: &mut DynVec) -> usize {
    let n = v.num_envs();
    let actions: Vec<Vec<i64>> = (0..4)
        .map(|k| (0..n).map(|i| ((i + k) % 2) as i64).collect())
        .collect();
    v.reset(Some(0)).unwrap();
    for t in 0..100 {
        v.step(&actions[t % 4]).unwrap();
    }
    allocations(|| {
        for t in 0..1000 {
            let s = v.step(&actions[t % 4]).unwrap();
            assert!(s.rewards()[0] >= 0.0);
        }
    })
}

/// Counts the allocations of 1000 steps in Disabled mode, resetting ended sub-envs by mask.
fn masked_loop_allocates(v: &mut DynVec) -> usize {
    let n = v.num_envs();
    let actions = vec![0; n];
    let mut mask = vec![false; n];
    v.reset(Some(0)).unwrap();
    allocations(|| {
        for _ in 0..1000 {
            let s = v.step(&actions).unwrap();
            let mut any = false;
            for (i, m) in mask.iter_mut().enumerate() {
                *m = s.done(i);
                any |= *m;
            }
            if any {
                v.reset_masked(None, &mask).unwrap();
            }
        }
    })
}

#[test]
fn vector_steps_do_not_allocate() {
    let make = |i: usize| Ok(Counter::quiet(i as u32 % 4 + 2));
    for mode in [
        AutoresetMode::NextStep,
        AutoresetMode::SameStep,
        AutoresetMode::Disabled,
    ] {
        let count = |v: &mut DynVec| {
            if mode == AutoresetMode::Disabled {
                masked_loop_allocates(v)
            } else {
                steps_allocate(v)
            }
        };
        let mut s = SyncVecEnv::from_fn(8, make)
            .unwrap()
            .with_autoreset_mode(mode);
        assert_eq!(count(&mut s), 0, "SyncVecEnv, {mode}");
        for threads in [2, 3] {
            let opts = ParallelOptions::default()
                .num_threads(threads)
                .autoreset_mode(mode);
            let mut p = ParallelVecEnv::from_fn(8, make, opts).unwrap();
            assert_eq!(
                count(&mut p),
                0,
                "ParallelVecEnv, {mode}, {threads} threads"
            );
        }
    }
    // The counter works: an allocation is seen.
    assert!(allocations(|| drop(std::hint::black_box(vec![1u8; 16]))) >= 1);
}
