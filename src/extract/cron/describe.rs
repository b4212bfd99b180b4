//! Cron time fields -> plain words for reviewers ("every day at 02:00", "every 15 minutes").
//!
//! The five fields are parsed into [`Field`]s (also used to validate crontab lines); the common
//! shapes are described in words, and anything irregular falls back to the fields as written.

/// Which of the five fields; gives the bounds and whether names (`jan`, `mon`) are allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Slot {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl Slot {
    pub const ALL: [Slot; 5] = [
        Slot::Minute,
        Slot::Hour,
        Slot::DayOfMonth,
        Slot::Month,
        Slot::DayOfWeek,
    ];

    fn bounds(self) -> (u32, u32) {
        match self {
            Slot::Minute => (0, 59),
            Slot::Hour => (0, 23),
            Slot::DayOfMonth => (1, 31),
            Slot::Month => (1, 12),
            Slot::DayOfWeek => (0, 7),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Slot::Minute => "minute",
            Slot::Hour => "hour",
            Slot::DayOfMonth => "day-of-month",
            Slot::Month => "month",
            Slot::DayOfWeek => "day-of-week",
        }
    }

    fn value(self, text: &str) -> Option<u32> {
        if let Ok(n) = text.parse::<u32>() {
            let (lo, hi) = self.bounds();
            return (lo..=hi).contains(&n).then_some(n);
        }
        let lower = text.to_ascii_lowercase();
        let names: &[&str] = match self {
            Slot::Month => &MONTHS_SHORT,
            Slot::DayOfWeek => &DAYS_SHORT,
            _ => return None,
        };
        let index = names.iter().position(|n| *n == lower)?;
        let index = u32::try_from(index).ok()?;
        Some(if self == Slot::Month {
            index + 1
        } else {
            index
        })
    }
}

const MONTHS_SHORT: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS_SHORT: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const DAYS: [&str; 8] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// One list item: a value, a range, or either with a step (`*/15` is a star with step 15).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Item {
    lo: u32,
    hi: u32,
    step: Option<u32>,
    star: bool,
}

impl Item {
    fn single(&self) -> Option<u32> {
        (self.lo == self.hi && self.step.is_none() && !self.star).then_some(self.lo)
    }
}

/// A parsed time field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Field {
    /// `*`
    Any,
    Items(Vec<Item>),
    /// A valid extension knockon does not describe (`L`, `15W`, `5#3`, `?`).
    Other,
}

impl Field {
    /// Parses one field; `None` when it is not a cron field at all.
    pub fn parse(text: &str, slot: Slot) -> Option<Field> {
        if text == "*" {
            return Some(Field::Any);
        }
        if text == "?" && matches!(slot, Slot::DayOfMonth | Slot::DayOfWeek) {
            return Some(Field::Any);
        }
        let extension = matches!(slot, Slot::DayOfMonth | Slot::DayOfWeek)
            && text.chars().any(|c| matches!(c, 'L' | 'W' | '#'))
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '#' | ',' | '-'));
        if extension {
            return Some(Field::Other);
        }
        let items: Option<Vec<Item>> = text.split(',').map(|part| Self::item(part, slot)).collect();
        items.filter(|i| !i.is_empty()).map(Field::Items)
    }

    fn item(text: &str, slot: Slot) -> Option<Item> {
        let (range, step) = match text.split_once('/') {
            Some((range, step)) => (range, Some(step.parse::<u32>().ok().filter(|s| *s > 0)?)),
            None => (text, None),
        };
        let (lo_bound, hi_bound) = slot.bounds();
        if range == "*" {
            return Some(Item {
                lo: lo_bound,
                hi: hi_bound,
                step,
                star: true,
            });
        }
        let (lo, hi) = match range.split_once('-') {
            Some((a, b)) => (slot.value(a)?, slot.value(b)?),
            None => {
                let v = slot.value(range)?;
                // `5/10` runs from 5 to the end of the range.
                (v, if step.is_some() { hi_bound } else { v })
            }
        };
        // `0-23/2` is `*/2`.
        let star = step.is_some() && (lo, hi) == (lo_bound, hi_bound);
        (lo <= hi).then_some(Item { lo, hi, step, star })
    }

    fn items(&self) -> &[Item] {
        match self {
            Field::Items(items) => items,
            _ => &[],
        }
    }

    /// All values when the field is a short list of single values.
    fn singles(&self) -> Option<Vec<u32>> {
        let values: Option<Vec<u32>> = self.items().iter().map(Item::single).collect();
        values.filter(|v| !v.is_empty())
    }

    /// `*/n` alone.
    fn star_step(&self) -> Option<u32> {
        match self.items() {
            [
                Item {
                    star: true, step, ..
                },
            ] => *step,
            _ => None,
        }
    }

    /// `a-b` alone.
    fn plain_range(&self) -> Option<(u32, u32)> {
        match self.items() {
            [
                Item {
                    lo,
                    hi,
                    step: None,
                    star: false,
                },
            ] if lo < hi => Some((*lo, *hi)),
            _ => None,
        }
    }
}

/// The words for a `@macro`, or `None` if it is not one cron knows.
pub(super) fn describe_macro(name: &str) -> Option<&'static str> {
    Some(match name {
        "@reboot" => "at boot",
        "@yearly" | "@annually" => "every year on January 1 at 00:00",
        "@monthly" => "at 00:00 on day 1 of the month",
        "@weekly" => "at 00:00 on Sunday",
        "@daily" | "@midnight" => "every day at 00:00",
        "@hourly" => "every hour at minute 0",
        _ => return None,
    })
}

