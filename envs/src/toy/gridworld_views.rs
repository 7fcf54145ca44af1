//! Text views of a [`GridWorld`]: the map with marks, a policy as arrows, a path, a table of
//! values, and the path a policy follows (what the planning and TD examples print).

use super::{ARROWS, Cell, GridWorld};
use crate::toy::mdp::Mdp;

impl GridWorld {
    /// The grid as text, one character per cell, with `mark(state)` overriding the map's
    /// character where it returns `Some`.
    pub fn render_with(&self, mut mark: impl FnMut(usize) -> Option<char>) -> String {
        let mut out = String::with_capacity(self.rows * (self.cols + 1));
        for r in 0..self.rows {
            for c in 0..self.cols {
                let s = r * self.cols + c;
                out.push(mark(s).unwrap_or(self.chars[s]));
            }
            out.push('\n');
        }
        out
    }

    /// A policy (one action per state) as arrows on the free cells.
    pub fn render_policy(&self, policy: &[usize]) -> String {
        self.render_with(|s| match self.cells[s] {
            Cell::Free => policy.get(s).and_then(|&a| ARROWS.get(a)).copied(),
            _ => None,
        })
    }

    /// A path (sequence of states) drawn with `*` over the free cells it visits.
    pub fn render_path(&self, path: &[usize]) -> String {
        self.render_with(|s| {
            (self.cells[s] == Cell::Free && s != self.start && path.contains(&s)).then_some('*')
        })
    }

    /// Values per state as a table (walls as `#`, cliffs as `C`), `width` characters per cell
    /// and `precision` decimals.
    pub fn render_values(&self, values: &[f64], precision: usize) -> String {
        let width = precision + 4;
        let mut out = String::new();
        for r in 0..self.rows {
            let line: Vec<String> = (0..self.cols)
                .map(|c| {
                    let s = r * self.cols + c;
                    match (self.cells[s], values.get(s)) {
                        (Cell::Wall | Cell::Cliff, _) | (_, None) => {
                            format!("{:>width$}", self.chars[s])
                        }
                        (_, Some(v)) => format!("{v:>width$.precision$}"),
                    }
                })
                .collect();
            out.push_str(line.join(" ").trim_end());
            out.push('\n');
        }
        out
    }

    /// The states visited by following `policy` from the start, taking the most likely outcome
    /// of every move, until a terminal transition, a repeated state or `max_steps` moves.
    pub fn follow(&self, mut policy: impl FnMut(usize) -> usize, max_steps: usize) -> Vec<usize> {
        let mut path = vec![self.start];
        let mut s = self.start;
        for _ in 0..max_steps {
            let a = policy(s);
            let Some(o) = self
                .transitions(s, a)
                .iter()
                .max_by(|x, y| x.prob.total_cmp(&y.prob))
            else {
                break;
            };
            let repeated = path.contains(&o.next);
            if o.next != s {
                path.push(o.next);
            }
            if o.terminal || repeated || o.next == s {
                break;
            }
            s = o.next;
        }
        path
    }
}
