//! Hand-written baseline controllers for the classic-control ids.
//!
//! They are the "does the environment behave?" sanity check of the demo, and a yardstick for
//! learned policies: each uses only the observation, as a learned policy would.

use tokengym::EnvRng;
use tokengym::policy::Policy;
use tokengym::space::Value;

/// A heuristic controller for `env_id`, or `None` where there is none.
///
/// - `CartPole-v*`: a linear state-feedback controller (push towards the side the pole falls).
/// - `MountainCar-v0`, `MountainCarContinuous-v0`: push in the direction of motion, pumping
///   energy into the swing until the car crests the hill.
/// - `Acrobot-v1`: torque along the second joint's angular velocity (energy pumping).
/// - `Pendulum-v1`: energy pumping to swing up, then a PD controller near the top.
pub fn heuristic_policy(env_id: &str) -> Option<Box<dyn Policy<Value, Value>>> {
    let name = env_id.split("-v").next().unwrap_or(env_id);
    let f: fn(&[f32]) -> Value = match name {
        "CartPole" => |o| {
            let u = 1.0 * o[0] + 1.5 * o[1] + 18.0 * o[2] + 3.0 * o[3];
            Value::Discrete(i64::from(u > 0.0))
        },
        "MountainCar" => |o| Value::Discrete(if o[1] >= 0.0 { 2 } else { 0 }),
        "MountainCarContinuous" => |o| Value::BoxF32(vec![if o[1] >= 0.0 { 1.0 } else { -1.0 }]),
        "Acrobot" => |o| Value::Discrete(if o[5] >= 0.0 { 2 } else { 0 }),
        "Pendulum" => |o| {
            let (cos, sin, omega) = (o[0], o[1], o[2]);
            let theta = sin.atan2(cos);
            let u = if cos > 0.9 {
                -10.0 * theta - 2.0 * omega
            } else {
                // Energy relative to resting upright: pump while below it.
                let energy = 0.5 * omega * omega / 3.0 + 5.0 * (cos - 1.0);
                if energy < 0.0 {
                    2.0 * omega.signum()
                } else {
                    0.0
                }
            };
            Value::BoxF32(vec![u.clamp(-2.0, 2.0)])
        },
        _ => return None,
    };
    Some(Box::new(Heuristic(f)))
}

/// A controller over flat `f32` observations.
struct Heuristic(fn(&[f32]) -> Value);

impl Policy<Value, Value> for Heuristic {
    fn act(&mut self, obs: &Value, _rng: &mut EnvRng) -> tokengym::Result<Value> {
        match obs {
            Value::BoxF32(o) => Ok((self.0)(o)),
            other => Err(tokengym::Error::invalid_argument(format!(
                "the heuristic controllers read f32 box observations, got a {} value",
                other.kind()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokengym::policy::evaluate;

    #[test]
    fn heuristics_solve_or_nearly_solve_their_envs() {
        // (id, mean return at least)
        let bars = [
            ("CartPole-v1", 500.0),
            ("MountainCar-v0", -125.0),
            ("MountainCarContinuous-v0", 85.0),
            ("Acrobot-v1", -120.0),
            ("Pendulum-v1", -200.0),
        ];
        for (id, bar) in bars {
            let mut env = tokengym_envs::make(id).unwrap();
            let mut policy = heuristic_policy(id).unwrap();
            let eval = evaluate(&mut policy, &mut env, 10, 0).unwrap();
            assert!(eval.mean_return() >= bar, "{id}: {}", eval.mean_return());
        }
        assert!(heuristic_policy("Taxi-v3").is_none());
        let mut policy = heuristic_policy("CartPole-v1").unwrap();
        let mut rng = tokengym::seeding::rng_from_seed(Some(0));
        assert!(policy.act(&Value::Discrete(0), &mut rng).is_err());
    }
}
