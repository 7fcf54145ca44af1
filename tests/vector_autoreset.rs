//! Vector environments: exact autoreset sequences, partial resets, seeding, parallel = sync,
//! and error handling.

mod vector_common;

use rand::{RngExt, SeedableRng};
use tokengym::space::Discrete;
use tokengym::vector::{
    AutoresetMode, ParallelOptions, ParallelVecEnv, SyncVecEnv, VecEnv, VecStep,
};
use tokengym::{EnvRng, Error, InfoValue};
use vector_common::{Counter, offsets};

fn sync(n: usize, mode: AutoresetMode) -> SyncVecEnv<Counter> {
    SyncVecEnv::with_mode((0..n).map(|i| Counter::nth(i).unwrap()).collect(), mode).unwrap()
}

fn parallel(n: usize, threads: usize, mode: AutoresetMode) -> ParallelVecEnv<Counter> {
    let opts = ParallelOptions::default()
        .num_threads(threads)
        .autoreset_mode(mode);
    ParallelVecEnv::from_fn(n, Counter::nth, opts).unwrap()
}

/// Both implementations, behind the trait.
fn both(
    n: usize,
    mode: AutoresetMode,
) -> Vec<Box<dyn VecEnv<ObsSpace = CounterObs, ActSpace = Discrete>>> {
    vec![Box::new(sync(n, mode)), Box::new(parallel(n, 2, mode))]
}

type CounterObs = <Counter as tokengym::Env>::ObsSpace;

fn row(s: &VecStep, i: usize) -> Vec<f32> {
    s.obs().row(i).to_vec()
}

fn info_int(s: &VecStep, i: usize, key: &str) -> Option<i64> {
    match s.infos()[i].get(key) {
        Some(InfoValue::Int(v)) => Some(*v),
        _ => None,
    }
}

fn is_reset_info(s: &VecStep, i: usize) -> bool {
    s.infos()[i].get("reset") == Some(&InfoValue::Bool(true))
}

#[test]
fn next_step_sequence_matches_hand_worked() {
    // Sub-env 0 ends after 2 steps, sub-env 1 after 3. Reward = count + 0.5 * action.
    // (count, offset index, reward, terminated) per step; count 0 with reward 0 is the autoreset.
    let expected: [[(u32, usize, f64, bool); 6]; 2] = [
        [
            (1, 0, 1.5, false),
            (2, 0, 2.5, true),
            (0, 1, 0.0, false),
            (1, 1, 1.5, false),
            (2, 1, 2.5, true),
            (0, 2, 0.0, false),
        ],
        [
            (1, 0, 1.5, false),
            (2, 0, 2.5, false),
            (3, 0, 3.5, true),
            (0, 1, 0.0, false),
            (1, 1, 1.5, false),
            (2, 1, 2.5, false),
        ],
    ];
    let offs = [offsets(100, 3), offsets(101, 2)];
    for mut v in both(2, AutoresetMode::NextStep) {
        let r = v.reset(Some(100)).unwrap();
        assert_eq!(row(r, 0), vec![0.0, offs[0][0]]);
        assert_eq!(row(r, 1), vec![0.0, offs[1][0]]);
        for t in 0..6 {
            // Sub-env 0's action at step 3 would fail, but that step is its autoreset: ignored.
            let actions = if t == 2 { [2, 1] } else { [1, 1] };
            let s = v.step(&actions).unwrap();
            for (i, exp) in expected.iter().enumerate() {
                let (count, off, reward, term) = exp[t];
                assert_eq!(
                    row(s, i),
                    vec![count as f32, offs[i][off]],
                    "step {t} env {i}"
                );
                assert_eq!(s.rewards()[i], reward, "step {t} env {i}");
                assert_eq!(s.terminated()[i], term, "step {t} env {i}");
                assert!(!s.truncated()[i]);
                assert!(!s.final_mask()[i] && s.final_obs_row(i).is_none());
                if count == 0 {
                    assert!(is_reset_info(s, i));
                } else {
                    assert_eq!(info_int(s, i, "t"), Some(count as i64));
                }
            }
        }
    }
}

