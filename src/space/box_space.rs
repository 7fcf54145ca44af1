//! `BoxSpace`: a (possibly unbounded) box in R^n of `f32` or `f64`, with a shape.

use super::{AnySpace, Space, Value, check_flat_len, checked_len, mismatch};
use crate::error::{Error, Result};
use crate::seeding::{exponential, normal, random, uniform};
use rand::Rng;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt::{self, Debug, Display};
use std::marker::PhantomData;

/// An element type of a [`BoxSpace`]: `f32` or `f64`.
pub trait BoxElement:
    Copy + PartialOrd + Debug + Display + Default + Send + Sync + Serialize + DeserializeOwned + 'static
{
    /// NumPy-style dtype name (`"float32"`, `"float64"`).
    const DTYPE: &'static str;
    /// Widens to `f64` (exact for both element types).
    fn to_f64(self) -> f64;
    /// Narrows from `f64` (rounds to nearest for `f32`).
    fn from_f64(x: f64) -> Self;
    /// Converts to `f32` (rounds to nearest for `f64`).
    fn to_f32(self) -> f32;
    /// Whether the number is NaN.
    fn is_nan(self) -> bool;
    /// Wraps a vector of this element type into a [`Value`].
    fn into_value(v: Vec<Self>) -> Value;
    /// Borrows the elements of a [`Value`] of this element type.
    fn slice_of(v: &Value) -> Option<&[Self]>;
    /// Wraps a vector-backed box of this element type into an [`AnySpace`].
    fn into_any(space: BoxSpace<Self>) -> AnySpace;
}

impl BoxElement for f32 {
    const DTYPE: &'static str = "float32";
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn to_f32(self) -> f32 {
        self
    }
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    fn into_value(v: Vec<Self>) -> Value {
        Value::BoxF32(v)
    }
    fn slice_of(v: &Value) -> Option<&[Self]> {
        match v {
            Value::BoxF32(x) => Some(x),
            _ => None,
        }
    }
    fn into_any(space: BoxSpace<Self>) -> AnySpace {
        AnySpace::BoxF32(space)
    }
}

impl BoxElement for f64 {
    const DTYPE: &'static str = "float64";
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(x: f64) -> Self {
        x
    }
    fn to_f32(self) -> f32 {
        self as f32
    }
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn into_value(v: Vec<Self>) -> Value {
        Value::BoxF64(v)
    }
    fn slice_of(v: &Value) -> Option<&[Self]> {
        match v {
            Value::BoxF64(x) => Some(x),
            _ => None,
        }
    }
    fn into_any(space: BoxSpace<Self>) -> AnySpace {
        AnySpace::BoxF64(space)
    }
}

/// How a box value is stored: a `Vec<T>` (any length) or a fixed array `[T; N]` (no allocation).
pub trait BoxStorage<T>: Clone + Debug + PartialEq + Send + Sync + 'static {
    /// The fixed number of elements, if the storage has one.
    const FIXED_LEN: Option<usize>;
    /// The elements, row-major.
    fn as_slice(&self) -> &[T];
    /// The elements, row-major, mutably.
    fn as_mut_slice(&mut self) -> &mut [T];
    /// Builds a value of `len` elements (`len` equals `FIXED_LEN` when that is set).
    fn from_fn(len: usize, f: impl FnMut(usize) -> T) -> Self;
    /// Copies a slice, or `None` if its length does not fit the storage.
    fn from_slice(s: &[T]) -> Option<Self>;
}

impl<T: Copy + Debug + PartialEq + Send + Sync + 'static> BoxStorage<T> for Vec<T> {
    const FIXED_LEN: Option<usize> = None;
    fn as_slice(&self) -> &[T] {
        self
    }
    fn as_mut_slice(&mut self) -> &mut [T] {
        self
    }
    fn from_fn(len: usize, f: impl FnMut(usize) -> T) -> Self {
        (0..len).map(f).collect()
    }
    fn from_slice(s: &[T]) -> Option<Self> {
        Some(s.to_vec())
    }
}

impl<T: Copy + Debug + PartialEq + Send + Sync + 'static, const N: usize> BoxStorage<T> for [T; N] {
    const FIXED_LEN: Option<usize> = Some(N);
    fn as_slice(&self) -> &[T] {
        self
    }
    fn as_mut_slice(&mut self) -> &mut [T] {
        self
    }
    fn from_fn(_len: usize, f: impl FnMut(usize) -> T) -> Self {
        std::array::from_fn(f)
    }
    fn from_slice(s: &[T]) -> Option<Self> {
        s.try_into().ok()
    }
}

