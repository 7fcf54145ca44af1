//! A deterministic test environment shared by the vector-environment tests.

#![allow(dead_code)]

use rand::{RngExt, SeedableRng};
use tokengym::space::{BoxSpace, Discrete, Space};
use tokengym::{Env, EnvRng, Error, Info, InfoValue, Result, Step};

/// Observation `[steps so far, offset]`, where `offset` is drawn from the env's RNG at each reset
/// (so it shows the seeding). The episode ends after `limit` steps (terminated, or truncated when
/// `truncate` is set). Reward: `count + 0.5 * action`. Action 2 is an error, action 3 panics.
pub struct Counter {
    pub count: u32,
    pub limit: u32,
    pub truncate: bool,
    pub with_infos: bool,
    offset: f32,
    rng: EnvRng,
    obs: BoxSpace<f32, [f32; 2]>,
    act: Discrete,
}

impl Counter {
    pub fn new(limit: u32) -> Self {
        Counter {
            count: 0,
            limit,
            truncate: false,
            with_infos: true,
            offset: 0.0,
            rng: EnvRng::seed_from_u64(0),
            obs: BoxSpace::new(vec![0.0; 2], vec![1000.0; 2], vec![2]).unwrap(),
            act: Discrete::new(4).unwrap(),
        }
    }

    /// A counter whose observation space has upper bound `high` (for space-mismatch tests).
    pub fn with_high(limit: u32, high: f32) -> Self {
        Counter {
            obs: BoxSpace::new(vec![0.0; 2], vec![high; 2], vec![2]).unwrap(),
            ..Counter::new(limit)
        }
    }

    pub fn quiet(limit: u32) -> Self {
        Counter {
            with_infos: false,
            ..Counter::new(limit)
        }
    }

    /// Sub-environment `i` of the standard test batch: episode length `i % 4 + 2`.
    pub fn nth(i: usize) -> Result<Counter> {
        Ok(Counter::new(i as u32 % 4 + 2))
    }

    pub fn offset(&self) -> f32 {
        self.offset
    }
}

impl Env for Counter {
    type ObsSpace = BoxSpace<f32, [f32; 2]>;
    type ActSpace = Discrete;

    fn observation_space(&self) -> &Self::ObsSpace {
        &self.obs
    }

    fn action_space(&self) -> &Discrete {
        &self.act
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<([f32; 2], Info)> {
        if let Some(s) = seed {
            self.rng = EnvRng::seed_from_u64(s);
        }
        self.count = 0;
        self.offset = self.rng.random_range(0..1000) as f32;
        let info = if self.with_infos {
            Info::new().with("reset", InfoValue::Bool(true))
        } else {
            Info::new()
        };
        Ok(([0.0, self.offset], info))
    }

    fn step(&mut self, action: &i64) -> Result<Step<[f32; 2]>> {
        self.act.check_action(action)?;
        match action {
            2 => return Err(Error::invalid_argument("action 2 is refused")),
            3 => panic!("action 3 panics"),
            _ => {}
        }
        self.count += 1;
        let end = self.count >= self.limit;
        let mut step = Step::new(
            [self.count as f32, self.offset],
            self.count as f64 + 0.5 * *action as f64,
            end && !self.truncate,
            end && self.truncate,
        );
        if self.with_infos {
            step.info.insert("t", InfoValue::Int(self.count as i64));
        }
        Ok(step)
    }
}

/// The offsets a single `Counter` draws on `reset(Some(seed))` and then `k - 1` `reset(None)`.
pub fn offsets(seed: u64, k: usize) -> Vec<f32> {
    let mut env = Counter::new(1);
    let mut out = vec![env.reset(Some(seed)).unwrap().0[1]];
    for _ in 1..k {
        out.push(env.reset(None).unwrap().0[1]);
    }
    out
}
