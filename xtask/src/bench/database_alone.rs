//! The database's own rate for the statements Trickle runs for one request, measured in
//! the same run as Trickle's: pgbench with a custom script on PostgreSQL,
//! `trickle-bench-db rate` (sqlx in one process) on SQLite.

use anyhow::{Context, bail};
use std::process::{Command, Stdio};

use super::{Bench, CONNECTIONS, MAX_REQUESTS};

impl Bench {
    pub(super) fn sqlite_rate(&self, url: &str, site_id: &str, what: &str) -> anyhow::Result<f64> {
        let output = Command::new(&self.bench_db)
            .args(["rate", url, site_id, what])
            .arg(self.seconds.to_string())
            .arg(MAX_REQUESTS.to_string())
            .arg(CONNECTIONS.to_string())
            .arg(self.users.to_string())
            .stderr(Stdio::inherit())
            .output()?;
        let printed = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!("trickle-bench-db rate {what} failed: {printed}");
        }
        printed
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix("rate="))
            .context("no rate= from trickle-bench-db")?
            .parse()
            .context("rate")
    }

    pub(super) fn pgbench(&self, url: &str, site_id: &str, what: &str) -> anyhow::Result<f64> {
        let script = self.work.join(format!("pgbench-{what}.sql"));
        std::fs::write(&script, pgbench_script(what, site_id, self.users))?;
        let output = Command::new("pgbench")
            .args(["-n", "-M", "prepared", "-j", "2"])
            .args(["-c", &CONNECTIONS.to_string()])
            .args(["-T", &self.seconds.to_string(), "-f"])
            .arg(&script)
            .arg(url)
            .output()
            .context("running pgbench")?;
        let printed = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "pgbench failed: {printed}{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        printed
            .lines()
            .find_map(|l| l.strip_prefix("tps = "))
            .and_then(|l| l.split_whitespace().next())
            .with_context(|| format!("no tps from pgbench: {printed}"))?
            .parse()
            .context("tps")
    }
}

/// The statements Trickle runs for one request (`store/sql/`), for pgbench.
fn pgbench_script(what: &str, site: &str, users: usize) -> String {
    match what {
        "logins" => format!(
            "\\set n random(1, 1000000000000)\n\
             BEGIN;\n\
             INSERT INTO login_events (site_id, event_id, user_id, occurred_at, ip, user_agent, login_count, first_login_at, last_login_at, signed_up, previous_login_at) VALUES ('{site}', 'pg-' || :client_id || '-' || :n, 'pg-' || :client_id || '-' || :n, now(), '81.2.69.142', NULL, 0, now(), now(), FALSE, NULL) ON CONFLICT (site_id, event_id) DO NOTHING;\n\
             INSERT INTO users (site_id, user_id, login_count, first_login_at, last_login_at, last_ip, last_user_agent, email, name, created_at, updated_at) VALUES ('{site}', 'pg-' || :client_id || '-' || :n, 1, now(), now(), '81.2.69.142', NULL, NULL, NULL, now(), now()) ON CONFLICT (site_id, user_id) DO UPDATE SET login_count = users.login_count + 1, first_login_at = LEAST(users.first_login_at, excluded.first_login_at), last_login_at = GREATEST(users.last_login_at, excluded.last_login_at), last_ip = coalesce(excluded.last_ip, users.last_ip), updated_at = excluded.updated_at RETURNING login_count, first_login_at, last_login_at;\n\
             UPDATE login_events SET login_count = 1, first_login_at = now(), last_login_at = now(), signed_up = TRUE WHERE site_id = '{site}' AND event_id = 'pg-' || :client_id || '-' || :n;\n\
             END;\n"
        ),
        "next" => format!(
            "\\set u random(0, {})\n\
             SELECT user_id, login_count, first_login_at, last_login_at, last_ip, last_user_agent, email, name, user_metadata, app_metadata, created_at, updated_at, last_prompted_at FROM users WHERE site_id = '{site}' AND user_id = 'u' || :u;\n\
             SELECT question_set, key, kind, login_count FROM prompt_events WHERE site_id = '{site}' AND user_id = 'u' || :u AND kind <> 'impression' ORDER BY id;\n",
            users - 1
        ),
        _ => format!(
            "\\set u random({}, {})\n\
             BEGIN;\n\
             UPDATE users SET updated_at = now() WHERE site_id = '{site}' AND user_id = 'u' || :u RETURNING user_metadata, app_metadata, login_count;\n\
             UPDATE users SET user_metadata = '{{\"role\":\"founder\"}}', app_metadata = '{{}}' WHERE site_id = '{site}' AND user_id = 'u' || :u;\n\
             INSERT INTO answers (site_id, user_id, key, question_set, version, value, login_count, answered_at) VALUES ('{site}', 'u' || :u, 'role', 'onboarding', 1, '\"founder\"', 1, now()) ON CONFLICT (site_id, user_id, key) DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at;\n\
             INSERT INTO prompt_events (site_id, user_id, question_set, version, key, kind, login_count, created_at, login_at) VALUES ('{site}', 'u' || :u, 'onboarding', 1, 'role', 'answered', 1, now(), (SELECT last_login_at FROM users WHERE site_id = '{site}' AND user_id = 'u' || :u));\n\
             END;\n",
            users / 2,
            users - 1
        ),
    }
}
