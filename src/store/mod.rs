//! Store: extracted facts kept between runs.
//!
//! Input: [`FileFacts`](crate::extract::FileFacts) and what they were extracted from. Output:
//! bytes ([`codec`]), and a content cache keyed by what facts depend on ([`cache`]).
//!
//! Invariants: facts read back are equal to the facts a fresh extraction gives, or they are not
//! read back at all (a miss); nothing here can make a run fail — a cache that cannot be opened,
//! read or written is a warning and the run extracts as if there were no cache.

pub mod codec;

pub use codec::{CodecError, decode, encode, fingerprint};