#[test]
fn same_step_sequence_matches_hand_worked() {
    // (count, offset index, reward, terminated, final (count, offset index)) per step.
    type Row = (u32, usize, f64, bool, Option<(u32, usize)>);
    let expected: [[Row; 6]; 2] = [
        [
            (1, 0, 1.5, false, None),
            (0, 1, 2.5, true, Some((2, 0))),
            (1, 1, 1.5, false, None),
            (0, 2, 2.5, true, Some((2, 1))),
            (1, 2, 1.5, false, None),
            (0, 3, 2.5, true, Some((2, 2))),
        ],
        [
            (1, 0, 1.5, false, None),
            (2, 0, 2.5, false, None),
            (0, 1, 3.5, true, Some((3, 0))),
            (1, 1, 1.5, false, None),
            (2, 1, 2.5, false, None),
            (0, 2, 3.5, true, Some((3, 1))),
        ],
    ];
    let offs = [offsets(7, 4), offsets(8, 3)];
    for mut v in both(2, AutoresetMode::SameStep) {
        v.reset(Some(7)).unwrap();
        for t in 0..6 {
            let s = v.step(&[1, 1]).unwrap();
            for (i, exp) in expected.iter().enumerate() {
                let (count, off, reward, term, fin) = exp[t];
                assert_eq!(
                    row(s, i),
                    vec![count as f32, offs[i][off]],
                    "step {t} env {i}"
                );
                assert_eq!(s.rewards()[i], reward);
                assert_eq!(s.terminated()[i], term);
                assert_eq!(s.final_mask()[i], fin.is_some());
                match fin {
                    Some((c, o)) => {
                        let final_row = s.final_obs_row(i).map(|r| r.to_vec());
                        assert_eq!(final_row, Some(vec![c as f32, offs[i][o]]));
                        let fi = s.final_info(i).and_then(|f| f.get("t").cloned());
                        assert_eq!(fi, Some(InfoValue::Int(c as i64)));
                        assert!(is_reset_info(s, i), "info is the reset info");
                    }
                    None => {
                        assert!(s.final_obs_row(i).is_none() && s.final_info(i).is_none());
                        assert_eq!(info_int(s, i, "t"), Some(count as i64));
                    }
                }
            }
        }
    }
}

#[test]
fn disabled_mode_needs_masked_reset() {
    let offs0 = offsets(5, 2);
    for mut v in both(2, AutoresetMode::Disabled) {
        v.reset(Some(5)).unwrap();
        v.step(&[0, 0]).unwrap();
        let s = v.step(&[0, 0]).unwrap();
        assert_eq!(s.terminated(), &[true, false]);
        // Stepping the ended sub-env 0 is an error and changes nothing.
        assert!(matches!(v.step(&[0, 0]), Err(Error::EpisodeEnded)));
        assert_eq!(row(v.last(), 1)[0], 2.0);
        let s = v.reset_masked(None, &[true, false]).unwrap();
        assert_eq!(row(s, 0), vec![0.0, offs0[1]]);
        assert_eq!(row(s, 1)[0], 2.0, "unmasked row untouched");
        assert_eq!(s.rewards()[1], 2.0);
        let s = v.step(&[0, 0]).unwrap();
        assert_eq!(row(s, 0)[0], 1.0);
        assert_eq!(row(s, 1)[0], 3.0);
        assert_eq!(s.terminated(), &[false, true]);
        assert!(matches!(v.step(&[0, 0]), Err(Error::EpisodeEnded)));
        let s = v.reset_masked(Some(50), &[false, true]).unwrap();
        assert_eq!(
            row(s, 1),
            vec![0.0, offsets(51, 1)[0]],
            "masked seed is seed + i"
        );
        assert!(v.step(&[0, 0]).is_ok());
    }
}

#[test]
fn truncation_autoresets_like_termination() {
    for mode in [AutoresetMode::NextStep, AutoresetMode::SameStep] {
        let make = |_| {
            let mut c = Counter::new(2);
            c.truncate = true;
            Ok(c)
        };
        let envs = SyncVecEnv::from_fn(1, make)
            .unwrap()
            .with_autoreset_mode(mode);
        let par = ParallelVecEnv::from_fn(
            2,
            make,
            ParallelOptions::default()
                .num_threads(2)
                .autoreset_mode(mode),
        )
        .unwrap();
        let list: Vec<Box<dyn VecEnv<ObsSpace = CounterObs, ActSpace = Discrete>>> =
            vec![Box::new(envs), Box::new(par)];
        for mut v in list {
            let n = v.num_envs();
            v.reset(Some(0)).unwrap();
            v.step(&vec![0; n]).unwrap();
            let s = v.step(&vec![0; n]).unwrap();
            assert!(s.truncated()[0] && !s.terminated()[0]);
            assert_eq!(s.final_mask()[0], mode == AutoresetMode::SameStep);
            let s = v.step(&vec![0; n]).unwrap();
            let expected_count = if mode == AutoresetMode::NextStep {
                0.0
            } else {
                1.0
            };
            assert_eq!(row(s, 0)[0], expected_count);
            assert!(!s.truncated()[0]);
        }
    }
}

