//! Rendering the socket view: human tables (listeners, states, top destinations, local
//! addresses, ephemeral-port use) and the `netdoctor.sockets/v1` JSON document.

use serde::Serialize;

use super::{Style, thousands};
use crate::snapshot::Origin;
use crate::snapshot::sockets::{ConnectionGroup, Level, SocketView};

/// Schema id of `netdoctor sockets --json`.
pub const SOCKETS_SCHEMA: &str = "netdoctor.sockets/v1";

#[derive(Serialize)]
struct SocketsDocument<'a> {
    schema: &'static str,
    origin: &'a Origin,
    #[serde(flatten)]
    view: &'a SocketView,
}

/// The JSON document: the schema id, where the data came from, and the whole view.
pub fn json(view: &SocketView, origin: &Origin) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(&SocketsDocument {
        schema: SOCKETS_SCHEMA,
        origin,
        view,
    })
}

/// Paints `text` for the level analysis gave it (render never compares figures itself).
fn paint(style: Style, level: Option<Level>, text: &str) -> String {
    match level {
        Some(Level::Full) => style.red(text),
        Some(Level::Elevated) => style.yellow(text),
        Some(Level::Ok) | None => text.to_string(),
    }
}

fn shows(view: &SocketView, state: &str) -> bool {
    view.states_requested.is_empty() || view.states_requested.iter().any(|s| s == state)
}

fn shows_connections(view: &SocketView) -> bool {
    view.states_requested.is_empty() || view.states_requested.iter().any(|s| s != "LISTEN")
}

/// Pads `text` to `width` characters (left-aligned), without cutting it.
fn left(text: &str, width: usize) -> String {
    format!("{text:<width$}")
}

fn right(text: &str, width: usize) -> String {
    format!("{text:>width$}")
}

/// Human text for the whole view.
pub fn human(view: &SocketView, origin: &Origin, style: Style) -> String {
    let mut out = String::new();
    let mut header = format!(
        "TCP sockets of the {} (via {}",
        origin.describe(),
        view.method
    );
    if let Some(port) = view.port_filter {
        header.push_str(&format!(", port {port}"));
    }
    header.push(')');
    out.push_str(&style.bold(&header));
    out.push('\n');
    if shows(view, "LISTEN") {
        listeners(view, style, &mut out);
    }
    states(view, style, &mut out);
    if shows_connections(view) {
        groups(
            "Top destinations (remote address:port)",
            "REMOTE",
            &view.destinations,
            view.destinations_total,
            style,
            &mut out,
        );
        groups(
            "Top local addresses",
            "LOCAL ADDRESS",
            &view.local_addresses,
            view.local_addresses.len() as u64,
            style,
            &mut out,
        );
        port_usage(view, style, &mut out);
    }
    if !view.notes.is_empty() {
        out.push('\n');
        for note in &view.notes {
            out.push_str(&style.dim(&format!("note: {note}")));
            out.push('\n');
        }
    }
    out
}

fn listeners(view: &SocketView, style: Style, out: &mut String) {
    let somaxconn = view
        .somaxconn
        .map_or_else(|| "unknown".to_string(), |v| thousands(v.into()));
    out.push('\n');
    out.push_str(&style.bold(&format!(
        "Listeners: {} (net.core.somaxconn {somaxconn})",
        view.listeners.len()
    )));
    out.push('\n');
    if view.listeners.is_empty() {
        out.push_str("  none\n");
        return;
    }
    let width = view
        .listeners
        .iter()
        .map(|l| l.local.len())
        .max()
        .unwrap_or(5)
        .max(5);
    out.push_str(&format!(
        "  {}  {}  {}  {}  {}  {}  {}  PROCESS\n",
        left("LOCAL", width),
        right("QUEUE", 7),
        right("BACKLOG", 7),
        right("FILL", 5),
        left("CAPPED", 6),
        right("SYN-RECV", 8),
        left("GROUP", 5),
    ));
    for l in &view.listeners {
        let backlog = l
            .backlog
            .map_or_else(|| "?".to_string(), |b| thousands(b.into()));
        let fill_text = l
            .fill_percent
            .map_or_else(|| "?".to_string(), |f| format!("{f:.0}%"));
        let fill = paint(style, l.level, &right(&fill_text, 5));
        let capped = match l.capped_by_somaxconn {
            Some(true) => style.yellow(&left("yes", 6)),
            Some(false) => left("no", 6),
            None => left("?", 6),
        };
        let syn = l
            .syn_recv
            .map_or_else(|| "-".to_string(), |s| thousands(s.into()));
        let group = if l.reuseport_group_size > 1 {
            format!("×{}", l.reuseport_group_size)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  {}  {}  {}  {}  {}  {}  {}  {}\n",
            left(&l.local, width),
            right(&thousands(l.queue.into()), 7),
            right(&backlog, 7),
            fill,
            capped,
            right(&syn, 8),
            left(&group, 5),
            l.process.as_deref().unwrap_or("-"),
        ));
    }
    if view.listeners.iter().any(|l| l.reuseport_group_size > 1) {
        out.push_str(&style.dim(
            "  GROUP ×N: N listeners share the address:port (SO_REUSEPORT); SYN-RECV is per group\n",
        ));
    }
}

