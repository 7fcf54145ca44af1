//! Small deterministic environments for the wrapper unit tests.

#![allow(dead_code)] // not every helper is used by every test module

use crate::env::{Env, Step};
use crate::error::{Error, Result};
use crate::info::Info;
use crate::render::{Frame, RenderMode, RgbFrame};
use crate::space::{BoxSpace, Discrete, Space};

/// Observation = number of steps since reset; reward = the action (0 or 1); terminates after
/// `terminate_at` steps when set. Renders a 4x3 frame whose red channel is the step count.
pub struct Counter {
    pub count: u64,
    pub terminate_at: Option<u64>,
    pub resets: u64,
    pub last_seed: Option<u64>,
    obs_space: BoxSpace<f32, [f32; 1]>,
    act_space: Discrete,
}

impl Counter {
    pub fn new(terminate_at: Option<u64>) -> Self {
        Counter {
            count: 0,
            terminate_at,
            resets: 0,
            last_seed: None,
            obs_space: BoxSpace::new(vec![0.0], vec![1.0e6], vec![1]).unwrap(),
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
    fn reset(&mut self, seed: Option<u64>) -> Result<([f32; 1], Info)> {
        self.count = 0;
        self.resets += 1;
        self.last_seed = seed;
        Ok(([0.0], Info::new()))
    }
    fn step(&mut self, action: &i64) -> Result<Step<[f32; 1]>> {
        self.act_space.check_action(action)?;
        self.count += 1;
        let terminated = self.terminate_at.is_some_and(|n| self.count >= n);
        Ok(Step::new(
            [self.count as f32],
            *action as f64,
            terminated,
            false,
        ))
    }
    fn render_modes(&self) -> &[RenderMode] {
        &[RenderMode::Ansi, RenderMode::RgbArray]
    }
    fn render(&self, mode: RenderMode) -> Result<Frame> {
        match mode {
            RenderMode::Ansi => Ok(Frame::Ansi(format!("count={}", self.count))),
            RenderMode::RgbArray => Ok(Frame::Rgb(RgbFrame::filled(
                4,
                3,
                [(self.count * 40 % 256) as u8, 10, 200],
            ))),
        }
    }
    fn render_fps(&self) -> u32 {
        20
    }
}

/// A 1-D continuous env: the action (a 2-vector in `[-2, 2] x [0, 10]`) is recorded and returned
/// as the observation; reward = sum of the action.
pub struct Line {
    pub last_action: Vec<f32>,
    obs_space: BoxSpace<f32>,
    act_space: BoxSpace<f32>,
}

impl Line {
    pub fn new() -> Self {
        Line {
            last_action: vec![0.0, 0.0],
            obs_space: BoxSpace::new(vec![-2.0, 0.0], vec![2.0, 10.0], vec![2]).unwrap(),
            act_space: BoxSpace::new(vec![-2.0, 0.0], vec![2.0, 10.0], vec![2]).unwrap(),
        }
    }
}

impl Env for Line {
    type ObsSpace = BoxSpace<f32>;
    type ActSpace = BoxSpace<f32>;
    fn observation_space(&self) -> &Self::ObsSpace {
        &self.obs_space
    }
    fn action_space(&self) -> &Self::ActSpace {
        &self.act_space
    }
    fn reset(&mut self, _seed: Option<u64>) -> Result<(Vec<f32>, Info)> {
        self.last_action = vec![0.0, 0.0];
        Ok((self.last_action.clone(), Info::new()))
    }
    fn step(&mut self, action: &Vec<f32>) -> Result<Step<Vec<f32>>> {
        self.act_space.check_action(action)?;
        self.last_action.clone_from(action);
        let reward = action.iter().map(|&x| x as f64).sum();
        Ok(Step::new(action.clone(), reward, false, false))
    }
}

/// What [`Faulty`] gets wrong.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    None,
    NanObsOnReset,
    NanObsOnStep,
    InfObsOnStep,
    NanReward,
    OutOfSpaceObs,
    WrongFrameKind,
}

/// An env that misbehaves as told by `fault`; obs in `[-1, 1]`, obs = `value`.
pub struct Faulty {
    pub fault: Fault,
    pub steps: u64,
    obs_space: BoxSpace<f32, [f32; 1]>,
    act_space: Discrete,
}

impl Faulty {
    pub fn new(fault: Fault) -> Self {
        Faulty {
            fault,
            steps: 0,
            obs_space: BoxSpace::new(vec![-1.0], vec![1.0], vec![1]).unwrap(),
            act_space: Discrete::new(2).unwrap(),
        }
    }
}

impl Env for Faulty {
    type ObsSpace = BoxSpace<f32, [f32; 1]>;
    type ActSpace = Discrete;
    fn observation_space(&self) -> &Self::ObsSpace {
        &self.obs_space
    }
    fn action_space(&self) -> &Self::ActSpace {
        &self.act_space
    }
    fn reset(&mut self, _seed: Option<u64>) -> Result<([f32; 1], Info)> {
        let obs = if self.fault == Fault::NanObsOnReset {
            f32::NAN
        } else {
            0.0
        };
        Ok(([obs], Info::new()))
    }
    fn step(&mut self, _action: &i64) -> Result<Step<[f32; 1]>> {
        self.steps += 1;
        let (obs, reward) = match self.fault {
            Fault::NanObsOnStep => (f32::NAN, 0.0),
            Fault::InfObsOnStep => (f32::INFINITY, 0.0),
            Fault::NanReward => (0.5, f64::NAN),
            Fault::OutOfSpaceObs => (3.0, 0.0),
            _ => (0.5, 1.0),
        };
        Ok(Step::new([obs], reward, false, false))
    }
    fn render_modes(&self) -> &[RenderMode] {
        &[RenderMode::RgbArray]
    }
    fn render(&self, mode: RenderMode) -> Result<Frame> {
        if mode != RenderMode::RgbArray {
            return Err(Error::invalid_argument("only rgb_array"));
        }
        if self.fault == Fault::WrongFrameKind {
            Ok(Frame::Ansi("oops".into()))
        } else {
            Ok(Frame::Rgb(RgbFrame::filled(2, 2, [0, 0, 0])))
        }
    }
}
