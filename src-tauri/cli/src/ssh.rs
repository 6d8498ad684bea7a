//! `skydeck-cli ssh`: log in to a machine with Skydeck's own SSH client. With a command it runs
//! it and passes stdout, stderr and the exit status through; without one it opens a shell on a
//! PTY on the user's terminal (raw mode, window size followed, the terminal restored on every
//! way out).

use clap::Args;
use skydeck_core::ssh::{LoginOptions, ShellEvent, SshSession};
use skydeck_core::{Error, Skydeck};
use std::io::IsTerminal;

#[derive(Args)]
pub struct SshArgs {
    /// A machine (id, or <cloud>/<id>), or a plain [user@]host[:port].
    pub machine: String,
    /// Log in as this user instead of the machine's default.
    #[arg(long)]
    pub user: Option<String>,
    /// A Skydeck key (name or id) instead of the machine's, or a private key file tried after
    /// the Skydeck key and your ssh-agent.
    #[arg(long)]
    pub key: Option<String>,
    /// Trust the server's host key even though it differs from the recorded one (after a
    /// `host_key_changed` refusal, once you know why it changed).
    #[arg(long)]
    pub accept_new_host_key: bool,
    /// The command to run instead of an interactive shell (after `--`).
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// Runs the command; `Ok(status)` is the exit status to leave with.
pub async fn run(deck: &Skydeck, args: SshArgs) -> Result<i32, Error> {
    let opts = LoginOptions {
        user: args.user,
        key: args.key,
        accept_new_host_key: args.accept_new_host_key,
        use_agent: true,
    };
    let session = deck.ssh_login(&args.machine, opts).await?;
    if let Some(fp) = session.new_host_key_fingerprint() {
        eprintln!("skydeck-cli: trusting the host key of {} ({fp}) from now on", session.target.label);
    }
    let status = if args.command.is_empty() {
        interactive(&session).await
    } else {
        // Like `ssh host a b c`: the words joined by spaces, run by the login shell.
        let command = args.command.join(" ");
        let (mut out, mut err) = (tokio::io::stdout(), tokio::io::stderr());
        session.exec(&command, &mut out, &mut err).await
    };
    session.close().await;
    status.map(|s| s as i32)
}

/// Raw mode for as long as it lives; dropping it (normal end, error, panic unwinding) puts the
/// terminal back.
struct RawMode;

impl RawMode {
    fn enable() -> Result<RawMode, Error> {
        crossterm::terminal::enable_raw_mode()
            .map_err(|e| Error::Unavailable(format!("cannot put the terminal in raw mode ({e})")))?;
        Ok(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

async fn interactive(session: &SshSession) -> Result<u32, Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::invalid(
            "command",
            "stdin is not a terminal: give a command after `--` (e.g. skydeck-cli ssh web-1 -- uptime)",
        ));
    }
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    let term = std::env::var("TERM").ok().filter(|t| !t.is_empty()).unwrap_or_else(|| "xterm-256color".into());
    let mut shell = session.shell(&term, cols.into(), rows.into()).await?;
    let _raw = RawMode::enable()?;

    // Stdin is read on its own thread (a blocking read cannot be cancelled) and handed over a
    // channel; the thread ends with the process.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
    std::thread::spawn(move || {
        use std::io::Read;
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 4096];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let mut winch = window_changes()?;
    let mut out = tokio::io::stdout();
    let mut status = None;
    use tokio::io::AsyncWriteExt;
    loop {
        tokio::select! {
            ev = shell.next() => match ev {
                ShellEvent::Output(data) => {
                    let _ = out.write_all(&data).await;
                    let _ = out.flush().await;
                }
                ShellEvent::Exit(s) => status = Some(s),
                ShellEvent::Closed => break,
            },
            Some(input) = rx.recv() => shell.send(&input).await?,
            Some(()) = winch.recv() => {
                if let Ok((c, r)) = crossterm::terminal::size() {
                    shell.resize(c.into(), r.into()).await?;
                }
            }
        }
    }
    Ok(status.unwrap_or(255))
}

/// One message per SIGWINCH (terminal resized).
#[cfg(unix)]
fn window_changes() -> Result<tokio::sync::mpsc::Receiver<()>, Error> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut sig = signal(SignalKind::window_change())
        .map_err(|e| Error::Unavailable(format!("cannot follow the terminal's size ({e})")))?;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        while sig.recv().await.is_some() {
            if tx.send(()).await.is_err() {
                break;
            }
        }
    });
    Ok(rx)
}

#[cfg(not(unix))]
fn window_changes() -> Result<tokio::sync::mpsc::Receiver<()>, Error> {
    // No SIGWINCH: the size stays as it was at the start.
    let (_tx, rx) = tokio::sync::mpsc::channel(1);
    Ok(rx)
}
