//! The tamper-evident release log's hash chain: every audited change (uploads, channel moves,
//! rollouts, rollbacks, the kill switch, keys, tokens, users) is an entry in one SHA-256 chain.
//!
//! * **Entry hash.** `hash = sha256(JSON array [FORMAT, prev_hash, seq, app_id, at, actor, action,
//!   detail])`, hex. The JSON array makes the encoding unambiguous (no separator can be forged
//!   inside a field); `detail` is the exact JSON text stored, not a re-serialisation.
//! * **Chain.** Entry `seq` (1, 2, 3 … without gaps) carries the hash of entry `seq - 1` as
//!   `prev_hash` ([`GENESIS`] for the first). The store keeps the head (last `seq` and hash) in a
//!   row of its own, so deleting the newest entries is caught too.
//! * **What it proves.** Editing, inserting or deleting an entry breaks the chain at that entry
//!   ([`ChainVerifier`] names the first bad one). Someone who can rewrite the whole table *and* its
//!   head can rebuild a consistent chain; an export taken earlier catches that: its signed head must
//!   still be in the chain ([`Checkpoint`]). Signed exports are in `landfall-crypto`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The format tag hashed into every entry and written in every export.
pub const FORMAT: &str = "landfall-release-log-v1";

/// `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry of the chain, as stored and as exported (one JSON line each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// The app the change belongs to, or `*` for server-wide changes (tokens, users).
    pub app_id: String,
    /// When (ms since the epoch).
    pub at: i64,
    /// Who (`token:NAME`, `user:NAME`, `system`, …).
    pub actor: String,
    /// What (`bundle_upload`, `channel_update`, `token_create`, …).
    pub action: String,
    /// The change's details, the exact JSON text stored.
    pub detail: String,
    /// Hash of the previous entry ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// This entry's hash ([`entry_hash`]).
    pub hash: String,
}

/// The hash of an entry with these fields after `prev_hash` (lowercase hex).
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    app_id: &str,
    at: i64,
    actor: &str,
    action: &str,
    detail: &str,
) -> String {
    let canonical = serde_json::json!([FORMAT, prev_hash, seq, app_id, at, actor, action, detail]);
    format!("{:x}", Sha256::digest(canonical.to_string().as_bytes()))
}

impl LogEntry {
    /// Make the entry that follows `prev_hash` at `seq`, with its hash.
    pub fn seal(
        prev_hash: &str,
        seq: i64,
        app_id: &str,
        at: i64,
        actor: &str,
        action: &str,
        detail: &str,
    ) -> LogEntry {
        LogEntry {
            seq,
            app_id: app_id.to_owned(),
            at,
            actor: actor.to_owned(),
            action: action.to_owned(),
            detail: detail.to_owned(),
            prev_hash: prev_hash.to_owned(),
            hash: entry_hash(prev_hash, seq, app_id, at, actor, action, detail),
        }
    }

    /// The hash its fields give (equal to `hash` unless the entry was changed).
    pub fn computed_hash(&self) -> String {
        entry_hash(
            &self.prev_hash,
            self.seq,
            &self.app_id,
            self.at,
            &self.actor,
            &self.action,
            &self.detail,
        )
    }
}

/// Where the chain breaks; the first problem found, naming the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// An entry's fields no longer give its hash: it was edited.
    #[error("entry {seq} was modified: its content no longer matches its hash")]
    Modified {
        /// The edited entry.
        seq: i64,
    },
    /// Entries are missing before `found` (deleted, or renumbered).
    #[error("entry {expected} is missing (deleted): the chain jumps from {} to {found}", expected - 1)]
    Missing {
        /// The `seq` that should have come next.
        expected: i64,
        /// The `seq` that came instead.
        found: i64,
    },
    /// An entry does not follow the one before it: inserted, or the one before it was replaced.
    #[error("entry {seq} does not follow entry {}: an entry was inserted or replaced here", seq - 1)]
    NotLinked {
        /// The entry whose `prev_hash` is wrong.
        seq: i64,
    },
    /// Rows of the log that are not in the chain at all (written around the server).
    #[error("{count} log row(s) outside the chain, the first with id {first_id}: inserted around the server")]
    Unchained {
        /// Number of such rows.
        count: u64,
        /// The lowest row id among them.
        first_id: i64,
    },
    /// The chain ends before the head the store recorded: the newest entries were deleted.
    #[error("the chain ends at entry {last} but entry {head} was written: entries after {last} were deleted")]
    Truncated {
        /// The last entry found.
        last: i64,
        /// The last entry written (the recorded head).
        head: i64,
    },
    /// The last entry is not the recorded head.
    #[error("entry {seq} is not the recorded head of the chain: the newest entry was replaced")]
    HeadMismatch {
        /// The last entry found.
        seq: i64,
    },
    /// An earlier export's signed head is not in the chain any more: the log was rewritten.
    #[error(
        "entry {seq} differs from the signed export taken earlier: the log was rewritten since"
    )]
    CheckpointMismatch {
        /// The checkpoint's entry.
        seq: i64,
    },
    /// An earlier export's signed head is beyond the end of the chain.
    #[error("an earlier signed export reaches entry {seq}, which is no longer in the log: entries were deleted")]
    CheckpointMissing {
        /// The checkpoint's entry.
        seq: i64,
    },
}

