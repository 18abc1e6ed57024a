use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};
use landfall_icp::calendar::*;

use crate::d;

fn set(list: &[&str]) -> BTreeSet<NaiveDate> {
    list.iter().map(|s| d(s)).collect()
}

fn range(from: &str, to: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut x = d(from);
    while x <= d(to) {
        out.push(x.to_string());
        x = x.succ_opt().unwrap();
    }
    out
}

#[test]
fn builtin_covers_2004_to_2026() {
    let cal = WorkCalendar::try_builtin().expect("embedded data must load");
    assert_eq!(cal.loaded_years(), (2004..=2026).collect::<Vec<_>>());
}

/// §4.1: the official 2026 schedule (State Council notice of 2025-11-04).
#[test]
fn official_2026_holidays_and_makeup_days() {
    let cal = WorkCalendar::builtin();
    let mut off: Vec<String> = Vec::new();
    for (a, b) in [
        ("2026-01-01", "2026-01-03"),
        ("2026-02-15", "2026-02-23"),
        ("2026-04-04", "2026-04-06"),
        ("2026-05-01", "2026-05-05"),
        ("2026-06-19", "2026-06-21"),
        ("2026-09-25", "2026-09-27"),
        ("2026-10-01", "2026-10-07"),
    ] {
        off.extend(range(a, b));
    }
    let off: BTreeSet<NaiveDate> = off.iter().map(|s| d(s)).collect();
    let makeup = set(&[
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ]);
    let y = cal.year(2026).unwrap();
    assert_eq!(y.off_days(), off);
    assert_eq!(y.makeup_days(), makeup);
    for day in &off {
        assert!(!cal.is_working_day(*day).unwrap(), "{day} is a holiday");
        assert!(matches!(
            cal.day_kind(*day).unwrap(),
            DayKind::Holiday { .. }
        ));
    }
    for day in &makeup {
        assert!(matches!(day.weekday(), Weekday::Sat | Weekday::Sun));
        assert!(
            cal.is_working_day(*day).unwrap(),
            "{day} is a make-up working day"
        );
    }
    // Every other day of 2026 (up to the late-December window) follows the weekday rule.
    let mut x = d("2026-01-01");
    while x <= d("2026-12-24") {
        if !off.contains(&x) && !makeup.contains(&x) {
            let weekday = !matches!(x.weekday(), Weekday::Sat | Weekday::Sun);
            assert_eq!(cal.is_working_day(x).unwrap(), weekday, "{x}");
        }
        x = x.succ_opt().unwrap();
    }
    assert_eq!(
        cal.day_kind(d("2026-02-14")).unwrap(),
        DayKind::MakeUpWorkday {
            name: "春节".into(),
            name_en: Some("Spring Festival".into())
        }
    );
    assert!(
        matches!(cal.day_kind(d("2026-10-01")).unwrap(), DayKind::Holiday { name, .. } if name == "国庆节")
    );
    assert_eq!(cal.day_kind(d("2026-03-07")).unwrap(), DayKind::Weekend);
    assert_eq!(cal.day_kind(d("2026-03-09")).unwrap(), DayKind::Workday);
}

#[test]
fn reference_2025_schedule() {
    let cal = WorkCalendar::builtin();
    let y = cal.year(2025).unwrap();
    let mut off: Vec<String> = vec!["2025-01-01".into()];
    for (a, b) in [
        ("2025-01-28", "2025-02-04"),
        ("2025-04-04", "2025-04-06"),
        ("2025-05-01", "2025-05-05"),
        ("2025-05-31", "2025-06-02"),
        ("2025-10-01", "2025-10-08"),
    ] {
        off.extend(range(a, b));
    }
    assert_eq!(y.off_days(), off.iter().map(|s| d(s)).collect());
    assert_eq!(
        y.makeup_days(),
        set(&[
            "2025-01-26",
            "2025-02-08",
            "2025-04-27",
            "2025-09-28",
            "2025-10-11"
        ])
    );
}

