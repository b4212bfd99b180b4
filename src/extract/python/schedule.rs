//! Schedules written in code: APScheduler jobs (`add_job(f, "interval", hours=8)`,
//! `add_job(f, "cron", hour=3)`, `CronTrigger.from_crontab("0 */8 * * *")`,
//! `@sched.scheduled_job("interval", hours=8)`) and the `schedule` library
//! (`schedule.every(8).hours.do(f)`, `every().day.at("02:00").do(f)`), each as a
//! [`TriggerKind::Schedule`] with an expression and plain words. Only literal arguments are
//! read; a schedule whose fields are not literal is not recorded.
//!
//! The trigger's scope is the job: the decorated function, or the function of this file the
//! job names (resolved once every scope exists), else the registering scope.

use super::calls::{Args, Callee, Matched};
use super::parse::line_of;
use super::walk::{Ctx, Extractor};
use crate::extract::FieldExt as _;
use crate::extract::TriggerKind;
use crate::rules::models::python::ScheduleStyle;
use tree_sitter::Node;

/// Links of a `schedule.every(...)...` chain followed at most.
const MAX_CHAIN: usize = 16;

/// APScheduler cron fields in significance order, with their minimum values; `None` for the
/// fields that default to `*` rather than to their minimum.
const CRON_FIELDS: &[(&str, Option<&str>)] = &[
    ("year", None),
    ("month", Some("1")),
    ("day", Some("1")),
    ("week", None),
    ("day_of_week", None),
    ("hour", Some("0")),
    ("minute", Some("0")),
    ("second", Some("0")),
];

/// Interval units as APScheduler and `schedule` spell them, largest first.
const UNITS: &[(&str, &str)] = &[
    ("weeks", "week"),
    ("days", "day"),
    ("hours", "hour"),
    ("minutes", "minute"),
    ("seconds", "second"),
];

const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

impl<'a> Extractor<'a> {
    /// Records the schedule a matched scheduling call declares.
    pub(super) fn schedule_trigger(
        &mut self,
        call: Node<'_>,
        m: &Matched<'a, '_>,
        style: ScheduleStyle,
        ctx: &Ctx,
    ) {
        let (schedule, job) = match style {
            ScheduleStyle::ApschedulerJob => {
                let job = m
                    .args
                    .positional
                    .first()
                    .copied()
                    .or_else(|| m.args.keyword("func"));
                let trigger = m
                    .args
                    .positional
                    .get(1)
                    .copied()
                    .or_else(|| m.args.keyword("trigger"));
                (self.apscheduler(trigger, &m.args, ctx), job)
            }
            ScheduleStyle::ApschedulerDecorator => {
                let trigger = m
                    .args
                    .positional
                    .first()
                    .copied()
                    .or_else(|| m.args.keyword("trigger"));
                (self.apscheduler(trigger, &m.args, ctx), None)
            }
            ScheduleStyle::Every => match self.every_chain(call, &m.args, ctx) {
                Some((schedule, job)) => (Some(schedule), job),
                None => (None, None),
            },
        };
        let Some((expression, description)) = schedule else {
            return;
        };
        let scope = self.effect_scope(call, ctx);
        let index = self.push_trigger(
            scope,
            line_of(call),
            TriggerKind::Schedule {
                expression,
                description,
            },
        );
        if let Some(job) = job {
            let name = match job.kind_name() {
                "identifier" => Some(self.text(job).to_string()),
                "attribute" => job.field("attribute").map(|a| self.text(a).to_string()),
                _ => None,
            };
            if let Some(name) = name {
                self.pending_jobs.push((index, name));
            }
        }
    }

    /// An APScheduler trigger: `"interval"`/`"cron"` with the call's keyword fields, or a
    /// trigger object (`IntervalTrigger(hours=8)`, `CronTrigger(hour=3)`,
    /// `CronTrigger.from_crontab("...")`).
    fn apscheduler(
        &mut self,
        trigger: Option<Node<'_>>,
        args: &Args<'_>,
        ctx: &Ctx,
    ) -> Option<(String, String)> {
        let trigger = trigger?;
        if let Some(kind) = self.literal_string(trigger, ctx) {
            let fields = self.literal_keywords(args, ctx);
            return match kind.as_str() {
                "interval" => interval(&fields),
                "cron" => cron_from_fields(&fields),
                _ => None,
            };
        }
        if trigger.kind_name() != "call" {
            return None;
        }
        let Callee::Function { name, .. } = self.callee(trigger, ctx) else {
            return None;
        };
        let trigger_args = self.args(trigger);
        let last = name.rsplit('.').next().unwrap_or("");
        let fields = self.literal_keywords(&trigger_args, ctx);
        match last {
            "IntervalTrigger" => interval(&fields),
            "CronTrigger" => cron_from_fields(&fields),
            "from_crontab" => {
                let expr = trigger_args.positional.first().copied()?;
                let expr = self.literal_string(expr, ctx)?;
                let description = describe_cron(&expr);
                Some((
                    expr.split_whitespace().collect::<Vec<_>>().join(" "),
                    description,
                ))
            }
            _ => None,
        }
    }

