//! Chinese working-day calendar: statutory holidays and make-up working days (调休上班) per year,
//! loaded from a data file (built-in 2004–2026) or admin-provided JSON; unknown years are errors.
//!
//! Data is organised per *notice year* (the State Council's annual holiday notice). A notice may also
//! adjust the last days of the previous December (the 2019 notice made 2018-12-29 a working day), so
//! a year's data may contain dates from 25–31 December of the previous year, and a date from
//! 25 December onwards is only answered when the next year's notice is loaded too.
//!
//! Working day = (Monday–Friday and not a holiday) or a make-up working day.
//! [`WorkCalendar::add_working_days`] follows `chinese_calendar.find_workday` semantics: a start that
//! is not a working day first rolls forward to the next working day, then `n` working days are
//! counted after it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::Localized;

/// Built-in data set (see `data/README.md`).
const BUILTIN_JSON: &str = include_str!("../data/cn-workdays.json");

/// First day of the late-December window that a following year's notice may adjust.
const LATE_DECEMBER_FROM: u32 = 25;

/// Accepted notice years (sanity bound for admin input).
const YEAR_RANGE: std::ops::RangeInclusive<i32> = 1990..=2200;

/// One holiday period of a notice, e.g. Spring Festival with its off days and make-up days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayGroup {
    /// Chinese name (`春节`).
    pub name: String,
    /// English name, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// Days off (including weekend days inside the holiday period).
    #[serde(default)]
    pub off: Vec<NaiveDate>,
    /// Make-up working days (weekend days that are working days).
    #[serde(default)]
    pub work: Vec<NaiveDate>,
}

/// The holiday arrangement of one notice year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayYear {
    pub year: i32,
    /// Where the data comes from (notice number, URL, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub holidays: Vec<HolidayGroup>,
}

/// What kind of day a date is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayKind {
    /// Ordinary Monday–Friday working day.
    Workday,
    /// Ordinary Saturday/Sunday.
    Weekend,
    /// Statutory holiday (or a day off of the holiday period).
    Holiday {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name_en: Option<String>,
    },
    /// Weekend day that is a working day (调休上班).
    MakeUpWorkday {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name_en: Option<String>,
    },
}

impl DayKind {
    /// Whether people work on this day.
    pub fn is_working(&self) -> bool {
        matches!(self, DayKind::Workday | DayKind::MakeUpWorkday { .. })
    }
}

/// Calendar errors. `Display` is English; [`CalendarError::message_zh`] is Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum CalendarError {
    #[error("no working-day data for {year} (needed for {date}){}; load the State Council holiday notice for {year} as JSON", loaded_hint(loaded, *late_december))]
    YearNotLoaded {
        year: i32,
        date: NaiveDate,
        /// Loaded range (first, last), if any year is loaded.
        loaded: Option<(i32, i32)>,
        /// The date is in late December and the *next* year's notice is the missing one.
        late_december: bool,
    },
    #[error("the holiday data is not valid JSON of the expected shape: {detail}")]
    Json { detail: String },
    #[error("year {year} is outside the accepted range {}–{}", YEAR_RANGE.start(), YEAR_RANGE.end())]
    YearOutOfRange { year: i32 },
    #[error("{year}: `{value}` at {path} is not a date in YYYY-MM-DD form")]
    BadDate {
        year: i32,
        path: String,
        value: String,
    },
    #[error("{year}: {date} is not in {year} (only 25–31 December of {} may also appear, for New Year adjustments)", year - 1)]
    DateOutsideYear { year: i32, date: NaiveDate },
    #[error("{year}: {date} is listed more than once")]
    Duplicate { year: i32, date: NaiveDate },
    #[error("{year}: {date} is listed both as a day off and as a make-up working day")]
    OffAndWork { year: i32, date: NaiveDate },
    #[error("{year}: make-up working day {date} is a {weekday}; make-up working days are always Saturdays or Sundays")]
    MakeUpNotWeekend {
        year: i32,
        date: NaiveDate,
        weekday: String,
    },
    #[error("{year}: no holidays listed; every year has statutory holidays, so this is probably an incomplete file")]
    EmptyYear { year: i32 },
    #[error("{year}: holiday group {index} has no name")]
    UnnamedGroup { year: i32, index: usize },
    #[error("{year} appears more than once in the data set")]
    DuplicateYear { year: i32 },
    #[error("date arithmetic left the supported range after {date}")]
    DateOverflow { date: NaiveDate },
}

fn loaded_hint(loaded: &Option<(i32, i32)>, late_december: bool) -> String {
    let mut s = match loaded {
        Some((a, b)) if a == b => format!(" (loaded: {a})"),
        Some((a, b)) => format!(" (loaded: {a}–{b})"),
        None => " (no year is loaded)".to_string(),
    };
    if late_december {
        s.push_str("; dates from 25 December onwards can be changed by the next year's notice");
    }
    s
}

