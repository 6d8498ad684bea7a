//! One logged-in SSH connection: run a command (output and exit status passed through) or open
//! an interactive shell on a PTY. Connecting and logging in are each bounded in time.

use super::auth::{self, Credentials};
use super::host_keys::{fingerprint, Checker, Verdict};
use super::target::Target;
use crate::error::{Error, Result};
use russh::client::{self, Handle, Msg};
use russh::{Channel, ChannelMsg, Disconnect};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// TCP connect plus SSH handshake (key exchange, host key check).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// All authentication attempts together (an agent may be slow to sign, a server slow to refuse).
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(20);
/// Opening a channel and starting the command or shell.
const CHANNEL_TIMEOUT: Duration = Duration::from_secs(10);
/// Keep-alives notice a dead link in about a minute even when nothing is typed.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// What happened with the host key on this connection (for the user to see).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyNote {
    /// The key Skydeck already trusted.
    Trusted,
    /// Found in `~/.ssh/known_hosts`, now trusted by Skydeck too.
    FromKnownHosts { fingerprint: String },
    /// First connection: this key is trusted from now on.
    FirstUse { fingerprint: String },
    /// The user accepted a changed key; this one replaces the old.
    Replaced { fingerprint: String },
}

/// A logged-in connection.
pub struct SshSession {
    handle: Handle<Checker>,
    pub target: Target,
    pub user: String,
    pub host_key: HostKeyNote,
}

/// What an interactive shell produces.
#[derive(Debug)]
pub enum ShellEvent {
    /// Terminal output (stdout and stderr share the PTY).
    Output(Vec<u8>),
    /// The remote shell ended with this status (128 + n for a signal, like a local shell).
    Exit(u32),
    /// The channel closed (after `Exit`, or because the link dropped).
    Closed,
}

/// An interactive shell on a PTY.
pub struct Shell {
    channel: Channel<Msg>,
}

fn bounded_err(what: &str, target: &Target, limit: Duration) -> Error {
    Error::Unavailable(format!(
        "{what} {} did not finish within {} s; check that the machine is up and reachable on port {}",
        target.label,
        limit.as_secs(),
        target.port
    ))
}

/// Connects and checks the host key. The returned verdict says how the key was trusted.
pub(super) async fn handshake(target: &Target, checker: Checker) -> Result<(Handle<Checker>, Verdict)> {
    let verdict = checker.verdict.clone();
    let config = Arc::new(client::Config {
        keepalive_interval: Some(KEEPALIVE),
        keepalive_max: 4,
        nodelay: true,
        ..Default::default()
    });
    let addr = (target.host.clone(), target.port);
    let res = tokio::time::timeout(CONNECT_TIMEOUT, client::connect(config, addr, checker)).await;
    let seen = verdict.lock().unwrap_or_else(|p| p.into_inner()).take();
    match (res, seen) {
        (_, Some(Verdict::Changed { expected, got, source })) => Err(Error::HostKeyChanged(format!(
            "the host key of {} has changed: it is now {got}, but {source} recorded {expected}. \
             Someone may be intercepting the connection, or the machine was reinstalled. \
             Nothing was sent. If you know why it changed, accept the new key (--accept-new-host-key)",
            target.label
        ))),
        (Err(_), _) => Err(bounded_err("connecting to", target, CONNECT_TIMEOUT)),
        (Ok(Err(e)), _) => Err(Error::Unavailable(format!(
            "cannot connect to {} over SSH ({e}); check the address, the port and that sshd runs",
            target.label
        ))),
        (Ok(Ok(handle)), Some(v)) => Ok((handle, v)),
        (Ok(Ok(_)), None) => Err(Error::Unavailable(format!(
            "{} finished the SSH handshake without showing a host key; refusing to go on",
            target.label
        ))),
    }
}

impl SshSession {
    pub(super) async fn login(
        mut handle: Handle<Checker>,
        target: Target,
        user: String,
        creds: Credentials,
        host_key: HostKeyNote,
    ) -> Result<SshSession> {
        match tokio::time::timeout(AUTH_TIMEOUT, auth::authenticate(&mut handle, &user, creds)).await {
            Ok(Ok(())) => Ok(SshSession { handle, target, user, host_key }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(bounded_err("logging in to", &target, AUTH_TIMEOUT)),
        }
    }

    async fn channel(&self) -> Result<Channel<Msg>> {
        match tokio::time::timeout(CHANNEL_TIMEOUT, self.handle.channel_open_session()).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(Error::Unavailable(format!(
                "{} refused a session channel ({e}); the account may not allow shells",
                self.target.label
            ))),
            Err(_) => Err(bounded_err("opening a session on", &self.target, CHANNEL_TIMEOUT)),
        }
    }