    /// The keyword arguments whose values are literal numbers or strings.
    fn literal_keywords(&mut self, args: &Args<'_>, ctx: &Ctx) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (key, value) in &args.keywords {
            let text = match value.kind_name() {
                "integer" | "float" => Some(self.text(*value).to_string()),
                _ => self.literal_string(*value, ctx),
            };
            if let Some(text) = text {
                out.push((key.clone(), text));
            }
        }
        out
    }

    /// `schedule.every(n).<unit>[.at(t)].do(job)`: walks up from the `every(...)` call.
    fn every_chain<'t>(
        &mut self,
        call: Node<'t>,
        args: &Args<'t>,
        ctx: &Ctx,
    ) -> Option<((String, String), Option<Node<'t>>)> {
        let count = match args.positional.first().copied() {
            Some(n) if n.kind_name() == "integer" => self.text(n).parse::<u64>().ok()?,
            Some(_) => return None,
            None => 1,
        };
        let mut unit = None;
        let mut at = None;
        let mut node = call;
        for _ in 0..MAX_CHAIN {
            let Some(parent) = node.parent() else { break };
            if parent.kind_name() != "attribute"
                || parent.field("object").is_none_or(|o| o.id() != node.id())
            {
                break;
            }
            let attr = parent
                .field("attribute")
                .map(|a| self.text(a))
                .unwrap_or("");
            let called = parent.parent().filter(|g| {
                g.kind_name() == "call"
                    && g.field("function").is_some_and(|f| f.id() == parent.id())
            });
            match called {
                Some(method_call) => {
                    let method_args = self.args(method_call);
                    match attr {
                        "do" => {
                            let job = method_args.positional.first().copied();
                            let schedule = every_words(count, unit?, at.as_deref());
                            return Some((schedule, job));
                        }
                        "at" => {
                            at = method_args
                                .positional
                                .first()
                                .and_then(|a| self.literal_string(*a, ctx));
                        }
                        _ => {}
                    }
                    node = method_call;
                }
                None => {
                    unit = Some(attr);
                    node = parent;
                }
            }
        }
        None
    }
}

/// `every(8).hours` -> ("every(8).hours", "every 8 hours"); `.at("02:00")` adds the time.
fn every_words(count: u64, unit: &str, at: Option<&str>) -> (String, String) {
    let mut expression = format!("every({count}).{unit}");
    if let Some(at) = at {
        expression.push_str(&format!(".at({at})"));
    }
    let singular = unit.trim_end_matches('s');
    let mut description = if WEEKDAYS.contains(&singular) {
        let mut day = singular.to_string();
        if let Some(first) = day.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        format!("every {day}")
    } else {
        amount(count, singular)
    };
    if let Some(at) = at {
        description.push_str(&format!(" at {at}"));
    }
    (expression, description)
}

/// "every hour", "every 8 hours".
fn amount(count: u64, unit: &str) -> String {
    if count == 1 {
        format!("every {unit}")
    } else {
        format!("every {count} {unit}s")
    }
}

/// An interval trigger's fields in words: `hours=8` -> "every 8 hours".
fn interval(fields: &[(String, String)]) -> Option<(String, String)> {
    let mut parts = Vec::new();
    let mut words = Vec::new();
    for (plural, singular) in UNITS {
        let Some((_, value)) = fields.iter().find(|(k, _)| k == plural) else {
            continue;
        };
        let count: f64 = value.parse().ok()?;
        if count <= 0.0 {
            continue;
        }
        parts.push(format!("{plural}={value}"));
        words.push(if count == 1.0 {
            format!("1 {singular}")
        } else {
            format!("{value} {plural}")
        });
    }
    if parts.is_empty() {
        return None;
    }
    let description = match words.as_slice() {
        [one] if one.starts_with("1 ") => format!("every {}", one.trim_start_matches("1 ")),
        _ => format!("every {}", words.join(" and ")),
    };
    Some((format!("interval {}", parts.join(" ")), description))
}

/// APScheduler cron keyword fields as a five-field expression: fields less significant than
/// the least significant one given default to their minimum, the others to `*`.
fn cron_from_fields(fields: &[(String, String)]) -> Option<(String, String)> {
    let least = CRON_FIELDS
        .iter()
        .rposition(|(name, _)| fields.iter().any(|(k, _)| k == name))?;
    let value = |name: &str| -> String {
        if let Some((_, v)) = fields.iter().find(|(k, _)| k == name) {
            return v.replace(' ', "");
        }
        let position = CRON_FIELDS.iter().position(|(n, _)| *n == name);
        match (position, CRON_FIELDS.iter().find(|(n, _)| *n == name)) {
            (Some(p), Some((_, Some(min)))) if p > least => (*min).to_string(),
            _ => "*".to_string(),
        }
    };
    let expression = [
        value("minute"),
        value("hour"),
        value("day"),
        value("month"),
        value("day_of_week"),
    ]
    .join(" ");
    let description = describe_cron(&expression);
    Some((expression, description))
}

