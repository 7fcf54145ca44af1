//! The `Policy`/`Agent` loop: a small learning agent plugs into `learn`, callbacks, `evaluate`,
//! and `save`/`restore` without any change to the loop.

use rand::{RngExt, SeedableRng};
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;
use tokengym::agent::{
    Agent, AgentPolicy, Budget, BudgetUnit, Callback, EpisodeRecorder, LearnSummary, Progress,
    StepEvent,
};
use tokengym::policy::{FnPolicy, RandomPolicy, evaluate, rollout};
use tokengym::space::{BoxSpace, Discrete, Space};
use tokengym::{Env, EnvRng, EpisodeStats, Error, Info, Result, Step};

/// Three arms with deterministic payouts; each episode is one pull.
struct Arms {
    obs_space: BoxSpace<f32, [f32; 1]>,
    act_space: Discrete,
}

const PAYOUT: [f64; 3] = [0.1, 0.9, 0.5];

impl Arms {
    fn new() -> Self {
        Arms {
            obs_space: BoxSpace::uniform(0.0, 0.0, vec![1]).unwrap(),
            act_space: Discrete::new(3).unwrap(),
        }
    }
}

impl Env for Arms {
    type ObsSpace = BoxSpace<f32, [f32; 1]>;
    type ActSpace = Discrete;
    fn observation_space(&self) -> &Self::ObsSpace {
        &self.obs_space
    }
    fn action_space(&self) -> &Self::ActSpace {
        &self.act_space
    }
    fn reset(&mut self, _seed: Option<u64>) -> Result<([f32; 1], Info)> {
        Ok(([0.0], Info::new()))
    }
    fn step(&mut self, action: &i64) -> Result<Step<[f32; 1]>> {
        self.act_space.check_action(action)?;
        Ok(Step::new([0.0], PAYOUT[*action as usize], true, false))
    }
}

/// Epsilon-greedy with sample averages; it owns its environment.
struct Greedy {
    env: Arms,
    values: [f64; 3],
    counts: [u64; 3],
    rng: EnvRng,
    progress: Progress,
}

impl Agent for Greedy {
    type Obs = [f32; 1];
    type Action = i64;
    type Error = Error;

    fn learn_until(
        &mut self,
        stop: Budget,
        budget: Budget,
        cb: &mut dyn Callback,
    ) -> Result<LearnSummary> {
        Budget::check(stop, budget, "Greedy", &[BudgetUnit::Steps])?;
        let start = Instant::now();
        self.env.reset(Some(0))?;
        while !stop.reached(&self.progress) {
            let a = if self.rng.random_bool(0.2) {
                self.rng.random_range(0..3)
            } else {
                self.act(&[0.0], true)?
            };
            let step = self.env.step(&a)?;
            let i = a as usize;
            self.counts[i] += 1;
            self.values[i] += (step.reward - self.values[i]) / self.counts[i] as f64;
            self.progress.steps += 1;
            self.progress.episodes += 1;
            let event = StepEvent {
                total_steps: self.progress.steps,
                reward: step.reward,
                done: step.done(),
            };
            let stats = EpisodeStats {
                ret: step.reward,
                len: 1,
                time: 0.0,
            };
            if cb.on_step(&event).is_break() || cb.on_episode_end(&stats).is_break() {
                return Ok(LearnSummary::since(start, self.progress, true));
            }
            self.env.reset(None)?;
        }
        Ok(LearnSummary::since(start, self.progress, false))
    }

    fn progress(&self) -> Progress {
        self.progress
    }

    fn act(&mut self, _obs: &[f32; 1], _deterministic: bool) -> Result<i64> {
        // First arm with the highest estimate.
        let mut best = 0;
        for a in 1..3 {
            if self.values[a] > self.values[best] {
                best = a;
            }
        }
        Ok(best as i64)
    }

    fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_string(&self.values).unwrap())
            .map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }

    fn restore(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        self.values = serde_json::from_str(&text)
            .map_err(|e| Error::invalid_argument(format!("bad agent file: {e}")))?;
        Ok(())
    }
}

