//! The generators of a seeded space, as Gymnasium's `space.seed(seed)` makes them.

use crate::seeding::{EnvRng, below, rng_from_seed};

/// The generator of a space seeded with [`Space::seed`](super::Space::seed), and those of its
/// subspaces for composite spaces.
///
/// Gymnasium spaces own their generators: `space.seed(s)` gives a simple space
/// `np.random.default_rng(s)`; a `Tuple` or `Dict` seeds its own generator with `s`, draws one
/// seed per subspace from it (`integers(2**31 - 1, size=len(spaces))`, subspaces in order,
/// `Dict` keys sorted) and seeds each subspace with its seed, recursively. Sampling a
/// composite then samples each subspace with its own generator. Our spaces are immutable
/// values, so the generators live here instead, beside the space:
///
/// ```
/// use tokengym::space::{Discrete, Space};
/// let space = Discrete::new(5)?;
/// let mut rng = space.seed(42); // space.seed(42)
/// let a = space.sample_seeded(&mut rng); // space.sample()
/// assert!(space.contains(&a));
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct SpaceRng {
    seed: u64,
    rng: EnvRng,
    children: Vec<SpaceRng>,
}

impl SpaceRng {
    /// The generator of a simple space seeded with `seed` (`np.random.default_rng(seed)`).
    pub fn leaf(seed: u64) -> Self {
        SpaceRng {
            seed,
            rng: rng_from_seed(Some(seed)),
            children: Vec::new(),
        }
    }

    /// The generators of a composite space of `n` subspaces seeded with `seed`: one seed per
    /// subspace is drawn from the composite's own generator, and `child(i, seed_i)` seeds
    /// subspace `i`.
    pub fn composite(seed: u64, n: usize, mut child: impl FnMut(usize, u64) -> SpaceRng) -> Self {
        let mut rng = rng_from_seed(Some(seed));
        // integers(np.iinfo(np.int32).max, size=n): n draws in [0, 2^31 - 1).
        let seeds: Vec<u64> = (0..n).map(|_| below(&mut rng, i32::MAX as u64)).collect();
        let children = seeds
            .iter()
            .enumerate()
            .map(|(i, &s)| child(i, s))
            .collect();
        SpaceRng {
            seed,
            rng,
            children,
        }
    }

    /// The seed this generator was built from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The seeds Gymnasium's `space.seed(seed)` returns, flattened depth first: the seed of a
    /// simple space, or the seeds of every subspace of a composite one.
    pub fn seeds(&self) -> Vec<u64> {
        if self.children.is_empty() {
            vec![self.seed]
        } else {
            self.children.iter().flat_map(SpaceRng::seeds).collect()
        }
    }

    /// The space's own generator.
    pub fn rng(&mut self) -> &mut EnvRng {
        &mut self.rng
    }

    /// The generators of the subspaces (empty for a simple space).
    pub fn children(&mut self) -> &mut [SpaceRng] {
        &mut self.children
    }
}
