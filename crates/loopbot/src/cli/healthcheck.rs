//! `loopbot healthcheck`: asks the running `loopbot serve` for `/healthz` on its own machine, for
//! a container's `HEALTHCHECK` (the slim image has no curl). Exits 0 when it answers 200.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// `loopbot healthcheck`
#[derive(Debug, Clone, clap::Args)]
pub struct HealthcheckArgs {
    /// The path to ask for: /healthz (alive) or /readyz (ready for Slack's work).
    #[arg(long, default_value = "/healthz", value_name = "PATH")]
    pub path: String,
}

/// Where to reach a server listening on `listen` from the same machine: a wildcard address
/// becomes the loopback.
pub fn local_address(listen: SocketAddr) -> SocketAddr {
    let mut address = listen;
    if address.ip().is_unspecified() {
        address.set_ip(match address {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    address
}

/// The status line's code of `GET path` on `address`, within a few seconds.
pub fn status_of(address: SocketAddr, path: &str) -> anyhow::Result<u16> {
    let timeout = Duration::from_secs(3);
    let mut stream = TcpStream::connect_timeout(&address, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head)?;
    let line = String::from_utf8_lossy(&head[..n]);
    line.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("not an HTTP answer from {address}"))
}

/// `loopbot healthcheck`: `listen` is `LOOPBOT_LISTEN`.
pub fn run(args: &HealthcheckArgs, listen: SocketAddr) -> anyhow::Result<()> {
    let address = local_address(listen);
    match status_of(address, &args.path)? {
        200 => Ok(()),
        status => anyhow::bail!("{} answered {status}", args.path),
    }
}
