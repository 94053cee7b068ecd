//! sysctl text: `sysctl -a` / `sysctl -p` output (live values) and sysctl.conf / sysctl.d files
//! (configuration, with file and line).
//!
//! Both are `key = value` lines, so the two are told apart by what surrounds them: comments,
//! `-key` lines, blank-line grouping and `key=value` without spaces mark a configuration file;
//! a `sysctl` prompt, sysctl's own error lines, or a long uniform `key = value` listing with
//! kernel keys mark command output. A short uniform listing with none of these could be
//! either: it is read as configuration and the report says so.
//!
//! Keys written with slashes (`net/ipv4/tcp_syncookies`) are turned into the dotted form the
//! way sysctl.d(5) describes: when the first separator is a slash, slashes and dots swap.

use super::Parsed;
use super::clean::{self, LineKind};

/// Which reading a sysctl text gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysctlKind {
    /// Output of `sysctl -a` or `sysctl -p`: live values.
    Output,
    /// A sysctl.conf or sysctl.d file: configured values.
    Config,
}

/// One `key = value` assignment found in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysctlLine {
    pub key: String,
    pub value: String,
    pub line: usize,
    /// The line started with `-` (systemd: failures to apply it are ignored).
    pub ignore_failure: bool,
    /// A live value (sysctl output), not a configured one.
    pub live: bool,
}

/// Splits `key = value`, when the line is one.
fn split_assignment(line: &str) -> Option<(bool, String, String)> {
    let (key, value) = line.split_once('=')?;
    let key = key.trim_matches(clean::is_space);
    let (ignore_failure, key) = match key.strip_prefix('-') {
        Some(rest) => (true, rest.trim()),
        None => (false, key),
    };
    if !valid_key(key) {
        return None;
    }
    let value: Vec<&str> = value
        .split(clean::is_space)
        .filter(|w| !w.is_empty())
        .collect();
    Some((
        ignore_failure,
        crate::parse::dotted_key(key),
        value.join(" "),
    ))
}

/// Evidence for one reading or the other, from a sample of cleaned lines.
#[derive(Debug, Default, Clone, Copy)]
pub struct SysctlEvidence {
    pub assignments: usize,
    pub config_marks: usize,
    pub output_marks: usize,
}

/// Looks at the text as a whole to decide between output and configuration.
pub fn evidence(text: &str) -> SysctlEvidence {
    let mut evidence = SysctlEvidence::default();
    let mut kernel_keys = 0;
    let mut blank_between = false;
    let mut sorted = true;
    let mut previous_key: Option<String> = None;
    for raw in text.lines() {
        let trimmed = raw.trim_matches(clean::is_space);
        if trimmed.is_empty() {
            blank_between = evidence.assignments > 0;
            continue;
        }
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            if let Some(command) = clean::prompt_command(trimmed)
                && command.contains("sysctl")
            {
                evidence.output_marks += 3;
            } else {
                evidence.config_marks += 1;
            }
            continue;
        }
        if let Some(command) = clean::prompt_command(trimmed) {
            if command.contains("sysctl") && !command.contains("sysctl.conf") {
                evidence.output_marks += 3;
            }
            continue;
        }
        if trimmed.starts_with("sysctl: ") {
            evidence.output_marks += 2;
            continue;
        }
        if let Some((ignore, key, _)) = split_assignment(trimmed) {
            evidence.assignments += 1;
            if blank_between {
                evidence.config_marks += 1;
                blank_between = false;
            }
            if ignore || !trimmed.contains(" = ") {
                evidence.config_marks += 1;
            }
            if key.starts_with("kernel.") || key.starts_with("fs.") || key.starts_with("vm.") {
                kernel_keys += 1;
            }
            // sysctl prints vector values (tcp_rmem, ip_local_port_range) tab-separated;
            // people write spaces.
            if trimmed
                .split_once('=')
                .is_some_and(|(_, value)| value.trim().contains('\t'))
            {
                evidence.output_marks += 2;
            }
            sorted &= previous_key.as_deref().is_none_or(|p| p <= key.as_str());
            previous_key = Some(key);
        }
    }
    // `sysctl -a | grep ...` keeps sysctl's sorted order; hand-written files rarely are.
    if sorted && evidence.assignments >= 8 {
        evidence.output_marks += 1;
    }
    if evidence.assignments >= 200 && kernel_keys > 0 {
        evidence.output_marks += 5;
    }
    evidence
}

