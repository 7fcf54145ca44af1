"""Finding a Rust bench executable for the comparison scripts of this folder."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def find_bench_bin(package, bench):
    """Builds `bench` of `package` with `cargo bench --no-run` and returns the executable cargo
    names (exits with cargo's message when the build fails)."""
    done = subprocess.run(
        ["cargo", "bench", "-p", package, "--bench", bench, "--no-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"cargo bench --no-run ({bench}) failed:\n{done.stderr.strip()}")
    found = re.findall(rf"Executable .*{re.escape(bench)}\.rs \(([^)]+)\)", done.stderr)
    if not found:
        sys.exit(f"cargo named no {bench} executable:\n{done.stderr.strip()}")
    path = Path(found[-1])
    return path if path.is_absolute() else ROOT / path