impl CalendarError {
    /// Chinese message.
    pub fn message_zh(&self) -> String {
        match self {
            CalendarError::YearNotLoaded {
                year,
                date,
                loaded,
                late_december,
            } => {
                let range = match loaded {
                    Some((a, b)) => format!("（已加载：{a}–{b}年）"),
                    None => "（尚未加载任何年份）".to_string(),
                };
                let late = if *late_december {
                    "；12月25日及以后的日期可能被下一年的放假通知调整"
                } else {
                    ""
                };
                format!(
                    "缺少 {year} 年的节假日数据（计算 {date} 时需要）{range}{late}；请导入国务院办公厅 {year} 年节假日安排通知的 JSON 数据"
                )
            }
            CalendarError::Json { detail } => format!("节假日数据不是预期格式的 JSON：{detail}"),
            CalendarError::YearOutOfRange { year } => format!("年份 {year} 超出允许范围"),
            CalendarError::BadDate { year, path, value } => {
                format!("{year} 年数据中 {path} 的值「{value}」不是 YYYY-MM-DD 格式的日期")
            }
            CalendarError::DateOutsideYear { year, date } => {
                format!("{date} 不属于 {year} 年（仅允许上一年 12月25日–31日的元旦调整）")
            }
            CalendarError::Duplicate { year, date } => format!("{year} 年数据中 {date} 重复出现"),
            CalendarError::OffAndWork { year, date } => {
                format!("{year} 年数据中 {date} 同时被列为放假日和调休上班日")
            }
            CalendarError::MakeUpNotWeekend { year, date, .. } => {
                format!("{year} 年数据中调休上班日 {date} 不是周六或周日")
            }
            CalendarError::EmptyYear { year } => {
                format!("{year} 年数据没有任何节假日，文件可能不完整")
            }
            CalendarError::UnnamedGroup { year, index } => {
                format!("{year} 年数据中第 {index} 个节日缺少名称")
            }
            CalendarError::DuplicateYear { year } => format!("数据中 {year} 年出现多次"),
            CalendarError::DateOverflow { date } => format!("{date} 之后的日期超出支持范围"),
        }
    }

    /// Both languages.
    pub fn localized(&self) -> Localized {
        Localized::new(self.to_string(), self.message_zh())
    }
}

// ---- raw (string-typed) input, so that every bad value gets a precise message ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    name: String,
    #[serde(default)]
    name_en: Option<String>,
    #[serde(default)]
    off: Vec<String>,
    #[serde(default)]
    work: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: i32,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    holidays: Vec<RawGroup>,
    /// Shorthand: ungrouped days off.
    #[serde(default)]
    off: Vec<String>,
    /// Shorthand: ungrouped make-up working days.
    #[serde(default)]
    work: Vec<String>,
}

#[derive(Deserialize)]
struct RawDataset {
    #[serde(default)]
    #[allow(dead_code)]
    format: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
    years: Vec<RawYear>,
}

fn parse_dates(year: i32, path: &str, values: &[String]) -> Result<Vec<NaiveDate>, CalendarError> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let t = v.trim();
            let ok = t.len() == 10 && t.as_bytes().get(4) == Some(&b'-');
            ok.then(|| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
                .flatten()
                .ok_or_else(|| CalendarError::BadDate {
                    year,
                    path: format!("{path}[{i}]"),
                    value: v.clone(),
                })
        })
        .collect()
}

