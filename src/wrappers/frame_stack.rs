//! `FrameStack`: observe the last `k` observations at once.

use crate::env::{ActOf, Env, Step, Transition};
use crate::error::{Error, Result};
use crate::info::Info;
use crate::space::{AnySpace, BoxSpace, Space};

/// What fills the stack before `k` observations have been seen (Gymnasium's `padding_type`).
#[derive(Clone, Debug, PartialEq)]
pub enum FramePadding {
    /// Zeros (moved inside the bounds of a box whose range excludes 0, like Gymnasium's
    /// `create_zero_array`): Gymnasium's `"zero"`.
    Zero,
    /// Copies of the reset observation: Gymnasium's `"reset"` (its default).
    Reset,
    /// A given flat observation (length `flatdim` of the inner space): Gymnasium's custom
    /// padding value.
    Value(Vec<f32>),
}

/// Stacks the last `k` flattened observations into a box of shape `[k, ...]`, oldest first and
/// newest last (Gymnasium's `FrameStackObservation`).
///
/// `...` is the inner box's shape, or `[flatdim]` for other spaces. After a reset, the first
/// `k - 1` rows hold the padding (see [`FramePadding`]; [`FrameStack::new`] repeats the reset observation, Gymnasium's default).
/// The rows live in a ring buffer filled through the inner environment's
/// [`Env::step_flat`], so [`Env::step_flat`] on this wrapper does not allocate; `step` allocates
/// only the returned `Vec`.
pub struct FrameStack<E> {
    env: E,
    obs_space: BoxSpace<f32>,
    stack_size: usize,
    frame_len: usize,
    padding: FramePadding,
    /// Flat padding row for `Zero` / `Value`.
    pad_row: Vec<f32>,
    /// `stack_size` rows of `frame_len`; row `head` is the oldest.
    ring: Vec<f32>,
    head: usize,
}

impl<E: Env> FrameStack<E> {
    /// Wraps `env`, stacking `stack_size` observations, padding with the reset observation
    /// (Gymnasium's default `padding_type="reset"`).
    pub fn new(env: E, stack_size: usize) -> Result<Self> {
        Self::with_padding(env, stack_size, FramePadding::Reset)
    }

    /// Wraps `env` with the given padding; `stack_size` must be positive and a
    /// [`FramePadding::Value`] must have the inner space's `flatdim`.
    pub fn with_padding(env: E, stack_size: usize, padding: FramePadding) -> Result<Self> {
        if stack_size == 0 {
            return Err(Error::invalid_argument(
                "FrameStack: stack_size must be positive",
            ));
        }
        let inner = env.observation_space();
        let d = inner.flatdim();
        let (shape, low, high) = flat_bounds(&inner.to_any(), d);
        let pad_row = match &padding {
            FramePadding::Value(v) if v.len() != d => {
                return Err(Error::shape("FrameStack padding value", d, v.len()));
            }
            FramePadding::Value(v) => v.clone(),
            // Zero moved inside the bounds (Gymnasium's create_zero_array).
            _ => low
                .iter()
                .zip(&high)
                .map(|(&l, &h)| 0f32.clamp(l, h))
                .collect(),
        };
        let mut stacked_shape = vec![stack_size];
        stacked_shape.extend(shape);
        let obs_space = BoxSpace::new(
            low.repeat(stack_size),
            high.repeat(stack_size),
            stacked_shape,
        )?;
        Ok(FrameStack {
            env,
            obs_space,
            stack_size,
            frame_len: d,
            padding,
            pad_row,
            ring: vec![0.0; stack_size * d],
            head: 0,
        })
    }

    /// The number of stacked observations.
    pub fn stack_size(&self) -> usize {
        self.stack_size
    }

    /// The padding.
    pub fn padding(&self) -> &FramePadding {
        &self.padding
    }

    inner_accessors!();

    fn fill_after_reset(&mut self) {
        // The reset observation sits in the last row; pad the rows before it.
        let d = self.frame_len;
        let k = self.stack_size;
        let (pad, last) = self.ring.split_at_mut((k - 1) * d);
        let source: &[f32] = match self.padding {
            FramePadding::Reset => last,
            _ => &self.pad_row,
        };
        for row in pad.chunks_exact_mut(d.max(1)) {
            row.copy_from_slice(source);
        }
        self.head = 0;
    }

