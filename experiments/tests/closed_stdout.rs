//! A binary whose stdout is closed early (`rollout --list | head -1`) ends quietly, killed by
//! SIGPIPE like other Unix tools, instead of panicking in `println!` (exit code 101).

use std::process::{Command, Stdio};

#[test]
fn a_closed_stdout_is_not_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollout"))
        .arg("--list")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the binary writes.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        // Either the write failed (SIGPIPE) or everything was written before the close.
        assert!(
            out.status.signal() == Some(13) || out.status.success(),
            "{:?} {stderr}",
            out.status
        );
    }
}
