//! Line cleanup for pasted text: what tickets, chats and forums wrap around command output.
//!
//! Handles markdown fences (```` ``` ````, `~~~`), quote markers (`> `), carriage returns,
//! non-breaking spaces and tabs from chat tools, grep's `--` group separator, and shell prompt
//! lines (`root@host:~# netstat -s | grep listen`, `[root@web1 ~]# nstat -az`, `$ ss -ltn`).
//! Indentation is never trusted: it is removed, because chat tools mangle it.

/// What one raw line of a paste is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind<'a> {
    /// Nothing to read: empty, a fence, a grep separator.
    Blank,
    /// A shell prompt with the command typed after it.
    Prompt { command: &'a str },
    /// Text to interpret (trimmed, quote markers removed).
    Text(&'a str),
}

/// Classifies one raw line.
pub fn classify(raw: &str) -> LineKind<'_> {
    let line = strip_decoration(raw);
    if line.is_empty() || line == "--" || line.starts_with("```") || line.starts_with("~~~") {
        return LineKind::Blank;
    }
    if let Some(command) = prompt_command(line) {
        return LineKind::Prompt { command };
    }
    LineKind::Text(line)
}

/// Removes surrounding whitespace (including non-breaking spaces and `\r`) and leading quote
/// markers (`> `, `>> `) that mail and chat clients add.
pub fn strip_decoration(raw: &str) -> &str {
    let mut line = raw.trim_matches(is_space);
    while let Some(rest) = line.strip_prefix('>') {
        line = rest.trim_start_matches(is_space);
    }
    line
}

/// Whitespace as pastes contain it: ASCII whitespace plus the non-breaking and zero-width
/// spaces chat tools insert.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{a0}' || c == '\u{200b}' || c == '\u{feff}'
}

/// The command after a shell prompt, when the line is one: `user@host:dir$ cmd`,
/// `[user@host dir]# cmd`, `host# cmd`, `$ cmd`, `# cmd` (the last only for commands we know,
/// so a `# comment` is not mistaken for a prompt).
pub fn prompt_command(line: &str) -> Option<&str> {
    if let Some(rest) = line.strip_prefix("$ ") {
        return Some(rest.trim());
    }
    if let Some(rest) = line.strip_prefix("# ") {
        let rest = rest.trim();
        return is_known_command(rest).then_some(rest);
    }
    if let Some(rest) = line.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !inside.contains('@') {
            return None;
        }
        let after = after.strip_prefix(['$', '#'])?;
        return Some(after.trim());
    }
    // `user@host:~$ cmd`, `host:~# cmd`, `user@host$ cmd`: one word ending in $ or #.
    let (word, rest) = line.split_once(' ')?;
    let end = word.chars().last()?;
    if (end == '$' || end == '#' || end == '%') && (word.contains('@') || word.contains(':')) {
        let head = word.get(..word.len().saturating_sub(1))?;
        if !head.is_empty() {
            return Some(rest.trim());
        }
    }
    None
}

/// True when a command line starts with a tool whose output we read.
fn is_known_command(command: &str) -> bool {
    let first = command.split_whitespace().next().unwrap_or("");
    let tool = first.rsplit('/').next().unwrap_or(first);
    matches!(
        tool,
        "netstat" | "nstat" | "ss" | "sysctl" | "cat" | "sudo" | "grep" | "egrep" | "ip"
    )
}

/// What a prompt's command tells about the output that follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandHints {
    /// `netstat -s` (any flags).
    pub netstat_s: bool,
    /// The IPv6 variant (`-6`, `--inet6`, or `-s6`).
    pub ipv6: bool,
    /// `nstat` with `-a` (lifetime totals) ...
    pub nstat_all: bool,
    /// ... or without (increases since the previous nstat run).
    pub nstat_delta: bool,
    /// Piped through grep: a partial paste.
    pub grep: bool,
}

/// Reads hints from a prompt's command.
pub fn command_hints(command: &str) -> CommandHints {
    let mut hints = CommandHints::default();
    for part in command.split('|') {
        let mut words = part.split_whitespace();
        let mut first = words.next().unwrap_or("");
        if first == "sudo" {
            first = words.next().unwrap_or("");
        }
        let name = first.rsplit('/').next().unwrap_or(first);
        if matches!(name, "grep" | "egrep" | "fgrep" | "rg") {
            hints.grep = true;
            continue;
        }
        let flags: Vec<&str> = words.collect();
        let short = |c: char| {
            flags
                .iter()
                .any(|f| f.starts_with('-') && !f.starts_with("--") && f.contains(c))
        };
        match name {
            "netstat" => {
                hints.netstat_s = short('s') || flags.contains(&"--statistics");
                hints.ipv6 = short('6') || flags.contains(&"--inet6");
            }
            "nstat" => {
                if short('a') || flags.contains(&"--ignore") {
                    hints.nstat_all = true;
                } else {
                    hints.nstat_delta = true;
                }
            }
            _ => {}
        }
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_prompts() {
        assert_eq!(
            prompt_command("root@host:~# netstat -s | grep listen"),
            Some("netstat -s | grep listen")
        );
        assert_eq!(
            prompt_command("[root@web1 ~]# nstat -az"),
            Some("nstat -az")
        );
        assert_eq!(prompt_command("$ ss -ltn"), Some("ss -ltn"));
        assert_eq!(prompt_command("# netstat -s"), Some("netstat -s"));
        assert_eq!(prompt_command("# a comment about tcp"), None);
        assert_eq!(prompt_command("Tcp:"), None);
        assert_eq!(prompt_command("TCPTimeouts: 2"), None);
        assert_eq!(prompt_command("echo requests: 5"), None);
    }

    #[test]
    fn reads_command_hints() {
        let h = command_hints("sudo netstat -s -6 | grep -i listen");
        assert!(h.netstat_s && h.ipv6 && h.grep);
        assert!(command_hints("nstat -az").nstat_all);
        assert!(command_hints("nstat").nstat_delta);
    }

    #[test]
    fn strips_decoration() {
        assert_eq!(
            classify("> \u{a0}  12 resets sent\r"),
            LineKind::Text("12 resets sent")
        );
        assert_eq!(classify("```text"), LineKind::Blank);
        assert_eq!(classify("--"), LineKind::Blank);
    }
}
