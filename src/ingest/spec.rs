//! `--from` arguments: `FILE`, `-` (standard input), `FILE@TIME`, and the `--use-mtime` flag.
//!
//! A time says when the paste was taken, so two pastes of the same host give real rates.
//! Times are ISO 8601 (`2024-05-01T10:00:00`, optional seconds, fraction, `Z` or `+02:00`);
//! a time without a zone is read as UTC. `FILE@1714557600` (seconds since the epoch) works too.
//! A file name that itself contains `@` is kept whole unless what follows the last `@` parses
//! as a time.

use std::path::Path;

use super::IngestError;

/// One `--from` argument.
#[derive(Debug, Clone, PartialEq)]
pub struct FromSpec {
    /// The file path, or `-` for standard input.
    pub path: String,
    /// When the paste was taken, seconds since the Unix epoch, from `FILE@TIME`.
    pub taken_at_unix_s: Option<f64>,
    /// Take the file's modification time as the time it was taken (when no `@TIME` is given).
    pub use_mtime: bool,
}

impl FromSpec {
    /// Parses a command-line `--from` value.
    pub fn parse(arg: &str, use_mtime: bool) -> Result<FromSpec, IngestError> {
        if arg.is_empty() {
            return Err(IngestError::BadSpec {
                spec: arg.to_string(),
                reason: "empty file name".to_string(),
            });
        }
        let mut spec = FromSpec {
            path: arg.to_string(),
            taken_at_unix_s: None,
            use_mtime,
        };
        if let Some((path, time)) = arg.rsplit_once('@') {
            match parse_time(time) {
                Some(t) if !path.is_empty() => {
                    spec.path = path.to_string();
                    spec.taken_at_unix_s = Some(t);
                }
                Some(_) => {
                    return Err(IngestError::BadSpec {
                        spec: arg.to_string(),
                        reason: "no file name before @TIME".to_string(),
                    });
                }
                None if looks_like_time_attempt(time) && !Path::new(arg).exists() => {
                    return Err(IngestError::BadSpec {
                        spec: arg.to_string(),
                        reason: format!(
                            "`{time}` is not a time: use 2024-05-01T10:00:00 (UTC), \
                             2024-05-01T10:00:00+02:00 or seconds since the epoch"
                        ),
                    });
                }
                None => {}
            }
        }
        Ok(spec)
    }

    /// Standard input.
    pub fn is_stdin(&self) -> bool {
        self.path == "-"
    }
}

/// True when the text after `@` was probably meant as a time (starts with a digit).
fn looks_like_time_attempt(text: &str) -> bool {
    text.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// Parses `2024-05-01T10:00:00[.fff][Z|±HH:MM|±HHMM]`, `2024-05-01 10:00`, `2024-05-01`, or
/// plain seconds since the epoch. Returns seconds since the Unix epoch.
pub fn parse_time(text: &str) -> Option<f64> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return text.parse::<f64>().ok().filter(|t| t.is_finite());
    }
    let bytes = text.as_bytes();
    let year = digits(bytes, 0, 4)?;
    if bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(bytes, 5, 2)?;
    let day = digits(bytes, 8, 2)?;
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) as f64 * 86_400.0;
    let mut pos = 10;
    if pos == bytes.len() {
        return Some(seconds);
    }
    if !matches!(bytes.get(pos), Some(b'T' | b't' | b' ')) {
        return None;
    }
    pos += 1;
    let hour = digits(bytes, pos, 2)?;
    if bytes.get(pos + 2) != Some(&b':') {
        return None;
    }
    let minute = digits(bytes, pos + 3, 2)?;
    pos += 5;
    let mut second = 0.0;
    if bytes.get(pos) == Some(&b':') {
        let whole = digits(bytes, pos + 1, 2)?;
        pos += 3;
        let mut frac_end = pos;
        if bytes.get(pos) == Some(&b'.') {
            frac_end = pos + 1;
            while bytes.get(frac_end).is_some_and(|b| b.is_ascii_digit()) {
                frac_end += 1;
            }
        }
        let text_second = std::str::from_utf8(bytes.get(pos - 2..frac_end)?).ok()?;
        second = text_second.parse::<f64>().ok()?;
        if whole > 60 {
            return None;
        }
        pos = frac_end;
    }
    if hour > 23 || minute > 59 {
        return None;
    }
    seconds += f64::from(hour * 3600 + minute * 60) + second;
    let zone = text.get(pos..)?;
    let offset = match zone {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match zone.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let rest = zone.get(1..)?.replace(':', "");
            if rest.len() != 4 {
                return None;
            }
            let hh = digits(rest.as_bytes(), 0, 2)?;
            let mm = digits(rest.as_bytes(), 2, 2)?;
            if hh > 23 || mm > 59 {
                return None;
            }
            sign * i64::from(hh * 3600 + mm * 60)
        }
    };
    Some(seconds - offset as f64)
}

