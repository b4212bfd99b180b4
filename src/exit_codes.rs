//! Exit codes, in one place: 0 no finding at or above `--fail-on`, 1 at least one, 2 bad usage
//! or input (with a one-line message on stderr). A broken pipe on stdout exits 0.

pub const CLEAN: u8 = 0;
pub const FINDINGS: u8 = 1;
pub const ERROR: u8 = 2;