/// §4.3 worked examples (naive Mon–Fri results differ: 03-06, 10-22, 10-08).
#[test]
fn add_working_days_worked_examples() {
    let cal = WorkCalendar::builtin();
    assert_eq!(
        cal.add_working_days(d("2026-02-06"), 20).unwrap(),
        d("2026-03-12")
    );
    assert_eq!(
        cal.add_working_days(d("2026-09-24"), 20).unwrap(),
        d("2026-10-29")
    );
    assert_eq!(
        cal.add_working_days(d("2026-09-24"), 10).unwrap(),
        d("2026-10-15")
    );
    assert_eq!(
        cal.add_working_days(d("2026-02-06"), 0).unwrap(),
        d("2026-02-06")
    );
    assert_eq!(
        cal.add_working_days(d("2026-02-06"), 1).unwrap(),
        d("2026-02-09")
    );
    // The Saturday make-up day counts: Friday 02-13 + 1 = Saturday 02-14.
    assert_eq!(
        cal.add_working_days(d("2026-02-13"), 1).unwrap(),
        d("2026-02-14")
    );
    assert_eq!(
        cal.add_working_days(d("2026-02-14"), 1).unwrap(),
        d("2026-02-24")
    );
}

/// find_workday semantics: a non-working start rolls forward first.
#[test]
fn add_working_days_from_a_holiday_rolls_forward_first() {
    let cal = WorkCalendar::builtin();
    assert_eq!(
        cal.add_working_days(d("2026-02-15"), 0).unwrap(),
        d("2026-02-24")
    );
    assert_eq!(
        cal.add_working_days(d("2026-02-15"), 1).unwrap(),
        d("2026-02-25")
    );
    assert_eq!(
        cal.add_working_days(d("2026-03-07"), 1).unwrap(),
        d("2026-03-10")
    );
    assert_eq!(
        cal.next_working_day(d("2026-09-30")).unwrap(),
        d("2026-10-08")
    );
    assert_eq!(
        cal.working_days_between(d("2026-02-06"), d("2026-03-12"))
            .unwrap(),
        20
    );
    assert_eq!(
        cal.working_days_between(d("2026-03-12"), d("2026-02-06"))
            .unwrap(),
        0
    );
}

#[test]
fn late_december_is_governed_by_the_next_notice() {
    let cal = WorkCalendar::builtin();
    // The 2019 notice: 2018-12-29 (Sat) working, 12-30/31 off.
    assert!(cal.is_working_day(d("2018-12-29")).unwrap());
    assert!(!cal.is_working_day(d("2018-12-31")).unwrap());
    assert!(
        matches!(cal.day_kind(d("2018-12-31")).unwrap(), DayKind::Holiday { name, .. } if name == "元旦")
    );
}

#[test]
fn unknown_years_are_explicit_errors() {
    let cal = WorkCalendar::builtin();
    match cal.is_working_day(d("2027-01-05")).unwrap_err() {
        CalendarError::YearNotLoaded {
            year,
            loaded,
            late_december,
            ..
        } => {
            assert_eq!(year, 2027);
            assert_eq!(loaded, Some((2004, 2026)));
            assert!(!late_december);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        cal.day_kind(d("2003-06-02")).unwrap_err(),
        CalendarError::YearNotLoaded { year: 2003, .. }
    ));
    // Late December 2026 needs the 2027 notice.
    assert!(cal.is_working_day(d("2026-12-24")).is_ok());
    assert!(matches!(
        cal.is_working_day(d("2026-12-28")).unwrap_err(),
        CalendarError::YearNotLoaded {
            year: 2027,
            late_december: true,
            ..
        }
    ));
    // Counting into an unloaded year fails rather than guessing.
    let e = cal.add_working_days(d("2026-12-01"), 30).unwrap_err();
    assert!(matches!(e, CalendarError::YearNotLoaded { year: 2027, .. }));
    assert!(e.to_string().contains("2027"));
    assert!(e.message_zh().contains("2027"));
    let empty = WorkCalendar::empty();
    assert!(matches!(
        empty.add_working_days(d("2026-02-06"), 1).unwrap_err(),
        CalendarError::YearNotLoaded { loaded: None, .. }
    ));
}

const Y2027: &str = r#"{
  "year": 2027,
  "source": "test data (not the real 2027 notice)",
  "holidays": [
    {"name": "元旦", "name_en": "New Year's Day", "off": ["2027-01-01", "2027-01-02", "2027-01-03"], "work": []},
    {"name": "春节", "off": ["2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11", "2027-02-12", "2027-02-13"], "work": ["2027-01-31", "2027-02-20"]}
  ]
}"#;

