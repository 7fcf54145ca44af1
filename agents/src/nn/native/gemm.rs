//! A small single-precision matrix product `C (+)= A B` for the shapes of small MLPs
//! (a few hundred rows, widths up to a few hundred), without allocation.
//!
//! `A` is read through arbitrary strides (so `A` or `A^T` of a row-major buffer both work), `B`
//! and `C` are row-major. The register-blocked kernel keeps a `4 x 16` block of `C` in
//! accumulators while streaming rows of `B`; it is compiled for the baseline target and for
//! AVX2 + FMA, and the AVX2 one is picked at run time where the CPU has it. (An AVX-512 variant
//! with `4 x 32` blocks was 5.6x slower on this project's AMD EPYC machine and was removed.)

use crate::error::{Error, Result};

/// A read-only matrix operand: element `(i, p)` is `data[i * row_stride + p * col_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct Strided<'a> {
    /// The buffer.
    pub data: &'a [f32],
    /// Distance between consecutive rows.
    pub row_stride: usize,
    /// Distance between consecutive columns.
    pub col_stride: usize,
}

/// `C[m, n] = A[m, k] B[k, n]` (or `C += A B` with `accumulate`), where `B` is row-major with
/// row stride `ldb` and `C` is row-major with row stride `ldc`. Out-of-range operands are an
/// [`Error::Shape`].
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    m: usize,
    n: usize,
    k: usize,
    a: Strided<'_>,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
) -> Result<()> {
    if m == 0 || n == 0 {
        return Ok(());
    }
    let a_need = if k == 0 {
        0
    } else {
        (m - 1) * a.row_stride + (k - 1) * a.col_stride + 1
    };
    let b_need = if k == 0 { 0 } else { (k - 1) * ldb + n };
    let c_need = (m - 1) * ldc + n;
    if a.data.len() < a_need || b.len() < b_need || c.len() < c_need || ldb < n || ldc < n {
        return Err(Error::Shape(format!(
            "gemm {m}x{k} * {k}x{n}: operands of {} / {} / {} values (ldb {ldb}, ldc {ldc}) \
             are too small",
            a.data.len(),
            b.len(),
            c.len()
        )));
    }
    let args = Args {
        m,
        n,
        k,
        a,
        b,
        ldb,
        ldc,
        accumulate,
    };
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            unsafe { gemm_avx2_fma(&args, c) };
            return Ok(());
        }
    }
    run::<false>(&args, c);
    Ok(())
}

struct Args<'a> {
    m: usize,
    n: usize,
    k: usize,
    a: Strided<'a>,
    b: &'a [f32],
    ldb: usize,
    ldc: usize,
    accumulate: bool,
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn gemm_avx2_fma(args: &Args<'_>, c: &mut [f32]) {
    run::<true>(args, c);
}

#[inline(always)]
fn run<const FMA: bool>(args: &Args<'_>, c: &mut [f32]) {
    let mut j0 = 0;
    while j0 < args.n {
        let w = args.n - j0;
        j0 += if w >= 16 {
            columns::<16, FMA>(args, c, j0)
        } else if w >= 8 {
            columns::<8, FMA>(args, c, j0)
        } else if w >= 4 {
            columns::<4, FMA>(args, c, j0)
        } else if w >= 2 {
            columns::<2, FMA>(args, c, j0)
        } else {
            columns::<1, FMA>(args, c, j0)
        };
    }
}

/// All rows of the `NR` columns starting at `j0`; returns `NR`.
#[inline(always)]
fn columns<const NR: usize, const FMA: bool>(args: &Args<'_>, c: &mut [f32], j0: usize) -> usize {
    let mut i0 = 0;
    while i0 + 4 <= args.m {
        block::<4, NR, FMA>(args, c, i0, j0);
        i0 += 4;
    }
    while i0 < args.m {
        block::<1, NR, FMA>(args, c, i0, j0);
        i0 += 1;
    }
    NR
}