    /// Runs `command` (a shell command line, as `ssh host COMMAND` sends it) with no input,
    /// copying its stdout and stderr to `out` and `err`. Returns its exit status (255 when the
    /// server sent none, like `ssh`). Not bounded: a command runs as long as it runs; the
    /// keep-alives end it if the link dies.
    pub async fn exec<O, E>(&self, command: &str, out: &mut O, err: &mut E) -> Result<u32>
    where
        O: AsyncWrite + Unpin,
        E: AsyncWrite + Unpin,
    {
        let mut ch = self.channel().await?;
        let started = tokio::time::timeout(CHANNEL_TIMEOUT, async {
            ch.exec(true, command).await?;
            ch.eof().await
        })
        .await;
        match started {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(self.broke(e)),
            Err(_) => return Err(bounded_err("starting the command on", &self.target, CHANNEL_TIMEOUT)),
        }
        let mut status = None;
        while let Some(msg) = ch.wait().await {
            match msg {
                ChannelMsg::Data { data } => write(out, &data).await?,
                ChannelMsg::ExtendedData { data, ext: 1 } => write(err, &data).await?,
                ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                ChannelMsg::ExitSignal { signal_name, .. } => status = Some(128 + signal_number(&signal_name)),
                ChannelMsg::Failure => {
                    return Err(Error::PermissionDenied(format!(
                        "{} refused to run the command for '{}'",
                        self.target.label, self.user
                    )))
                }
                _ => {}
            }
        }
        out.flush().await.ok();
        err.flush().await.ok();
        Ok(status.unwrap_or(255))
    }

    /// Opens a shell on a PTY of `cols`×`rows` with terminal type `term` (e.g. `xterm-256color`).
    pub async fn shell(&self, term: &str, cols: u32, rows: u32) -> Result<Shell> {
        let ch = self.channel().await?;
        let started = tokio::time::timeout(CHANNEL_TIMEOUT, async {
            ch.request_pty(true, term, cols, rows, 0, 0, &[]).await?;
            ch.request_shell(true).await
        })
        .await;
        match started {
            Ok(Ok(())) => Ok(Shell { channel: ch }),
            Ok(Err(e)) => Err(self.broke(e)),
            Err(_) => Err(bounded_err("starting a shell on", &self.target, CHANNEL_TIMEOUT)),
        }
    }

    fn broke(&self, e: russh::Error) -> Error {
        Error::Unavailable(format!("the SSH connection to {} broke ({e}); reconnect", self.target.label))
    }

    /// Says goodbye to the server (best effort, bounded).
    pub async fn close(self) {
        let bye = self.handle.disconnect(Disconnect::ByApplication, "", "en");
        let _ = tokio::time::timeout(Duration::from_secs(2), bye).await;
    }

    /// The fingerprint of the key the server showed, when this connection learned or replaced it.
    pub fn new_host_key_fingerprint(&self) -> Option<&str> {
        match &self.host_key {
            HostKeyNote::FirstUse { fingerprint } | HostKeyNote::Replaced { fingerprint } => Some(fingerprint),
            _ => None,
        }
    }
}

impl Shell {
    /// Sends typed bytes (keys, pasted text) to the remote shell.
    pub async fn send(&self, data: &[u8]) -> Result<()> {
        self.channel
            .data_bytes(data.to_vec())
            .await
            .map_err(|e| Error::Unavailable(format!("the SSH connection dropped ({e}); reconnect")))
    }

    /// Tells the remote PTY the terminal's new size.
    pub async fn resize(&self, cols: u32, rows: u32) -> Result<()> {
        self.channel
            .window_change(cols, rows, 0, 0)
            .await
            .map_err(|e| Error::Unavailable(format!("the SSH connection dropped ({e}); reconnect")))
    }

    /// The next output, exit status or close. Cancel-safe (a select! over input and output).
    pub async fn next(&mut self) -> ShellEvent {
        loop {
            match self.channel.wait().await {
                Some(ChannelMsg::Data { data }) | Some(ChannelMsg::ExtendedData { data, .. }) => {
                    return ShellEvent::Output(data.to_vec())
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => return ShellEvent::Exit(exit_status),
                Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                    return ShellEvent::Exit(128 + signal_number(&signal_name))
                }
                Some(ChannelMsg::Close) | None => return ShellEvent::Closed,
                Some(_) => {}
            }
        }
    }
}

async fn write<W: AsyncWrite + Unpin>(w: &mut W, data: &[u8]) -> Result<()> {
    // A closed local pipe (`| head`) ends the command's output, not in an error worth a code.
    match w.write_all(data).await {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(|e| Error::Unavailable(format!("cannot write the command's output ({e})"))),
    }
}

/// POSIX numbers of the signals SSH names (RFC 4254 §6.10), for the 128+n exit status.
fn signal_number(sig: &russh::Sig) -> u32 {
    use russh::Sig::*;
    match sig {
        HUP => 1,
        INT => 2,
        QUIT => 3,
        ILL => 4,
        ABRT => 6,
        FPE => 8,
        KILL => 9,
        USR1 => 10,
        SEGV => 11,
        PIPE => 13,
        ALRM => 14,
        TERM => 15,
        _ => 127,
    }
}

/// How the verdict reads for the user.
pub(super) fn note(v: &Verdict) -> HostKeyNote {
    match v {
        Verdict::Trusted | Verdict::Changed { .. } => HostKeyNote::Trusted,
        Verdict::FromKnownHosts(k) => HostKeyNote::FromKnownHosts { fingerprint: fingerprint(k) },
        Verdict::FirstUse(k) => HostKeyNote::FirstUse { fingerprint: fingerprint(k) },
        Verdict::Replaced(k) => HostKeyNote::Replaced { fingerprint: fingerprint(k) },
    }
}