/// A box `low <= x <= high` (element-wise) with a shape (Gymnasium's `Box`).
///
/// `T` is the element type (`f32` or `f64`), `V` how values are stored: `Vec<T>` by default, or
/// a fixed array such as `[f32; 4]` so that environments return observations without allocating.
/// Bounds may be infinite. Sampling follows Gymnasium: uniform on bounded dimensions, normal on
/// unbounded ones, shifted exponential on half-bounded ones.
///
/// ```
/// use tokengym::space::{BoxSpace, Space};
/// let space = BoxSpace::<f32, [f32; 2]>::new(vec![-1.0, 0.0], vec![1.0, 5.0], vec![2])?;
/// assert!(space.contains(&[0.5, 4.0]));
/// assert!(!space.contains(&[f32::NAN, 4.0]));
/// assert!(BoxSpace::<f32>::new(vec![1.0], vec![0.0], vec![1]).is_err()); // low > high
/// let dynamic: BoxSpace<f32> = space.with_storage()?; // the same box, stored as Vec<f32>
/// assert!(dynamic.contains(&vec![0.5, 4.0]));
/// assert!(space.with_storage::<[f32; 3]>().is_err()); // 2 elements do not fit 3
/// # Ok::<(), tokengym::Error>(())
/// ```
pub struct BoxSpace<T: BoxElement = f32, V: BoxStorage<T> = Vec<T>> {
    low: Vec<T>,
    high: Vec<T>,
    shape: Vec<usize>,
    _storage: PhantomData<fn() -> V>,
}

impl<T: BoxElement, V: BoxStorage<T>> Clone for BoxSpace<T, V> {
    fn clone(&self) -> Self {
        BoxSpace {
            low: self.low.clone(),
            high: self.high.clone(),
            shape: self.shape.clone(),
            _storage: PhantomData,
        }
    }
}

impl<T: BoxElement, V: BoxStorage<T>> Debug for BoxSpace<T, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxSpace")
            .field("low", &self.low)
            .field("high", &self.high)
            .field("shape", &self.shape)
            .field("dtype", &T::DTYPE)
            .finish()
    }
}

impl<T: BoxElement, V: BoxStorage<T>> PartialEq for BoxSpace<T, V> {
    fn eq(&self, other: &Self) -> bool {
        self.shape == other.shape && self.low == other.low && self.high == other.high
    }
}

impl<T: BoxElement, V: BoxStorage<T>> BoxSpace<T, V> {
    /// A box with per-element bounds (row-major, `low.len() == high.len() == shape.product()`).
    pub fn new(low: Vec<T>, high: Vec<T>, shape: Vec<usize>) -> Result<Self> {
        let len = checked_len("Box", &shape)?;
        if low.len() != len || high.len() != len {
            return Err(Error::invalid_space(format!(
                "Box of shape {shape:?} needs {len} bounds, got low {} and high {}",
                low.len(),
                high.len()
            )));
        }
        if let Some(n) = V::FIXED_LEN
            && n != len
        {
            return Err(Error::invalid_space(format!(
                "Box of shape {shape:?} has {len} elements but its storage holds {n}"
            )));
        }
        for (i, (&l, &h)) in low.iter().zip(&high).enumerate() {
            if l.is_nan() || h.is_nan() {
                return Err(Error::invalid_space(format!("Box bound {i} is NaN")));
            }
            if l > h {
                return Err(Error::invalid_space(format!(
                    "Box bound {i}: low {l} > high {h}"
                )));
            }
            if l.to_f64() == f64::INFINITY || h.to_f64() == f64::NEG_INFINITY {
                return Err(Error::invalid_space(format!(
                    "Box bound {i}: low {l} / high {h} leave no finite values"
                )));
            }
        }
        Ok(BoxSpace {
            low,
            high,
            shape,
            _storage: PhantomData,
        })
    }

    /// A 1-D box with the given per-element bounds.
    pub fn from_bounds(low: Vec<T>, high: Vec<T>) -> Result<Self> {
        let n = low.len();
        Self::new(low, high, vec![n])
    }

    /// A box with the same bounds on every element.
    pub fn uniform(low: T, high: T, shape: Vec<usize>) -> Result<Self> {
        let len = checked_len("Box", &shape)?;
        Self::new(vec![low; len], vec![high; len], shape)
    }