#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// The `MR x NR` block of `C` at `(i0, j0)`.
#[inline(always)]
fn block<const MR: usize, const NR: usize, const FMA: bool>(
    args: &Args<'_>,
    c: &mut [f32],
    i0: usize,
    j0: usize,
) {
    let mut acc = [[0.0f32; NR]; MR];
    if args.accumulate {
        for (i, row) in acc.iter_mut().enumerate() {
            let start = (i0 + i) * args.ldc + j0;
            row.copy_from_slice(&c[start..start + NR]);
        }
    }
    let (rs, cs) = (args.a.row_stride, args.a.col_stride);
    let a = args.a.data;
    for p in 0..args.k {
        let start = p * args.ldb + j0;
        // The slice has length NR, so the conversion cannot fail; `else` only satisfies the
        // type checker without a panic path.
        let Ok(b) = <&[f32; NR]>::try_from(&args.b[start..start + NR]) else {
            continue;
        };
        let base = i0 * rs + p * cs;
        for (i, row) in acc.iter_mut().enumerate() {
            let av = a[base + i * rs];
            for (x, &bv) in row.iter_mut().zip(b) {
                *x = madd::<FMA>(av, bv, *x);
            }
        }
    }
    for (i, row) in acc.iter().enumerate() {
        let start = (i0 + i) * args.ldc + j0;
        c[start..start + NR].copy_from_slice(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: Strided<'_>, b: &[f32], ldb: usize) -> Vec<f64> {
        let mut c = vec![0.0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    c[i * n + j] += f64::from(a.data[i * a.row_stride + p * a.col_stride])
                        * f64::from(b[p * ldb + j]);
                }
            }
        }
        c
    }

    #[test]
    fn matches_naive_product_for_all_block_shapes() {
        let val = |i: usize| ((i * 37 % 101) as f32 - 50.0) / 25.0;
        for &(m, n, k) in &[
            (9, 37, 5),
            (4, 16, 1),
            (3, 2, 7),
            (17, 4, 64),
            (1, 1, 1),
            (6, 24, 0),
        ] {
            let a_data: Vec<f32> = (0..m * k).map(val).collect();
            let b: Vec<f32> = (0..k * n).map(|i| val(i + 7)).collect();
            // A row-major and A given as the transpose of a [k, m] buffer.
            let mut at = vec![0.0f32; m * k];
            for i in 0..m {
                for p in 0..k {
                    at[p * m + i] = a_data[i * k + p];
                }
            }
            for a in [
                Strided {
                    data: &a_data,
                    row_stride: k,
                    col_stride: 1,
                },
                Strided {
                    data: &at,
                    row_stride: 1,
                    col_stride: m,
                },
            ] {
                let want = naive(m, n, k, a, &b, n);
                let mut c = vec![1.0f32; m * n];
                gemm(m, n, k, a, &b, n, &mut c, n, false).unwrap();
                for (x, y) in c.iter().zip(&want) {
                    assert!((f64::from(*x) - y).abs() < 1e-4, "{m}x{n}x{k}: {x} vs {y}");
                }
                gemm(m, n, k, a, &b, n, &mut c, n, true).unwrap();
                for (x, y) in c.iter().zip(&want) {
                    assert!(
                        (f64::from(*x) - 2.0 * y).abs() < 1e-4,
                        "{m}x{n}x{k} accumulate"
                    );
                }
            }
        }
    }

    #[test]
    fn short_operands_are_errors() {
        let a = [1.0f32; 6];
        let b = [1.0f32; 6];
        let mut c = [0.0f32; 4];
        let s = Strided {
            data: &a,
            row_stride: 3,
            col_stride: 1,
        };
        assert!(gemm(2, 2, 3, s, &b, 2, &mut c, 2, false).is_ok());
        assert_eq!(c, [3.0; 4]);
        assert!(gemm(2, 2, 4, s, &b, 2, &mut c, 2, false).is_err());
        assert!(gemm(2, 3, 3, s, &b, 2, &mut c, 2, false).is_err());
        assert!(gemm(3, 2, 3, s, &b, 2, &mut c, 2, false).is_err());
    }
}