fn states(view: &SocketView, style: Style, out: &mut String) {
    out.push('\n');
    let plural = if view.total == 1 { "" } else { "s" };
    out.push_str(&style.bold(&format!(
        "States: {} socket{plural}",
        thousands(view.total.into())
    )));
    out.push('\n');
    let nonzero: Vec<&(String, u64)> = view.states.iter().filter(|(_, c)| *c > 0).collect();
    if nonzero.is_empty() {
        out.push_str("  none\n");
    }
    for (name, count) in nonzero {
        out.push_str(&format!(
            "  {}  {}\n",
            left(name, 12),
            right(&thousands((*count).into()), 10)
        ));
    }
}

fn groups(
    title: &str,
    column: &str,
    rows: &[ConnectionGroup],
    total: u64,
    style: Style,
    out: &mut String,
) {
    if rows.is_empty() {
        return;
    }
    out.push('\n');
    let shown = if total > rows.len() as u64 {
        format!("{title}, top {} of {}", rows.len(), thousands(total.into()))
    } else {
        title.to_string()
    };
    out.push_str(&style.bold(&shown));
    out.push('\n');
    let width = rows
        .iter()
        .map(|r| r.key.len())
        .max()
        .unwrap_or(6)
        .max(column.len());
    out.push_str(&format!(
        "  {}  {}  {}\n",
        left(column, width),
        right("ESTAB", 10),
        right("TIME_WAIT", 10)
    ));
    for r in rows {
        out.push_str(&format!(
            "  {}  {}  {}\n",
            left(&r.key, width),
            right(&thousands(r.established.into()), 10),
            right(&thousands(r.time_wait.into()), 10)
        ));
    }
}

fn port_usage(view: &SocketView, style: Style, out: &mut String) {
    if view.port_usage.is_empty() {
        return;
    }
    out.push('\n');
    let range = match (view.ip_local_port_range, view.usable_ephemeral_ports) {
        (Some((low, high)), Some(usable)) => format!(
            "{} usable ephemeral ports ({low}-{high} less reserved)",
            thousands(usable.into())
        ),
        _ => "usable ephemeral ports unknown".to_string(),
    };
    out.push_str(&style.bold(&format!("Outgoing connections per destination: {range}")));
    out.push('\n');
    let local_width = view
        .port_usage
        .iter()
        .map(|u| u.local_addr.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let remote_width = view
        .port_usage
        .iter()
        .map(|u| u.remote.len())
        .max()
        .unwrap_or(6)
        .max(6);
    out.push_str(&format!(
        "  {}  {}  {}  {}\n",
        left("LOCAL", local_width),
        left("REMOTE", remote_width),
        right("PORTS", 8),
        right("USED", 7)
    ));
    for u in &view.port_usage {
        let ratio_text = u
            .ratio
            .map_or_else(|| "?".to_string(), |r| percent(r * 100.0));
        let ratio = paint(style, u.level, &right(&ratio_text, 7));
        out.push_str(&format!(
            "  {}  {}  {}  {}\n",
            left(&u.local_addr, local_width),
            left(&u.remote, remote_width),
            right(&thousands(u.in_use.into()), 8),
            ratio
        ));
    }
    if view.port_usage_total > view.port_usage.len() as u64 {
        out.push_str(&style.dim(&format!(
            "  ({} more (local address, destination) pairs not shown)\n",
            thousands((view.port_usage_total - view.port_usage.len() as u64).into())
        )));
    }
}

/// "62.5%", "0.35%", "0%": two decimals below 1 %, so small shares do not read as zero.
fn percent(value: f64) -> String {
    if value == 0.0 {
        "0%".to_string()
    } else if value < 1.0 {
        format!("{value:.2}%")
    } else {
        format!("{value:.1}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::sockets::Listener;

    #[test]
    fn json_has_schema_and_listener_fields() {
        let view = SocketView {
            method: "sock_diag".into(),
            listeners: vec![Listener {
                local: "[::1]:8080".into(),
                queue: 5,
                backlog: Some(4),
                capped_by_somaxconn: Some(false),
                syn_recv: Some(0),
                process: Some("python3 (pid 1)".into()),
                ..Listener::default()
            }],
            ..SocketView::default()
        };
        let text = json(&view, &Origin::Live).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["schema"], SOCKETS_SCHEMA);
        assert_eq!(value["listeners"][0]["local"], "[::1]:8080");
        assert_eq!(value["listeners"][0]["backlog"], 4);
        let human = human(&view, &Origin::Live, Style::plain());
        assert!(human.contains("[::1]:8080"));
    }

    #[test]
    fn colour_follows_the_level_not_the_figures() {
        use crate::snapshot::sockets::PortUsage;
        // Figures that would once have been painted red, with the level analysis gave them.
        let view = SocketView {
            method: "sock_diag".into(),
            listeners: vec![Listener {
                local: "127.0.0.1:80".into(),
                queue: 9,
                backlog: Some(4),
                fill_percent: Some(225.0),
                level: Some(Level::Ok),
                ..Listener::default()
            }],
            port_usage: vec![PortUsage {
                local_addr: "10.0.0.1".into(),
                remote: "10.0.0.5:443".into(),
                in_use: 5,
                available: Some(100),
                ratio: Some(0.05),
                level: Some(Level::Full),
            }],
            ..SocketView::default()
        };
        let style = Style { color: true };
        let text = human(&view, &Origin::Live, style);
        assert!(!text.contains(&style.red(" 225%")), "{text}");
        assert!(text.contains(" 225%"), "{text}");
        assert!(text.contains(&style.red(&right("5.0%", 7))), "{text}");
        let value: serde_json::Value =
            serde_json::from_str(&json(&view, &Origin::Live).unwrap()).unwrap();
        assert_eq!(value["listeners"][0]["level"], "ok");
        assert_eq!(value["port_usage"][0]["level"], "full");
    }
}
