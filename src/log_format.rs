//! The log line format: tracing-subscriber's default (`Full`, RFC 3339 UTC
//! timestamps), written faster where the proxy logs once per request.
//!
//! The access line (`proxy::access`) went through the generic formatter:
//! every field name painted through `nu_ansi_term` even with colours off,
//! every number through `Debug`, and the date recomputed from the epoch for
//! each line. That was about a fifth of the proxy's instructions per request
//! (bench/analysis.md). [`LogFormat`] writes those lines itself, byte for byte
//! as the default format would (a test compares the two), and hands every
//! other event, and any event inside a span or bound for a terminal with
//! colours, to the default format unchanged. [`UtcTime`] is the default
//! timestamp with the date part kept per thread for the current second.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields, Full, Writer};
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::registry::LookupSpan;

/// The events written by the fast path: the proxy's access lines, whose
/// message is a literal and whose fields are plain values.
pub const ACCESS_TARGET: &str = "infisical_mcp_rs::proxy::access";

/// The event format every log layer of this binary uses.
pub struct LogFormat {
    full: format::Format<Full, UtcTime>,
}

impl Default for LogFormat {
    fn default() -> Self {
        Self {
            full: format::format().with_timer(UtcTime),
        }
    }
}

impl<S, N> FormatEvent<S, N> for LogFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        if meta.target() != ACCESS_TARGET || writer.has_ansi_escapes() || ctx.lookup_current().is_some() {
            return self.full.format_event(ctx, writer, event);
        }
        UtcTime.format_time(&mut writer)?;
        writer.write_char(' ')?;
        writer.write_str(level_column(meta.level()))?;
        writer.write_char(' ')?;
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        let mut fields = PlainFields {
            writer: &mut writer,
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_char('\n')
    }
}

/// The default format's level column: five wide, right-aligned.
fn level_column(level: &tracing::Level) -> &'static str {
    match *level {
        tracing::Level::TRACE => "TRACE",
        tracing::Level::DEBUG => "DEBUG",
        tracing::Level::INFO => " INFO",
        tracing::Level::WARN => " WARN",
        tracing::Level::ERROR => "ERROR",
    }
}

/// `value` as `str`'s `Debug` writes it. Text that needs no escape (printable
/// ASCII without `"` or `\\`, as every access-line outcome is) is quoted
/// without going through `fmt`.
fn write_quoted(w: &mut Writer<'_>, value: &str) -> fmt::Result {
    if value
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    {
        w.write_char('"')?;
        w.write_str(value)?;
        w.write_char('"')
    } else {
        write!(w, "{value:?}")
    }
}

