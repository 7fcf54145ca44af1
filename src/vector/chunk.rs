//! The per-sub-environment stepping and resetting logic shared by `SyncVecEnv` and
//! `ParallelVecEnv`: both run exactly these functions over runs of sub-environments, which is
//! what makes their results identical.

use super::AutoresetMode;
use super::buffers::ChunkMut;
use crate::env::{ActOf, Env};
use crate::error::{Error, Result};
use crate::seeding::sub_seed;
use crate::space::Space;

/// Where a sub-environment stands between two calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    /// Never reset, or an error left it in an unknown state: `step` is refused.
    NeedsReset,
    /// In an episode.
    Running,
    /// Its episode ended in the last step and it has not been reset since.
    Ended,
}

impl Status {
    /// The status after a step that returned these flags.
    pub(super) fn after_step(mode: AutoresetMode, terminated: bool, truncated: bool) -> Status {
        if mode != AutoresetMode::SameStep && (terminated || truncated) {
            Status::Ended
        } else {
            Status::Running
        }
    }
}

/// Checks, before anything is stepped, that every sub-environment may be stepped in `mode`.
pub(super) fn check_steppable(status: &[Status], mode: AutoresetMode) -> Result<()> {
    for s in status {
        match (s, mode) {
            (Status::NeedsReset, _) => return Err(Error::ResetNeeded),
            (Status::Ended, AutoresetMode::Disabled) => return Err(Error::EpisodeEnded),
            _ => {}
        }
    }
    Ok(())
}

/// Checks a partial-reset mask (Gymnasium's `reset_mask` rules).
pub(super) fn check_mask(mask: &[bool], num_envs: usize) -> Result<()> {
    if mask.len() != num_envs {
        return Err(Error::shape("reset mask", num_envs, mask.len()));
    }
    if !mask.iter().any(|&m| m) {
        return Err(Error::invalid_argument(
            "reset mask must select at least one sub-environment",
        ));
    }
    Ok(())
}

/// Checks that every sub-environment has the spaces of the first one; returns them.
pub(super) fn common_spaces<E: Env>(envs: &[E]) -> Result<(E::ObsSpace, E::ActSpace)> {
    let first = envs.first().ok_or_else(|| {
        Error::invalid_argument("a vector environment needs at least one sub-environment")
    })?;
    let obs = first.observation_space().to_any();
    let act = first.action_space().to_any();
    for (i, env) in envs.iter().enumerate().skip(1) {
        let o = env.observation_space().to_any();
        if o != obs {
            return Err(Error::invalid_argument(format!(
                "sub-environment {i} has observation space {o}, sub-environment 0 has {obs}"
            )));
        }
        let a = env.action_space().to_any();
        if a != act {
            return Err(Error::invalid_argument(format!(
                "sub-environment {i} has action space {a}, sub-environment 0 has {act}"
            )));
        }
    }
    Ok((
        first.observation_space().clone(),
        first.action_space().clone(),
    ))
}

