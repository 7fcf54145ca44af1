//! The entry point every binary shares ([`run_main`]): parse the arguments, run, and turn any
//! failure into one readable `error:` line on stderr and exit code 1; and the flags several
//! binaries share ([`DtypeArg`]).

use clap::Parser;

/// Parses the command line into `A` and calls `run` with it. `--help` and `--version` print
/// and exit 0; a usage error prints `error: <what clap says> (see <name> --help)`, an error of
/// `run` prints `error: <the error and its causes>`, each on one line, and exits 1. A closed
/// stdout (`rollout --list | head -1`) ends the process quietly, as it ends other Unix tools,
/// instead of a panic in `println!`.
pub fn run_main<A: Parser>(name: &str, run: impl FnOnce(A) -> anyhow::Result<()>) {
    default_sigpipe();
    let args = match A::try_parse() {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let text = e.to_string();
            let line = text.lines().next().unwrap_or("invalid arguments");
            let line = line.trim().trim_start_matches("error:").trim();
            eprintln!("error: {line} (see {name} --help)");
            std::process::exit(1);
        }
    };
    if let Err(e) = run(args) {
        eprintln!("error: {}", one_line(&e));
        std::process::exit(1);
    }
}

/// Gives SIGPIPE its default action back (Rust ignores it, which turns a write to a closed pipe
/// into an error that `println!` panics on).
fn default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: `signal` with `SIG_DFL` only resets the disposition of SIGPIPE; it is called
    // first thing in `main`, before any other thread exists or any handler is relied on.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// An error with its causes (`anyhow`'s `{:#}`) on one line.
fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn errors_and_their_causes_fit_one_line() {
        let e = Err::<(), _>(anyhow::anyhow!("bad\nvalue"))
            .context("reading config")
            .unwrap_err();
        assert_eq!(one_line(&e), "reading config: bad value");
    }
}

/// The `--dtype` of the LM binaries: the kind the model's parameters are loaded in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DtypeArg {
    /// 32-bit floats.
    F32,
    /// 16-bit floats.
    F16,
    /// bfloat16.
    Bf16,
}

impl DtypeArg {
    /// The libtorch kind.
    pub fn kind(self) -> tch::Kind {
        match self {
            Self::F32 => tch::Kind::Float,
            Self::F16 => tch::Kind::Half,
            Self::Bf16 => tch::Kind::BFloat16,
        }
    }
}