fn fresh_agent() -> Greedy {
    Greedy {
        env: Arms::new(),
        progress: Progress::default(),
        values: [0.0; 3],
        counts: [0; 3],
        rng: EnvRng::seed_from_u64(1),
    }
}

#[test]
fn agent_learns_and_evaluates_through_the_common_loop() {
    let mut env = Arms::new();
    let mut agent = fresh_agent();
    let before = evaluate(&mut AgentPolicy::new(&mut agent, true), &mut env, 3, 0).unwrap();
    assert_eq!(before.returns, vec![0.1; 3], "untrained agent picks arm 0");

    let mut recorder = EpisodeRecorder::new();
    agent.learn(Budget::Steps(300), &mut recorder).unwrap();
    assert_eq!(recorder.episodes.len(), 300);
    // Budgets are totals: the same budget again trains no more; other units are refused.
    let again = agent.learn(Budget::Steps(300), &mut recorder).unwrap();
    assert_eq!((again.progress.steps, recorder.episodes.len()), (300, 300));
    assert!(agent.learn(Budget::Updates(10), &mut ()).is_err());
    let after = evaluate(&mut AgentPolicy::new(&mut agent, true), &mut env, 3, 0).unwrap();
    assert_eq!(after.returns, vec![0.9; 3]);
    assert_eq!(after.std_return(), 0.0);
}

#[test]
fn callbacks_stop_training_early() {
    let mut agent = fresh_agent();
    let mut stop = EpisodeRecorder::stop_at_mean_return(0.7, 20);
    let summary = agent.learn(Budget::Steps(10_000), &mut stop).unwrap();
    assert!(summary.stopped_by_callback);
    assert!(stop.episodes.len() < 10_000, "did not stop early");
    assert!(stop.recent_mean_return(20).unwrap() >= 0.7);

    struct StopAfter(u64);
    impl Callback for StopAfter {
        fn on_step(&mut self, e: &StepEvent) -> ControlFlow<()> {
            if e.total_steps >= self.0 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
    }
    let mut agent = fresh_agent();
    agent.learn(Budget::Steps(1000), &mut StopAfter(7)).unwrap();
    assert_eq!(agent.counts.iter().sum::<u64>(), 7);
}

#[test]
fn save_load_round_trip_gives_identical_actions() {
    let dir = std::env::temp_dir().join(format!("tokengym-agent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("agent.json");
    let mut agent = fresh_agent();
    agent.learn(Budget::Steps(200), &mut ()).unwrap();
    agent.save(&path).unwrap();
    let mut loaded = fresh_agent();
    loaded.restore(&path).unwrap();
    assert_eq!(
        loaded.act(&[0.0], true).unwrap(),
        agent.act(&[0.0], true).unwrap()
    );
    std::fs::write(&path, "{not json").unwrap();
    let err = loaded.restore(&path).unwrap_err();
    assert!(err.to_string().contains("bad agent file"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn random_and_closure_policies_run_in_any_env() {
    let mut env = Arms::new();
    let mut random = RandomPolicy::for_env(&env);
    let a = evaluate(&mut random, &mut env, 50, 9).unwrap();
    let b = evaluate(&mut random, &mut env, 50, 9).unwrap();
    assert_eq!(a, b, "same seed, same episodes");
    assert!(
        a.returns.iter().any(|&r| r != a.returns[0]),
        "random policy explores"
    );
    assert_eq!(a.mean_length(), 1.0);

    let mut always_two = FnPolicy::new(|_: &[f32; 1], _: &mut EnvRng| 2i64);
    let ep = rollout(&mut always_two, &mut env, 0).unwrap();
    assert_eq!((ep.ret, ep.len, ep.terminated), (0.5, 1, true));

    let mut invalid = FnPolicy::new(|_: &[f32; 1], _: &mut EnvRng| 3i64);
    assert!(matches!(
        rollout(&mut invalid, &mut env, 0),
        Err(Error::InvalidAction { .. })
    ));
    assert!(env.action_space().contains(&2));
}