#[test]
fn partial_reset_by_mask() {
    for mut v in both(3, AutoresetMode::NextStep) {
        v.reset(Some(10)).unwrap();
        v.step(&[1, 1, 1]).unwrap();
        let s = v.step(&[1, 1, 1]).unwrap();
        assert_eq!(s.terminated(), &[true, false, false]);
        let before: Vec<Vec<f32>> = (0..3).map(|i| row(s, i)).collect();
        let s = v.reset_masked(Some(20), &[true, false, false]).unwrap();
        assert_eq!(row(s, 0), vec![0.0, offsets(20, 1)[0]]);
        assert_eq!(s.rewards(), &[0.0, 2.5, 2.5]);
        assert_eq!(s.terminated(), &[false, false, false]);
        assert!(is_reset_info(s, 0) && info_int(s, 1, "t") == Some(2));
        assert_eq!(row(s, 1), before[1]);
        assert_eq!(row(s, 2), before[2]);
        // The masked reset cancelled sub-env 0's pending autoreset: the next step is a real step.
        let s = v.step(&[1, 1, 1]).unwrap();
        assert_eq!(s.obs().column(0).to_vec(), vec![1.0, 3.0, 3.0]);
        assert_eq!(s.terminated(), &[false, true, false]);
        // Mask errors.
        assert!(matches!(
            v.reset_masked(None, &[true]),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            v.reset_masked(None, &[false; 3]),
            Err(Error::InvalidArgument(_))
        ));
    }
}

#[test]
fn sub_env_i_matches_single_env_seeded_with_seed_plus_i() {
    let n = 5;
    for mut v in both(n, AutoresetMode::NextStep) {
        let s = v.reset(Some(1234)).unwrap();
        for i in 0..n {
            let mut single = Counter::nth(i).unwrap();
            let (obs, _) = tokengym::Env::reset(&mut single, Some(1234 + i as u64)).unwrap();
            assert_eq!(row(s, i), obs.to_vec(), "sub-env {i}");
        }
        // reset(None) continues each sub-env's own stream.
        let s = v.reset(None).unwrap();
        for i in 0..n {
            assert_eq!(row(s, i)[1], offsets(1234 + i as u64, 2)[1]);
        }
    }
}

fn assert_same(a: &VecStep, b: &VecStep, ctx: &str) {
    assert_eq!(a.obs(), b.obs(), "{ctx}");
    assert_eq!(a.rewards(), b.rewards(), "{ctx}");
    assert_eq!(a.terminated(), b.terminated(), "{ctx}");
    assert_eq!(a.truncated(), b.truncated(), "{ctx}");
    assert_eq!(a.infos(), b.infos(), "{ctx}");
    assert_eq!(a.final_mask(), b.final_mask(), "{ctx}");
    for i in 0..a.num_envs() {
        assert_eq!(a.final_obs_row(i), b.final_obs_row(i), "{ctx}");
        assert_eq!(a.final_info(i), b.final_info(i), "{ctx}");
    }
}

