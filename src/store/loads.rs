//! What loads learnt about files ([`crate::load::Recall`]), kept in the content cache beside
//! file facts and whole worlds, under the same size bound.
//!
//! A record is keyed by the build and models ([`super::fingerprint`]: language detection is
//! the build's), the selection it was made under (a configuration's excludes decide what is
//! kept) and the repository's canonical root. A record that cannot be read is a miss: every
//! file is read, as without a cache.

use super::{Cache, codec};
use crate::load::{Recall, Recollection};
use std::path::Path;

/// The content cache as the loader's memory of earlier loads.
pub struct LoadRecords<'c> {
    cache: Option<&'c mut Cache>,
    /// The build and models, and what the selector depends on.
    scope: String,
}

impl<'c> LoadRecords<'c> {
    /// Records of loads made by the build and models of `fingerprint` with a selector described
    /// by `selection` (everything it depends on besides a file's path and bytes).
    pub fn new(
        cache: Option<&'c mut Cache>,
        fingerprint: &str,
        selection: &str,
    ) -> LoadRecords<'c> {
        LoadRecords {
            cache,
            scope: format!("{fingerprint}\0{selection}"),
        }
    }

    fn key(&self, root: &Path) -> Vec<u8> {
        let text = format!("load\0{}\0{}", self.scope, root.display());
        crate::digest::blob_digest(text.as_bytes()).to_vec()
    }
}

impl Recollection for LoadRecords<'_> {
    fn recall(&mut self, root: &Path) -> Option<Recall> {
        let key = self.key(root);
        let bytes = self.cache.as_deref_mut()?.get(&key)?;
        codec::decode(&bytes).ok()
    }

    fn learn(&mut self, root: &Path, learnt: Recall) {
        let key = self.key(root);
        if let Some(cache) = self.cache.as_deref_mut() {
            cache.keep(key, codec::encode(&learnt));
        }
    }
}
