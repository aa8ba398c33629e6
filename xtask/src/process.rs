//! Processes the tasks start and must not leave behind (servers, poolers, load
//! generators), free ports, and Debian packages installed when a tool is missing.

use anyhow::{Context, bail};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::run;

/// A child process, killed and reaped when dropped (`std::process::Child` is not).
pub(crate) struct Running(Option<Child>);

impl Running {
    pub(crate) fn new(child: Child) -> Running {
        Running(Some(child))
    }

    /// The process id.
    pub(crate) fn id(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }

    /// Waits for it to end by itself and collects what it printed.
    pub(crate) fn wait_with_output(mut self) -> anyhow::Result<Output> {
        let child = self.0.take().context("the process was already reaped")?;
        Ok(child.wait_with_output()?)
    }

    /// Waits until something accepts connections on `port` of 127.0.0.1, for at most
    /// `patience`; fails early when the process ends, naming `log`.
    pub(crate) fn wait_for_port(
        &mut self,
        port: u16,
        patience: Duration,
        log: &Path,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let ended = match self.0.as_mut() {
                Some(child) => child.try_wait()?.is_some(),
                None => true,
            };
            if ended || started.elapsed() > patience {
                bail!(
                    "nothing listens on port {port} ({}); see {}",
                    if ended {
                        "the process ended"
                    } else {
                        "timed out"
                    },
                    log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A port on 127.0.0.1 that nothing listens on at the moment.
pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Installs Debian's `packages` when `tool` is not on the PATH (as `.ci/run` does).
pub(crate) fn ensure_tool(tool: &str, packages: &[&str]) -> anyhow::Result<()> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()?
        .success();
    if found {
        return Ok(());
    }
    install_packages(packages)
}

/// `apt-get install` of `packages` (after `apt-get update`: a fresh machine has no
/// package lists).
pub(crate) fn install_packages(packages: &[&str]) -> anyhow::Result<()> {
    eprintln!("xtask: installing {}", packages.join(" "));
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]);
    run(update)?;
    let mut install = Command::new("apt-get");
    install.args(["install", "-y", "-qq"]).args(packages);
    run(install)
}
