//! Linux: everything from /proc.

use super::{count_close_wait, parse_proc_net_tcp, socket_inode, Counts};
use std::collections::HashSet;

pub(super) fn sample(pid: u32, _child: &tokio::process::Child) -> Counts {
    if exited(pid) {
        // A zombie's fd table is empty: that is not "0 fds", it is unknown.
        return Counts::default();
    }
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        // Gone (or not ours to read): nothing is known.
        return Counts::default();
    };
    let mut fds = 0u64;
    let mut inodes = HashSet::new();
    for entry in dir.flatten() {
        fds += 1;
        if let Ok(target) = std::fs::read_link(entry.path()) {
            if let Some(ino) = target.to_str().and_then(socket_inode) {
                inodes.insert(ino);
            }
        }
    }
    // The process's own network namespace view.
    let mut rows = Vec::new();
    let mut any = false;
    for file in ["tcp", "tcp6"] {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{file}")) {
            any = true;
            rows.extend(parse_proc_net_tcp(&text));
        }
    }
    Counts {
        fds: Some(fds),
        close_wait: any.then(|| count_close_wait(&rows, &inodes)),
    }
}

/// The process has exited (zombie or dead) according to /proc/PID/stat.
fn exited(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    // "pid (comm) S ...": the state follows the last ')' (comm may contain ')').
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    matches!(state, Some('Z' | 'X' | 'x'))
}
