//! Link faults inside the run's own network namespace (issue 14.6): the
//! `netem`, `blackhole` and `heal` steps, done with `tc` (tc-netem(8)) and
//! `nft` (nft(8)) started from the namespace's thread, so they change that
//! namespace's loopback and nothing else (a child runs in the namespace of
//! the thread that forked it; see `netrepro_sys::netns`).
//!
//! What the steps do:
//! - `netem`: `tc qdisc replace dev lo root netem ...`: every packet on the
//!   namespace's loopback (both directions go through `lo`'s egress once).
//! - `blackhole`: nftables rules on the *input* hook that drop every packet
//!   from or to one local port. Input, not output: a packet dropped on output
//!   makes the sender's own send fail with EPERM, which is loud; dropped on
//!   input it is simply lost, as on a pulled cable. With `only = "fin"`
//!   the rules match just TCP segments carrying FIN (`tcp flags & fin ==
//!   fin`): data and ACKs pass, the closing handshake is lost in both
//!   directions, every retransmission of it too (RFC 9293 §3.6).
//! - `heal`: the qdisc deleted, the rules flushed.
//!
//! [`prepare`] runs before the server starts and makes sure the tools work
//! here (the `nft` table exists; the kernel has `sch_netem`), so a missing
//! piece skips the scenario with its reason instead of failing a step.

use netrepro_observe::StepOutcome;
use netrepro_scenario::{BlackholeOnly, Netem, Proto, Scenario};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Bound on one `tc` / `nft` run.
const TOOL_TIMEOUT: Duration = Duration::from_secs(5);
/// The nftables table the blackhole rules go in (inside the namespace, so
/// the name cannot collide with the host's).
const TABLE: &str = "netrepro";

/// Where the link-fault tools are, found on PATH before anything starts.
#[derive(Debug, Clone)]
pub struct Tools {
    tc: Option<PathBuf>,
    nft: Option<PathBuf>,
}

/// `name` in a directory of PATH, if there is one.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The tools `sc`'s steps need, or why the scenario cannot run here.
pub fn find_tools(sc: &Scenario) -> Result<Tools, String> {
    let need = |yes: bool, name: &str, pkg: &str| -> Result<Option<PathBuf>, String> {
        if !yes {
            return Ok(None);
        }
        on_path(name).map(Some).ok_or_else(|| {
            format!("link faults need `{name}` (Debian package {pkg}), which is not on PATH")
        })
    };
    Ok(Tools {
        tc: need(sc.uses_netem(), "tc", "iproute2")?,
        nft: need(sc.uses_blackhole(), "nft", "nftables")?,
    })
}

/// Run `program args` (with `stdin` fed to it), bounded; Err names what failed.
async fn tool(program: &Path, args: &[&str], stdin: Option<&str>) -> Result<(), String> {
    let what = format!("{} {}", program.display(), args.join(" "));
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let run = async {
        let mut child = netrepro_sys::process::inherit::spawning(|| cmd.spawn())
            .map_err(|e| format!("cannot run {what}: {e}"))?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes())
                .await
                .map_err(|e| format!("cannot feed {what}: {e}"))?;
        }
        let out = child
            .wait_with_output()
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            let err: String = err.trim().chars().take(300).collect();
            Err(format!("{what} failed ({}): {err}", out.status))
        }
    };
    tokio::time::timeout(TOOL_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| Err(format!("{what} did not finish within {TOOL_TIMEOUT:?}")))
}

/// The namespace's link, as the steps left it.
#[derive(Debug)]
pub struct Link {
    tools: Tools,
    proto: Proto,
    /// A netem qdisc is on `lo`.
    shaped: bool,
}

/// Make the link ready for `sc`'s steps inside the namespace: the nftables
/// table and chain exist (blackhole), netem can be set and removed (the
/// kernel module is there). Err: why the scenario cannot run here.
pub async fn prepare(sc: &Scenario, tools: Tools) -> Result<Link, String> {
    if let Some(nft) = &tools.nft {
        let script = format!(
            "table inet {TABLE} {{\n chain input {{ type filter hook input priority 0; policy accept; }}\n}}\n"
        );
        tool(nft, &["-f", "-"], Some(&script)).await?;
    }
    if let Some(tc) = &tools.tc {
        tool(
            tc,
            &["qdisc", "add", "dev", "lo", "root", "netem", "delay", "0ms"],
            None,
        )
        .await?;
        tool(tc, &["qdisc", "del", "dev", "lo", "root"], None).await?;
    }
    Ok(Link {
        tools,
        proto: sc.target.proto,
        shaped: false,
    })
}

