//! A user's environment trained with PPO on libtorch: the README's `Walk`, registered under
//! its own id, learned by `Ppo` with the tch backend (so the binary must find libtorch at
//! start-up), then evaluated. Prints the mean return; fails unless it is the optimum.

use tokengym::registry::{EnvSpec, Kwargs, register};
use tokengym::space::{BoxSpace, Discrete, Space};
use tokengym::{Agent, Budget, Env, Info, Result, Step};
use tokengym_agents::nn::{Backend, DeviceChoice, NetConfig};
use tokengym_agents::ppo::{Ppo, PpoConfig};

/// Walk left or right on a line; reaching `goal` pays 1.
struct Walk {
    pos: i64,
    goal: i64,
    obs: BoxSpace<f32, [f32; 1]>,
    act: Discrete,
}

impl Env for Walk {
    type ObsSpace = BoxSpace<f32, [f32; 1]>;
    type ActSpace = Discrete;
    fn observation_space(&self) -> &Self::ObsSpace {
        &self.obs
    }
    fn action_space(&self) -> &Self::ActSpace {
        &self.act
    }
    fn reset(&mut self, _seed: Option<u64>) -> Result<([f32; 1], Info)> {
        self.pos = 0;
        Ok(([0.0], Info::new()))
    }
    fn step(&mut self, action: &i64) -> Result<Step<[f32; 1]>> {
        self.act.check_action(action)?;
        self.pos += if *action == 1 { 1 } else { -1 };
        let done = self.pos.abs() >= self.goal;
        let reward = if self.pos >= self.goal { 1.0 } else { 0.0 };
        Ok(Step::new([self.pos as f32], reward, done, false))
    }
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    register(
        EnvSpec::new("Walk-v0")?.with_max_episode_steps(50),
        |kw: &Kwargs| {
            let goal = kw.get_i64("goal", 3)?;
            let g = goal as f32;
            Ok(Walk {
                pos: 0,
                goal,
                obs: BoxSpace::new(vec![-g], vec![g], vec![1])?,
                act: Discrete::new(2)?,
            })
        },
    )?;
    let config = PpoConfig {
        num_envs: 4,
        n_steps: 32,
        batch_size: 64,
        n_epochs: 4,
        net: NetConfig {
            backend: Backend::Tch,
            ..NetConfig::default()
        },
        ..PpoConfig::default()
    };
    let mut ppo = Ppo::new("Walk-v0", &Default::default(), config, 0, DeviceChoice::Cpu)?;
    ppo.learn(Budget::Steps(4_096), &mut ())?;
    let returns = ppo.evaluate(5, 0)?.returns;
    let mean = returns.iter().sum::<f64>() / returns.len() as f64;
    println!("Walk-v0 with PPO (tch backend): mean return {mean}");
    if mean < 1.0 {
        return Err(format!("PPO did not learn to walk right: returns {returns:?}").into());
    }
    Ok(())
}