    fn write_stacked(&self, out: &mut [f32]) -> Result<()> {
        if out.len() != self.ring.len() {
            return Err(Error::shape(
                "stacked observation",
                self.ring.len(),
                out.len(),
            ));
        }
        let split = self.head * self.frame_len;
        let (newer, older) = self.ring.split_at(split);
        out[..older.len()].copy_from_slice(older);
        out[older.len()..].copy_from_slice(newer);
        Ok(())
    }

    fn stacked(&self) -> Result<Vec<f32>> {
        let mut out = vec![0.0; self.ring.len()];
        self.write_stacked(&mut out)?;
        Ok(out)
    }

    fn do_reset(&mut self, seed: Option<u64>) -> Result<Info> {
        let k = self.stack_size;
        let d = self.frame_len;
        let info = {
            let (_, last) = self.ring.split_at_mut((k - 1) * d);
            self.env.reset_flat(seed, last)?
        };
        self.fill_after_reset();
        Ok(info)
    }

    fn do_step(&mut self, action: &ActOf<E>) -> Result<Transition> {
        let slot = self.head;
        let d = self.frame_len;
        let t = {
            let row = &mut self.ring[slot * d..(slot + 1) * d];
            self.env.step_flat(action, row)?
        };
        self.head = (slot + 1) % self.stack_size;
        Ok(t)
    }
}

/// Shape and flat bounds of a space's flattening.
fn flat_bounds(space: &AnySpace, d: usize) -> (Vec<usize>, Vec<f32>, Vec<f32>) {
    match space {
        AnySpace::BoxF32(b) => (b.shape().to_vec(), b.low().to_vec(), b.high().to_vec()),
        AnySpace::BoxF64(b) => (
            b.shape().to_vec(),
            b.low().iter().map(|&x| x as f32).collect(),
            b.high().iter().map(|&x| x as f32).collect(),
        ),
        // One-hot or 0/1 encodings.
        AnySpace::Discrete(_) | AnySpace::MultiBinary(_) | AnySpace::MultiDiscrete(_) => {
            (vec![d], vec![0.0; d], vec![1.0; d])
        }
        _ => (vec![d], vec![f32::NEG_INFINITY; d], vec![f32::INFINITY; d]),
    }
}

impl<E: Env> Env for FrameStack<E> {
    type ObsSpace = BoxSpace<f32>;
    type ActSpace = E::ActSpace;

    fn observation_space(&self) -> &BoxSpace<f32> {
        &self.obs_space
    }
    fn action_space(&self) -> &Self::ActSpace {
        self.env.action_space()
    }
    fn reset(&mut self, seed: Option<u64>) -> Result<(Vec<f32>, Info)> {
        let info = self.do_reset(seed)?;
        Ok((self.stacked()?, info))
    }
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &crate::env::ResetOptions,
    ) -> Result<(Vec<f32>, Info)> {
        if options.is_empty() {
            return self.reset(seed);
        }
        let (obs, info) = self.env.reset_with_options(seed, options)?;
        let (_, last) = self
            .ring
            .split_at_mut((self.stack_size - 1) * self.frame_len);
        self.env.observation_space().flatten_into(&obs, last)?;
        self.fill_after_reset();
        Ok((self.stacked()?, info))
    }
    fn step(&mut self, action: &ActOf<Self>) -> Result<Step<Vec<f32>>> {
        let t = self.do_step(action)?;
        Ok(Step {
            obs: self.stacked()?,
            reward: t.reward,
            terminated: t.terminated,
            truncated: t.truncated,
            info: t.info,
        })
    }
    forward_render!();
    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        let info = self.do_reset(seed)?;
        self.write_stacked(obs_out)?;
        Ok(info)
    }
    fn step_flat(&mut self, action: &ActOf<Self>, obs_out: &mut [f32]) -> Result<Transition> {
        let t = self.do_step(action)?;
        self.write_stacked(obs_out)?;
        Ok(t)
    }
}