/// Fields as the default format writes them without colours: the message
/// first, then ` name=value` with strings quoted (`Debug`). Names, numbers
/// and separators are written as they are; only values that need it go
/// through `fmt`.
struct PlainFields<'a, 'w> {
    writer: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl PlainFields<'_, '_> {
    fn write(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        self.result = (|| {
            if !std::mem::take(&mut self.first) {
                self.writer.write_char(' ')?;
            }
            if field.name() != "message" {
                self.writer.write_str(field.name())?;
                self.writer.write_char('=')?;
            }
            value(self.writer)
        })();
    }
}

impl Visit for PlainFields<'_, '_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.write(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.write(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.write(field, |w| w.write_str(if value { "true" } else { "false" }));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.write(field, |w| w.write_str(value));
        } else {
            self.write(field, |w| write_quoted(w, value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.write(field, |w| write!(w, "{value:?}"));
    }
}

/// `tracing_subscriber::fmt::time::SystemTime`'s output
/// (`2026-12-01T17:16:53.008746Z`), with `YYYY-MM-DDTHH:MM:SS` formatted once
/// per second per thread instead of for every line.
#[derive(Debug, Clone, Copy, Default)]
pub struct UtcTime;

/// Years past 9999 do not fit the cached width; the default formatter
/// writes them.
const LAST_CACHED_SECOND: u64 = 253_402_300_799;

thread_local! {
    static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

impl FormatTime for UtcTime {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        let Ok(since_epoch) = SystemTime::now().duration_since(UNIX_EPOCH) else {
            return tracing_subscriber::fmt::time::SystemTime.format_time(w);
        };
        let second = since_epoch.as_secs();
        if second > LAST_CACHED_SECOND {
            return tracing_subscriber::fmt::time::SystemTime.format_time(w);
        }
        SECOND.with_borrow_mut(|(cached, text)| {
            if *cached != second {
                text.clear();
                write_civil_second(text, second)?;
                *cached = second;
            }
            w.write_str(text)
        })?;
        write_fraction(w, since_epoch.subsec_micros())
    }
}

/// `.MMMMMMZ`: the microseconds (below a million), zero-padded to six digits.
fn write_fraction(w: &mut impl fmt::Write, micros: u32) -> fmt::Result {
    let mut text = *b".000000Z";
    let mut rest = micros;
    for digit in text[1..7].iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    w.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
}

/// `YYYY-MM-DDTHH:MM:SS` (UTC) for seconds since the epoch, with the
/// proleptic Gregorian calendar (H. Hinnant's `civil_from_days`).
fn write_civil_second(out: &mut String, second: u64) -> fmt::Result {
    let days = second / 86_400;
    let in_day = second % 86_400;
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        in_day / 3_600,
        in_day / 60 % 60,
        in_day % 60
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::MakeWriter;

    fn civil(second: u64) -> String {
        let mut out = String::new();
        write_civil_second(&mut out, second).unwrap();
        out
    }

    #[test]
    fn fractions_are_six_digits() {
        for (micros, text) in [
            (0, ".000000Z"),
            (8_746, ".008746Z"),
            (999_999, ".999999Z"),
            (100_000, ".100000Z"),
        ] {
            let mut out = String::new();
            write_fraction(&mut out, micros).unwrap();
            assert_eq!(out, text);
            assert_eq!(out, format!(".{micros:06}Z"));
        }
    }

    #[test]
    fn dates_match_the_calendar() {
        assert_eq!(civil(0), "1970-01-01T00:00:00");
        assert_eq!(civil(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(civil(951_868_799), "2000-02-29T23:59:59");
        assert_eq!(civil(1_709_251_199), "2024-02-29T23:59:59");
        assert_eq!(civil(4_107_542_400), "2100-03-01T00:00:00");
        assert_eq!(civil(1_796_086_613), "2026-12-01T00:56:53");
        assert_eq!(civil(LAST_CACHED_SECOND), "9999-12-31T23:59:59");
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Self;
        fn make_writer(&'a self) -> Self {
            self.clone()
        }
    }

    fn access_and_other_events() {
        tracing::info!(
            target: ACCESS_TARGET,
            method = %"GET",
            path = %"/api/v3/secrets/raw/K",
            query = %"workspaceId&environment",
            status = 200u16,
            duration_ms = 3u64,
            bytes = 262u64,
            outcome = "client went away before the end of the \"body\"",
            "proxied"
        );
        tracing::info!(
            target: ACCESS_TARGET,
            method = %"POST",
            status = 403u16,
            outcome = "forwarded",
            odd = "tab\there, back\\slash, é",
            "proxied"
        );
        tracing::trace!(target: ACCESS_TARGET, status = 1u16, "proxied");
        tracing::debug!(target: ACCESS_TARGET, status = 2u16, "proxied");
        tracing::warn!(target: ACCESS_TARGET, status = 3u16, "proxied");
        tracing::error!(target: ACCESS_TARGET, status = 4u16, "proxied");
        tracing::warn!(code = 7u64, "upstream said {}", "a \u{1b}[31m red");
        let span = tracing::info_span!("inside", id = 7);
        let _entered = span.enter();
        tracing::info!(target: ACCESS_TARGET, status = 502u16, "proxied");
    }

    /// Every line as the given layer writes it, without its timestamp.
    fn lines(fast: bool) -> Vec<String> {
        use tracing_subscriber::layer::SubscriberExt as _;
        let out = Captured::default();
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(out.clone())
            .with_ansi(false);
        let subscriber = tracing_subscriber::registry();
        if fast {
            let layer = layer.event_format(LogFormat::default());
            tracing::subscriber::with_default(subscriber.with(layer), access_and_other_events);
        } else {
            tracing::subscriber::with_default(subscriber.with(layer), access_and_other_events);
        }
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| {
                let (time, rest) = line.split_once(' ').unwrap();
                assert_eq!(time.len(), "2026-12-01T17:16:53.008746Z".len(), "{line}");
                assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T', "{line}");
                rest.to_string()
            })
            .collect()
    }

    #[test]
    fn the_fast_path_writes_what_the_default_format_writes() {
        let fast = lines(true);
        assert_eq!(fast, lines(false));
        assert_eq!(fast.len(), 8);
        assert!(fast[0].starts_with(" INFO infisical_mcp_rs::proxy::access: proxied method=GET path="));
        assert!(fast[0].ends_with(r#"outcome="client went away before the end of the \"body\"""#));
        assert!(
            fast[1].ends_with(r#"outcome="forwarded" odd="tab\there, back\\slash, é""#),
            "{}",
            fast[1]
        );
        let levels: Vec<&str> = fast[2..6].iter().map(|line| &line[..5]).collect();
        assert_eq!(levels, ["TRACE", "DEBUG", " WARN", "ERROR"]);
        // The default format (used for this one) escapes what a terminal
        // would act on.
        assert!(fast[6].contains("\\x1b[31m"), "{}", fast[6]);
    }
}