    /// Lower bounds, row-major.
    pub fn low(&self) -> &[T] {
        &self.low
    }

    /// Upper bounds, row-major.
    pub fn high(&self) -> &[T] {
        &self.high
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.low.len()
    }

    /// Whether the box has no elements (shape with a zero).
    pub fn is_empty(&self) -> bool {
        self.low.is_empty()
    }

    /// Whether every bound is finite.
    pub fn is_bounded(&self) -> bool {
        self.low
            .iter()
            .chain(&self.high)
            .all(|x| x.to_f64().is_finite())
    }

    /// Clips `value` into the box, element-wise (NaN stays NaN).
    pub fn clip(&self, value: &mut V) {
        for ((x, &l), &h) in value
            .as_mut_slice()
            .iter_mut()
            .zip(&self.low)
            .zip(&self.high)
        {
            if *x < l {
                *x = l;
            } else if *x > h {
                *x = h;
            }
        }
    }

    /// The same box with another storage type (e.g. from `[f32; 4]` to `Vec<f32>`).
    pub fn with_storage<W: BoxStorage<T>>(&self) -> Result<BoxSpace<T, W>> {
        BoxSpace::new(self.low.clone(), self.high.clone(), self.shape.clone())
    }

    /// Which of Gymnasium's four samplers a coordinate with bounds `l`, `h` uses, in the order
    /// Gymnasium fills them: unbounded (normal), bounded below (exponential), bounded above
    /// (negative exponential), bounded (uniform).
    fn kind(l: f64, h: f64) -> usize {
        match (l.is_finite(), h.is_finite()) {
            (false, false) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (true, true) => 3,
        }
    }

    /// One coordinate of kind [`Self::kind`], as Gymnasium's `Box.sample` computes it in
    /// float64 (before the cast to the box's dtype).
    fn draw<R: Rng + ?Sized>(kind: usize, l: f64, h: f64, rng: &mut R) -> f64 {
        match kind {
            0 => normal(rng, 0.0, 1.0),
            1 => exponential(rng, 1.0) + l,
            2 => -exponential(rng, 1.0) + h,
            _ => {
                let range = h - l;
                if range.is_finite() {
                    uniform(rng, l, h)
                } else {
                    // NumPy refuses a range beyond f64 (OverflowError); interpolate instead.
                    let u = random(rng);
                    l * (1.0 - u) + h * u
                }
            }
        }
    }
}

impl<T: BoxElement, V: BoxStorage<T>> Space for BoxSpace<T, V> {
    type Value = V;

    /// Gymnasium's `Box.sample()`: the unbounded coordinates first (standard normal), then
    /// those bounded below only (`low + exponential()`), those bounded above only
    /// (`high - exponential()`), and the bounded ones (`uniform(low, high)`), each group in
    /// row-major order; computed in f64 and rounded to the dtype. A value that rounding puts
    /// past a bound is clamped back inside (Gymnasium leaves it outside, a rare event).
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> V {
        let clamp = |x: T, l: T, h: T| {
            if x < l {
                l
            } else if x > h {
                h
            } else {
                x
            }
        };
        let bounds = |i: usize| (self.low[i], self.high[i]);
        let n = self.low.len();
        let first = self.low.first().zip(self.high.first());
        let first_kind = first.map(|(l, h)| Self::kind(l.to_f64(), h.to_f64()));
        let one_kind = (0..n).all(|i| {
            let (l, h) = bounds(i);
            Some(Self::kind(l.to_f64(), h.to_f64())) == first_kind
        });
        if one_kind {
            // The usual case (all bounded, or all unbounded): one pass in row-major order.
            return V::from_fn(n, |i| {
                let (l, h) = bounds(i);
                let kind = Self::kind(l.to_f64(), h.to_f64());
                clamp(
                    T::from_f64(Self::draw(kind, l.to_f64(), h.to_f64(), rng)),
                    l,
                    h,
                )
            });
        }
        let mut out = V::from_fn(n, |_| T::default());
        let values = out.as_mut_slice();
        for pass in 0..4 {
            for (i, x) in values.iter_mut().enumerate() {
                let (l, h) = bounds(i);
                let kind = Self::kind(l.to_f64(), h.to_f64());
                if kind == pass {
                    *x = clamp(
                        T::from_f64(Self::draw(kind, l.to_f64(), h.to_f64(), rng)),
                        l,
                        h,
                    );
                }
            }
        }
        out
    }