impl<E> FrameStack<E> {
    /// The newest row of the stack (the latest flattened observation).
    pub fn newest(&self) -> &[f32] {
        let k = self.stack_size;
        let newest = (self.head + k - 1) % k;
        &self.ring[newest * self.frame_len..(newest + 1) * self.frame_len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::Discrete;
    use crate::wrappers::TransformObservation;
    use crate::wrappers::test_envs::{Counter, Line};

    #[test]
    fn zero_padding_then_sliding_window() {
        let mut env = FrameStack::with_padding(Counter::new(None), 3, FramePadding::Zero).unwrap();
        assert_eq!(env.observation_space().shape(), &[3, 1]);
        assert_eq!(env.observation_space().high(), &[1e6, 1e6, 1e6]);
        let (o, _) = env.reset(None).unwrap();
        assert_eq!(o, vec![0.0, 0.0, 0.0]);
        let seq: Vec<Vec<f32>> = (0..4).map(|_| env.step(&0).unwrap().obs).collect();
        assert_eq!(
            seq,
            vec![
                vec![0.0, 0.0, 1.0],
                vec![0.0, 1.0, 2.0],
                vec![1.0, 2.0, 3.0],
                vec![2.0, 3.0, 4.0]
            ]
        );
        assert_eq!(env.newest(), &[4.0]);
        assert!(env.observation_space().contains(&seq[3]));
    }

    #[test]
    fn reset_padding_repeats_the_first_observation() {
        // Line's observation box is [-2, 2] x [0, 10]; zero is inside it.
        let mut env = FrameStack::with_padding(Line::new(), 2, FramePadding::Reset).unwrap();
        let mut buf = [9.0; 4];
        env.reset_flat(None, &mut buf).unwrap();
        assert_eq!(buf, [0.0; 4]);
        env.step_flat(&vec![1.0, 2.0], &mut buf).unwrap();
        assert_eq!(buf, [0.0, 0.0, 1.0, 2.0]);
        let o = env.step(&vec![-1.0, 5.0]).unwrap().obs;
        assert_eq!(o, vec![1.0, 2.0, -1.0, 5.0]);
        // A second reset pads with that reset's observation, forgetting the old episode.
        let (o, _) = env.reset(None).unwrap();
        assert_eq!(o, vec![0.0; 4]);
        let mut counter =
            FrameStack::with_padding(Counter::new(None), 3, FramePadding::Reset).unwrap();
        counter.reset(None).unwrap();
        counter.step(&0).unwrap();
        assert_eq!(counter.step(&0).unwrap().obs, vec![0.0, 1.0, 2.0]);
    }

    #[test]
    fn custom_padding_and_non_box_spaces() {
        let parity = Discrete::new(2).unwrap();
        let inner =
            TransformObservation::new(Counter::new(None), |o: [f32; 1]| o[0] as i64 % 2, parity);
        let mut env =
            FrameStack::with_padding(inner, 2, FramePadding::Value(vec![0.5, 0.5])).unwrap();
        assert_eq!(env.observation_space().shape(), &[2, 2]);
        let (o, _) = env.reset(None).unwrap();
        assert_eq!(o, vec![0.5, 0.5, 1.0, 0.0]);
        assert_eq!(env.step(&0).unwrap().obs, vec![1.0, 0.0, 0.0, 1.0]);
        assert!(
            FrameStack::with_padding(Counter::new(None), 2, FramePadding::Value(vec![])).is_err()
        );
        assert!(FrameStack::new(Counter::new(None), 0).is_err());
        // Gymnasium's default padding.
        let default_padded = FrameStack::new(Counter::new(None), 2).unwrap();
        assert_eq!(default_padded.padding(), &FramePadding::Reset);
        let mut wrong = [0.0; 3];
        assert!(env.reset_flat(None, &mut wrong).is_err());
    }

    #[test]
    fn zero_padding_is_moved_inside_the_bounds() {
        // Observations in [1, 3]: the "zero" padding becomes 1 (Gymnasium's create_zero_array).
        let space = BoxSpace::<f32, [f32; 1]>::new(vec![1.0], vec![3.0], vec![1]).unwrap();
        let inner =
            TransformObservation::new(Counter::new(None), |o: [f32; 1]| [o[0] + 1.0], space);
        let mut env = FrameStack::with_padding(inner, 2, FramePadding::Zero).unwrap();
        assert_eq!(env.reset(None).unwrap().0, vec![1.0, 1.0]);
        assert_eq!(env.step(&0).unwrap().obs, vec![1.0, 2.0]);
    }
}
