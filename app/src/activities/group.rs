//! Which day an open activity is due on, and so its group: "Overdue", "Today", "Upcoming" or "No
//! due date". Days are the reader's: the server renders them in UTC (the instants it sends are in
//! UTC), and the browser groups again in its own time zone once it has the page.

use super::{ActivityDto, Kind};

/// The groups of "My activities", in the order they show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    Overdue,
    Today,
    Upcoming,
    NoDueDate,
}

impl Group {
    pub const ALL: [Group; 4] = [
        Group::Overdue,
        Group::Today,
        Group::Upcoming,
        Group::NoDueDate,
    ];

    pub fn heading(self) -> &'static str {
        match self {
            Group::Overdue => "Overdue",
            Group::Today => "Today",
            Group::Upcoming => "Upcoming",
            Group::NoDueDate => "No due date",
        }
    }

    /// The id of its heading, for `aria-labelledby`.
    pub fn id(self) -> &'static str {
        match self {
            Group::Overdue => "group-overdue",
            Group::Today => "group-today",
            Group::Upcoming => "group-upcoming",
            Group::NoDueDate => "group-none",
        }
    }
}

/// The day (`yyyy-MM-dd`) an instant falls on: in the browser's own zone when `local`, else in
/// UTC (the server sends instants in UTC, so the day is their first ten characters). The server
/// and the browser's first render use UTC, so hydration finds what the server drew.
pub fn day_of(instant: &str, local: bool) -> Option<String> {
    #[cfg(feature = "hydrate")]
    if local {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(instant));
        if date.get_time().is_nan() {
            return None;
        }
        return Some(format!(
            "{:04}-{:02}-{:02}",
            date.get_full_year(),
            date.get_month() + 1,
            date.get_date()
        ));
    }
    let _ = local;
    let day = instant.get(..10)?;
    day.bytes()
        .enumerate()
        .all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
        .then(|| day.to_owned())
}

/// Today: in the browser's zone when `local`, else in UTC.
pub fn today(local: bool) -> String {
    #[cfg(feature = "hydrate")]
    {
        let now = js_sys::Date::new_0();
        if local {
            return format!(
                "{:04}-{:02}-{:02}",
                now.get_full_year(),
                now.get_month() + 1,
                now.get_date()
            );
        }
        format!(
            "{:04}-{:02}-{:02}",
            now.get_utc_full_year(),
            now.get_utc_month() + 1,
            now.get_utc_date()
        )
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = local;
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        crate::time::iso(secs)[..10].to_owned()
    }
}

/// The day an activity is due or starts on (a task's date has no zone).
pub fn due_day(a: &ActivityDto, local: bool) -> Option<String> {
    match a.kind {
        Kind::Task => a.due_date.clone(),
        Kind::Meeting | Kind::Call => a.starts.as_deref().and_then(|s| day_of(s, local)),
    }
}

/// The group of an open activity on `today` (days in the reader's zone when `local`). A meeting
/// is open until it ends, so one that started before today is still today's.
pub fn group(a: &ActivityDto, today: &str, local: bool) -> Group {
    match due_day(a, local) {
        None => Group::NoDueDate,
        Some(day) if day.as_str() > today => Group::Upcoming,
        Some(day) if day.as_str() == today || a.kind == Kind::Meeting => Group::Today,
        Some(_) => Group::Overdue,
    }
}

/// Sorts activities soonest first (a task by its day, the others by their instant), the undated
/// last.
pub fn sort(items: &mut [ActivityDto]) {
    items.sort_by(|a, b| {
        let key = |x: &ActivityDto| match x.kind {
            Kind::Task => x.due_date.clone(),
            _ => x.starts.clone(),
        };
        match (key(a), key(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.title.cmp(&b.title),
        }
    });
}

/// How many are overdue or due today: the count beside "My activities".
pub fn due_count(items: &[ActivityDto], today: &str, local: bool) -> usize {
    items
        .iter()
        .filter(|a| matches!(group(a, today, local), Group::Overdue | Group::Today))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity(kind: Kind, due: Option<&str>, starts: Option<&str>) -> ActivityDto {
        ActivityDto {
            kind,
            id: "1".into(),
            title: "x".into(),
            due_date: due.map(str::to_owned),
            starts: starts.map(str::to_owned),
            ends: None,
            status: None,
            owner: None,
            parent: None,
            closed: false,
            cancelled: false,
            can_complete: false,
            can_cancel: false,
            call_type: None,
            call_result: None,
            duration_minutes: None,
            recurrence: None,
            reminder: None,
            action_token: String::new(),
        }
    }

    #[test]
    fn each_activity_falls_in_one_group() {
        let today = "2026-12-06";
        let task = |d| activity(Kind::Task, d, None);
        assert_eq!(
            group(&task(Some("2026-12-05")), today, false),
            Group::Overdue
        );
        assert_eq!(group(&task(Some("2026-12-06")), today, false), Group::Today);
        assert_eq!(
            group(&task(Some("2026-12-07")), today, false),
            Group::Upcoming
        );
        assert_eq!(group(&task(None), today, false), Group::NoDueDate);
        let call = |s| activity(Kind::Call, None, Some(s));
        assert_eq!(
            group(&call("2026-12-05T23:00:00Z"), today, false),
            Group::Overdue
        );
        assert_eq!(
            group(&call("2026-12-06T09:00:00Z"), today, false),
            Group::Today
        );
        let meeting = |s| activity(Kind::Meeting, None, Some(s));
        // Still open, so it has not ended: it is today's.
        assert_eq!(
            group(&meeting("2026-12-05T23:00:00Z"), today, false),
            Group::Today
        );
        assert_eq!(
            group(&meeting("2026-12-08T10:00:00Z"), today, false),
            Group::Upcoming
        );
        let all = [
            task(Some("2026-12-01")),
            task(Some("2026-12-06")),
            task(Some("2026-12-09")),
            task(None),
            call("2026-12-06T09:00:00Z"),
        ];
        assert_eq!(due_count(&all, today, false), 3);
    }

    #[test]
    fn soonest_first_and_undated_last() {
        let mut items = vec![
            activity(Kind::Task, None, None),
            activity(Kind::Task, Some("2026-12-09"), None),
            activity(Kind::Call, None, Some("2026-12-07T10:00:00Z")),
        ];
        sort(&mut items);
        assert_eq!(items[0].kind, Kind::Call);
        assert_eq!(items[1].due_date.as_deref(), Some("2026-12-09"));
        assert_eq!(items[2].due_date, None);
    }

    #[test]
    fn the_servers_day_is_the_utc_one() {
        assert_eq!(
            day_of("2026-12-06T23:30:00Z", false).as_deref(),
            Some("2026-12-06")
        );
        assert_eq!(day_of("garbage", false), None);
    }
}