/// A known-good (`seq`, `hash`) pair, e.g. the head of a signed export taken earlier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Entry number.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
}

/// Checks entries one at a time, in `seq` order, from the first; stops at the first break.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: String,
    checkpoints: Vec<Checkpoint>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier::new()
    }
}

impl ChainVerifier {
    /// A verifier expecting entry 1 after [`GENESIS`].
    pub fn new() -> ChainVerifier {
        ChainVerifier {
            last_seq: 0,
            last_hash: GENESIS.to_owned(),
            checkpoints: Vec::new(),
        }
    }

    /// Also require these entries (e.g. an earlier export's head) to be in the chain unchanged.
    pub fn with_checkpoints(mut self, mut checkpoints: Vec<Checkpoint>) -> ChainVerifier {
        checkpoints.sort_by_key(|c| std::cmp::Reverse(c.seq));
        self.checkpoints = checkpoints;
        self
    }

    /// The next entry.
    pub fn push(&mut self, e: &LogEntry) -> Result<(), ChainBreak> {
        let expected = self.last_seq + 1;
        if e.seq > expected {
            return Err(ChainBreak::Missing {
                expected,
                found: e.seq,
            });
        }
        if e.seq < expected || e.prev_hash != self.last_hash {
            return Err(ChainBreak::NotLinked { seq: e.seq });
        }
        if e.computed_hash() != e.hash {
            return Err(ChainBreak::Modified { seq: e.seq });
        }
        while let Some(c) = self.checkpoints.last() {
            if c.seq > e.seq {
                break;
            }
            if c.seq == e.seq && c.hash != e.hash {
                return Err(ChainBreak::CheckpointMismatch { seq: c.seq });
            }
            self.checkpoints.pop();
        }
        self.last_seq = e.seq;
        self.last_hash.clone_from(&e.hash);
        Ok(())
    }

    /// Every entry was pushed: compare the end with the recorded head (`None` for an export,
    /// whose head is checked by its signature instead).
    pub fn finish(self, head: Option<&Checkpoint>) -> Result<Checkpoint, ChainBreak> {
        if let Some(c) = self.checkpoints.first() {
            return Err(ChainBreak::CheckpointMissing { seq: c.seq });
        }
        if let Some(head) = head {
            if head.seq > self.last_seq {
                return Err(ChainBreak::Truncated {
                    last: self.last_seq,
                    head: head.seq,
                });
            }
            if head.seq != self.last_seq || head.hash != self.last_hash {
                return Err(ChainBreak::HeadMismatch { seq: self.last_seq });
            }
        }
        Ok(Checkpoint {
            seq: self.last_seq,
            hash: self.last_hash,
        })
    }