#[test]
fn parallel_equals_sync_step_for_step() {
    let n = 9;
    for mode in [
        AutoresetMode::NextStep,
        AutoresetMode::SameStep,
        AutoresetMode::Disabled,
    ] {
        // (threads, chunks per thread, spin in µs (0 = every wait parks), adaptive)
        let configs = [
            (1, 1, 50, true),
            (2, 1, 50, true),
            (2, 1, 50, false),
            (2, 1, 0, false),
            (2, 2, 50, true),
            (3, 3, 0, true),
            (4, 2, 50, false),
            (9, 1, 50, true),
            (16, 2, 0, false),
        ];
        for (threads, cpt, spin, adaptive) in configs {
            let mut s = sync(n, mode);
            let opts = ParallelOptions::default()
                .num_threads(threads)
                .chunks_per_thread(cpt)
                .spin(std::time::Duration::from_micros(spin))
                .adaptive(adaptive)
                .autoreset_mode(mode);
            let mut p = ParallelVecEnv::from_fn(n, Counter::nth, opts).unwrap();
            assert_eq!(p.num_threads(), threads.min(n));
            assert_eq!(p.num_chunks(), (threads * cpt).min(n));
            if !adaptive {
                assert!(!p.running_inline());
            }
            let ctx = format!(
                "{mode} with {threads} threads x {cpt} chunks, spin {spin}, adaptive {adaptive}"
            );
            assert_same(s.reset(Some(99)).unwrap(), p.reset(Some(99)).unwrap(), &ctx);
            let mut rng = EnvRng::seed_from_u64(threads as u64);
            for t in 0..300 {
                let actions: Vec<i64> = (0..n).map(|_| rng.random_range(0..2)).collect();
                let a = s.step(&actions).unwrap();
                let b = p.step(&actions).unwrap();
                assert_same(a, b, &format!("{ctx}, step {t}"));
                let ended: Vec<bool> = (0..n).map(|i| a.done(i)).collect();
                if mode == AutoresetMode::Disabled && ended.iter().any(|&d| d) {
                    let a = s.reset_masked(None, &ended).unwrap();
                    let b = p.reset_masked(None, &ended).unwrap();
                    assert_same(a, b, &ctx);
                }
                if t % 37 == 36 {
                    let mask: Vec<bool> = (0..n).map(|i| i % 3 == t % 3).collect();
                    let a = s.reset_masked(Some(t as u64), &mask).unwrap();
                    let b = p.reset_masked(Some(t as u64), &mask).unwrap();
                    assert_same(a, b, &format!("{ctx}, masked reset at {t}"));
                }
            }
            let limits_s = s.call(|i, e| (i, e.limit));
            let limits_p = p.call(|i, e| (i, e.limit));
            assert_eq!(limits_s, limits_p);
            assert_eq!(p.into_envs().len(), n);
        }
    }
}