/// tc-netem(8) arguments for `n`.
pub fn netem_args(n: &Netem) -> Vec<String> {
    let mut a: Vec<String> = ["qdisc", "replace", "dev", "lo", "root", "netem"]
        .map(String::from)
        .into();
    if let Some(ms) = n.delay_ms {
        a.extend(["delay".into(), format!("{ms}ms")]);
    }
    if let Some(p) = n.loss_pct {
        a.extend(["loss".into(), format!("{p}%")]);
    }
    if let Some(p) = n.duplicate_pct {
        a.extend(["duplicate".into(), format!("{p}%")]);
    }
    if let Some(p) = n.reorder_pct {
        a.extend(["reorder".into(), format!("{p}%")]);
    }
    if let Some(k) = n.rate_kbit {
        a.extend(["rate".into(), format!("{k}kbit")]);
    }
    a
}

/// The nft script that drops everything (or, with `only`, just those
/// segments) from or to local `port`.
pub fn blackhole_script(proto: Proto, port: u16, only: Option<BlackholeOnly>) -> String {
    let p = proto.as_str();
    // The parser allows `only` on TCP scenarios alone, so the match is on
    // the TCP header.
    let only = match only {
        None => "",
        Some(BlackholeOnly::Fin) => " tcp flags & fin == fin",
    };
    format!(
        "add rule inet {TABLE} input {p} sport {port}{only} drop\nadd rule inet {TABLE} input {p} dport {port}{only} drop\n"
    )
}

fn outcome(r: Result<(), String>) -> StepOutcome {
    match r {
        Ok(()) => StepOutcome::Ok { bytes: 0 },
        // The tools worked in `prepare`: a failure now is the harness's,
        // shown as a skipped step with the reason, never as the server's.
        Err(reason) => StepOutcome::Skipped { reason },
    }
}

impl Link {
    pub async fn netem(&mut self, n: &Netem) -> StepOutcome {
        let Some(tc) = &self.tools.tc else {
            return outcome(Err("no tc found for this run".into()));
        };
        let args = netem_args(n);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = tool(tc, &args, None).await;
        self.shaped |= r.is_ok();
        outcome(r)
    }

    pub async fn blackhole(&mut self, port: u16, only: Option<BlackholeOnly>) -> StepOutcome {
        let Some(nft) = &self.tools.nft else {
            return outcome(Err("no nft found for this run".into()));
        };
        let script = blackhole_script(self.proto, port, only);
        outcome(tool(nft, &["-f", "-"], Some(&script)).await)
    }

    pub async fn heal(&mut self) -> StepOutcome {
        let mut r = Ok(());
        if let (true, Some(tc)) = (self.shaped, &self.tools.tc) {
            r = tool(tc, &["qdisc", "del", "dev", "lo", "root"], None).await;
            self.shaped = r.is_err();
        }
        if let Some(nft) = &self.tools.nft {
            let flushed = tool(nft, &["flush", "chain", "inet", TABLE, "input"], None).await;
            r = r.and(flushed);
        }
        outcome(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netem_arguments_follow_tc_netem() {
        let n = Netem {
            delay_ms: Some(20),
            loss_pct: Some(5),
            duplicate_pct: None,
            reorder_pct: Some(25),
            rate_kbit: Some(800),
        };
        assert_eq!(
            netem_args(&n).join(" "),
            "qdisc replace dev lo root netem delay 20ms loss 5% reorder 25% rate 800kbit"
        );
        assert_eq!(
            blackhole_script(Proto::Tcp, 4000, None),
            "add rule inet netrepro input tcp sport 4000 drop\nadd rule inet netrepro input tcp dport 4000 drop\n"
        );
        assert_eq!(
            blackhole_script(Proto::Tcp, 4000, Some(BlackholeOnly::Fin)),
            "add rule inet netrepro input tcp sport 4000 tcp flags & fin == fin drop\nadd rule inet netrepro input tcp dport 4000 tcp flags & fin == fin drop\n"
        );
    }
}
