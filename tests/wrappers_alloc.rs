//! The wrappers that forward the flat methods add no allocation to `step_flat`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokengym::space::{BoxSpace, Space};
use tokengym::wrappers::WrapperExt;
use tokengym::{Env, Info, Result, Step};

/// Counts allocations made by the thread that switched counting on.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn note() {
    if COUNTING.with(|c| c.get()) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Fixed-size observations and actions; terminates every 7 steps.
struct Drift {
    t: u32,
    x: [f32; 3],
    obs_space: BoxSpace<f32, [f32; 3]>,
    act_space: BoxSpace<f32, [f32; 2]>,
}

impl Env for Drift {
    type ObsSpace = BoxSpace<f32, [f32; 3]>;
    type ActSpace = BoxSpace<f32, [f32; 2]>;
    fn observation_space(&self) -> &Self::ObsSpace {
        &self.obs_space
    }
    fn action_space(&self) -> &Self::ActSpace {
        &self.act_space
    }
    fn reset(&mut self, _seed: Option<u64>) -> Result<([f32; 3], Info)> {
        self.t = 0;
        self.x = [0.0, 1.0, -1.0];
        Ok((self.x, Info::new()))
    }
    fn step(&mut self, action: &[f32; 2]) -> Result<Step<[f32; 3]>> {
        self.act_space.check_action(action)?;
        self.t += 1;
        self.x = [
            self.x[0] + action[0],
            self.x[1] * 0.5 + action[1],
            self.t as f32,
        ];
        Ok(Step::new(
            self.x,
            action[0] as f64,
            self.t.is_multiple_of(7),
            false,
        ))
    }
}

#[test]
fn a_deep_wrapper_stack_does_not_allocate_per_step() {
    let env = Drift {
        t: 0,
        x: [0.0; 3],
        obs_space: BoxSpace::uniform(-1e6, 1e6, vec![3]).unwrap(),
        act_space: BoxSpace::uniform(-1.0, 1.0, vec![2]).unwrap(),
    };
    let mut env = env
        .rescale_action(0.0, 10.0)
        .unwrap()
        .clip_action()
        .unwrap()
        .normalize_observation()
        .unwrap()
        .frame_stack(4)
        .unwrap()
        .normalize_reward(0.99)
        .unwrap()
        .transform_reward(|r| r.clamp(-10.0, 10.0))
        .record_episode_statistics()
        .autoreset()
        .time_limit(50)
        .unwrap()
        .order_enforcing()
        .passive_env_checker();
    let mut obs = vec![0.0f32; env.observation_space().flatdim()];
    let actions = [[3.0f32, 12.0], [-5.0, 4.0], [7.5, 0.0]];
    // Warm up: first checks, first episode end.
    env.reset_flat(Some(1), &mut obs).unwrap();
    for a in actions.iter().cycle().take(20) {
        env.step_flat(a, &mut obs).unwrap();
    }
    ALLOCATIONS.store(0, Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    let mut episodes = 0;
    for a in actions.iter().cycle().take(1000) {
        let t = env.step_flat(a, &mut obs).unwrap();
        episodes += t.info.episode().is_some() as u32;
    }
    env.reset_flat(None, &mut obs).unwrap();
    COUNTING.with(|c| c.set(false));
    // Steps allocate nothing; the one allocation per finished episode is the `Info` that carries
    // RecordEpisodeStatistics' report.
    assert_eq!(ALLOCATIONS.load(Ordering::Relaxed), episodes as usize);
    assert!(episodes > 100, "{episodes} episodes");
    assert!(obs.iter().all(|x| x.is_finite()));
}