impl RawYear {
    fn into_year(self) -> Result<HolidayYear, CalendarError> {
        let year = self.year;
        if !YEAR_RANGE.contains(&year) {
            return Err(CalendarError::YearOutOfRange { year });
        }
        let mut holidays = Vec::new();
        for (i, g) in self.holidays.into_iter().enumerate() {
            holidays.push(HolidayGroup {
                off: parse_dates(year, &format!("holidays[{i}].off"), &g.off)?,
                work: parse_dates(year, &format!("holidays[{i}].work"), &g.work)?,
                name: g.name,
                name_en: g.name_en,
            });
        }
        if !self.off.is_empty() || !self.work.is_empty() {
            holidays.push(HolidayGroup {
                name: "节假日".into(),
                name_en: Some("Public holiday".into()),
                off: parse_dates(year, "off", &self.off)?,
                work: parse_dates(year, "work", &self.work)?,
            });
        }
        Ok(HolidayYear {
            year,
            source: self.source,
            holidays,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mark {
    work: bool,
    group: usize,
}

#[derive(Debug, Clone)]
struct YearEntry {
    data: HolidayYear,
    marks: BTreeMap<NaiveDate, Mark>,
}

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn in_notice_window(year: i32, d: NaiveDate) -> bool {
    d.year() == year || (d.year() == year - 1 && d.month() == 12 && d.day() >= LATE_DECEMBER_FROM)
}

impl HolidayYear {
    /// Checks the rules: dates inside the notice window, no duplicates, no date both off and
    /// make-up, make-up days on weekends, at least one holiday, every group named.
    pub fn validate(&self) -> Result<(), CalendarError> {
        self.index().map(|_| ())
    }

    fn index(&self) -> Result<BTreeMap<NaiveDate, Mark>, CalendarError> {
        let year = self.year;
        if !YEAR_RANGE.contains(&year) {
            return Err(CalendarError::YearOutOfRange { year });
        }
        let mut marks: BTreeMap<NaiveDate, Mark> = BTreeMap::new();
        let mut any_off = false;
        for (gi, g) in self.holidays.iter().enumerate() {
            if g.name.trim().is_empty() {
                return Err(CalendarError::UnnamedGroup { year, index: gi });
            }
            for (work, list) in [(false, &g.off), (true, &g.work)] {
                for &date in list {
                    if !in_notice_window(year, date) {
                        return Err(CalendarError::DateOutsideYear { year, date });
                    }
                    if work && !is_weekend(date) {
                        return Err(CalendarError::MakeUpNotWeekend {
                            year,
                            date,
                            weekday: weekday_name(date.weekday()).to_string(),
                        });
                    }
                    if let Some(prev) = marks.get(&date) {
                        return Err(if prev.work != work {
                            CalendarError::OffAndWork { year, date }
                        } else {
                            CalendarError::Duplicate { year, date }
                        });
                    }
                    any_off |= !work;
                    marks.insert(date, Mark { work, group: gi });
                }
            }
        }
        if !any_off {
            return Err(CalendarError::EmptyYear { year });
        }
        Ok(marks)
    }

    /// Parses and validates one year from admin-provided JSON:
    /// `{"year":2027,"source":"…","holidays":[{"name":"元旦","name_en":"New Year's Day","off":["2027-01-01"],"work":[]}]}`
    /// (the shorthand `{"year":2027,"off":[…],"work":[…]}` is accepted too).
    pub fn from_json(text: &str) -> Result<HolidayYear, CalendarError> {
        let raw: RawYear = serde_json::from_str(text).map_err(|e| CalendarError::Json {
            detail: e.to_string(),
        })?;
        let y = raw.into_year()?;
        y.validate()?;
        Ok(y)
    }

    /// All days off of this notice.
    pub fn off_days(&self) -> BTreeSet<NaiveDate> {
        self.holidays
            .iter()
            .flat_map(|g| g.off.iter().copied())
            .collect()
    }

    /// All make-up working days of this notice.
    pub fn makeup_days(&self) -> BTreeSet<NaiveDate> {
        self.holidays
            .iter()
            .flat_map(|g| g.work.iter().copied())
            .collect()
    }
}

/// Working-day calendar over the loaded notice years.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    years: BTreeMap<i32, YearEntry>,
}

static BUILTIN: LazyLock<Result<WorkCalendar, CalendarError>> =
    LazyLock::new(|| WorkCalendar::from_dataset_json(BUILTIN_JSON));

impl WorkCalendar {
    /// A calendar with no year loaded (every date is an error until years are added).
    pub fn empty() -> Self {
        WorkCalendar::default()
    }

    /// The built-in data (2004–2026), or the error if the embedded file were invalid.
    pub fn try_builtin() -> Result<WorkCalendar, CalendarError> {
        BUILTIN.clone()
    }

    /// The built-in data (2004–2026). Should the embedded file ever fail to load, this returns an
    /// empty calendar, so every query reports [`CalendarError::YearNotLoaded`] instead of guessing.
    pub fn builtin() -> WorkCalendar {
        BUILTIN.clone().unwrap_or_default()
    }

    /// Parses a whole data set: `{"format":…,"source":…,"years":[HolidayYear, …]}`.
    pub fn from_dataset_json(text: &str) -> Result<WorkCalendar, CalendarError> {
        let raw: RawDataset = serde_json::from_str(text).map_err(|e| CalendarError::Json {
            detail: e.to_string(),
        })?;
        let mut cal = WorkCalendar::empty();
        for ry in raw.years {
            let y = ry.into_year()?;
            if cal.years.contains_key(&y.year) {
                return Err(CalendarError::DuplicateYear { year: y.year });
            }
            cal.set_year(y)?;
        }
        Ok(cal)
    }

    /// Serialises all loaded years in the data-set format accepted by [`Self::from_dataset_json`].
    pub fn to_dataset_json(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            format: &'static str,
            years: Vec<&'a HolidayYear>,
        }
        let out = Out {
            format: "landfall-cn-workdays/1",
            years: self.years.values().map(|e| &e.data).collect(),
        };
        serde_json::to_string_pretty(&out).unwrap_or_default()
    }

    /// Adds or replaces a year after validating it. Returns the replaced year, if any.
    pub fn set_year(&mut self, year: HolidayYear) -> Result<Option<HolidayYear>, CalendarError> {
        let marks = year.index()?;
        let y = year.year;
        Ok(self
            .years
            .insert(y, YearEntry { data: year, marks })
            .map(|e| e.data))
    }

    /// Parses, validates and adds/replaces one year from admin JSON (see [`HolidayYear::from_json`]).
    /// Returns the year loaded.
    pub fn load_year_json(&mut self, text: &str) -> Result<i32, CalendarError> {
        let y = HolidayYear::from_json(text)?;
        let year = y.year;
        self.set_year(y)?;
        Ok(year)
    }

    /// Removes a year; returns it if it was loaded.
    pub fn remove_year(&mut self, year: i32) -> Option<HolidayYear> {
        self.years.remove(&year).map(|e| e.data)
    }

    /// The data of a loaded year.
    pub fn year(&self, year: i32) -> Option<&HolidayYear> {
        self.years.get(&year).map(|e| &e.data)
    }

    /// Loaded notice years, ascending.
    pub fn loaded_years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    fn loaded_range(&self) -> Option<(i32, i32)> {
        Some((*self.years.keys().next()?, *self.years.keys().next_back()?))
    }

    /// Whether `date` can be answered (its year, and for late December the next year, loaded).
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.check_covered(date).is_ok()
    }

    fn check_covered(&self, date: NaiveDate) -> Result<(), CalendarError> {
        let y = date.year();
        let missing = |year: i32, late_december: bool| CalendarError::YearNotLoaded {
            year,
            date,
            loaded: self.loaded_range(),
            late_december,
        };
        if !self.years.contains_key(&y) {
            return Err(missing(y, false));
        }
        if date.month() == 12
            && date.day() >= LATE_DECEMBER_FROM
            && !self.years.contains_key(&(y + 1))
        {
            return Err(missing(y + 1, true));
        }
        Ok(())
    }

    /// Classifies a date.
    pub fn day_kind(&self, date: NaiveDate) -> Result<DayKind, CalendarError> {
        self.check_covered(date)?;
        // A later notice (next year's) governs late December, so look there first.
        for y in [date.year() + 1, date.year()] {
            if let Some(entry) = self.years.get(&y) {
                if let Some(mark) = entry.marks.get(&date) {
                    let g = &entry.data.holidays[mark.group];
                    let (name, name_en) = (g.name.clone(), g.name_en.clone());
                    return Ok(if mark.work {
                        DayKind::MakeUpWorkday { name, name_en }
                    } else {
                        DayKind::Holiday { name, name_en }
                    });
                }
            }
        }
        Ok(if is_weekend(date) {
            DayKind::Weekend
        } else {
            DayKind::Workday
        })
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        Ok(self.day_kind(date)?.is_working())
    }

    fn succ(date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        date.succ_opt().ok_or(CalendarError::DateOverflow { date })
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        let mut d = Self::succ(date)?;
        while !self.is_working_day(d)? {
            d = Self::succ(d)?;
        }
        Ok(d)
    }

    /// `date` if it is a working day, else the next working day.
    pub fn working_day_on_or_after(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        if self.is_working_day(date)? {
            Ok(date)
        } else {
            self.next_working_day(date)
        }
    }

    /// The n-th working day after `start` (chinese-calendar `find_workday(n, start)` semantics: a
    /// non-working `start` is first rolled forward to the next working day; `n = 0` returns that
    /// day). Errors if any date on the way is in a year that is not loaded.
    ///
    /// 2026-02-06 + 20 = 2026-03-12; 2026-09-24 + 20 = 2026-10-29; 2026-09-24 + 10 = 2026-10-15.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut d = self.working_day_on_or_after(start)?;
        for _ in 0..n {
            d = self.next_working_day(d)?;
        }
        Ok(d)
    }

    /// Number of working days `d` with `from < d <= to` (0 when `to <= from`).
    pub fn working_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<u32, CalendarError> {
        let mut count = 0;
        let mut d = from;
        while d < to {
            d = Self::succ(d)?;
            if self.is_working_day(d)? {
                count += 1;
            }
        }
        Ok(count)
    }
}

impl fmt::Display for DayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DayKind::Workday => f.write_str("working day"),
            DayKind::Weekend => f.write_str("weekend"),
            DayKind::Holiday { name, name_en } => {
                write!(f, "holiday: {}", name_en.as_deref().unwrap_or(name))
            }
            DayKind::MakeUpWorkday { name, name_en } => {
                write!(
                    f,
                    "make-up working day ({})",
                    name_en.as_deref().unwrap_or(name)
                )
            }
        }
    }
}
