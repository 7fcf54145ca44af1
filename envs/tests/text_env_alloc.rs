//! `TextGenEnv` steps do not allocate: `step_flat` not at all before the last step, `step` only
//! the returned observation. (Its own test binary: the counting allocator is global.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use tokengym::Env;
use tokengym::space::Space;
use tokengym_envs::text::{ByteTokenizer, LexiconReward, PromptSet, TextGenConfig, TextGenEnv};

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

fn allocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCS.with(Cell::get);
    let out = f();
    (out, ALLOCS.with(Cell::get) - before)
}

#[test]
fn steps_do_not_allocate() {
    let cfg = TextGenConfig {
        max_new_tokens: 16,
        ..TextGenConfig::default()
    };
    let mut env = TextGenEnv::new(
        Arc::new(ByteTokenizer::new()),
        PromptSet::sentiment(0, 20, 3).unwrap(),
        Arc::new(LexiconReward::default()),
        cfg,
    )
    .unwrap();
    let mut flat = vec![0.0f32; env.observation_space().flatdim()];
    env.reset_flat(Some(0), &mut flat).unwrap();
    for _ in 0..15 {
        let (t, n) = allocations(|| env.step_flat(&i64::from(b'a'), &mut flat));
        assert!(!t.unwrap().done());
        assert_eq!(n, 0, "step_flat allocated");
    }
    // The last step decodes the completion and fills the info: allowed to allocate.
    assert!(
        env.step_flat(&i64::from(b'a'), &mut flat)
            .unwrap()
            .truncated
    );

    env.reset(Some(1)).unwrap();
    for _ in 0..15 {
        let (s, n) = allocations(|| env.step(&i64::from(b'b')));
        assert!(!s.unwrap().done());
        assert_eq!(n, 1, "step should only allocate the returned observation");
    }
}
