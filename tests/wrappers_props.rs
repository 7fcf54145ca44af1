//! Property tests of the wrappers and of `RunningMeanStd`.

use proptest::prelude::*;
use tokengym::space::{BoxSpace, Discrete, Space};
use tokengym::wrappers::{
    ClipAction, FramePadding, FrameStack, NormalizeObservation, RescaleAction, TimeLimit,
};
use tokengym::{Env, Info, Result, RunningMeanStd, Step};

/// Observation = steps since reset; terminates after `terminate_at` steps when set.
struct Counter {
    count: u64,
    terminate_at: Option<u64>,
    obs_space: BoxSpace<f32, [f32; 1]>,
    act_space: Discrete,
}

impl Counter {
    fn new(terminate_at: Option<u64>) -> Self {
        Counter {
            count: 0,
            terminate_at,
            obs_space: BoxSpace::new(vec![0.0], vec![f32::INFINITY], vec![1]).unwrap(),
            act_space: Discrete::new(2).unwrap(),
        }
    }
}

impl Env for Counter {
    type ObsSpace = BoxSpace<f32, [f32; 1]>;
    type ActSpace = Discrete;
    fn observation_space(&self) -> &Self::ObsSpace {
        &self.obs_space
    }
    fn action_space(&self) -> &Self::ActSpace {
        &self.act_space
    }
    fn reset(&mut self, _seed: Option<u64>) -> Result<([f32; 1], Info)> {
        self.count = 0;
        Ok(([0.0], Info::new()))
    }
    fn step(&mut self, action: &i64) -> Result<Step<[f32; 1]>> {
        self.act_space.check_action(action)?;
        self.count += 1;
        let terminated = self.terminate_at.is_some_and(|n| self.count >= n);
        Ok(Step::new([self.count as f32], 0.0, terminated, false))
    }
}

/// Plays back a fixed list of observations (cycling); actions are boxes that the env checks
/// and records.
struct Playback {
    observations: Vec<Vec<f32>>,
    next: usize,
    last_action: Vec<f32>,
    obs_space: BoxSpace<f32>,
    act_space: BoxSpace<f32>,
}

impl Playback {
    fn new(observations: Vec<Vec<f32>>, act_space: BoxSpace<f32>) -> Self {
        let dim = observations[0].len();
        Playback {
            observations,
            next: 0,
            last_action: vec![],
            obs_space: BoxSpace::uniform(f32::NEG_INFINITY, f32::INFINITY, vec![dim]).unwrap(),
            act_space,
        }
    }

    fn emit(&mut self) -> Vec<f32> {
        let o = self.observations[self.next % self.observations.len()].clone();
        self.next += 1;
        o
    }
}

impl Env for Playback {
    type ObsSpace = BoxSpace<f32>;
    type ActSpace = BoxSpace<f32>;
    fn observation_space(&self) -> &Self::ObsSpace {
        &self.obs_space
    }
    fn action_space(&self) -> &Self::ActSpace {
        &self.act_space
    }
    fn reset(&mut self, _seed: Option<u64>) -> Result<(Vec<f32>, Info)> {
        Ok((self.emit(), Info::new()))
    }
    fn step(&mut self, action: &Vec<f32>) -> Result<Step<Vec<f32>>> {
        self.act_space.check_action(action)?;
        self.last_action.clone_from(action);
        Ok(Step::new(self.emit(), 0.0, false, false))
    }
}

/// A box with `n` dimensions and finite bounds `low <= high`.
fn bounded_box() -> impl Strategy<Value = BoxSpace<f32>> {
    prop::collection::vec((-100.0f32..100.0, 0.0f32..50.0), 1..5).prop_map(|b| {
        let low: Vec<f32> = b.iter().map(|(l, _)| *l).collect();
        let high: Vec<f32> = b.iter().map(|(l, w)| l + w).collect();
        BoxSpace::from_bounds(low, high).unwrap()
    })
}

