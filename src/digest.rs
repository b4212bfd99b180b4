//! Git blob ids, computed without git: the content key of every file read from a working tree,
//! and the digest of every cache key.
//!
//! libgit2 hashes with SHA-1DC (collision detection), several times slower than plain SHA-1
//! with the CPU's SHA instructions; hashing every file of a large checkout was a third of
//! loading it. For any input that is not a crafted SHA-1 collision both give the same id, so a
//! file read from disk and the same blob read from a commit still share one cache entry.

use sha1::{Digest, Sha1};

/// The git blob id of `bytes` (what `git hash-object` prints), as 20 bytes.
pub fn blob_digest(bytes: &[u8]) -> [u8; 20] {
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hasher.finalize().into()
}

/// The git blob id of `bytes` in hex, as git writes it.
pub fn blob_id(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(40);
    for byte in blob_digest(bytes) {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_ids_git_gives() {
        let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let samples: [&[u8]; 5] = [
            b"",
            b"hello\n",
            b"#!/bin/sh\nrm -rf /tmp/x\n",
            &[0, 255, 10],
            &big,
        ];
        for bytes in samples {
            let git = git2::Oid::hash_object(git2::ObjectType::Blob, bytes).unwrap();
            assert_eq!(blob_id(bytes), git.to_string());
            assert_eq!(blob_digest(bytes).as_slice(), git.as_bytes());
        }
        // git's own id of the empty blob.
        assert_eq!(blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }
}