/// Steps `envs` (whose statuses are `status`) with `actions`, writing into `out`.
///
/// Every sub-environment is stepped even when an earlier one fails, so that every execution
/// path (inline, threaded, any chunking) leaves the same states behind; the error of the
/// lowest-index failing sub-environment is returned.
pub(super) fn step_chunk<E: Env>(
    envs: &mut [E],
    status: &[Status],
    mode: AutoresetMode,
    actions: &[ActOf<E>],
    out: &mut ChunkMut<'_>,
) -> Result<()> {
    let mut first_error = None;
    for (j, ((env, status), action)) in envs.iter_mut().zip(status).zip(actions).enumerate() {
        if let Err(e) = step_one(env, *status, mode, action, j, out) {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Steps sub-environment `j` of a chunk.
fn step_one<E: Env>(
    env: &mut E,
    status: Status,
    mode: AutoresetMode,
    action: &ActOf<E>,
    j: usize,
    out: &mut ChunkMut<'_>,
) -> Result<()> {
    let dim = out.dim;
    out.final_mask[j] = false;
    if mode == AutoresetMode::NextStep && status == Status::Ended {
        out.infos[j] = env.reset_flat(None, out.obs_row(j))?;
        out.rewards[j] = 0.0;
        out.terminated[j] = false;
        out.truncated[j] = false;
        return Ok(());
    }
    let t = env.step_flat(action, out.obs_row(j))?;
    out.rewards[j] = t.reward;
    out.terminated[j] = t.terminated;
    out.truncated[j] = t.truncated;
    if mode == AutoresetMode::SameStep && t.done() {
        let row = j * dim..(j + 1) * dim;
        out.final_obs[row.clone()].copy_from_slice(&out.obs[row]);
        out.final_infos[j] = t.info;
        out.final_mask[j] = true;
        out.infos[j] = env.reset_flat(None, out.obs_row(j))?;
    } else {
        out.infos[j] = t.info;
    }
    Ok(())
}

/// Resets `envs` (the sub-environments `first, first + 1, ...`), or only those selected by
/// `mask` (indexed like `envs`), writing into `out`.
pub(super) fn reset_chunk<E: Env>(
    envs: &mut [E],
    first: usize,
    seed: Option<u64>,
    mask: Option<&[bool]>,
    out: &mut ChunkMut<'_>,
) -> Result<()> {
    let mut first_error = None;
    for (j, env) in envs.iter_mut().enumerate() {
        if mask.is_some_and(|m| !m[j]) {
            continue;
        }
        let env_seed = seed.map(|s| sub_seed(s, first + j));
        match env.reset_flat(env_seed, out.obs_row(j)) {
            Ok(info) => out.infos[j] = info,
            Err(e) => {
                // Keep resetting the others (see `step_chunk`); report the first failure.
                first_error.get_or_insert(e);
                continue;
            }
        }
        out.rewards[j] = 0.0;
        out.terminated[j] = false;
        out.truncated[j] = false;
        out.final_mask[j] = false;
    }
    first_error.map_or(Ok(()), Err)
}

/// Updates statuses after a successful reset (`mask` indexed like `status`).
pub(super) fn mark_reset(status: &mut [Status], mask: Option<&[bool]>) {
    for (j, s) in status.iter_mut().enumerate() {
        if mask.is_none_or(|m| m[j]) {
            *s = Status::Running;
        }
    }
}

/// Updates statuses after a successful step.
pub(super) fn mark_stepped(
    status: &mut [Status],
    mode: AutoresetMode,
    terminated: &[bool],
    truncated: &[bool],
) {
    for ((s, &te), &tr) in status.iter_mut().zip(terminated).zip(truncated) {
        *s = Status::after_step(mode, te, tr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steppable_rules() {
        use AutoresetMode::*;
        use Status::*;
        assert!(check_steppable(&[Running, Ended], NextStep).is_ok());
        assert!(matches!(
            check_steppable(&[Running, Ended], Disabled),
            Err(Error::EpisodeEnded)
        ));
        assert!(matches!(
            check_steppable(&[Running, NeedsReset], SameStep),
            Err(Error::ResetNeeded)
        ));
        assert_eq!(Status::after_step(SameStep, true, false), Running);
        assert_eq!(Status::after_step(NextStep, false, true), Ended);
        assert_eq!(Status::after_step(Disabled, false, false), Running);
    }

    #[test]
    fn mask_rules() {
        assert!(check_mask(&[true, false], 2).is_ok());
        assert!(matches!(
            check_mask(&[true], 2),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            check_mask(&[false, false], 2),
            Err(Error::InvalidArgument(_))
        ));
        let mut st = [Status::NeedsReset, Status::Ended];
        mark_reset(&mut st, Some(&[false, true]));
        assert_eq!(st, [Status::NeedsReset, Status::Running]);
        mark_reset(&mut st, None);
        assert_eq!(st, [Status::Running, Status::Running]);
    }
}
