//! One linear layer `Y = X W^T + b` on row-major buffers (`W` is `[out, in]`): forward into a
//! preallocated output, backward to `dW`, `db` (accumulated) and `dX` (overwritten).
//!
//! The matrix products go through `ndarray::linalg::general_mat_mul` (the `matrixmultiply`
//! kernels, which pick AVX2/FMA at run time).

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

use crate::error::{Error, Result};

/// The sizes of a linear layer and where its weight and bias live in the flat parameter store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dense {
    /// Input width.
    pub in_dim: usize,
    /// Output width.
    pub out_dim: usize,
    /// Offset of the weight (`[out, in]`, row-major) in the flat store.
    pub w_offset: usize,
    /// Offset of the bias (`[out]`) in the flat store.
    pub b_offset: usize,
}

fn view(data: &[f32], rows: usize, cols: usize) -> Result<ArrayView2<'_, f32>> {
    let data = data
        .get(..rows * cols)
        .ok_or_else(|| Error::Shape(format!("need [{rows}, {cols}], got {}", data.len())))?;
    ArrayView2::from_shape((rows, cols), data)
        .map_err(|e| Error::Shape(format!("[{rows}, {cols}] view of {}: {e}", data.len())))
}

fn view_mut(data: &mut [f32], rows: usize, cols: usize) -> Result<ArrayViewMut2<'_, f32>> {
    let len = data.len();
    let data = data
        .get_mut(..rows * cols)
        .ok_or_else(|| Error::Shape(format!("need [{rows}, {cols}], got {len}")))?;
    ArrayViewMut2::from_shape((rows, cols), data)
        .map_err(|e| Error::Shape(format!("[{rows}, {cols}] view of {len}: {e}")))
}

impl Dense {
    fn weight<'a>(&self, params: &'a [f32]) -> Result<ArrayView2<'a, f32>> {
        let len = self.in_dim * self.out_dim;
        let w = params
            .get(self.w_offset..self.w_offset + len)
            .ok_or_else(|| Error::Shape("weight outside the parameter store".to_owned()))?;
        view(w, self.out_dim, self.in_dim)
    }

    /// `y[n, out] = x[n, in] W^T + b`.
    pub fn forward(&self, params: &[f32], x: &[f32], n: usize, y: &mut [f32]) -> Result<()> {
        let bias = params
            .get(self.b_offset..self.b_offset + self.out_dim)
            .ok_or_else(|| Error::Shape("bias outside the parameter store".to_owned()))?;
        let xv = view(x, n, self.in_dim)?;
        let w = self.weight(params)?;
        let mut yv = view_mut(y, n, self.out_dim)?;
        for mut row in yv.rows_mut() {
            if let Some(row) = row.as_slice_mut() {
                row.copy_from_slice(bias);
            }
        }
        general_mat_mul(1.0, &xv, &w.t(), 1.0, &mut yv);
        Ok(())
    }

    /// Given `dy[n, out]` (the gradient with respect to this layer's pre-activation output) and
    /// the input `x[n, in]`, adds `dy^T x` to `dW` and the column sums of `dy` to `db` in
    /// `grads`, and, when `dx` is given, writes `dx[n, in] = dy W`.
    pub fn backward(
        &self,
        params: &[f32],
        grads: &mut [f32],
        x: &[f32],
        dy: &[f32],
        n: usize,
        dx: Option<&mut [f32]>,
    ) -> Result<()> {
        let dyv = view(dy, n, self.out_dim)?;
        let xv = view(x, n, self.in_dim)?;
        {
            let len = self.in_dim * self.out_dim;
            let dw = grads
                .get_mut(self.w_offset..self.w_offset + len)
                .ok_or_else(|| Error::Shape("weight outside the gradient store".to_owned()))?;
            let mut dwv = view_mut(dw, self.out_dim, self.in_dim)?;
            general_mat_mul(1.0, &dyv.t(), &xv, 1.0, &mut dwv);
        }
        {
            let db = grads
                .get_mut(self.b_offset..self.b_offset + self.out_dim)
                .ok_or_else(|| Error::Shape("bias outside the gradient store".to_owned()))?;
            for row in dyv.rows() {
                for (b, &d) in db.iter_mut().zip(row) {
                    *b += d;
                }
            }
        }
        if let Some(dx) = dx {
            let w = self.weight(params)?;
            let mut dxv = view_mut(dx, n, self.in_dim)?;
            general_mat_mul(1.0, &dyv, &w, 0.0, &mut dxv);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_backward_by_hand() {
        // W = [[1, 2], [3, 4], [5, 6]] ([out 3, in 2]), b = [0.5, -1, 0].
        let params = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 0.5, -1.0, 0.0];
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
        d.backward(&params, &mut grads, &x, &dy, 2, Some(&mut dx))
            .unwrap();
        // dW = dy^T x: row o = sum_n dy[n, o] x[n].
        assert_eq!(&grads[..6], &[1.0, -1.0, 4.0, 0.0, 1.0, 1.0]);
        assert_eq!(&grads[6..], &[1.0, 2.0, 0.0]);
        // dx = dy W.
        assert_eq!(dx, [-4.0, -4.0, 11.0, 14.0]);
        // Gradients accumulate.
        d.backward(&params, &mut grads, &x, &dy, 2, None).unwrap();
        assert_eq!(&grads[6..], &[2.0, 4.0, 0.0]);
    }
}
