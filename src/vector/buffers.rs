//! `VecStep`: the step-result buffers a vector environment owns and overwrites in place.

use super::AutoresetMode;
use crate::info::Info;
use ndarray::{Array2, ArrayView1};

/// The results of a vector environment's last `reset` or `step`, one entry per sub-environment.
///
/// The vector environment owns these buffers and overwrites them on every call, so stepping
/// does not allocate; copy out what you need to keep. Row `i` of [`VecStep::obs`] is
/// sub-environment `i`'s observation flattened with
/// [`Space::flatten_into`](crate::space::Space::flatten_into) (one-hot for `Discrete`).
///
/// In [`AutoresetMode::SameStep`], a sub-environment whose episode ended in this step has
/// `final_mask()[i] == true`; its final observation and info are
/// [`VecStep::final_obs_row`] and [`VecStep::final_info`], while `obs` and `infos` hold the
/// reset observation and info.
#[derive(Clone, Debug)]
pub struct VecStep {
    pub(super) obs: Array2<f32>,
    pub(super) rewards: Vec<f64>,
    pub(super) terminated: Vec<bool>,
    pub(super) truncated: Vec<bool>,
    pub(super) infos: Vec<Info>,
    /// `num_envs × obs_dim` in SameStep mode, `0 × obs_dim` otherwise.
    pub(super) final_obs: Array2<f32>,
    pub(super) final_infos: Vec<Info>,
    pub(super) final_mask: Vec<bool>,
}

impl VecStep {
    /// Zeroed buffers for `num_envs` sub-environments with observations of length `obs_dim`.
    pub(super) fn new(num_envs: usize, obs_dim: usize, mode: AutoresetMode) -> Self {
        let final_rows = if mode == AutoresetMode::SameStep {
            num_envs
        } else {
            0
        };
        VecStep {
            obs: Array2::zeros((num_envs, obs_dim)),
            rewards: vec![0.0; num_envs],
            terminated: vec![false; num_envs],
            truncated: vec![false; num_envs],
            infos: vec![Info::new(); num_envs],
            final_obs: Array2::zeros((final_rows, obs_dim)),
            final_infos: vec![Info::new(); final_rows],
            final_mask: vec![false; num_envs],
        }
    }

    /// Number of sub-environments.
    pub fn num_envs(&self) -> usize {
        self.rewards.len()
    }

    /// Observations, one flattened observation per row (`num_envs × obs_dim`).
    pub fn obs(&self) -> &Array2<f32> {
        &self.obs
    }

    /// The flattened observation of sub-environment `i` (`None` if `i` is out of range).
    pub fn obs_row(&self, i: usize) -> Option<ArrayView1<'_, f32>> {
        (i < self.num_envs()).then(|| self.obs.row(i))
    }

    /// Rewards.
    pub fn rewards(&self) -> &[f64] {
        &self.rewards
    }

    /// Whether each sub-environment's episode reached a terminal state in this step.
    pub fn terminated(&self) -> &[bool] {
        &self.terminated
    }

    /// Whether each sub-environment's episode was cut short in this step.
    pub fn truncated(&self) -> &[bool] {
        &self.truncated
    }

    /// Whether sub-environment `i`'s episode ended in this step (`terminated || truncated`).
    pub fn done(&self, i: usize) -> bool {
        self.terminated.get(i).copied().unwrap_or(false)
            || self.truncated.get(i).copied().unwrap_or(false)
    }

    /// Infos (the reset info for sub-environments reset in this call).
    pub fn infos(&self) -> &[Info] {
        &self.infos
    }

    /// SameStep mode: which sub-environments ended in this step and were reset. Always all
    /// `false` in the other modes.
    pub fn final_mask(&self) -> &[bool] {
        &self.final_mask
    }

    /// SameStep mode: the final observations, one row per sub-environment; only rows flagged by
    /// [`VecStep::final_mask`] are meaningful. Has zero rows in the other modes.
    pub fn final_obs(&self) -> &Array2<f32> {
        &self.final_obs
    }

    /// SameStep mode: the final observation of sub-environment `i`, if its episode ended in this
    /// step.
    pub fn final_obs_row(&self, i: usize) -> Option<ArrayView1<'_, f32>> {
        (self.final_mask.get(i) == Some(&true) && i < self.final_obs.nrows())
            .then(|| self.final_obs.row(i))
    }

    /// SameStep mode: the info of the step that ended sub-environment `i`'s episode, if it ended
    /// in this step.
    pub fn final_info(&self, i: usize) -> Option<&Info> {
        if self.final_mask.get(i) == Some(&true) {
            self.final_infos.get(i)
        } else {
            None
        }
    }

    /// Mutable views of rows `start..start + len` (for the stepping code).
    pub(super) fn chunk_mut(&mut self, start: usize, len: usize) -> ChunkMut<'_> {
        let dim = self.obs.ncols();
        let end = start + len;
        let has_final = self.final_obs.nrows() == self.num_envs();
        ChunkMut {
            obs: &mut flat_mut(&mut self.obs)[start * dim..end * dim],
            rewards: &mut self.rewards[start..end],
            terminated: &mut self.terminated[start..end],
            truncated: &mut self.truncated[start..end],
            infos: &mut self.infos[start..end],
            final_obs: if has_final {
                &mut flat_mut(&mut self.final_obs)[start * dim..end * dim]
            } else {
                &mut []
            },
            final_infos: if has_final {
                &mut self.final_infos[start..end]
            } else {
                &mut []
            },
            final_mask: &mut self.final_mask[start..end],
            dim,
        }
    }

    /// Moves the results of `src` (a chunk's own buffers, rows `0..src.num_envs()`) into rows
    /// `start..` of `self`. With `mask`, only rows whose `mask` entry is `true` are taken (a
    /// partial reset leaves the others alone). Infos are swapped, not cloned: no allocation.
    pub(super) fn take_rows_from(
        &mut self,
        start: usize,
        src: &mut VecStep,
        mask: Option<&[bool]>,
    ) {
        let dim = self.obs.ncols();
        let n = src.num_envs();
        let has_final = self.final_obs.nrows() == self.num_envs() && src.final_obs.nrows() == n;
        let dst_obs = flat_mut(&mut self.obs);
        let src_obs = flat_mut(&mut src.obs);
        let dst_final = flat_mut(&mut self.final_obs);
        let src_final = flat_mut(&mut src.final_obs);
        for j in 0..n {
            if mask.is_some_and(|m| !m[j]) {
                continue;
            }
            let i = start + j;
            dst_obs[i * dim..(i + 1) * dim].copy_from_slice(&src_obs[j * dim..(j + 1) * dim]);
            self.rewards[i] = src.rewards[j];
            self.terminated[i] = src.terminated[j];
            self.truncated[i] = src.truncated[j];
            // Empty infos (the common case) need no swap: skipping it keeps the source's cache
            // line unwritten, which matters when `src` belongs to another thread's chunk.
            if !(self.infos[i].is_empty() && src.infos[j].is_empty()) {
                std::mem::swap(&mut self.infos[i], &mut src.infos[j]);
            }
            self.final_mask[i] = src.final_mask[j];
            if has_final && src.final_mask[j] {
                dst_final[i * dim..(i + 1) * dim]
                    .copy_from_slice(&src_final[j * dim..(j + 1) * dim]);
                std::mem::swap(&mut self.final_infos[i], &mut src.final_infos[j]);
            }
        }
    }
}