/// Reads a line printed by `date` (the C locale's `Mon May  1 10:00:00 UTC 2024`, with or
/// without AM/PM; `date -R`'s `Wed, 01 May 2024 10:00:00 +0000`; `date -Is`'s ISO form).
/// Returns seconds since the epoch and whether the zone was understood: a named zone other than
/// UTC/GMT is taken as UTC (differences between two such lines stay exact).
pub fn parse_date_output(line: &str) -> Option<(f64, bool)> {
    let line = line.trim();
    // Every form has hours, minutes and seconds: two colons at least.
    if line.len() > 64 || line.bytes().filter(|b| *b == b':').count() < 2 {
        return None;
    }
    if let Some(t) = parse_time(line).filter(|_| line.contains('-') && line.contains(':')) {
        return Some((t, true));
    }
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let (mut month, mut day, mut year, mut clock) = (None, None, None, None);
    let mut pm: Option<bool> = None;
    let mut offset = 0i64;
    let mut zone_known = true;
    let mut seen_weekday = false;
    for token in line.split_whitespace() {
        let token = token.trim_end_matches(',');
        let lower = token.to_ascii_lowercase();
        if token.len() >= 3 && token.bytes().all(|b| b.is_ascii_alphabetic()) {
            let prefix = lower.get(..3).unwrap_or("");
            if month.is_none()
                && let Some(m) = MONTHS.iter().position(|m| *m == prefix)
            {
                month = Some(m as u32 + 1);
            } else if !seen_weekday && DAYS.contains(&prefix) {
                seen_weekday = true;
            } else if lower == "utc" || lower == "gmt" {
            } else if token.len() <= 5 && token.bytes().all(|b| b.is_ascii_uppercase()) {
                zone_known = false; // CEST, PDT ...: taken as UTC
            } else {
                return None;
            }
        } else if lower == "am" || lower == "pm" {
            pm = Some(lower == "pm");
        } else if token.contains(':') {
            let mut parts = token.split(':');
            let h: u32 = parts.next()?.parse().ok()?;
            let m: u32 = parts.next()?.parse().ok()?;
            let s: u32 = parts.next().unwrap_or("0").parse().ok()?;
            if parts.next().is_some() || h > 23 || m > 59 || s > 60 {
                return None;
            }
            clock = Some((h, m, s));
        } else if (token.starts_with('+') || token.starts_with('-')) && token.len() == 5 {
            let sign = if token.starts_with('-') { -1 } else { 1 };
            let hh = digits(token.as_bytes(), 1, 2)?;
            let mm = digits(token.as_bytes(), 3, 2)?;
            offset = sign * i64::from(hh * 3600 + mm * 60);
        } else if token.len() == 4 && token.bytes().all(|b| b.is_ascii_digit()) {
            year = Some(token.parse::<u32>().ok()?);
        } else if token.len() <= 2 && token.bytes().all(|b| b.is_ascii_digit()) {
            day = Some(token.parse::<u32>().ok()?);
        } else {
            return None;
        }
    }
    let (month, day, year, (mut hour, minute, second)) = (month?, day?, year?, clock?);
    match pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    if !(1970..=9999).contains(&year) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second)
        - offset;
    Some((seconds as f64, zone_known))
}

/// `count` ASCII digits at `start` as a number.
fn digits(bytes: &[u8], start: usize, count: usize) -> Option<u32> {
    let slice = bytes.get(start..start + count)?;
    let mut value = 0u32;
    for b in slice {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    Some(value)
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the well-known civil-from-days
/// inverse, done with era arithmetic so it has no loop).
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = i64::from(month);
    let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Formats seconds since the epoch as `2024-05-01T10:00:00Z` for reports.
pub fn format_time(unix_s: f64) -> String {
    if !unix_s.is_finite() {
        return "invalid time".to_string();
    }
    let total = unix_s.floor() as i64;
    let days = total.div_euclid(86_400);
    let secs = total.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iso_times() {
        assert_eq!(parse_time("1970-01-01T00:00:00"), Some(0.0));
        assert_eq!(parse_time("2024-05-01T10:00:00"), Some(1_714_557_600.0));
        assert_eq!(parse_time("2024-05-01T10:00:00Z"), Some(1_714_557_600.0));
        assert_eq!(
            parse_time("2024-05-01T12:00:00+02:00"),
            Some(1_714_557_600.0)
        );
        assert_eq!(parse_time("2024-05-01 10:00"), Some(1_714_557_600.0));
        assert_eq!(parse_time("2024-05-01T10:00:00.5"), Some(1_714_557_600.5));
        assert_eq!(parse_time("1714557600"), Some(1_714_557_600.0));
        assert_eq!(parse_time("2024-02-30"), None);
        assert_eq!(parse_time("2024-05-01T25:00"), None);
        assert_eq!(parse_time("host"), None);
        assert_eq!(format_time(1_714_557_600.0), "2024-05-01T10:00:00Z");
    }

    #[test]
    fn reads_date_output() {
        let t = Some((1_714_557_600.0, true));
        assert_eq!(parse_date_output("Wed May  1 10:00:00 UTC 2024"), t);
        assert_eq!(parse_date_output("Wed May  1 10:00:00 AM UTC 2024"), t);
        assert_eq!(parse_date_output("Wed, 01 May 2024 12:00:00 +0200"), t);
        assert_eq!(parse_date_output("2024-05-01T10:00:00+00:00"), t);
        assert_eq!(
            parse_date_output("Wed May  1 10:00:00 CEST 2024"),
            Some((1_714_557_600.0, false))
        );
        assert_eq!(parse_date_output("12 resets sent"), None);
        assert_eq!(parse_date_output("May the force be with you 2024"), None);
        assert_eq!(parse_date_output("TCPTimeouts: 2"), None);
    }

    #[test]
    fn splits_file_and_time() {
        let spec = FromSpec::parse("a@b.txt@2024-05-01T10:00:00", false).ok();
        assert_eq!(spec.as_ref().map(|s| s.path.as_str()), Some("a@b.txt"));
        assert_eq!(spec.and_then(|s| s.taken_at_unix_s), Some(1_714_557_600.0));
        let plain = FromSpec::parse("user@host.txt", false).ok();
        assert_eq!(plain.map(|s| s.path), Some("user@host.txt".to_string()));
        assert!(FromSpec::parse("x.txt@2024-13-01", false).is_err());
    }
}
