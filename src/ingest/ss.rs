//! `ss -ltn` / `ss -tan` output (and `ss -an` with a Netid column, of which only TCP rows are
//! read) → listeners with their accept queues and connection counts per state.
//!
//! For a LISTEN row, ss shows the accept queue's current length as Recv-Q and its limit as
//! Send-Q. State names are turned into the kernel's (`ESTAB` → `ESTABLISHED`,
//! `TIME-WAIT` → `TIME_WAIT`). A paste of listeners only (`ss -l`) says nothing about other
//! states: the report says so and only LISTEN is counted.

use std::collections::HashMap;

use super::Parsed;
use super::clean::{self, LineKind};
use crate::snapshot::sockets::{ConnectionGroup, Listener, SocketView};

/// ss state names → kernel state names.
fn kernel_state(ss_state: &str) -> Option<&'static str> {
    const STATES: &[(&str, &str)] = &[
        ("LISTEN", "LISTEN"),
        ("ESTAB", "ESTABLISHED"),
        ("ESTABLISHED", "ESTABLISHED"),
        ("SYN-SENT", "SYN_SENT"),
        ("SYN_SENT", "SYN_SENT"),
        ("SYN-RECV", "SYN_RECV"),
        ("SYN_RECV", "SYN_RECV"),
        ("FIN-WAIT-1", "FIN_WAIT1"),
        ("FIN_WAIT1", "FIN_WAIT1"),
        ("FIN-WAIT-2", "FIN_WAIT2"),
        ("FIN_WAIT2", "FIN_WAIT2"),
        ("TIME-WAIT", "TIME_WAIT"),
        ("TIME_WAIT", "TIME_WAIT"),
        ("UNCONN", "CLOSE"),
        ("CLOSE", "CLOSE"),
        ("CLOSE-WAIT", "CLOSE_WAIT"),
        ("CLOSE_WAIT", "CLOSE_WAIT"),
        ("LAST-ACK", "LAST_ACK"),
        ("LAST_ACK", "LAST_ACK"),
        ("CLOSING", "CLOSING"),
        ("NEW-SYN-RECV", "NEW_SYN_RECV"),
    ];
    STATES
        .iter()
        .find(|(ss, _)| ss.eq_ignore_ascii_case(ss_state))
        .map(|(_, kernel)| *kernel)
}

/// Netid column values of `ss -a` output.
fn is_netid(word: &str) -> bool {
    const NETIDS: &[&str] = &[
        "tcp", "tcp6", "udp", "udp6", "raw", "u_str", "u_dgr", "u_seq", "nl", "p_raw", "p_dgr",
        "mptcp", "sctp", "v_str", "v_dgr", "xdp", "tipc",
    ];
    NETIDS.iter().any(|n| n.eq_ignore_ascii_case(word))
}

/// True for an ss header line.
pub fn is_header(line: &str) -> bool {
    line.contains("Recv-Q") && line.contains("Send-Q") && line.contains("Local")
}

/// True for an ss data row (for detection): a state (after an optional netid), then two
/// queue numbers and more.
pub fn is_row(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let Some(mut first) = words.next() else {
        return false;
    };
    if is_netid(first) {
        match words.next() {
            Some(word) => first = word,
            None => return false,
        }
    }
    if kernel_state(first).is_none() {
        return false;
    }
    let number =
        |w: Option<&str>| w.is_some_and(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()));
    number(words.next()) && number(words.next()) && words.next().is_some()
}

/// One ss row.
struct Row<'a> {
    /// Kernel state name; None when the output has no State column.
    state: Option<&'static str>,
    recv_q: u64,
    send_q: u64,
    local: &'a str,
    peer: &'a str,
    process: Option<String>,
}

/// Parses one ss row.
fn parse_row<'a>(line: &'a str, columns: Option<&Columns>) -> Option<Row<'a>> {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    if words.first().is_some_and(|w| is_netid(w)) {
        let netid = words.remove(0);
        if !netid.to_ascii_lowercase().starts_with("tcp") {
            return None;
        }
    }
    let first = *words.first()?;
    let state = kernel_state(first);
    let has_state = match columns {
        Some(c) => c.state,
        None => state.is_some(),
    };
    let rest = if has_state {
        state?;
        words.get(1..)?
    } else {
        &words[..]
    };
    let recv = rest.first()?.parse::<u64>().ok()?;
    let send = rest.get(1)?.parse::<u64>().ok()?;
    let local = *rest.get(2)?;
    let peer = *rest.get(3)?;
    let process = rest.get(4..).filter(|p| !p.is_empty()).map(|p| p.join(" "));
    Some(Row {
        state: if has_state { state } else { None },
        recv_q: recv,
        send_q: send,
        local,
        peer,
        process,
    })
}

/// Splits `10.0.0.1:443`, `[::1]:22`, `*:80`, `127.0.0.53%lo:53` into address and port.
fn split_address(local: &str) -> (&str, u16) {
    match local.rsplit_once(':') {
        Some((address, port)) => (
            address.trim_start_matches('[').trim_end_matches(']'),
            port.parse().unwrap_or(0),
        ),
        None => (local, 0),
    }
}

/// Counts an ESTABLISHED or TIME_WAIT connection under its key.
fn count_group(
    groups: &mut Vec<ConnectionGroup>,
    positions: &mut HashMap<String, usize>,
    key: &str,
    state: &str,
) {
    let index = match positions.get(key) {
        Some(&index) => index,
        None => {
            positions.insert(key.to_string(), groups.len());
            groups.push(ConnectionGroup {
                key: key.to_string(),
                ..ConnectionGroup::default()
            });
            groups.len() - 1
        }
    };
    if let Some(group) = groups.get_mut(index) {
        if state == "TIME_WAIT" {
            group.time_wait += 1;
        } else {
            group.established += 1;
        }
    }
}