/// The contiguous memory of a standard-layout array.
fn flat_mut(a: &mut Array2<f32>) -> &mut [f32] {
    // Invariant, not input: every array here is built by `Array2::zeros` (standard layout) and
    // never handed out mutably, so it stays contiguous.
    a.as_slice_mut()
        .expect("VecStep arrays are built in standard layout and never re-laid out")
}

/// Mutable views of a run of consecutive sub-environments' result rows.
pub(super) struct ChunkMut<'a> {
    pub(super) obs: &'a mut [f32],
    pub(super) rewards: &'a mut [f64],
    pub(super) terminated: &'a mut [bool],
    pub(super) truncated: &'a mut [bool],
    pub(super) infos: &'a mut [Info],
    /// Empty unless the mode is SameStep.
    pub(super) final_obs: &'a mut [f32],
    /// Empty unless the mode is SameStep.
    pub(super) final_infos: &'a mut [Info],
    pub(super) final_mask: &'a mut [bool],
    pub(super) dim: usize,
}

impl ChunkMut<'_> {
    /// The observation row of the chunk's `j`-th sub-environment.
    pub(super) fn obs_row(&mut self, j: usize) -> &mut [f32] {
        &mut self.obs[j * self.dim..(j + 1) * self.dim]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_rows_respects_mask_and_swaps_infos() {
        let mut dst = VecStep::new(4, 2, AutoresetMode::SameStep);
        let mut src = VecStep::new(2, 2, AutoresetMode::SameStep);
        src.obs.fill(7.0);
        src.rewards.fill(1.5);
        src.terminated[1] = true;
        src.final_mask[1] = true;
        src.final_obs.fill(3.0);
        src.infos[1].insert("k", crate::InfoValue::Int(1));
        src.final_infos[1].insert("f", crate::InfoValue::Int(2));
        dst.take_rows_from(2, &mut src, Some(&[false, true]));
        assert_eq!(dst.obs.row(2).to_vec(), vec![0.0, 0.0]);
        assert_eq!(dst.obs.row(3).to_vec(), vec![7.0, 7.0]);
        assert_eq!(dst.rewards, vec![0.0, 0.0, 0.0, 1.5]);
        assert_eq!(dst.terminated, vec![false, false, false, true]);
        assert_eq!(dst.infos[3].get("k"), Some(&crate::InfoValue::Int(1)));
        assert!(src.infos[1].is_empty());
        assert_eq!(
            dst.final_obs_row(3).map(|r| r.to_vec()),
            Some(vec![3.0, 3.0])
        );
        assert!(dst.final_info(3).is_some_and(|i| i.get("f").is_some()));
        assert!(dst.final_obs_row(2).is_none());
        assert!(dst.final_info(2).is_none());
    }

    #[test]
    fn chunk_views_cover_the_right_rows() {
        let mut s = VecStep::new(3, 2, AutoresetMode::NextStep);
        {
            let mut c = s.chunk_mut(1, 2);
            assert!(c.final_obs.is_empty() && c.final_infos.is_empty());
            c.obs_row(1).copy_from_slice(&[5.0, 6.0]);
            c.rewards[0] = 2.0;
        }
        assert_eq!(s.obs.row(2).to_vec(), vec![5.0, 6.0]);
        assert_eq!(s.rewards(), &[0.0, 2.0, 0.0]);
        assert!(s.final_obs_row(0).is_none());
        assert!(s.obs_row(3).is_none());
        assert!(!s.done(7));
    }
}
