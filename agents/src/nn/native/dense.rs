//! One linear layer `Y = X W^T + b` on row-major buffers: forward into a preallocated output,
//! backward to `dW`, `db` (accumulated) and `dX` (overwritten).
//!
//! The weight is stored transposed (`W^T`, `[in, out]`, see `ParamStore`), so every product is
//! a [`gemm`] whose right operand has contiguous rows: `Y = X W^T`, `dW^T += X^T dY`, and
//! `dX = dY W` with `W` transposed into a scratch buffer.
//! (`ndarray::linalg::general_mat_mul` was measured slower on these sizes and allocates its
//! packing buffers on every call.)

use crate::error::{Error, Result};
use crate::nn::native::gemm::{Strided, gemm};

/// The sizes of a linear layer and where its weight and bias live in the flat parameter store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dense {
    /// Input width.
    pub in_dim: usize,
    /// Output width.
    pub out_dim: usize,
    /// Offset of the transposed weight (`[in, out]`, row-major) in the flat store.
    pub w_offset: usize,
    /// Offset of the bias (`[out]`) in the flat store.
    pub b_offset: usize,
}

fn part<'a>(data: &'a [f32], start: usize, len: usize, what: &str) -> Result<&'a [f32]> {
    data.get(start..start + len)
        .ok_or_else(|| Error::Shape(format!("{what} outside its buffer")))
}

fn part_mut<'a>(
    data: &'a mut [f32],
    start: usize,
    len: usize,
    what: &str,
) -> Result<&'a mut [f32]> {
    data.get_mut(start..start + len)
        .ok_or_else(|| Error::Shape(format!("{what} outside its buffer")))
}

impl Dense {
    /// `y[n, out] = x[n, in] W^T + b`.
    pub fn forward(&self, params: &[f32], x: &[f32], n: usize, y: &mut [f32]) -> Result<()> {
        let (i, o) = (self.in_dim, self.out_dim);
        let bias = part(params, self.b_offset, o, "bias")?;
        let wt = part(params, self.w_offset, i * o, "weight")?;
        let y = part_mut(y, 0, n * o, "layer output")?;
        for row in y.chunks_exact_mut(o) {
            row.copy_from_slice(bias);
        }
        let xs = Strided {
            data: part(x, 0, n * i, "layer input")?,
            row_stride: i,
            col_stride: 1,
        };
        gemm(n, o, i, xs, wt, o, y, o, true)
    }

    /// Given `dy[n, out]` (the gradient with respect to this layer's pre-activation output) and
    /// the input `x[n, in]`, adds `x^T dy` to `dW^T` and the column sums of `dy` to `db` in
    /// `grads`, and, when `dx` is given, writes `dx[n, in] = dy W` (using `w_scratch`, grown as
    /// needed, for `W`).
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        params: &[f32],
        grads: &mut [f32],
        x: &[f32],
        dy: &[f32],
        n: usize,
        dx: Option<&mut [f32]>,
        w_scratch: &mut Vec<f32>,
    ) -> Result<()> {
        let (i, o) = (self.in_dim, self.out_dim);
        let dy = part(dy, 0, n * o, "output gradient")?;
        let x = part(x, 0, n * i, "layer input")?;
        let xt = Strided {
            data: x,
            row_stride: 1,
            col_stride: i,
        };
        let dwt = part_mut(grads, self.w_offset, i * o, "weight gradient")?;
        gemm(i, o, n, xt, dy, o, dwt, o, true)?;
        let db = part_mut(grads, self.b_offset, o, "bias gradient")?;
        for row in dy.chunks_exact(o) {
            for (b, &d) in db.iter_mut().zip(row) {
                *b += d;
            }
        }
        if let Some(dx) = dx {
            let wt = part(params, self.w_offset, i * o, "weight")?;
            if w_scratch.len() < i * o {
                w_scratch.resize(i * o, 0.0);
            }
            let w = &mut w_scratch[..i * o];
            for (k, row) in wt.chunks_exact(o).enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    w[j * i + k] = v;
                }
            }
            let dys = Strided {
                data: dy,
                row_stride: o,
                col_stride: 1,
            };
            let dx = part_mut(dx, 0, n * i, "input gradient")?;
            gemm(n, i, o, dys, w, i, dx, i, false)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_backward_by_hand() {
        // W = [[1, 2], [3, 4], [5, 6]] ([out 3, in 2]) stored as W^T, b = [0.5, -1, 0].
        let params = [1.0f32, 3.0, 5.0, 2.0, 4.0, 6.0, 0.5, -1.0, 0.0];
        let d = Dense {
            in_dim: 2,
            out_dim: 3,
            w_offset: 0,
            b_offset: 6,
        };
        let x = [1.0f32, -1.0, 2.0, 0.0];
        let mut y = [0.0f32; 6];
        d.forward(&params, &x, 2, &mut y).unwrap();
        assert_eq!(y, [-0.5, -2.0, -1.0, 2.5, 5.0, 10.0]);
        let dy = [1.0f32, 0.0, -1.0, 0.0, 2.0, 1.0];
        let mut grads = [0.0f32; 9];
        let mut dx = [9.0f32; 4];
        let mut scratch = Vec::new();
        d.backward(&params, &mut grads, &x, &dy, 2, Some(&mut dx), &mut scratch)
            .unwrap();
        // dW = dy^T x = [[1, -1], [4, 0], [1, 1]], stored transposed.
        assert_eq!(&grads[..6], &[1.0, 4.0, 1.0, -1.0, 0.0, 1.0]);
        assert_eq!(&grads[6..], &[1.0, 2.0, 0.0]);
        // dx = dy W.
        assert_eq!(dx, [-4.0, -4.0, 11.0, 14.0]);
        // Gradients accumulate.
        d.backward(&params, &mut grads, &x, &dy, 2, None, &mut scratch)
            .unwrap();
        assert_eq!(&grads[6..], &[2.0, 4.0, 0.0]);
        // Short buffers are errors.
        assert!(d.forward(&params, &x[..3], 2, &mut y).is_err());
        assert!(d.forward(&params, &x, 2, &mut y[..5]).is_err());
        assert!(
            d.backward(&params, &mut grads, &x, &dy[..5], 2, None, &mut scratch)
                .is_err()
        );
    }
}