#[test]
fn wrong_action_count_and_step_before_reset_are_errors() {
    for mut v in both(3, AutoresetMode::NextStep) {
        assert!(matches!(v.step(&[0, 0, 0]), Err(Error::ResetNeeded)));
        v.reset(None).unwrap();
        assert!(matches!(v.step(&[0, 0]), Err(Error::ShapeMismatch { .. })));
        assert!(matches!(
            v.step(&[0, 0, 0, 0]),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(v.step(&[0, 0, 0]).is_ok());
    }
}

#[test]
fn sub_env_error_propagates_and_requires_reset() {
    // Index 0 runs on the calling thread of the parallel env, index 3 on a worker. Steps
    // 128..256 of the adaptive parallel env run inline (its tuner's probe), so after `warm`
    // = 130 steps the failing step takes the inline path.
    for (bad, warm) in [(0, 0), (3, 0), (3, 130)] {
        for mut v in both(4, AutoresetMode::NextStep) {
            v.reset(Some(1)).unwrap();
            for _ in 0..warm {
                v.step(&[0; 4]).unwrap();
            }
            v.reset(Some(1)).unwrap();
            let mut actions = [0; 4];
            actions[bad] = 2;
            let err = v.step(&actions).err();
            assert!(
                matches!(&err, Some(Error::InvalidArgument(m)) if m.contains("action 2")),
                "{err:?}"
            );
            actions[bad] = 7; // outside Discrete(4)
            assert!(matches!(v.step(&[0; 4]), Err(Error::ResetNeeded)));
            v.reset(Some(1)).unwrap();
            assert!(matches!(v.step(&actions), Err(Error::InvalidAction { .. })));
            v.reset(Some(1)).unwrap();
            assert!(v.step(&[0; 4]).is_ok());
        }
    }
}

#[test]
fn panicking_sub_env_does_not_hang_parallel_env() {
    // With `warm` = 130 the panicking step runs inline (see the error test above).
    for (bad, warm) in [(0, 0), (2, 0), (3, 0), (2, 130)] {
        let mut v = parallel(4, 3, AutoresetMode::NextStep);
        v.reset(None).unwrap();
        for _ in 0..warm {
            v.step(&[0; 4]).unwrap();
        }
        v.reset(None).unwrap();
        let mut actions = [0; 4];
        actions[bad] = 3;
        let err = v.step(&actions).err();
        assert!(
            matches!(&err, Some(Error::Worker(m)) if m.contains("action 3 panics")),
            "{err:?}"
        );
        // The vector env is now unusable, and says so.
        assert!(matches!(v.step(&[0; 4]), Err(Error::Worker(_))));
        assert!(matches!(v.reset(None), Err(Error::Worker(_))));
        drop(v); // joins the workers without hanging
    }
}

#[test]
fn construction_errors() {
    let mismatched = || vec![Counter::new(2), Counter::with_high(2, 5.0)];
    let err = ParallelVecEnv::new(mismatched()).err();
    assert!(matches!(&err, Some(Error::InvalidArgument(m)) if m.contains("sub-environment 1")));
    assert!(matches!(
        SyncVecEnv::new(mismatched()),
        Err(Error::InvalidArgument(_))
    ));
    assert!(SyncVecEnv::new(vec![Counter::new(2), Counter::with_high(3, 1000.0)]).is_ok());
    assert!(ParallelVecEnv::<Counter>::new(vec![]).is_err());
    let zero = ParallelVecEnv::from_fn(2, Counter::nth, ParallelOptions::default().num_threads(0));
    assert!(matches!(zero, Err(Error::InvalidArgument(_))));
    let capped = parallel(3, 8, AutoresetMode::NextStep);
    assert_eq!(capped.num_threads(), 3);
    assert_eq!(capped.obs_dim(), 2);
    assert_eq!(capped.single_action_space().n(), 4);
    assert_eq!(capped.autoreset_mode(), AutoresetMode::NextStep);
}

/// After a sub-environment fails, every execution path has stepped every other sub-environment,
/// so an unseeded reset continues identical random streams in sync and parallel envs.
#[test]
fn after_an_error_sync_and_parallel_states_agree() {
    use rand::{RngExt, SeedableRng};
    use tokengym::EnvRng;
    use tokengym::space::{BoxSpace, Discrete};
    use tokengym::vector::ParallelOptions;
    use tokengym::{Env, Info, Step};

    /// Emits random numbers; sub-env 0 fails on action 1.
    struct Noisy {
        rng: EnvRng,
        fail: bool,
        obs: BoxSpace<f32, [f32; 1]>,
        act: Discrete,
    }
    impl Env for Noisy {
        type ObsSpace = BoxSpace<f32, [f32; 1]>;
        type ActSpace = Discrete;
        fn observation_space(&self) -> &Self::ObsSpace {
            &self.obs
        }
        fn action_space(&self) -> &Discrete {
            &self.act
        }
        fn reset(&mut self, seed: Option<u64>) -> tokengym::Result<([f32; 1], Info)> {
            if let Some(s) = seed {
                self.rng = EnvRng::seed_from_u64(s);
            }
            Ok(([self.rng.random()], Info::new()))
        }
        fn step(&mut self, a: &i64) -> tokengym::Result<Step<[f32; 1]>> {
            if self.fail && *a == 1 {
                return Err(tokengym::Error::invalid_argument(
                    "sub-env 0 refuses action 1",
                ));
            }
            Ok(Step::new([self.rng.random()], 0.0, false, false))
        }
    }
    let envs = || -> Vec<Noisy> {
        (0..4)
            .map(|i| Noisy {
                rng: EnvRng::seed_from_u64(0),
                fail: i == 0,
                obs: BoxSpace::new(vec![0.0], vec![1.0], vec![1]).unwrap(),
                act: Discrete::new(2).unwrap(),
            })
            .collect()
    };
    for (threads, adaptive) in [(1, false), (2, false), (2, true), (3, false)] {
        let mut sync = SyncVecEnv::new(envs()).unwrap();
        let opts = ParallelOptions::default()
            .num_threads(threads)
            .adaptive(adaptive);
        let mut par = ParallelVecEnv::with_options(envs(), opts).unwrap();
        sync.reset(Some(0)).unwrap();
        par.reset(Some(0)).unwrap();
        let e1 = sync.step(&[1, 0, 0, 0]).unwrap_err().to_string();
        let e2 = par.step(&[1, 0, 0, 0]).unwrap_err().to_string();
        assert_eq!(e1, e2);
        let a = sync.reset(None).unwrap().obs().clone();
        let b = par.reset(None).unwrap().obs().clone();
        assert_eq!(a, b, "threads {threads}, adaptive {adaptive}");
    }
}
