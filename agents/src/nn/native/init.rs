//! Orthogonal initialisation as `torch.nn.init.orthogonal_`: the Q factor of a Gaussian matrix
//! (with the signs fixed so that R has a positive diagonal), times a gain.

use rand_distr::{Distribution, StandardNormal};
use tokengym::seeding::EnvRng;

/// A `[rows, cols]` row-major matrix with orthonormal rows (when `rows <= cols`) or orthonormal
/// columns (when `rows > cols`), scaled by `gain`, drawn from `rng`.
///
/// The QR factorisation uses modified Gram–Schmidt with one re-orthogonalisation pass in
/// `f64`; Gram–Schmidt's R has a positive diagonal, which is what PyTorch's sign correction
/// produces.
pub fn orthogonal(rows: usize, cols: usize, gain: f64, rng: &mut EnvRng) -> Vec<f32> {
    // Work on the tall matrix A: [m, k] with m >= k, stored column by column.
    let (m, k) = if rows >= cols {
        (rows, cols)
    } else {
        (cols, rows)
    };
    let mut q: Vec<Vec<f64>> = (0..k)
        .map(|_| (0..m).map(|_| StandardNormal.sample(rng)).collect())
        .collect();
    for j in 0..k {
        let (done, rest) = q.split_at_mut(j);
        let col = &mut rest[0];
        for _pass in 0..2 {
            for prev in done.iter() {
                let dot: f64 = prev.iter().zip(col.iter()).map(|(a, b)| a * b).sum();
                for (c, p) in col.iter_mut().zip(prev) {
                    *c -= dot * p;
                }
            }
        }
        let norm = col.iter().map(|c| c * c).sum::<f64>().sqrt();
        // A Gaussian matrix has full rank with probability one; guard anyway.
        let inv = if norm > 0.0 { 1.0 / norm } else { 0.0 };
        for c in col.iter_mut() {
            *c *= inv;
        }
    }
    let mut out = vec![0.0f32; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            // Tall case: W[r, c] = Q[r, c] (column c of Q); wide case: W = Q^T.
            let v = if rows >= cols { q[c][r] } else { q[r][c] };
            out[r * cols + c] = (gain * v) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn gram(w: &[f32], rows: usize, cols: usize, by_rows: bool) -> Vec<f64> {
        let n = if by_rows { rows } else { cols };
        let mut g = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                g[i * n + j] = if by_rows {
                    (0..cols)
                        .map(|c| f64::from(w[i * cols + c]) * f64::from(w[j * cols + c]))
                        .sum()
                } else {
                    (0..rows)
                        .map(|r| f64::from(w[r * cols + i]) * f64::from(w[r * cols + j]))
                        .sum()
                };
            }
        }
        g
    }

    #[test]
    fn square_wide_and_tall_are_orthogonal_times_gain() {
        let mut rng = EnvRng::seed_from_u64(3);
        for (rows, cols, gain, by_rows) in [
            (8, 8, 2.0, true),
            (2, 16, 0.01, true),
            (16, 3, std::f64::consts::SQRT_2, false),
        ] {
            let w = orthogonal(rows, cols, gain, &mut rng);
            let g = gram(&w, rows, cols, by_rows);
            let n = if by_rows { rows } else { cols };
            for i in 0..n {
                for j in 0..n {
                    let expect = if i == j { gain * gain } else { 0.0 };
                    assert!(
                        (g[i * n + j] - expect).abs() < 1e-5 * gain * gain.max(1.0),
                        "{rows}x{cols}: G[{i},{j}] = {}",
                        g[i * n + j]
                    );
                }
            }
        }
    }

    #[test]
    fn same_seed_same_matrix() {
        let a = orthogonal(5, 4, 1.0, &mut EnvRng::seed_from_u64(9));
        let b = orthogonal(5, 4, 1.0, &mut EnvRng::seed_from_u64(9));
        let c = orthogonal(5, 4, 1.0, &mut EnvRng::seed_from_u64(10));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
