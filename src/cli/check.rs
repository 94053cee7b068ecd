//! `netdoctor check`: argument definitions and glue.
//!
//! Enters the target, samples the counters twice `--interval` seconds apart (once with
//! `--interval 0`), adds the socket and sysctl views to the later sample, runs the
//! rules (`analyze::check::run_check`) and prints the report. The exit code is the verdict:
//! 0 ok, 1 warning, 2 critical, 3 unknown (usage or runtime error). With `--from`, the
//! pasted files are read instead (`cli::from`, `ingest`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;

use super::{OutputArgs, SourceArgs};
use crate::analyze::Severity;
use crate::analyze::check::{CheckOptions, run_check};
use crate::analyze::rules;
use crate::analyze::window::Window;
use crate::collect::procfs::Collector;
use crate::collect::{ProcPaths, Target, enter_target, sockdiag, sysconf, sysctl as live};
use crate::render::check as render;
use crate::snapshot::Snapshot;

/// Seconds between the two samples unless `--interval` says otherwise.
const DEFAULT_INTERVAL_S: f64 = 5.0;

/// The longest interval accepted, in seconds.
const MAX_INTERVAL_S: f64 = 3600.0;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  netdoctor check                        two samples 5 s apart\n  \
netdoctor check --interval 0           lifetime totals only (no rates)\n  \
netdoctor check --netns blue --json    a namespace, as netdoctor.check/v1 JSON\n  \
netdoctor check --from netstat-s.txt --from sysctl.conf   a ticket's pastes\n  \
netdoctor check --min-severity warning Nagios/Icinga style: exit 0 ok, 1 warning, 2 critical, 3 unknown"
)]
pub struct CheckArgs {
    /// Seconds between the two samples; 0 judges lifetime totals only (no rates). Default 5,
    /// and 0 with --root (a captured tree does not change; give --interval to sample a live
    /// /proc mounted elsewhere)
    #[arg(long, value_name = "SECS", value_parser = parse_interval)]
    pub interval: Option<f64>,
    /// Leave out findings below this severity: info, warning, critical (the exit status
    /// follows the findings shown)
    #[arg(long, value_name = "LEVEL", default_value = "info", value_parser = parse_severity)]
    pub min_severity: Severity,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn parse_interval(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !value.is_finite() || !(0.0..=MAX_INTERVAL_S).contains(&value) {
        return Err(format!(
            "the interval must be between 0 and {MAX_INTERVAL_S} seconds"
        ));
    }
    Ok(value)
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    Severity::parse(text)
        .ok_or_else(|| format!("{text:?} is not a severity (info, warning, critical)"))
}

pub fn run(args: CheckArgs) -> anyhow::Result<i32> {
    let (before, after) = if args.source.from.is_empty() {
        let target = args.source.target();
        let interval = args.interval.unwrap_or(match target {
            Target::Root(_) => 0.0,
            _ => DEFAULT_INTERVAL_S,
        });
        sample_target(&target, interval)?
    } else {
        // Pasted text: one snapshot, or a time-ordered series of dated pastes of one host,
        // whose last two make the window (a rate only when their times are known). What
        // ingest understood and skipped goes to standard error.
        let (mut series, _report) = super::from::load_series(&args.source)?;
        let after = series.pop().context("the --from files gave no snapshot")?;
        (series.pop(), after)
    };
    let window = match &before {
        Some(b) => Window::pair(b, &after),
        None => Window::single(&after),
    };
    let options = CheckOptions {
        min_severity: args.min_severity,
    };
    let report = run_check(&window, &options);
    let mut text = if args.output.json {
        render::json(&report).context("serialising the check report")?
    } else {
        render::human(&report, args.output.style())
    };
    text.push('\n');
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(report.exit_code())
}

/// Samples the target once, or twice `interval` seconds apart; the later snapshot also gets
/// the socket and sysctl views.
fn sample_target(target: &Target, interval: f64) -> anyhow::Result<(Option<Snapshot>, Snapshot)> {
    let paths = enter_target(target)?;
    let mut collector = Collector::open(paths.clone());
    let first = collector.sample()?;
    let (before, mut after) = if interval > 0.0 {
        wait_with_progress(interval);
        let second = collector.sample()?;
        (Some(first), second)
    } else {
        (None, first)
    };
    add_socket_view(&paths, &mut after);
    add_sysctl_view(target, &mut after);
    Ok((before, after))
}

/// Waits `interval` seconds; on a terminal, shows a countdown on stderr and clears it.
fn wait_with_progress(interval: f64) {
    let total = Duration::from_secs_f64(interval);
    let stderr = std::io::stderr();
    if !stderr.is_terminal() {
        std::thread::sleep(total);
        return;
    }
    let start = Instant::now();
    loop {
        let elapsed = start.elapsed();
        if elapsed >= total {
            break;
        }
        let left = (total - elapsed).as_secs_f64().ceil();
        let _ = write!(
            stderr.lock(),
            "\rnetdoctor: sampling counters, {left:.0} s left (Ctrl-C to stop) "
        );
        std::thread::sleep((total - elapsed).min(Duration::from_millis(250)));
    }
    let _ = write!(stderr.lock(), "\r{:70}\r", "");
}

/// Fills `snapshot.sockets` (listeners with their accept queues, ports in use per
/// destination) from sock_diag, or /proc/net/tcp when netlink is not available, and records
/// the source status either way.
///
/// Owners are looked up only when a listener is at its limit: naming the process matters
/// then, and walking every /proc/PID/fd otherwise would cost more than the rest of `check`.
fn add_socket_view(paths: &ProcPaths, snapshot: &mut Snapshot) {
    let options = sockdiag::CollectOptions {
        owners: false,
        ..sockdiag::CollectOptions::default()
    };
    let (view, status) = sockdiag::collect_for_snapshot(paths, &options);
    snapshot.sockets = view.map(|mut view| {
        crate::analyze::sockets::annotate(&mut view);
        let any_full = view
            .listeners
            .iter()
            .any(|l| l.backlog.is_some_and(|b| l.queue > 0 && l.queue >= b));
        if any_full && paths.live {
            sockdiag::fill_owners(&paths.proc_dir, &mut view);
        }
        view
    });
    snapshot.set_source(status);
}

/// Fills `snapshot.sysctl`: live values under /proc/sys (of the entered namespace, or of
/// DIR/proc/sys for `--root`) and the configuration files that set them. Only the keys the
/// check rules and the sysctl rules read are read live (plus every configured key), not the
/// whole knowledge base: that is half of `check`'s run time otherwise.
fn add_sysctl_view(target: &Target, snapshot: &mut Snapshot) {
    let root = match target {
        Target::Root(dir) => dir.clone(),
        _ => PathBuf::from("/"),
    };
    let status = live::proc_sys_status(&root);
    if !status.is_available() {
        snapshot.set_source(status);
        return;
    }
    let loader = sysconf::detect_loader(&root);
    let config = match target {
        // Boot-time configuration files set the host's own namespace; a namespace created
        // later starts from kernel defaults, so comparing it with the files would only
        // report noise. Live values only.
        Target::Netns(_) | Target::Pid(_) => sysconf::ConfigSet {
            loader: sysconf::LoaderChoice {
                kind: loader.kind,
                reason: "configuration files apply to the host's namespace at boot, not to \
                         this one: live values only"
                    .to_string(),
            },
            files: Vec::new(),
        },
        _ => sysconf::load_system(&root, loader),
    };
    let needed = rules::RULES
        .iter()
        .flat_map(|rule| rule.needs.iter())
        .filter_map(|need| need.strip_prefix("sysctl:"));
    let view = live::build_view_with_keys(&root, &config, live::rule_keys(&root, needed));
    snapshot.sysctl = Some(view);
    snapshot.set_source(status);
}