/// Decides the reading. The second value says why, for the report.
pub fn decide(evidence: SysctlEvidence) -> (SysctlKind, &'static str) {
    if evidence.output_marks > evidence.config_marks {
        (SysctlKind::Output, "sysctl command output: live values")
    } else if evidence.config_marks > 0 {
        (
            SysctlKind::Config,
            "a sysctl configuration file: configured values with file and line",
        )
    } else {
        (
            SysctlKind::Config,
            "plain `key = value` lines with no comment or prompt: could be `sysctl -p` output \
             or a configuration file; read as configuration (give the paste a `$ sysctl -p` \
             prompt line to read it as live values)",
        )
    }
}

/// Parses every assignment; lines that are not comments or assignments are skipped.
pub fn parse(text: &str, kind: SysctlKind) -> (Vec<SysctlLine>, Parsed) {
    let mut lines = Vec::new();
    let mut parsed = Parsed::default();
    for (number, raw) in text.lines().enumerate() {
        let number = number + 1;
        let trimmed = raw.trim_matches(clean::is_space);
        if trimmed.is_empty()
            || trimmed.starts_with('#')
            || trimmed.starts_with(';')
            || trimmed.starts_with("```")
            || trimmed.starts_with("~~~")
        {
            continue;
        }
        if let LineKind::Prompt { .. } = clean::classify(raw) {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("sysctl: ")
            && kind == SysctlKind::Output
        {
            if parsed.notes.len() < 20 {
                parsed
                    .notes
                    .push(format!("line {number}: sysctl reported: {rest}"));
            }
            continue;
        }
        match split_assignment(clean::strip_decoration(raw)) {
            Some((ignore_failure, key, value)) => lines.push(SysctlLine {
                key,
                value,
                line: number,
                ignore_failure,
                live: kind == SysctlKind::Output,
            }),
            None => parsed.skipped.push(number, "not a `key = value` line", raw),
        }
    }
    (lines, parsed)
}

/// True when a cleaned line is a `key = value` assignment (for detection).
pub fn is_assignment(line: &str) -> bool {
    line.split_once('=').is_some_and(|(key, _)| {
        valid_key(
            key.trim_matches(clean::is_space)
                .trim_start_matches('-')
                .trim(),
        )
    })
}

/// A sysctl key: dotted or slashed path of names (globs allowed).
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && (key.contains('.') || key.contains('/'))
        && key.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'_' | b'-' | b'*' | b':' | b'@')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_and_values() {
        let (lines, _) = parse(
            "# story\nnet.ipv4.tcp_tw_recycle = 1\n-net/ipv4/tcp_rmem=4096\t87380  6291456\n",
            SysctlKind::Config,
        );
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].key, "net.ipv4.tcp_tw_recycle");
        assert_eq!(lines[1].key, "net.ipv4.tcp_rmem");
        assert_eq!(lines[1].value, "4096 87380 6291456");
        assert!(lines[1].ignore_failure);
        assert_eq!(lines[1].line, 3);
    }

    #[test]
    fn tells_output_from_config() {
        let conf = evidence("# tuning\nnet.core.somaxconn = 4096\n");
        assert_eq!(decide(conf).0, SysctlKind::Config);
        let out = evidence("$ sysctl -p\nnet.core.somaxconn = 4096\n");
        assert_eq!(decide(out).0, SysctlKind::Output);
        let grep = evidence(
            "net.ipv4.tcp_mem = 9000\t12000\t18000\nnet.ipv4.tcp_rmem = 4096\t131072\t6291456\n",
        );
        assert_eq!(decide(grep).0, SysctlKind::Output);
    }
}
