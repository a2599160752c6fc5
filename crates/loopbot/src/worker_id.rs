//! Who a worker is: `host:pid:nonce`. The host and pid say where a lease holder ran, so a
//! process that restarts recognises the work its previous run held (same host, a pid that is
//! gone, or this very process after an in-process restart) and takes it back at once instead of
//! waiting for the lease to run out. A holder on another host, or a live process, is never
//! second-guessed: its leases simply expire if it stops renewing them.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{LazyLock, Mutex};

static HOST: LazyLock<String> = LazyLock::new(|| {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().replace(':', "_"))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
});

/// Workers alive in this process.
static LIVE: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Default::default);

/// A worker's identity; it counts as alive until dropped.
#[derive(Debug)]
pub struct WorkerId(String);

impl WorkerId {
    pub fn new() -> WorkerId {
        let id = format!("{}:{}:{:08x}", *HOST, std::process::id(), fastrand::u32(..));
        live().insert(id.clone());
        WorkerId(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for WorkerId {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for WorkerId {
    fn drop(&mut self) {
        live().remove(&self.0);
    }
}

fn live() -> std::sync::MutexGuard<'static, HashSet<String>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether `holder` is a worker of this host that no longer runs: an earlier worker of this
/// process, or a process that has exited.
pub fn is_gone_from_this_host(holder: &str) -> bool {
    let mut parts = holder.splitn(3, ':');
    let (Some(host), Some(pid), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    if host != HOST.as_str() {
        return false;
    }
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if pid == std::process::id() {
        return !live().contains(holder);
    }
    // Without /proc there is no cheap way to tell; the lease will expire instead.
    Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_worker_of_this_process_is_gone_and_a_live_one_is_not() {
        let alive = WorkerId::new();
        let dropped = WorkerId::new();
        let dropped_id = dropped.as_str().to_string();
        drop(dropped);
        assert!(!is_gone_from_this_host(alive.as_str()));
        assert!(is_gone_from_this_host(&dropped_id));
        assert!(!is_gone_from_this_host("elsewhere:1:00000000"));
        assert!(!is_gone_from_this_host("garbage"));
        if Path::new("/proc/self").exists() {
            // A pid far above Linux's default pid_max is never running.
            assert!(is_gone_from_this_host(&format!("{}:99999999:0", *HOST)));
        }
    }
}
