//! Impact rules: which contract delta, against which counterpart accesses, makes a finding.
