//! `netdoctor sysctl`: the effective sysctl table (live, configured, file:line, overrides,
//! default, unit) and the sysctl findings. Glue: collect, analyze, render.
//!
//! Exit code 0 when it ran (findings do not change it), 3 on error.

use std::io::Write;

use anyhow::bail;
use clap::Args;

use std::path::PathBuf;

use super::{EXIT_OK, OutputArgs, SourceArgs};
use crate::analyze::finding::Evidence;
use crate::analyze::rules::sysctl as rules;
use crate::collect::sysconf;
use crate::collect::{ProcPaths, Target, enter_target, sysctl as live};
use crate::parse::glob_match;
use crate::render::sysctl::{self as render, SysctlReport};
use crate::snapshot::{Origin, Snapshot};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  netdoctor sysctl                        every known and configured key\n  \
netdoctor sysctl 'net.ipv4.tcp_*'       keys matching a glob\n  \
netdoctor sysctl --root /tmp/sosreport   a captured tree (DIR/etc, DIR/proc/sys)\n  \
netdoctor sysctl --from sysctl.conf      judge a pasted file on its own (not this host's values)\n  \
netdoctor sysctl --from sysctl-a.txt --from sysctl.conf   a pasted host: live values, drift"
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
    let mut snapshot = if args.source.from.is_empty() {
        collect_target(&args.source)?
    } else {
        from_pastes(&args.source)?
    };
    if let Some(sockets) = snapshot.sockets.as_mut() {
        crate::analyze::sockets::annotate(sockets);
    }
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
    if rows.is_empty() && !args.patterns.is_empty() {
        anyhow::bail!(
            "no key matches {}: netdoctor reads the keys its knowledge base describes and every \
             key a configuration file sets (`netdoctor explain KEY` lists near names; \
             `sysctl KEY` shows any other key)",
            args.patterns.join(" ")
        );
    }
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
        let style = args.output.style();
        stdout.write_all(render::text(&report, style).as_bytes())?;
    }
    stdout.flush()?;
    Ok(EXIT_OK)
}

/// The live host, a namespace or a captured tree: its values and the files that set them.
fn collect_target(source: &SourceArgs) -> anyhow::Result<Snapshot> {
    // Entering a namespace first makes /proc/sys/net show that namespace's values; the
    // configuration files are the host's (they apply to the initial namespace at boot).
    let paths = enter_target(&source.target())?;
    let root = readable_root(&paths)?;
    let loader = sysconf::detect_loader(&root);
    let config = sysconf::load_system(&root, loader);
    Ok(live::collect_for_target(
        &paths,
        &root,
        &config,
        paths.origin.clone(),
    ))
}

/// The sysctl root (`/` or a tree) of entered paths, or why there is none.
fn readable_root(paths: &ProcPaths) -> anyhow::Result<PathBuf> {
    match (&paths.sys_dir, live::root_of(paths)) {
        (_, Some(root)) => Ok(root),
        (Err(reason), None) => bail!("cannot read the target's sysctl values: {reason}"),
        (Ok(dir), None) => bail!(
            "cannot read the target's sysctl values from {}",
            dir.display()
        ),
    }
}

/// `--from`: what ingest read from the pastes (format detected from the content).
///
/// With live values (`sysctl -a` / `sysctl -p` output, a snapshot), the pasted view is judged
/// as a host's: its configuration (if pasted too) and its live values describe the same
/// machine, so drift between them means something. Configuration alone is judged on its own
/// as before: loader `files`, only this host's kernel and the keys it has are used.
fn from_pastes(source: &SourceArgs) -> anyhow::Result<Snapshot> {
    let (mut pasted, report, config) = super::from::load_with_config(source)?;
    let has_live = pasted
        .sysctl
        .as_ref()
        .is_some_and(|view| view.keys.iter().any(|k| k.live.is_some()));
    if !has_live && !config.files.is_empty() {
        let paths = enter_target(&Target::Live)?;
        let root = readable_root(&paths)?;
        let names = config.files.iter().map(|f| f.path.clone()).collect();
        return Ok(live::collect_for_target(
            &paths,
            &root,
            &config,
            Origin::Files { files: names },
        ));
    }
    if pasted.sysctl.is_none() {
        bail!(
            "the --from files hold no sysctl values or configuration ({}); give `sysctl -a` \
             output, a sysctl.conf / sysctl.d file or a netdoctor snapshot",
            report.formats_read()
        );
    }
    // Only what concerns sysctl is listed as unavailable (counters are not this command's).
    pasted.sources.retain(|s| {
        matches!(
            s.name.as_str(),
            "sysctl" | "sysctl_files" | "host" | "sockets"
        )
    });
    Ok(pasted)
}

/// True when no pattern was given, or a pattern names the key: exactly, as a prefix ending at
/// a dot, as a glob over the whole dotted key, or (a bare name such as `somaxconn`) as the
/// key's last component.
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
                    || (!p.contains('.') && key.rsplit('.').next() == Some(p.as_str()))
            }
        })
}