    fn contains(&self, value: &V) -> bool {
        let v = value.as_slice();
        v.len() == self.low.len()
            && v.iter()
                .zip(&self.low)
                .zip(&self.high)
                .all(|((x, l), h)| x >= l && x <= h)
    }

    fn flatdim(&self) -> usize {
        self.low.len()
    }

    fn flatten_into(&self, value: &V, out: &mut [f32]) -> Result<()> {
        check_flat_len(self, out)?;
        let v = value.as_slice();
        if v.len() != out.len() {
            return Err(Error::shape("box value", out.len(), v.len()));
        }
        for (o, x) in out.iter_mut().zip(v) {
            *o = x.to_f32();
        }
        Ok(())
    }

    fn to_any(&self) -> AnySpace {
        T::into_any(BoxSpace {
            low: self.low.clone(),
            high: self.high.clone(),
            shape: self.shape.clone(),
            _storage: PhantomData,
        })
    }

    fn to_value(&self, value: &V) -> Value {
        T::into_value(value.as_slice().to_vec())
    }

    fn from_value(&self, value: &Value) -> Result<V> {
        let s = T::slice_of(value).ok_or_else(|| {
            mismatch(
                self,
                format!("expected a {} box value, got {}", T::DTYPE, value.kind()),
            )
        })?;
        if s.len() != self.low.len() {
            return Err(mismatch(
                self,
                format!("expected {} elements, got {}", self.low.len(), s.len()),
            ));
        }
        V::from_slice(s).ok_or_else(|| mismatch(self, "length does not fit the storage"))
    }
}

impl<T: BoxElement, V: BoxStorage<T>> Display for BoxSpace<T, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let uniform = |b: &[T]| b.windows(2).all(|w| w[0] == w[1]);
        if !self.low.is_empty() && uniform(&self.low) && uniform(&self.high) {
            write!(
                f,
                "Box({}, {}, {:?}, {})",
                self.low[0],
                self.high[0],
                self.shape,
                T::DTYPE
            )
        } else {
            write!(
                f,
                "Box({:?}, {:?}, {:?}, {})",
                self.low,
                self.high,
                self.shape,
                T::DTYPE
            )
        }
    }
}

/// A bound as serialized: a number, or the strings `"inf"` / `"-inf"` (JSON has no infinity).
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum BoundRepr {
    Num(f64),
    Text(String),
}

impl BoundRepr {
    fn from_f64(x: f64) -> Self {
        if x == f64::INFINITY {
            BoundRepr::Text("inf".into())
        } else if x == f64::NEG_INFINITY {
            BoundRepr::Text("-inf".into())
        } else {
            BoundRepr::Num(x)
        }
    }

    fn to_f64(&self) -> std::result::Result<f64, String> {
        match self {
            BoundRepr::Num(x) => Ok(*x),
            BoundRepr::Text(s) => match s.as_str() {
                "inf" | "+inf" | "infinity" => Ok(f64::INFINITY),
                "-inf" | "-infinity" => Ok(f64::NEG_INFINITY),
                other => Err(format!("invalid Box bound {other:?}")),
            },
        }
    }
}

#[derive(Serialize, Deserialize)]
struct BoxRepr {
    low: Vec<BoundRepr>,
    high: Vec<BoundRepr>,
    shape: Vec<usize>,
    dtype: String,
}

impl<T: BoxElement, V: BoxStorage<T>> Serialize for BoxSpace<T, V> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let conv = |b: &[T]| b.iter().map(|x| BoundRepr::from_f64(x.to_f64())).collect();
        BoxRepr {
            low: conv(&self.low),
            high: conv(&self.high),
            shape: self.shape.clone(),
            dtype: T::DTYPE.to_string(),
        }
        .serialize(s)
    }
}

impl<'de, T: BoxElement, V: BoxStorage<T>> Deserialize<'de> for BoxSpace<T, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let r = BoxRepr::deserialize(d)?;
        if r.dtype != T::DTYPE {
            return Err(D::Error::custom(format!(
                "Box dtype {:?} where {:?} was expected",
                r.dtype,
                T::DTYPE
            )));
        }
        let conv = |b: &[BoundRepr]| -> std::result::Result<Vec<T>, D::Error> {
            b.iter()
                .map(|x| x.to_f64().map(T::from_f64).map_err(D::Error::custom))
                .collect()
        };
        let low = conv(&r.low)?;
        let high = conv(&r.high)?;
        BoxSpace::new(low, high, r.shape).map_err(D::Error::custom)
    }
}
