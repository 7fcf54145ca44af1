//! A stack of [`Dense`] layers with an activation after every layer except, optionally, the
//! last, and the caches backpropagation needs (every layer's output, grown on demand and kept).

use crate::error::{Error, Result};
use crate::nn::architecture::Activation;
use crate::nn::native::activation;
use crate::nn::native::dense::Dense;

/// An MLP whose parameters live in a flat store (see `ParamStore`).
#[derive(Debug, Clone)]
pub struct NativeMlp {
    layers: Vec<Dense>,
    activation: Activation,
    /// Whether the last layer is followed by the activation too (a shared trunk).
    activate_last: bool,
    /// Output of every layer (after its activation), `[rows, out_dim]`.
    outputs: Vec<Vec<f32>>,
    /// Gradient scratch per layer, `[rows, out_dim]`.
    deltas: Vec<Vec<f32>>,
    /// Rows the buffers hold.
    rows: usize,
    /// Rows of the last forward pass.
    n: usize,
    /// Scratch for a weight in `[out, in]` layout during backpropagation.
    w_scratch: Vec<f32>,
}

impl NativeMlp {
    /// An MLP from its layers (consecutive widths must agree).
    pub fn new(layers: Vec<Dense>, activation: Activation, activate_last: bool) -> Result<Self> {
        if layers.is_empty() {
            return Err(Error::InvalidArgument("an MLP needs a layer".to_owned()));
        }
        if layers.windows(2).any(|w| w[0].out_dim != w[1].in_dim) {
            return Err(Error::Shape("consecutive layer widths differ".to_owned()));
        }
        let k = layers.len();
        Ok(Self {
            layers,
            activation,
            activate_last,
            outputs: vec![Vec::new(); k],
            deltas: vec![Vec::new(); k],
            rows: 0,
            n: 0,
            w_scratch: Vec::new(),
        })
    }

    /// Input width.
    pub fn in_dim(&self) -> usize {
        self.layers[0].in_dim
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.layers[self.layers.len() - 1].out_dim
    }

    fn reserve(&mut self, n: usize) {
        if n > self.rows {
            for ((layer, out), delta) in self
                .layers
                .iter()
                .zip(&mut self.outputs)
                .zip(&mut self.deltas)
            {
                out.resize(n * layer.out_dim, 0.0);
                delta.resize(n * layer.out_dim, 0.0);
            }
            self.rows = n;
        }
    }

    /// Runs `n` rows of `x` (`[n, in_dim]`) through the network; the result is
    /// [`output`](Self::output).
    pub fn forward(&mut self, params: &[f32], x: &[f32], n: usize) -> Result<()> {
        if x.len() < n * self.in_dim() {
            return Err(Error::Shape(format!(
                "MLP input has {} values, need {n} x {}",
                x.len(),
                self.in_dim()
            )));
        }
        self.reserve(n);
        let last = self.layers.len() - 1;
        for i in 0..self.layers.len() {
            let (done, rest) = self.outputs.split_at_mut(i);
            let input: &[f32] = if i == 0 { x } else { &done[i - 1] };
            let out = &mut rest[0];
            self.layers[i].forward(params, input, n, out)?;
            if i < last || self.activate_last {
                activation::apply(self.activation, &mut out[..n * self.layers[i].out_dim]);
            }
        }
        self.n = n;
        Ok(())
    }

    /// The output of the last forward pass, `[n, out_dim]`.
    pub fn output(&self) -> &[f32] {
        &self.outputs[self.outputs.len() - 1][..self.n * self.out_dim()]
    }

    /// Backpropagates `d_out` (`[n, out_dim]`, the gradient with respect to
    /// [`output`](Self::output)) through the last forward pass whose input was `x`, adding
    /// parameter gradients to `grads`; writes the gradient with respect to `x` into `d_x` when
    /// given.
    pub fn backward(
        &mut self,
        params: &[f32],
        grads: &mut [f32],
        x: &[f32],
        d_out: &[f32],
        d_x: Option<&mut [f32]>,
    ) -> Result<()> {
        let n = self.n;
        let last = self.layers.len() - 1;
        if d_out.len() != n * self.out_dim() || x.len() < n * self.in_dim() {
            return Err(Error::Shape(format!(
                "MLP backward: output gradient has {} values, need {n} x {}",
                d_out.len(),
                self.out_dim()
            )));
        }
        let d_last = &mut self.deltas[last][..d_out.len()];
        d_last.copy_from_slice(d_out);
        if self.activate_last {
            activation::backprop(self.activation, &self.outputs[last][..d_out.len()], d_last);
        }
        let mut d_x = d_x;
        for i in (0..self.layers.len()).rev() {
            let layer = &self.layers[i];
            let (lower, upper) = self.deltas.split_at_mut(i);
            let dy = &upper[0][..n * layer.out_dim];
            let input: &[f32] = if i == 0 { x } else { &self.outputs[i - 1] };
            if i == 0 {
                layer.backward(
                    params,
                    grads,
                    input,
                    dy,
                    n,
                    d_x.as_deref_mut(),
                    &mut self.w_scratch,
                )?;
            } else {
                let dx = &mut lower[i - 1][..n * layer.in_dim];
                layer.backward(
                    params,
                    grads,
                    input,
                    dy,
                    n,
                    Some(&mut *dx),
                    &mut self.w_scratch,
                )?;
                activation::backprop(self.activation, &self.outputs[i - 1][..dx.len()], dx);
            }
        }
        Ok(())
    }
}
