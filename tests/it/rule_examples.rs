//! Every impact rule's documented examples: the firing one fires exactly as marked, the other
//! gives no finding of that rule.

use crate::support::{
    Mode, assert_audit_expected, assert_expected, run_audit_scenario, run_scenario,
};
use knockon::rules::impact::ImpactRules;
use knockon::scenario::Scenario;

#[test]
fn every_rule_example_behaves_as_documented() {
    let rules = ImpactRules::builtin().unwrap();
    assert!(!rules.rules.is_empty());
    let mut failures = Vec::new();
    for rule in &rules.rules {
        for (index, example) in rule.examples.iter().enumerate() {
            let result = std::panic::catch_unwind(|| check_example(rule, index, example));
            if let Err(e) = result {
                failures.push(
                    e.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default(),
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn check_example(
    rule: &knockon::rules::impact::ImpactRule,
    index: usize,
    example: &knockon::rules::impact::Example,
) {
    {
        {
            let name = format!("{} example {}", rule.id, index + 1);
            let scenario =
                Scenario::parse(&example.scenario).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                scenario.audit,
                rule.when.is_audit(),
                "{name}: audit rules have audit examples (`=== audit`), others a change"
            );
            if scenario.audit {
                let run = run_audit_scenario(&scenario, &[]);
                if example.fires {
                    assert!(
                        scenario.expected.iter().any(|e| e.rule == rule.id),
                        "{name}: a firing example marks where {} fires",
                        rule.id
                    );
                }
                assert_audit_expected(&name, &scenario, &run, &rule.id);
                return;
            }
            let run = run_scenario(&scenario, Mode::Revisions, &[]);
            if example.fires {
                assert!(
                    scenario.expected.iter().any(|e| e.rule == rule.id),
                    "{name}: a firing example marks where {} fires",
                    rule.id
                );
                assert_expected(&name, &scenario, &run, Mode::Revisions);
            } else {
                let fired: Vec<_> = run.json["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|f| f["rule"] == rule.id.as_str())
                    .collect();
                assert!(fired.is_empty(), "{name}: must not fire, got {fired:?}");
            }
        }
    }
}
