//! Users as CSV, as `GET /v1/users?format=csv`, a segment's export and the console's
//! export write them: fixed columns, then one per metadata path.

use std::collections::BTreeMap;

use serde_json::Value;

use super::User;
use super::spreadsheet::text_cell;

/// Flattens nested objects into dotted columns; arrays and scalars stay one cell.
fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&format!("{prefix}.{k}"), v, out);
            }
        }
        Value::String(s) => {
            out.insert(prefix.to_owned(), text_cell(s));
        }
        Value::Null => {}
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

/// One row per user: fixed columns, then every metadata path found in the page.
pub fn users_csv(users: &[User]) -> Vec<u8> {
    let rows: Vec<BTreeMap<String, String>> = users
        .iter()
        .map(|u| {
            let mut cells = BTreeMap::new();
            flatten("user_metadata", &u.user_metadata, &mut cells);
            flatten("app_metadata", &u.app_metadata, &mut cells);
            cells
        })
        .collect();
    let mut dynamic: Vec<&String> = rows.iter().flat_map(|r| r.keys()).collect();
    dynamic.sort();
    dynamic.dedup();
    let fixed = [
        "user_id",
        "email",
        "name",
        "login_count",
        "first_login_at",
        "last_login_at",
    ];
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = fixed
        .iter()
        .copied()
        .chain(dynamic.iter().map(|s| s.as_str()))
        .collect();
    writer.write_record(&header).expect("writing to memory");
    for (user, cells) in users.iter().zip(&rows) {
        let mut record = vec![
            text_cell(&user.user_id),
            text_cell(user.email.as_deref().unwrap_or_default()),
            text_cell(user.name.as_deref().unwrap_or_default()),
            user.login_count.to_string(),
            user.first_login_at.to_rfc3339(),
            user.last_login_at.to_rfc3339(),
        ];
        record.extend(
            dynamic
                .iter()
                .map(|k| cells.get(*k).cloned().unwrap_or_default()),
        );
        writer.write_record(&record).expect("writing to memory");
    }
    writer.into_inner().expect("flushing to memory")
}
