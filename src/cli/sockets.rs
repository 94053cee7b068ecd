//! `netdoctor sockets`: argument definitions and glue (collect → annotate → render).

use std::io::Write;

use anyhow::{Context, bail};
use clap::Args;

use super::{EXIT_OK, OutputArgs, SourceArgs};
use crate::collect::sockdiag::{self, CollectOptions, TcpState, ViewOptions};
use crate::render::sockets as render;
use crate::snapshot::Origin;
use crate::snapshot::sockets::SocketView;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  netdoctor sockets --listen            listeners only (fast on busy hosts)\n  \
netdoctor sockets --port 443 --top 20  connections from or to port 443\n  \
netdoctor sockets --state time-wait    TIME_WAIT sockets per destination\n  \
netdoctor sockets --netns blue --json  a namespace, as netdoctor.sockets/v1 JSON\n  \
netdoctor sockets --from ss-ltn.txt    a pasted `ss -ltn` (or `ss -tan`) from a ticket"
)]
pub struct SocketsArgs {
    /// Show listening sockets only (asks the kernel for LISTEN alone: cheap on busy hosts;
    /// SYN-RECV is then not counted)
    #[arg(long, conflicts_with = "state")]
    pub listen: bool,
    /// Keep only sockets whose local or remote port is N
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Keep only sockets in state S (established, syn-sent, syn-recv, fin-wait-1, fin-wait-2,
    /// time-wait, close, close-wait, last-ack, listen, closing)
    #[arg(long, value_name = "S", value_parser = parse_state)]
    pub state: Option<TcpState>,
    /// How many destinations, local addresses and port-usage rows to show
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Do not look up the processes owning listeners
    #[arg(long)]
    pub no_process: bool,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn parse_state(text: &str) -> Result<TcpState, String> {
    TcpState::parse(text).ok_or_else(|| format!("unknown TCP state {text:?}"))
}

pub fn run(args: SocketsArgs) -> anyhow::Result<i32> {
    if !args.source.from.is_empty() {
        return from_pastes(&args);
    }
    let target = args.source.target();
    let states = if args.listen {
        TcpState::LISTEN.bit()
    } else if let Some(state) = args.state {
        state.bit()
    } else {
        TcpState::ALL_MASK
    };
    let options = CollectOptions {
        view: ViewOptions {
            states,
            port: args.port,
            top: args.top,
            ..ViewOptions::default()
        },
        owners: !args.no_process,
    };
    let paths = crate::collect::enter_target(&target)?;
    let mut view =
        sockdiag::collect_socket_view(&paths, &options).context("cannot read the TCP sockets")?;
    crate::analyze::sockets::annotate(&mut view);
    print(&args, &view, &paths.origin)
}

/// Prints the view as text or JSON.
fn print(args: &SocketsArgs, view: &SocketView, origin: &Origin) -> anyhow::Result<i32> {
    let text = if args.output.json {
        let mut text = render::json(view, origin)?;
        text.push('\n');
        text
    } else {
        render::human(view, origin, args.output.style())
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(EXIT_OK)
}

/// `--from`: the socket table of pasted `ss -ltn` / `ss -tan` output (or a snapshot), read by
/// ingest; listeners' backlogs are ss's Send-Q. somaxconn and the local port range come from a
/// pasted `sysctl -a` when one is given too.
fn from_pastes(args: &SocketsArgs) -> anyhow::Result<i32> {
    if args.port.is_some() || args.state.is_some() {
        bail!(
            "--port and --state select single sockets, but a pasted ss table is read as counts \
             and listeners: filter when taking the paste (`ss -tan state time-wait`, \
             `ss -tan '( sport = :443 or dport = :443 )'`)"
        );
    }
    let (snapshot, report) = super::from::load(&args.source)?;
    let Some(mut view) = snapshot.sockets.clone() else {
        bail!(
            "the --from files hold no socket table ({}); give `ss -ltn` or `ss -tan` output, \
             or a netdoctor snapshot",
            report.formats_read()
        );
    };
    if let Some(sysctl) = &snapshot.sysctl {
        if view.somaxconn.is_none() {
            view.somaxconn = sysctl
                .live("net.core.somaxconn")
                .and_then(|v| v.trim().parse().ok());
        }
        if view.ip_local_port_range.is_none() {
            view.ip_local_port_range = sysctl.live("net.ipv4.ip_local_port_range").and_then(|v| {
                let mut bounds = v.split_whitespace().map(|n| n.parse::<u16>().ok());
                Some((bounds.next()??, bounds.next()??))
            });
        }
    }
    if args.listen {
        view.states.retain(|(state, _)| state == "LISTEN");
        view.states_requested = vec!["LISTEN".to_string()];
        view.total = view.states.iter().map(|(_, n)| *n).sum();
        view.destinations.clear();
        view.local_addresses.clear();
        view.port_usage.clear();
    }
    view.destinations.truncate(args.top);
    view.local_addresses.truncate(args.top);
    view.port_usage.truncate(args.top);
    crate::analyze::sockets::annotate(&mut view);
    print(args, &view, &snapshot.origin)
}