/// Describes five parsed fields; `raw` are the fields as written, for the fallback.
pub(super) fn describe(fields: &[Field; 5], raw: &[&str; 5]) -> String {
    describe_words(fields).unwrap_or_else(|| {
        format!(
            "at minute {}, hour {}, day-of-month {}, month {}, day-of-week {}",
            raw[0], raw[1], raw[2], raw[3], raw[4]
        )
    })
}

fn describe_words(fields: &[Field; 5]) -> Option<String> {
    let [minute, hour, dom, month, dow] = fields;
    let (time, fixed) = time_words(minute, hour)?;
    let days = day_words(dom, dow)?;
    let months = month_words(month)?;
    let mut out = match (fixed, days.is_empty()) {
        (true, true) => format!("every day {time}"),
        _ => time,
    };
    if !days.is_empty() {
        out.push(' ');
        out.push_str(&days);
    }
    if !months.is_empty() {
        out.push(' ');
        out.push_str(&months);
    }
    Some(out)
}

fn hhmm(h: u32, m: u32) -> String {
    format!("{h:02}:{m:02}")
}

/// The time of day; `true` when it names fixed times ("at 02:00").
fn time_words(minute: &Field, hour: &Field) -> Option<(String, bool)> {
    let minutes = minute.singles();
    let hours = hour.singles();
    if let (Some(ms), Some(hs)) = (&minutes, &hours)
        && ms.len() * hs.len() <= 6
    {
        let mut times: Vec<(u32, u32)> = hs
            .iter()
            .flat_map(|h| ms.iter().map(move |m| (*h, *m)))
            .collect();
        times.sort_unstable();
        let times: Vec<String> = times.into_iter().map(|(h, m)| hhmm(h, m)).collect();
        return Some((format!("at {}", join_and(&times)), true));
    }
    if let Some(ms) = &minutes {
        let at = match ms.as_slice() {
            [m] => format!("at minute {m}"),
            _ if ms.len() <= 6 => {
                let list: Vec<String> = ms.iter().map(u32::to_string).collect();
                format!("at minutes {}", join_and(&list))
            }
            _ => return None,
        };
        return match hour {
            Field::Any => Some((format!("every hour {at}"), false)),
            _ => match (hour.star_step(), hour.plain_range()) {
                (Some(1), _) => Some((format!("every hour {at}"), false)),
                (Some(n), _) => Some((format!("every {n} hours, {at}"), false)),
                (None, Some((a, b))) if ms.len() == 1 => Some((
                    format!(
                        "every hour from {} through {}",
                        hhmm(a, ms[0]),
                        hhmm(b, ms[0])
                    ),
                    false,
                )),
                _ => None,
            },
        };
    }
    let every = match (minute, minute.star_step()) {
        (Field::Any, _) | (_, Some(1)) => "every minute".to_string(),
        (_, Some(n)) => format!("every {n} minutes"),
        _ => return None,
    };
    match (hour, &hours, hour.plain_range()) {
        (Field::Any, _, _) => Some((every, false)),
        (_, Some(hs), _) if hs.len() == 1 => Some((
            format!(
                "{every} from {} through {}",
                hhmm(hs[0], 0),
                hhmm(hs[0], 59)
            ),
            false,
        )),
        (_, _, Some((a, b))) => Some((
            format!("{every} from {} through {}", hhmm(a, 0), hhmm(b, 59)),
            false,
        )),
        _ => None,
    }
}

/// "on Monday", "on day 1 of the month", both joined with "or" as cron does.
fn day_words(dom: &Field, dow: &Field) -> Option<String> {
    let month_days = match (dom, dom.star_step()) {
        (Field::Any, _) => None,
        (Field::Other, _) => return None,
        (_, Some(n)) => Some(format!("every {} day", ordinal(n))),
        (_, None) => {
            let (text, plural) = list_words(dom, |d| d.to_string())?;
            Some(format!("{} {text}", if plural { "days" } else { "day" }))
        }
    };
    let week_days = match dow {
        Field::Any => None,
        Field::Other => return None,
        Field::Items(_) => Some(
            list_words(dow, |d| {
                DAYS.get(d as usize).copied().unwrap_or("?").to_string()
            })?
            .0,
        ),
    };
    Some(match (month_days, week_days) {
        (None, None) => String::new(),
        (Some(d), None) => format!("on {d} of the month"),
        (None, Some(w)) => format!("on {w}"),
        (Some(d), Some(w)) => format!("on {d} of the month or on {w}"),
    })
}

fn month_words(month: &Field) -> Option<String> {
    match month {
        Field::Any => Some(String::new()),
        Field::Other => None,
        Field::Items(_) => {
            let name = |m: u32| {
                MONTHS
                    .get((m as usize).wrapping_sub(1))
                    .copied()
                    .unwrap_or("?")
                    .to_string()
            };
            Some(format!("in {}", list_words(month, name)?.0))
        }
    }
}

/// "1 and 15", "1 through 7", "Monday through Friday"; `true` when more than one value.
fn list_words(field: &Field, name: impl Fn(u32) -> String) -> Option<(String, bool)> {
    let items = field.items();
    if items.is_empty() || items.iter().any(|i| i.step.is_some() || i.star) {
        return None;
    }
    let parts: Vec<String> = items
        .iter()
        .map(|i| match i.single() {
            Some(v) => name(v),
            None => format!("{} through {}", name(i.lo), name(i.hi)),
        })
        .collect();
    let plural = items.len() > 1 || items.iter().any(|i| i.single().is_none());
    Some((join_and(&parts), plural))
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// "a", "a and b", "a, b and c".
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
