//! Rendering: human text and JSON. Formats what analysis decided; never decides.
//!
//! Shared helpers live here: styling (whether to colour is decided by the CLI from the terminal
//! and NO_COLOR, then handed in), thousands separators for
//! humans (JSON keeps raw numbers), and rates printed only when they were measured.

pub mod check;
pub mod counters;
pub mod lab;
pub mod sockets;
pub mod sysctl;

pub mod explain;

/// When to colour human output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is not set.
    #[default]
    Auto,
    Always,
    Never,
}

/// Resolved styling for one output stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    /// Plain text, no colour (tests, files).
    pub fn plain() -> Self {
        Style { color: false }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
    pub fn red(&self, text: &str) -> String {
        self.paint("1;31", text)
    }
    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }
    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }
    pub fn cyan(&self, text: &str) -> String {
        self.paint("36", text)
    }
}

/// Formats an integer with thousands separators: 35544811584 → "35,544,811,584".
pub fn thousands(value: i128) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Formats a per-second rate for humans: "12,000/s", "3.5/s", "0.02/s".
pub fn rate(per_second: f64) -> String {
    if !per_second.is_finite() {
        return "?/s".to_string();
    }
    let abs = per_second.abs();
    if abs >= 100.0 {
        format!("{}/s", thousands(per_second.round() as i128))
    } else if abs >= 1.0 {
        format!("{per_second:.1}/s")
    } else if abs == 0.0 {
        "0/s".to_string()
    } else {
        format!("{per_second:.3}/s")
    }
}

/// A large count in words for summaries: 35544811584 → "35.5 billion".
pub fn approx(value: i128) -> String {
    let v = value as f64;
    let abs = v.abs();
    if abs >= 1e12 {
        format!("{:.1} trillion", v / 1e12)
    } else if abs >= 1e9 {
        format!("{:.1} billion", v / 1e9)
    } else if abs >= 1e6 {
        format!("{:.1} million", v / 1e6)
    } else {
        thousands(value)
    }
}

/// Formats a duration in seconds for humans: "5 s", "3 h 12 min", "41 days".
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "?".to_string();
    }
    let s = seconds.round() as u64;
    if s < 120 {
        format!("{s} s")
    } else if s < 7200 {
        format!("{} min", s / 60)
    } else if s < 3 * 86400 {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    } else {
        format!("{} days", s / 86400)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(35_544_811_584), "35,544,811,584");
        assert_eq!(thousands(-1), "-1");
        assert_eq!(thousands(-1234567), "-1,234,567");
    }

    #[test]
    fn approx_words() {
        assert_eq!(approx(35_544_811_584), "35.5 billion");
        assert_eq!(approx(7_008_728), "7.0 million");
        assert_eq!(approx(10_703), "10,703");
    }

    #[test]
    fn rates() {
        assert_eq!(rate(12000.0), "12,000/s");
        assert_eq!(rate(3.46), "3.5/s");
        assert_eq!(rate(0.0), "0/s");
    }
}