fn observations(dim: usize, max_len: usize) -> impl Strategy<Value = Vec<Vec<f32>>> {
    prop::collection::vec(prop::collection::vec(-1e3f32..1e3, dim), 1..max_len)
}

proptest! {
    #[test]
    fn time_limit_never_lets_an_episode_exceed_n(
        n in 1u64..40,
        terminate_at in prop::option::of(1u64..60),
        episodes in 1usize..5,
        actions in prop::collection::vec(0i64..2, 200),
    ) {
        let mut env = TimeLimit::new(Counter::new(terminate_at), n).unwrap();
        let mut a = actions.iter().cycle();
        for _ in 0..episodes {
            env.reset(None).unwrap();
            let mut len = 0u64;
            loop {
                let s = env.step(a.next().unwrap()).unwrap();
                len += 1;
                prop_assert!(len <= n, "episode ran {len} > {n} steps");
                if s.done() {
                    break;
                }
            }
            let expected = terminate_at.map_or(n, |t| t.min(n));
            prop_assert_eq!(len, expected);
        }
    }

    #[test]
    fn clip_action_always_yields_in_bounds_actions(
        space in bounded_box(),
        raw in prop::collection::vec(-1e6f32..1e6, 5),
    ) {
        let n = space.len();
        let action: Vec<f32> = raw[..n].to_vec();
        let inner = Playback::new(vec![vec![0.0]], space.clone());
        let mut env = ClipAction::new(inner).unwrap();
        prop_assert!(env.action_space().contains(&action));
        env.reset(None).unwrap();
        env.step(&action).unwrap();
        let taken = &env.inner().last_action;
        prop_assert!(space.contains(taken));
        for i in 0..n {
            prop_assert_eq!(taken[i], action[i].clamp(space.low()[i], space.high()[i]));
        }
    }

    #[test]
    fn rescale_action_maps_bounds_to_bounds_and_is_monotone(
        space in bounded_box(),
        (min, width) in (-10.0f32..10.0, 0.5f32..20.0),
        (u1, u2) in (0.0f32..=1.0, 0.0f32..=1.0),
    ) {
        let n = space.len();
        let max = min + width;
        let inner = Playback::new(vec![vec![0.0]], space.clone());
        let mut env = RescaleAction::new(inner, min, max).unwrap();
        env.reset(None).unwrap();
        env.step(&vec![min; n]).unwrap();
        prop_assert_eq!(&env.inner().last_action, &space.low().to_vec());
        env.step(&vec![max; n]).unwrap();
        prop_assert_eq!(&env.inner().last_action, &space.high().to_vec());
        let (lo, hi) = if u1 <= u2 { (u1, u2) } else { (u2, u1) };
        let a1 = (min + lo * width).clamp(min, max);
        let a2 = (min + hi * width).clamp(min, max);
        env.step(&vec![a1; n]).unwrap();
        let r1 = env.inner().last_action.clone();
        env.step(&vec![a2; n]).unwrap();
        let r2 = env.inner().last_action.clone();
        prop_assert!(space.contains(&r1) && space.contains(&r2));
        for i in 0..n {
            prop_assert!(r1[i] <= r2[i], "not monotone: {a1} -> {}, {a2} -> {}", r1[i], r2[i]);
        }
    }

    #[test]
    fn normalize_observation_stats_equal_batch_moments(
        obs in observations(3, 40),
        gymnasium_start in any::<bool>(),
    ) {
        let act = BoxSpace::from_bounds(vec![0.0], vec![1.0]).unwrap();
        let mut env = NormalizeObservation::new(Playback::new(obs.clone(), act)).unwrap();
        if !gymnasium_start {
            env.set_obs_rms(RunningMeanStd::empty(3)).unwrap();
        }
        env.reset(None).unwrap();
        for _ in 1..obs.len() {
            env.step(&vec![0.5]).unwrap();
        }
        let rms = env.obs_rms();
        let n = obs.len() as f64;
        // Gymnasium's start is a pseudo-sample of weight c = 1e-4 at mean 0, variance 1: the
        // expected statistics are the batch moments combined with it.
        let c = if gymnasium_start { 1e-4 } else { 0.0 };
        prop_assert!((rms.count() - (n + c)).abs() < 1e-9);
        for j in 0..3 {
            let mean = obs.iter().map(|o| o[j] as f64).sum::<f64>() / n;
            let var = obs.iter().map(|o| (o[j] as f64 - mean).powi(2)).sum::<f64>() / n;
            let want_mean = n * mean / (n + c);
            let want_var = (c + n * var + mean * mean * c * n / (n + c)) / (n + c);
            let tol = 1e-9 * (1.0 + mean.abs() + var + mean * mean);
            prop_assert!((rms.mean()[j] - want_mean).abs() < tol, "mean {} vs {want_mean}", rms.mean()[j]);
            prop_assert!((rms.var()[j] - want_var).abs() < tol, "var {} vs {want_var}", rms.var()[j]);
        }
    }

    #[test]
    fn running_mean_std_merge_equals_a_single_pass(
        data in prop::collection::vec(prop::collection::vec(-1e4f64..1e4, 2), 2..60),
        split in 0usize..60,
        gymnasium_start in any::<bool>(),
    ) {
        let split = split % data.len();
        let start = |len| if gymnasium_start { RunningMeanStd::new(len) } else { RunningMeanStd::empty(len) };
        let mut single = start(2);
        for x in &data {
            single.update(x).unwrap();
        }
        let mut left = start(2);
        for x in &data[..split] {
            left.update(x).unwrap();
        }
        let mut right = RunningMeanStd::empty(2);
        right.update_batch(data[split..].concat().as_slice()).unwrap();
        left.merge(&right).unwrap();
        prop_assert!((left.count() - single.count()).abs() < 1e-9);
        for j in 0..2 {
            let scale = 1.0 + single.mean()[j].abs() + single.var()[j];
            prop_assert!((left.mean()[j] - single.mean()[j]).abs() < 1e-9 * scale);
            prop_assert!((left.var()[j] - single.var()[j]).abs() < 1e-9 * scale);
        }
    }

    #[test]
    fn frame_stack_newest_frame_equals_latest_obs(
        k in 1usize..6,
        obs in observations(2, 20),
        reset_padding in any::<bool>(),
    ) {
        let padding = if reset_padding { FramePadding::Reset } else { FramePadding::Zero };
        let act = BoxSpace::from_bounds(vec![0.0], vec![1.0]).unwrap();
        let mut env = FrameStack::with_padding(Playback::new(obs.clone(), act), k, padding).unwrap();
        prop_assert_eq!(env.observation_space().shape(), &[k, 2]);
        let (first, _) = env.reset(None).unwrap();
        prop_assert_eq!(&first[(k - 1) * 2..], &obs[0][..]);
        let mut buf = vec![0.0f32; 2 * k];
        for t in 1..obs.len() {
            let stacked = if t % 2 == 0 {
                env.step(&vec![0.0]).unwrap().obs
            } else {
                env.step_flat(&vec![0.0], &mut buf).unwrap();
                buf.clone()
            };
            prop_assert_eq!(&stacked[(k - 1) * 2..], &obs[t][..]);
            prop_assert_eq!(env.newest(), &obs[t][..]);
            // Older rows are the previous observations (or padding before the first).
            for back in 1..k {
                let row = &stacked[(k - 1 - back) * 2..(k - back) * 2];
                if back <= t {
                    prop_assert_eq!(row, &obs[t - back][..]);
                } else if reset_padding {
                    prop_assert_eq!(row, &obs[0][..]);
                } else {
                    prop_assert_eq!(row, &[0.0, 0.0][..]);
                }
            }
        }
    }
}
