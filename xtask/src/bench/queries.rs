//! The query rows of `cargo xtask bench-api`: reads that scan the population (segment
//! counts, filtered user pages, CSV export, the insights figures: overview,
//! completeness, question stats, a set's results with and without a filter, for a version
//! and within dates), each timed from one connection, and the server's memory after all
//! rows.

use anyhow::{Context, bail};

use super::http::with_secret as http;

/// The two classic segments (issue 11, target 5), as the README writes them.
pub(super) const SEGMENTS: [(&str, &str); 2] = [
    (
        "never-came-back",
        r#"{"all": [{"key": "login_count", "equals": 1}, {"key": "days_since_first_login", "gte": 7}]}"#,
    ),
    (
        "fitness-20-40",
        r#"{"all": [{"key": "gender", "equals": "male"}, {"key": "interests", "contains": "fitness"}, {"key": "birthday", "since": "years", "gte": 20}, {"key": "birthday", "since": "years", "lte": 40}]}"#,
    ),
];

/// One read to time: its label for the table and the request path.
pub(super) struct Query {
    pub label: String,
    pub path: String,
}

/// Saves the classic segments on the running server and lists the reads to time, each
/// labelled with what it answered once (so a wrong, empty answer shows in the table).
pub(super) fn prepare(port: u16, secret: &str) -> anyhow::Result<Vec<Query>> {
    let mut queries = Vec::new();
    for (name, condition) in SEGMENTS {
        let body = format!(r#"{{"where": {condition}}}"#);
        let (status, answer) = http(port, "PUT", &format!("/v1/segments/{name}"), secret, &body)?;
        if !(200..300).contains(&status) {
            bail!("saving segment {name}: {status} {answer}");
        }
        let path = format!("/v1/segments/{name}/count");
        let (status, answer) = http(port, "GET", &path, secret, "")?;
        // A refusal or a timeout is a finding for the table, not a reason to stop.
        let answered = match serde_json::from_str::<serde_json::Value>(&answer) {
            Ok(counted) if status == 200 => format!("{} users", counted["users"]),
            _ => format!("answered {status}"),
        };
        queries.push(Query {
            label: format!("`{path}` ({answered})"),
            path,
        });
    }
    let (_, never_came_back) = SEGMENTS[0];
    queries.push(Query {
        label: "`GET /v1/users?where=…never came back…&limit=100`".into(),
        path: format!(
            "/v1/users?limit=100&where={}",
            percent_encode(never_came_back)
        ),
    });
    queries.push(Query {
        label: "`GET /v1/segments/fitness-20-40/users?format=csv&limit=1000`".into(),
        path: "/v1/segments/fitness-20-40/users?format=csv&limit=1000".into(),
    });
    // The insights pages' figures (issue 12: ≤ 1 s at 1 M users).
    for path in [
        "/v1/stats/overview",
        "/v1/stats/completeness",
        "/v1/stats/questions",
        "/v1/question-sets/onboarding/results",
    ] {
        queries.push(Query {
            label: format!("`GET {path}`"),
            path: path.into(),
        });
    }
    let (_, fitness) = SEGMENTS[1];
    queries.push(Query {
        label: "`GET /v1/question-sets/onboarding/results?where=…fitness 20–40…`".into(),
        path: format!(
            "/v1/question-sets/onboarding/results?where={}",
            percent_encode(fitness)
        ),
    });
    // Within a version's live period and within dates: the users seen there are read from
    // the users' rows (open windows) or from the window's logins (closed ones).
    let today = chrono::Utc::now().date_naive();
    let days_ago = |days| today - chrono::Days::new(days);
    for (label, query) in [
        ("version=1", "version=1".to_owned()),
        ("from=30 days ago", format!("from={}", days_ago(30))),
        (
            "from=60 days ago&to=30 days ago",
            format!("from={}&to={}", days_ago(60), days_ago(30)),
        ),
    ] {
        queries.push(Query {
            label: format!("`GET /v1/question-sets/onboarding/results?{label}`"),
            path: format!("/v1/question-sets/onboarding/results?{query}"),
        });
    }
    Ok(queries)
}

/// The server's peak and current resident memory in MiB (`VmHWM`, `VmRSS` of
/// `/proc/PID/status`).
pub(super) fn memory_mib(pid: u32) -> anyhow::Result<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> anyhow::Result<f64> {
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .with_context(|| format!("no {name} in /proc/{pid}/status"))?
            .parse()?;
        Ok(kib / 1024.0)
    };
    Ok((field("VmHWM:")?, field("VmRSS:")?))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
