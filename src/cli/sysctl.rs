//! `netdoctor sysctl`: the effective sysctl table (live, configured, file:line, overrides,
//! default, unit) and the sysctl findings. Glue: collect, analyze, render.
//!
//! Exit code 0 when it ran (findings do not change it), 3 on error.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

use super::{EXIT_OK, OutputArgs, SourceArgs};
use crate::analyze::finding::Evidence;
use crate::analyze::rules::sysctl as rules;
use crate::collect::host::read_host_facts;
use crate::collect::sockdiag::{self, CollectOptions, TcpState, ViewOptions};
use crate::collect::sysconf::{self, ConfigSet, LoaderChoice, LoaderKind, glob_match};
use crate::collect::{ProcPaths, enter_target, sysctl as live};
use crate::render::Style;
use crate::render::sysctl::{self as render, SysctlReport};
use crate::snapshot::{Origin, Snapshot, SourceStatus};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  netdoctor sysctl                        every known and configured key\n  \
netdoctor sysctl 'net.ipv4.tcp_*'       keys matching a glob\n  \
netdoctor sysctl --root /tmp/sosreport   a captured tree (DIR/etc, DIR/proc/sys)\n  \
netdoctor sysctl --from sysctl.conf      judge a pasted file (live values from this host)"
)]
pub struct SysctlArgs {
    /// Show only these keys: a dotted key, a prefix (net.ipv4.conf) or a glob ('net.ipv4.tcp_*')
    #[arg(value_name = "KEY|PATTERN")]
    pub patterns: Vec<String>,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: SysctlArgs) -> anyhow::Result<i32> {
    // Entering a namespace first makes /proc/sys/net show that namespace's values; the
    // configuration files are the host's (they apply to the initial namespace at boot).
    let paths = enter_target(&args.source.target())?;
    let root = match (&paths.sys_dir, live::root_of(&paths)) {
        (_, Some(root)) => root,
        (Err(reason), None) => bail!("cannot read the target's sysctl values: {reason}"),
        (Ok(dir), None) => bail!(
            "cannot read the target's sysctl values from {}",
            dir.display()
        ),
    };
    let (config, origin) = if args.source.from.is_empty() {
        let loader = sysconf::detect_loader(&root);
        (sysconf::load_system(&root, loader), paths.origin.clone())
    } else {
        let config = load_from_args(&args.source.from)?;
        let names = config.files.iter().map(|f| f.path.clone()).collect();
        (config, Origin::Files { files: names })
    };
    let snapshot = collect(&paths, &root, config, origin);
    let evaluation = rules::evaluate_all(&snapshot);
    let mut unavailable = Vec::new();
    for source in &snapshot.sources {
        if let Some(reason) = source.missing_reason() {
            unavailable.push((
                format!("{} ({})", source.name, source.path),
                reason.to_string(),
            ));
        }
    }
    let rows: Vec<_> = rules::table(&snapshot)
        .into_iter()
        .filter(|row| matches_any(&args.patterns, &row.key.key))
        .collect();
    let findings = evaluation
        .findings
        .into_iter()
        .filter(|f| {
            args.patterns.is_empty()
                || f.evidence.iter().any(|e| match e {
                    Evidence::Sysctl { key, .. } => matches_any(&args.patterns, key),
                    _ => false,
                })
        })
        .collect();
    let report = SysctlReport {
        snapshot: &snapshot,
        rows,
        findings,
        not_evaluated: evaluation.not_evaluated,
        unavailable,
    };
    let mut stdout = std::io::stdout().lock();
    if args.output.json {
        writeln!(stdout, "{}", render::json(&report)?)?;
    } else {
        let style = Style::for_stdout(args.output.color);
        stdout.write_all(render::text(&report, style).as_bytes())?;
    }
    stdout.flush()?;
    Ok(EXIT_OK)
}

/// Builds the snapshot the sysctl rules read: host facts and the sysctl view of the system
/// under `root` (`/` or `--root DIR`).
pub fn collect(paths: &ProcPaths, root: &Path, config: ConfigSet, origin: Origin) -> Snapshot {
    let mut snapshot = Snapshot::new(origin);
    snapshot.host = read_host_facts(paths);
    let proc_sys = root.join("proc/sys");
    let proc_sys_shown = proc_sys.display().to_string();
    if proc_sys.is_dir() {
        snapshot.set_source(SourceStatus::available("sysctl", &proc_sys_shown));
    } else {
        snapshot.set_source(SourceStatus::missing(
            "sysctl",
            &proc_sys_shown,
            "no such directory: live values unknown",
        ));
    }
    if snapshot.host.kernel.is_none() {
        snapshot.set_source(SourceStatus::missing(
            "host",
            &proc_sys.join("kernel/osrelease").display().to_string(),
            "kernel version unknown",
        ));
    }
    if let Some(note) = &paths.note {
        snapshot.set_source(note.clone());
    }
    // Listeners tell somaxconn-low which backlogs the limit cut (cheap: LISTEN only, no
    // process lookup). A captured tree or a paste may have none; the rule then says so.
    let options = CollectOptions {
        view: ViewOptions {
            states: TcpState::LISTEN.bit(),
            ..ViewOptions::default()
        },
        owners: false,
    };
    let (sockets, status) = sockdiag::collect_for_snapshot(paths, &options);
    snapshot.set_source(status);
    snapshot.sockets = sockets.map(|mut view| {
        crate::analyze::sockets::annotate(&mut view);
        view
    });
    let view = live::build_view(root, &config);
    snapshot.set_source(SourceStatus::available(
        "sysctl_files",
        &format!("{} ({})", config.loader.kind.as_str(), root.display()),
    ));
    snapshot.sysctl = Some(view);
    snapshot
}

/// Reads the `--from` files (`-` = standard input; FILE@TIME keeps FILE) as the only
/// configuration, in the order given.
fn load_from_args(from: &[String]) -> anyhow::Result<ConfigSet> {
    let mut files = Vec::new();
    for arg in from {
        if arg == "-" {
            let mut text = Vec::new();
            std::io::stdin()
                .read_to_end(&mut text)
                .context("reading standard input")?;
            files.push(sysconf::conf_file_from_text(
                "(stdin)",
                &String::from_utf8_lossy(&text),
            ));
            continue;
        }
        let path = if Path::new(arg).exists() {
            PathBuf::from(arg)
        } else {
            match arg.rsplit_once('@') {
                Some((file, _time)) if Path::new(file).exists() => PathBuf::from(file),
                _ => bail!("--from {arg}: no such file"),
            }
        };
        let loaded = sysconf::load_files(std::slice::from_ref(&path));
        for file in loaded.files {
            if let sysconf::FileState::Unreadable(reason) = &file.state {
                bail!("--from {}: {reason}", path.display());
            }
            files.push(file);
        }
    }
    Ok(ConfigSet {
        loader: LoaderChoice {
            kind: LoaderKind::Files,
            reason: "configuration taken from the files given with --from, in that order; \
                     live values from this host"
                .to_string(),
        },
        files,
    })
}

/// True when no pattern was given, or a pattern names the key: exactly, as a prefix ending at
/// a dot, or as a glob over the whole dotted key.
fn matches_any(patterns: &[String], key: &str) -> bool {
    patterns.is_empty()
        || patterns.iter().any(|p| {
            let p = sysconf::normalize_key(p)
                .map(|path| sysconf::path_to_dotted(&path))
                .unwrap_or_default();
            if sysconf::is_glob(&p) {
                glob_match(&p, key)
            } else {
                key == p
                    || key
                        .strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('.'))
            }
        })
}
