//! A deterministic environment for the vector-environment unit tests.

use crate::env::{Env, Step};
use crate::error::Result;
use crate::info::{Info, InfoValue};
use crate::seeding::EnvRng;
use crate::space::{BoxSpace, Discrete, Space};
use rand::{RngExt, SeedableRng};

/// Observation `[steps so far, offset drawn at reset]`; terminates after `limit` steps; reward
/// is the action; action 2 fails, action 3 panics.
pub(crate) struct Counter {
    count: u32,
    limit: u32,
    offset: f32,
    rng: EnvRng,
    obs: BoxSpace<f32, [f32; 2]>,
    act: Discrete,
}

impl Counter {
    pub(crate) fn new(limit: u32) -> Self {
        Self::with_obs_high(limit, 1000.0)
    }

    pub(crate) fn with_obs_high(limit: u32, high: f32) -> Self {
        Counter {
            count: 0,
            limit,
            offset: 0.0,
            rng: EnvRng::seed_from_u64(0),
            obs: BoxSpace::new(vec![0.0; 2], vec![high; 2], vec![2]).unwrap(),
            act: Discrete::new(4).unwrap(),
        }
    }

    pub(crate) fn limit(&self) -> u32 {
        self.limit
    }

    pub(crate) fn set_limit(&mut self, limit: u32) {
        self.limit = limit;
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
        self.offset = self.rng.random_range(0..100) as f32;
        Ok((
            [0.0, self.offset],
            Info::new().with("reset", InfoValue::Bool(true)),
        ))
    }

    fn step(&mut self, action: &i64) -> Result<Step<[f32; 2]>> {
        self.act.check_action(action)?;
        match action {
            2 => return Err(crate::Error::invalid_argument("action 2 fails")),
            3 => panic!("action 3 panics"),
            _ => {}
        }
        self.count += 1;
        Ok(Step::new(
            [self.count as f32, self.offset],
            *action as f64,
            self.count >= self.limit,
            false,
        ))
    }
}