#[test]
fn admin_can_load_and_override_a_year() {
    let mut cal = WorkCalendar::builtin();
    assert_eq!(cal.load_year_json(Y2027).unwrap(), 2027);
    assert!(!cal.is_working_day(d("2027-02-08")).unwrap());
    assert!(cal.is_working_day(d("2027-01-31")).unwrap());
    assert!(cal.is_working_day(d("2026-12-28")).unwrap()); // now covered
    assert_eq!(
        cal.add_working_days(d("2027-02-05"), 1).unwrap(),
        d("2027-02-15")
    );

    // Override 2026 with a shorthand file: the old data is replaced.
    let replaced = cal
        .set_year(
            HolidayYear::from_json(r#"{"year":2026,"off":["2026-01-01"],"work":[]}"#).unwrap(),
        )
        .unwrap();
    assert!(replaced.is_some());
    assert!(cal.is_working_day(d("2026-02-16")).unwrap());

    // Round trip through the data-set format.
    let again = WorkCalendar::from_dataset_json(&cal.to_dataset_json()).unwrap();
    assert_eq!(again.loaded_years(), cal.loaded_years());
}

#[test]
fn admin_json_is_validated() {
    let check = |json: &str| HolidayYear::from_json(json).unwrap_err();
    assert!(matches!(
        check(r#"{"year":2027,"off":["2026-10-01"]}"#),
        CalendarError::DateOutsideYear { year: 2027, .. }
    ));
    // 25-31 December of the previous year is allowed (New Year adjustments).
    assert!(HolidayYear::from_json(r#"{"year":2027,"off":["2026-12-31","2027-01-01"]}"#).is_ok());
    assert!(matches!(
        check(r#"{"year":2027,"off":["2027-01-01","2027-01-01"]}"#),
        CalendarError::Duplicate { .. }
    ));
    assert!(matches!(
        check(
            r#"{"year":2027,"holidays":[{"name":"a","off":["2027-01-02"]},{"name":"b","off":["2027-01-02"]}]}"#
        ),
        CalendarError::Duplicate { .. }
    ));
    assert!(matches!(
        check(r#"{"year":2027,"off":["2027-01-02"],"work":["2027-01-02"]}"#),
        CalendarError::OffAndWork { .. }
    ));
    assert!(matches!(
        check(r#"{"year":2027,"off":["2027-01-01"],"work":["2027-01-05"]}"#),
        CalendarError::MakeUpNotWeekend { .. }
    ));
    match check(r#"{"year":2027,"off":["2027-02-30"]}"#) {
        CalendarError::BadDate { path, value, .. } => {
            assert_eq!(path, "off[0]");
            assert_eq!(value, "2027-02-30");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        check(r#"{"year":2027,"off":["2027/01/01"]}"#),
        CalendarError::BadDate { .. }
    ));
    assert!(matches!(
        check(r#"{"year":2027,"off":[]}"#),
        CalendarError::EmptyYear { .. }
    ));
    assert!(matches!(
        check(r#"{"year":2027,"offdays":[]}"#),
        CalendarError::Json { .. }
    ));
    assert!(matches!(check("not json"), CalendarError::Json { .. }));
    assert!(matches!(
        check(r#"{"year":99999,"off":[]}"#),
        CalendarError::YearOutOfRange { .. }
    ));
    assert!(matches!(
        check(r#"{"year":2027,"holidays":[{"name":" ","off":["2027-01-01"]}]}"#),
        CalendarError::UnnamedGroup { .. }
    ));
    // A bad file leaves the calendar unchanged.
    let mut cal = WorkCalendar::builtin();
    assert!(cal
        .load_year_json(r#"{"year":2026,"off":["2026-01-01","2026-01-01"]}"#)
        .is_err());
    assert!(!cal.is_working_day(d("2026-02-16")).unwrap());
    assert!(matches!(
        WorkCalendar::from_dataset_json(
            r#"{"years":[{"year":2026,"off":["2026-01-01"]},{"year":2026,"off":["2026-01-01"]}]}"#
        )
        .unwrap_err(),
        CalendarError::DuplicateYear { year: 2026 }
    ));
}
