//! The site overview (`GET /v1/stats/overview`, the console's overview page): logins,
//! new users and prompt outcomes over the last 7 and 30 UTC days, with one figure per
//! day for the sparklines.

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

use super::Stats;
use crate::error::Result;
use crate::model::Site;

/// The windows the overview reports, in days ending today (UTC).
pub const WINDOWS: [u32; 2] = [7, 30];

/// The figures of one day or one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ToSchema)]
pub struct OverviewFigures {
    /// Login events that occurred (`occurred_at`) in the period.
    pub logins: i64,
    /// Users created by a login in the period (their first counted login).
    pub new_users: i64,
    /// Prompts shown (impressions; once per user, question and login).
    pub shown: i64,
    /// Answers given (every answer, a changed one too).
    pub answered: i64,
    /// Prompts skipped (asked again later).
    pub skipped: i64,
    /// Prompts dismissed (never asked again).
    pub dismissed: i64,
    /// `answered / shown` in the period; null when nothing was shown.
    pub answer_rate: Option<f64>,
}

impl OverviewFigures {
    fn add(&mut self, other: &OverviewFigures) {
        self.logins += other.logins;
        self.new_users += other.new_users;
        self.shown += other.shown;
        self.answered += other.answered;
        self.skipped += other.skipped;
        self.dismissed += other.dismissed;
    }

    fn with_rate(mut self) -> Self {
        self.answer_rate = (self.shown > 0).then(|| self.answered as f64 / self.shown as f64);
        self
    }
}

/// One UTC day of a window.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OverviewDay {
    pub day: NaiveDate,
    #[serde(flatten)]
    pub figures: OverviewFigures,
}

/// The last `days` UTC days, today included.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OverviewWindow {
    pub days: u32,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// The window's sums (and its answer rate).
    pub totals: OverviewFigures,
    /// One entry per day, oldest first, days without activity included as zeros.
    pub daily: Vec<OverviewDay>,
}

/// `GET /v1/stats/overview`: the 7- and 30-day windows ending today (UTC).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SiteOverview {
    /// Today in UTC, the last day of each window.
    pub today: NaiveDate,
    pub windows: Vec<OverviewWindow>,
}

impl Stats<'_> {
    /// The site's overview as of `now`: counted in the database per UTC day since the
    /// first day of the longest window, then summed per window.
    pub async fn overview(&self, site: &Site, now: DateTime<Utc>) -> Result<SiteOverview> {
        let today = now.date_naive();
        let longest = WINDOWS.iter().copied().max().unwrap_or(1);
        let first = first_day(today, longest);
        let since = first
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc();
        let mut days: BTreeMap<NaiveDate, OverviewFigures> = BTreeMap::new();
        for row in self.app.store.daily_logins(&site.site_id, since).await? {
            let day = days.entry(row.day).or_default();
            day.logins += row.logins;
            day.new_users += row.new_users;
        }
        for row in self
            .app
            .store
            .daily_prompt_events(&site.site_id, since)
            .await?
        {
            let day = days.entry(row.day).or_default();
            match row.kind.as_str() {
                "impression" => day.shown += row.count,
                "answered" => day.answered += row.count,
                "skipped" => day.skipped += row.count,
                "dismissed" => day.dismissed += row.count,
                _ => {}
            }
        }
        let windows = WINDOWS
            .iter()
            .map(|&length| window(&days, today, length))
            .collect();
        Ok(SiteOverview { today, windows })
    }
}

/// The first day of the `length`-day window ending on `today`.
fn first_day(today: NaiveDate, length: u32) -> NaiveDate {
    today
        .checked_sub_days(Days::new(u64::from(length.max(1) - 1)))
        .unwrap_or(NaiveDate::MIN)
}

fn window(
    days: &BTreeMap<NaiveDate, OverviewFigures>,
    today: NaiveDate,
    length: u32,
) -> OverviewWindow {
    let first = first_day(today, length);
    let mut totals = OverviewFigures::default();
    let daily: Vec<OverviewDay> = first
        .iter_days()
        .take_while(|day| *day <= today)
        .map(|day| {
            let figures = days.get(&day).copied().unwrap_or_default();
            totals.add(&figures);
            OverviewDay {
                day,
                figures: figures.with_rate(),
            }
        })
        .collect();
    OverviewWindow {
        days: length,
        first_day: first,
        last_day: today,
        totals: totals.with_rate(),
        daily,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_window_has_every_day_and_sums_only_its_own() {
        let mut days = BTreeMap::new();
        let busy = OverviewFigures {
            logins: 3,
            shown: 4,
            answered: 1,
            ..Default::default()
        };
        days.insert(day("2026-11-24"), busy); // the first day of the 7-day window
        days.insert(day("2026-11-23"), busy); // the day before it
        let week = window(&days, day("2026-11-30"), 7);
        assert_eq!(week.daily.len(), 7);
        assert_eq!(week.first_day, day("2026-11-24"));
        assert_eq!(week.daily[0].figures.logins, 3);
        assert_eq!(week.daily[1].figures, OverviewFigures::default());
        assert_eq!(week.totals.logins, 3);
        assert_eq!(week.totals.answer_rate, Some(0.25));
        let month = window(&days, day("2026-11-30"), 30);
        assert_eq!(month.daily.len(), 30);
        assert_eq!(month.totals.logins, 6);
        assert_eq!(month.daily[29].figures.answer_rate, None, "nothing shown");
    }
}
