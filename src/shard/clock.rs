//! How far this machine's clock may be from the target's, before a sharded run.
//!
//! In: the target's base URL. Out: `{"method", "offset_ms", "uncertainty_ms", "ntp"}` for
//! the result line: `offset_ms` is the target's clock minus this one's, read from the HTTP
//! `Date` header (whole seconds) by catching the moment its second changes: requests are
//! sent back to back for up to [`PROBE_S`]; when the date of one answer is a second past the
//! previous answer's, the server's clock crossed that second between the previous request's
//! send and this answer's arrival (probes are [`PAUSE_MS`] apart), so the offset is known to
//! within half of that interval
//! (plus however late the server refreshes its date). `ntp` is the kernel's NTP status
//! (synchronised, estimated and maximum error) when known (Linux).

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::unix_s;

/// Longest time spent sending probes, in seconds (a second boundary is always inside).
pub const PROBE_S: f64 = 1.3;

/// Pause between probes, in milliseconds.
const PAUSE_MS: u64 = 5;

/// The clock estimate against the server at `url`, never an error: what could not be
/// measured is `null`.
pub async fn estimate(url: &str) -> Value {
    let (offset, uncertainty) = match http_date(url).await {
        Some((o, u)) => (json!(o * 1000.0), json!(u * 1000.0)),
        None => (Value::Null, Value::Null),
    };
    let method = if offset.is_null() {
        "none"
    } else {
        "http_date"
    };
    json!({
        "method": method,
        "offset_ms": offset,
        "uncertainty_ms": uncertainty,
        "ntp": ntp(),
    })
}

/// (offset, uncertainty) in seconds from the target's `Date` header, when it sends one.
async fn http_date(url: &str) -> Option<(f64, f64)> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .ok()?;
    let started = std::time::Instant::now();
    let mut prev: Option<(f64, i64)> = None;
    let mut coarse = None;
    while started.elapsed().as_secs_f64() < PROBE_S {
        let sent = unix_s(SystemTime::now());
        let resp = client.get(url).send().await.ok()?;
        let recv = unix_s(SystemTime::now());
        let date = resp.headers().get(reqwest::header::DATE)?.to_str().ok()?;
        let secs = parse_http_date(date)?;
        coarse.get_or_insert((
            secs as f64 + 0.5 - (sent + recv) / 2.0,
            0.5 + (recv - sent) / 2.0,
        ));
        if let Some((sent_before, before)) = prev
            && secs > before
        {
            return Some(boundary(sent_before, recv, secs));
        }
        prev = Some((sent, secs));
        // At most about 200 probes: enough to place the boundary within a few ms.
        tokio::time::sleep(Duration::from_millis(PAUSE_MS)).await;
    }
    coarse
}

/// The server's second `secs` began between `after` and `before` (local Unix seconds):
/// (offset, uncertainty).
fn boundary(after: f64, before: f64, secs: i64) -> (f64, f64) {
    (secs as f64 - (after + before) / 2.0, (before - after) / 2.0)
}

/// Seconds since the Unix epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_http_date(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|x| x == month)? as i64 + 1;
    let (d, y): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time.split(':').filter_map(|x| x.parse().ok()).collect();
    let [h, mi, s] = hms.as_slice() else {
        return None;
    };
    Some(days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The kernel's NTP status: `{"synchronized", "est_error_ms", "max_error_ms"}`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn ntp() -> Value {
    // SAFETY: adjtimex with `modes = 0` only reads the kernel's clock state into `t`.
    let mut t: libc::timex = unsafe { std::mem::zeroed() };
    let state = unsafe { libc::adjtimex(&mut t) };
    if state < 0 {
        return Value::Null;
    }
    let synced = state != libc::TIME_ERROR && t.status & libc::STA_UNSYNC == 0;
    json!({
        "synchronized": synced,
        "est_error_ms": t.esterror as f64 / 1000.0,
        "max_error_ms": t.maxerror as f64 / 1000.0,
    })
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn ntp() -> Value {
    Value::Null
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse_to_unix_seconds() {
        // RFC 9110's example; `date -d '1994-11-06 08:49:37Z' +%s` = 784111777
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Mon, 30 Nov 2026 13:51:08 GMT"),
            Some(1_796_046_668)
        );
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        // The second began between 99.9 and 100.1 local: the server is 0 s ahead, ± 0.1 s.
        let (o, u) = boundary(99.9, 100.1, 100);
        assert!(o.abs() < 1e-9 && (u - 0.1).abs() < 1e-9, "{o} {u}");
    }

    #[tokio::test]
    async fn the_embedded_server_clock_is_this_clock() {
        let server = crate::sim::start_local(Default::default()).await.unwrap();
        let v = estimate(&server.base_url()).await;
        server.stop().await;
        assert_eq!(v["method"], "http_date", "{v}");
        let (o, u) = (
            v["offset_ms"].as_f64().unwrap(),
            v["uncertainty_ms"].as_f64().unwrap(),
        );
        // Same host, same clock: zero within the stated uncertainty (and the server's
        // date refresh, which hyper does on the second).
        assert!(o.abs() <= u + 5.0, "{v}");
        assert!(u < 100.0, "{v}");
    }
}