    /// Entries verified so far.
    pub fn verified(&self) -> i64 {
        self.last_seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<LogEntry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let e = LogEntry::seal(
                    &prev,
                    seq,
                    "com.example.app",
                    1_700_000_000_000 + seq,
                    "token:ci",
                    "channel_update",
                    &format!(r#"{{"channel":"production","bundle":"1.0.{seq}"}}"#),
                );
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    fn verify(entries: &[LogEntry], head: &Checkpoint) -> Result<Checkpoint, ChainBreak> {
        let mut v = ChainVerifier::new();
        for e in entries {
            v.push(e)?;
        }
        v.finish(Some(head))
    }

    fn head_of(entries: &[LogEntry]) -> Checkpoint {
        let e = entries.last().unwrap();
        Checkpoint {
            seq: e.seq,
            hash: e.hash.clone(),
        }
    }

    #[test]
    fn entry_hash_is_sha256_of_the_json_array() {
        // Independent computation:
        // python3 -c 'import hashlib,json; print(hashlib.sha256(json.dumps(["landfall-release-log-v1",
        //   "0"*64, 1, "com.example.app", 1700000000001, "token:ci", "channel_update",
        //   "{\"a\":1}"], separators=(",",":")).encode()).hexdigest())'
        assert_eq!(
            entry_hash(
                GENESIS,
                1,
                "com.example.app",
                1_700_000_000_001,
                "token:ci",
                "channel_update",
                r#"{"a":1}"#
            ),
            "30e38d82645431503c2e1beb210e6dec37bbf57b84be4624e3f66a36c0748fd5"
        );
    }

    #[test]
    fn an_intact_chain_verifies_to_its_head() {
        let c = chain(5);
        assert_eq!(verify(&c, &head_of(&c)), Ok(head_of(&c)));
        assert_eq!(
            ChainVerifier::new().finish(Some(&Checkpoint {
                seq: 0,
                hash: GENESIS.into()
            })),
            Ok(Checkpoint {
                seq: 0,
                hash: GENESIS.into()
            })
        );
    }

    #[test]
    fn an_edited_entry_is_named() {
        let mut c = chain(5);
        let head = head_of(&c);
        c[2].detail = r#"{"channel":"production","bundle":"6.6.6"}"#.into();
        assert_eq!(verify(&c, &head), Err(ChainBreak::Modified { seq: 3 }));
        // Re-hashing the edited entry moves the break to the next one.
        c[2].hash = c[2].computed_hash();
        assert_eq!(verify(&c, &head), Err(ChainBreak::NotLinked { seq: 4 }));
    }

    #[test]
    fn a_deleted_entry_is_named() {
        let mut c = chain(5);
        let head = head_of(&c);
        c.remove(2);
        assert_eq!(
            verify(&c, &head),
            Err(ChainBreak::Missing {
                expected: 3,
                found: 4
            })
        );
        let mut c = chain(5);
        c.pop();
        assert_eq!(
            verify(&c, &head),
            Err(ChainBreak::Truncated { last: 4, head: 5 })
        );
    }

    #[test]
    fn an_inserted_entry_is_named() {
        let c = chain(5);
        let head = head_of(&c);
        // A forged entry spliced in as number 3, the rest renumbered: it does not follow 2's
        // hash unless it is re-hashed, and then entry 4 (the old 3) does not follow it.
        let mut forged = c[..2].to_vec();
        let mut fake = LogEntry::seal(&c[1].hash, 3, "com.example.app", 1, "x", "y", "{}");
        fake.prev_hash = "f".repeat(64);
        forged.push(fake);
        assert_eq!(
            verify(&forged, &head),
            Err(ChainBreak::NotLinked { seq: 3 })
        );
        let mut forged = c[..2].to_vec();
        forged.push(LogEntry::seal(
            &c[1].hash,
            3,
            "com.example.app",
            1,
            "x",
            "y",
            "{}",
        ));
        for e in &c[2..] {
            let mut e = e.clone();
            e.seq += 1;
            forged.push(e);
        }
        assert_eq!(
            verify(&forged, &head),
            Err(ChainBreak::NotLinked { seq: 4 })
        );
    }

    #[test]
    fn a_rewritten_chain_is_caught_by_an_earlier_checkpoint() {
        let c = chain(5);
        let earlier = head_of(&c[..3]);
        // Rewrite from entry 2 on, consistently.
        let mut rewritten = c[..1].to_vec();
        for seq in 2..=6 {
            let prev = rewritten.last().unwrap().hash.clone();
            rewritten.push(LogEntry::seal(
                &prev,
                seq,
                "com.example.app",
                seq,
                "x",
                "y",
                "{}",
            ));
        }
        let head = head_of(&rewritten);
        assert_eq!(verify(&rewritten, &head), Ok(head.clone()));
        let mut v = ChainVerifier::new().with_checkpoints(vec![earlier.clone()]);
        let r = rewritten.iter().try_for_each(|e| v.push(e));
        assert_eq!(r, Err(ChainBreak::CheckpointMismatch { seq: 3 }));
        let mut v = ChainVerifier::new().with_checkpoints(vec![Checkpoint {
            seq: 9,
            hash: "a".repeat(64),
        }]);
        c.iter().for_each(|e| v.push(e).unwrap());
        assert_eq!(
            v.finish(Some(&head_of(&c))),
            Err(ChainBreak::CheckpointMissing { seq: 9 })
        );
    }
}