/// Plain words for the common five-field expressions; the fields spelled out otherwise.
pub(super) fn describe_cron(expression: &str) -> String {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    let [minute, hour, day, month, weekday] = fields.as_slice() else {
        return format!("cron schedule {expression}");
    };
    let number = |s: &str| s.parse::<u32>().ok();
    let step = |s: &str| s.strip_prefix("*/").and_then(|n| n.parse::<u32>().ok());
    let every_day = *day == "*" && *month == "*";
    let on = match (*weekday, every_day) {
        ("*", true) => Some(String::new()),
        (w, true) => weekday_name(w).map(|d| format!(" on {d}")),
        _ => None,
    };
    match (number(minute), number(hour), step(hour), step(minute), on) {
        (Some(m), Some(h), _, _, Some(on)) if on.is_empty() => {
            format!("every day at {h:02}:{m:02}")
        }
        (Some(m), Some(h), _, _, Some(on)) => format!("at {h:02}:{m:02}{on}"),
        (Some(m), None, Some(n), _, Some(on)) => format!("every {n} hours, at minute {m}{on}"),
        (Some(m), None, None, _, Some(on)) if *hour == "*" => {
            format!("every hour at minute {m}{on}")
        }
        (None, None, None, Some(n), Some(on)) if *hour == "*" => {
            format!("every {n} minutes{on}")
        }
        _ => format!(
            "at minute {minute}, hour {hour}, day-of-month {day}, month {month}, day-of-week {weekday}"
        ),
    }
}

fn weekday_name(text: &str) -> Option<&'static str> {
    Some(match text.to_ascii_lowercase().as_str() {
        "0" | "7" | "sun" | "sunday" => "Sunday",
        "1" | "mon" | "monday" => "Monday",
        "2" | "tue" | "tuesday" => "Tuesday",
        "3" | "wed" | "wednesday" => "Wednesday",
        "4" | "thu" | "thursday" => "Thursday",
        "5" | "fri" | "friday" => "Friday",
        "6" | "sat" | "saturday" => "Saturday",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn intervals_in_words() {
        assert_eq!(
            interval(&f(&[("hours", "8")])),
            Some(("interval hours=8".into(), "every 8 hours".into()))
        );
        assert_eq!(
            interval(&f(&[("hours", "1")])).map(|x| x.1),
            Some("every hour".into())
        );
        assert_eq!(
            interval(&f(&[("hours", "1"), ("minutes", "30")])).map(|x| x.1),
            Some("every 1 hour and 30 minutes".into())
        );
        assert_eq!(interval(&f(&[("jitter", "5")])), None);
        assert_eq!(interval(&f(&[("hours", "x")])), None);
    }

    #[test]
    fn apscheduler_cron_fields_default_like_apscheduler() {
        assert_eq!(
            cron_from_fields(&f(&[("hour", "3")])),
            Some(("0 3 * * *".into(), "every day at 03:00".into()))
        );
        assert_eq!(
            cron_from_fields(&f(&[("hour", "*/8")])),
            Some(("0 */8 * * *".into(), "every 8 hours, at minute 0".into()))
        );
        assert_eq!(
            cron_from_fields(&f(&[
                ("day_of_week", "mon"),
                ("hour", "9"),
                ("minute", "30")
            ]))
            .map(|x| x.1),
            Some("at 09:30 on Monday".into())
        );
        assert_eq!(
            cron_from_fields(&f(&[("minute", "*/15")])).map(|x| x.0),
            Some("*/15 * * * *".into())
        );
        assert_eq!(cron_from_fields(&f(&[("timezone", "UTC")])), None);
    }

    #[test]
    fn every_in_words() {
        assert_eq!(
            every_words(8, "hours", None),
            ("every(8).hours".into(), "every 8 hours".into())
        );
        assert_eq!(every_words(1, "day", Some("02:00")).1, "every day at 02:00");
        assert_eq!(
            every_words(1, "monday", Some("09:00")).1,
            "every Monday at 09:00"
        );
    }

    #[test]
    fn cron_words() {
        assert_eq!(describe_cron("0 */8 * * *"), "every 8 hours, at minute 0");
        assert_eq!(describe_cron("5 * * * *"), "every hour at minute 5");
        assert_eq!(describe_cron("*/10 * * * *"), "every 10 minutes");
        assert!(describe_cron("0 0 1 * *").starts_with("at minute 0"));
        assert_eq!(describe_cron("x"), "cron schedule x");
    }
}