/// Which columns the header announced.
#[derive(Debug, Clone, Copy)]
struct Columns {
    state: bool,
}

/// Parses ss output.
pub fn parse(text: &str) -> (SocketView, Parsed) {
    let mut parsed = Parsed::default();
    let mut view = SocketView {
        method: "ss paste".to_string(),
        ..SocketView::default()
    };
    let mut columns: Option<Columns> = None;
    let mut non_listen = false;
    let mut stateless_rows = false;
    let mut listen_only_command = false;
    let mut syn_recv: HashMap<u16, u64> = HashMap::new();
    let mut by_peer: HashMap<String, usize> = HashMap::new();
    let mut by_local: HashMap<String, usize> = HashMap::new();
    for (number, raw) in text.lines().enumerate() {
        let number = number + 1;
        let line = match clean::classify(raw) {
            LineKind::Blank => continue,
            LineKind::Prompt { command } => {
                listen_only_command |= command
                    .split_whitespace()
                    .any(|w| w.starts_with('-') && !w.starts_with("--") && w.contains('l'))
                    && !command
                        .split_whitespace()
                        .any(|w| w.starts_with('-') && !w.starts_with("--") && w.contains('a'));
                continue;
            }
            LineKind::Text(line) => line,
        };
        if is_header(line) {
            columns = Some(Columns {
                state: line.split_whitespace().any(|w| w == "State"),
            });
            continue;
        }
        match parse_row(line, columns.as_ref()) {
            Some(row) => {
                let state = match row.state {
                    Some(s) => s,
                    None => {
                        // Old ss without a State column when listing listeners (`ss -l`).
                        stateless_rows = true;
                        "LISTEN"
                    }
                };
                view.total += 1;
                if state == "LISTEN" {
                    let (address, port) = split_address(row.local);
                    view.listeners.push(Listener {
                        local: row.local.to_string(),
                        queue: row.recv_q,
                        backlog: Some(row.send_q),
                        process: row.process,
                        address: address.to_string(),
                        port,
                        ..Listener::default()
                    });
                } else {
                    non_listen = true;
                    if state == "SYN_RECV" {
                        *syn_recv.entry(split_address(row.local).1).or_default() += 1;
                    }
                    if state == "ESTABLISHED" || state == "TIME_WAIT" {
                        let local = split_address(row.local).0;
                        count_group(&mut view.destinations, &mut by_peer, row.peer, state);
                        count_group(&mut view.local_addresses, &mut by_local, local, state);
                    }
                }
                match view.states.iter_mut().find(|(s, _)| s == state) {
                    Some((_, count)) => *count += 1,
                    None => view.states.push((state.to_string(), 1)),
                }
            }
            None => {
                if line.split_whitespace().next().is_some_and(is_netid) {
                    continue; // another protocol's row in `ss -an`
                }
                parsed.skipped.push(number, "not an ss row", raw);
            }
        }
    }
    let listeners_only = !non_listen || listen_only_command;
    // Listeners sharing address:port form an SO_REUSEPORT group.
    let mut group_sizes: HashMap<String, u32> = HashMap::new();
    for listener in &view.listeners {
        *group_sizes.entry(listener.local.clone()).or_default() += 1;
    }
    for listener in &mut view.listeners {
        listener.reuseport_group_size = group_sizes.get(&listener.local).copied().unwrap_or(1);
        if !listeners_only {
            listener.syn_recv = Some(syn_recv.get(&listener.port).copied().unwrap_or(0));
        }
    }
    view.destinations
        .sort_by_key(|g| std::cmp::Reverse(g.established + g.time_wait));
    view.local_addresses
        .sort_by_key(|g| std::cmp::Reverse(g.established + g.time_wait));
    view.destinations_total = view.destinations.len() as u64;
    view.notes.push(
        "from pasted ss output: no owners unless ss ran with -p, no uids or inodes".to_string(),
    );
    if listeners_only {
        view.method = "ss paste (listeners only)".to_string();
        parsed.notes.push(
            "listeners only (`ss -l`): no connection states, SYN-RECV or TIME-WAIT counts"
                .to_string(),
        );
    }
    if stateless_rows {
        parsed
            .notes
            .push("rows without a State column were read as listeners (old `ss -l`)".to_string());
    }
    if listeners_only {
        view.notes
            .push("listeners only: no connection states were pasted".to_string());
    }
    parsed
        .notes
        .push("ss shows no socket owner unless run with -p".to_string());
    (view, parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_listeners_and_states() {
        let text = "State     Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\n\
LISTEN    3      128          0.0.0.0:2024       0.0.0.0:*\n\
TIME-WAIT 0      0          192.0.2.2:56164 203.0.113.80:80\n\
ESTAB     0      0          192.0.2.2:56165 203.0.113.80:80\n";
        let (view, parsed) = parse(text);
        assert_eq!(parsed.skipped.count, 0);
        assert_eq!(view.listeners.len(), 1);
        assert_eq!(view.listeners[0].queue, 3);
        assert_eq!(view.listeners[0].backlog, Some(128));
        assert!(view.states.contains(&("TIME_WAIT".to_string(), 1)));
        assert_eq!(view.method, "ss paste");
    }
}
