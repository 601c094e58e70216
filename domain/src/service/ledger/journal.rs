//! The settlement journal: with settlements written to the database behind the answer, a
//! process killed between the two would lose requests its clients were answered for. So each
//! settlement is first appended to a local file (one `write`, no `fsync`: a killed process's
//! writes are in the kernel already) under a sequence number, and every database round records
//! the last number it wrote (`ledger_marks`). A restarted process that can lock the journal —
//! its writer is gone — replays what was not written, gives back the dead process's leases and
//! starts the file again. The file is emptied whenever everything in it is written.

use crate::entity::ledger_mark;
use crate::money::Money;
use crate::service::leases;
use crate::service::usage::{self, Metered, Served};
use crate::{Error, KeyId, TeamId, UserId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set};
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The first word of a journal, with its format: lines with the model and tokens (2). A build
/// before them finds no journal it knows and stops rather than replay it without them.
const MAGIC: &str = "tollgate-ledger-2";
/// The first word of journals written before (6 or 9 fields a line), still read.
const MAGIC_BEFORE_DAYS: &str = "tollgate-ledger";

/// A journal longer than this, with entries written since it was started, is rewritten with
/// only those not yet written.
pub const ROTATE_AT: u64 = 1 << 20;

/// This process's journal, locked for as long as it runs.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    header: String,
    last: u64,
    /// The file's length.
    len: u64,
    /// Entries appended and not yet known written, oldest first.
    unwritten: VecDeque<(u64, String)>,
    rotate_at: u64,
}

/// One settlement as journaled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub metered: Metered,
}

impl Journal {
    /// Opens and locks the journal at `path` for `holder`, first replaying into `db` what a
    /// stopped process left in it. `Ok(None)` when a live process holds it.
    ///
    /// # Errors
    /// [`Error::Internal`] when the file cannot be used or the replay cannot be written.
    pub async fn open(
        db: &DatabaseConnection,
        path: &Path,
        holder: &str,
    ) -> Result<Option<Journal>, Error> {
        let Some(file) = lock(path).map_err(|e| io_error(path, &e))? else {
            return Ok(None);
        };
        if let Some((dead, entries)) = read(&file).map_err(|e| io_error(path, &e))? {
            replay(db, &dead, &entries).await?;
            tracing::warn!(
                replayed = entries.len(),
                "replayed the settlement journal of a process that stopped"
            );
        }
        let journal =
            Journal::start(file, path, holder, ROTATE_AT).map_err(|e| io_error(path, &e))?;
        Ok(Some(journal))
    }

    /// Starts `file` (locked) over for `holder`.
    fn start(mut file: File, path: &Path, holder: &str, rotate_at: u64) -> io::Result<Journal> {
        let header = format!("{MAGIC} {holder}\n");
        file.set_len(0)?;
        file.write_all(header.as_bytes())?;
        Ok(Journal {
            file,
            path: path.to_owned(),
            len: header.len() as u64,
            header,
            last: 0,
            unwritten: VecDeque::new(),
            rotate_at,
        })
    }

    /// Appends a settlement; answers its sequence number.
    ///
    /// # Errors
    /// The file could not be written.
    pub fn append(&mut self, metered: &Metered) -> io::Result<u64> {
        let seq = self.last + 1;
        let line = format_entry(seq, metered);
        if let Err(e) = self.file.write_all(line.as_bytes()) {
            // A line written in part would swallow the next one: cut it off again.
            let _ = self.file.set_len(self.len);
            return Err(e);
        }
        self.last = seq;
        self.len += line.len() as u64;
        self.unwritten.push_back((seq, line));
        Ok(seq)
    }

    /// Everything up to `seq` is in the database: when that is everything, the file starts
    /// over; when it has grown past its limit, it is rewritten with the rest.
    pub fn written(&mut self, seq: u64) {
        while self.unwritten.front().is_some_and(|(s, _)| *s <= seq) {
            self.unwritten.pop_front();
        }
        let result = if self.unwritten.is_empty() {
            self.file.set_len(self.header.len() as u64).map(|()| {
                self.len = self.header.len() as u64;
            })
        } else if self.len > self.rotate_at {
            self.rotate()
        } else {
            Ok(())
        };
        if let Err(e) = result {
            tracing::warn!(path = %self.path.display(), "could not shorten the journal: {e}");
        }
    }

    /// Writes the header and the unwritten entries to a new file, locks it and renames it over
    /// the journal: at every moment one whole file holds every entry not yet in the database.
    fn rotate(&mut self) -> io::Result<()> {
        let mut next_path = self.path.clone().into_os_string();
        next_path.push(".next");
        let next_path = PathBuf::from(next_path);
        let mut next = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .truncate(false)
            .open(&next_path)?;
        next.try_lock().map_err(io::Error::other)?;
        next.set_len(0)?;
        let mut text = self.header.clone();
        self.unwritten
            .iter()
            .for_each(|(_, line)| text.push_str(line));
        next.write_all(text.as_bytes())?;
        std::fs::rename(&next_path, &self.path)?;
        self.file = next;
        self.len = text.len() as u64;
        Ok(())
    }
}

/// Opens and locks the journal at `path`; `None` when a live process holds it. The file locked
/// must still be the one at `path`: a process rotating its journal renames a new file over the
/// one just opened, and a lock on the old one would guard nothing.
fn lock(path: &Path) -> io::Result<Option<File>> {
    use std::os::unix::fs::MetadataExt;
    for _ in 0..3 {
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        let (locked, there) = (file.metadata()?, std::fs::metadata(path)?);
        if (locked.dev(), locked.ino()) == (there.dev(), there.ino()) {
            return Ok(Some(file));
        }
    }
    Ok(None)
}

/// Records in the round's transaction how far `holder`'s journal is written.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn mark_written_in(
    conn: &impl ConnectionTrait,
    holder: &str,
    seq: u64,
) -> Result<(), Error> {
    ledger_mark::Entity::insert(ledger_mark::ActiveModel {
        holder: Set(holder.to_owned()),
        written_seq: Set(i64::try_from(seq).unwrap_or(i64::MAX)),
    })
    .on_conflict(
        OnConflict::column(ledger_mark::Column::Holder)
            .update_column(ledger_mark::Column::WrittenSeq)
            .to_owned(),
    )
    .exec(conn)
    .await?;
    Ok(())
}

/// Adds what `dead` settled but did not write, gives back its leases and raises its mark past
/// every entry, in one transaction: done again, it adds nothing.
async fn replay(db: &DatabaseConnection, dead: &str, entries: &[Entry]) -> Result<(), Error> {
    let txn = crate::db::begin_ledger_write(db).await?;
    let written = ledger_mark::Entity::find_by_id(dead.to_owned())
        .one(&txn)
        .await?
        .map_or(0, |m| u64::try_from(m.written_seq).unwrap_or(0));
    let missing: Vec<Metered> = entries
        .iter()
        .filter(|e| e.seq > written)
        .map(|e| e.metered.clone())
        .collect();
    usage::record_all(&txn, &missing).await?;
    // Spent or not, the dead process's slices go back whole: what its settled requests spent
    // is recorded above, and nothing else of them is in flight.
    leases::release_holder_in(&txn, dead).await?;
    let last = entries.iter().map(|e| e.seq).max().unwrap_or(0);
    mark_written_in(&txn, dead, last.max(written)).await?;
    txn.commit().await?;
    Ok(())
}

/// The holder and entries of a journal file (`None` when it is empty). A torn last line — the
/// process died mid-write — is skipped: its request was not answered.
fn read(file: &File) -> io::Result<Option<(String, Vec<Entry>)>> {
    let mut bytes = Vec::new();
    let mut reader = BufReader::new(file);
    reader.rewind()?;
    reader.read_to_end(&mut bytes)?;
    // Line by line, each as text on its own: a line torn inside a character is skipped like
    // any other torn line instead of making the whole file unreadable.
    let mut lines = bytes
        .split_inclusive(|b| *b == b'\n')
        .map(|line| std::str::from_utf8(line).ok());
    // A header cut short (a process killed while starting the file) holds no entries.
    let Some(header) = lines.next().flatten().filter(|h| h.ends_with('\n')) else {
        return Ok(None);
    };
    let Some(holder) = [MAGIC, MAGIC_BEFORE_DAYS]
        .iter()
        .find_map(|magic| header.strip_prefix(&format!("{magic} ")))
        .and_then(|h| h.strip_suffix('\n'))
    else {
        return Err(io::Error::other("not a Tollgate ledger journal"));
    };
    let entries = lines.flatten().filter_map(parse_entry).collect();
    Ok(Some((holder.to_owned(), entries)))
}

/// `seq key user team cost at in/out model`: `-` for no team, times in µs, the tokens in and
/// out, the model with spaces, newlines and `%` percent-encoded. Older journals are read too:
/// without the last two fields (before usage per day and model), and with three more fields
/// after `at` (before budgets beyond the team's: the team slice, which a replay gives back
/// whole anyway).
fn format_entry(seq: u64, m: &Metered) -> String {
    let team = m.team.map_or("-".to_owned(), |t| t.0.to_string());
    format!(
        "{seq} {} {} {team} {} {} {}/{} {}\n",
        m.key.0,
        m.user.0,
        m.cost.micros(),
        m.at.timestamp_micros(),
        m.served.tokens_in,
        m.served.tokens_out,
        encode_model(&m.served.model),
    )
}

/// An entry from a whole line (with its newline; a line without one was torn).
fn parse_entry(line: &str) -> Option<Entry> {
    let f: Vec<&str> = line.strip_suffix('\n')?.split(' ').collect();
    let (seq, key, user, team, cost, at, served) = match f.as_slice() {
        [seq, key, user, team, cost, at, tokens, model] => {
            let (tokens_in, tokens_out) = tokens.split_once('/')?;
            let served = Served {
                model: decode_model(model)?.into(),
                tokens_in: tokens_in.parse().ok()?,
                tokens_out: tokens_out.parse().ok()?,
            };
            (seq, key, user, team, cost, at, served)
        }
        [seq, key, user, team, cost, at] | [seq, key, user, team, cost, at, _, _, _] => {
            (seq, key, user, team, cost, at, Served::default())
        }
        _ => return None,
    };
    let team = match *team {
        "-" => None,
        id => Some(TeamId(id.parse().ok()?)),
    };
    Some(Entry {
        seq: seq.parse().ok()?,
        metered: Metered {
            key: KeyId(key.parse().ok()?),
            user: UserId(user.parse().ok()?),
            team,
            cost: Money(cost.parse().ok()?),
            at: DateTime::<Utc>::from_timestamp_micros(at.parse().ok()?)?,
            served,
        },
    })
}

/// A model name as one field: every byte but printable ASCII other than `%` percent-encoded,
/// so the line stays ASCII (a torn write cannot split a character) and has no spaces.
fn encode_model(model: &str) -> String {
    let mut out = String::with_capacity(model.len());
    for b in model.bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode_model(field: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(field.len());
    let mut rest = field.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let code = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(code, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

fn io_error(path: &Path, e: &io::Error) -> Error {
    tracing::error!(path = %path.display(), "settlement journal: {e}");
    Error::internal()
}

#[cfg(test)]
mod tests {
    use super::{Entry, Journal, format_entry, parse_entry, read};
    use crate::money::Money;
    use crate::service::usage::{Metered, Served};
    use crate::{KeyId, TeamId, UserId};
    use chrono::{TimeZone, Utc};

    #[test]
    fn entries_read_back_as_written_and_torn_lines_are_skipped() {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 23, 59, 59).unwrap();
        let entry = Entry {
            seq: 7,
            metered: Metered {
                key: KeyId(3),
                user: UserId(2),
                team: Some(TeamId(5)),
                cost: Money(1_500),
                at,
                served: Served {
                    model: "my model 100% ünï".into(),
                    tokens_in: 12,
                    tokens_out: 34,
                },
            },
        };
        let line = format_entry(entry.seq, &entry.metered);
        assert_eq!(
            line,
            format!(
                "7 3 2 5 1500 {} 12/34 my%20model%20100%25%20%C3%BCn%C3%AF\n",
                at.timestamp_micros()
            )
        );
        assert_eq!(parse_entry(&line), Some(entry.clone()));
        // Lines from before usage per day (no tokens or model), and from before key and member
        // budgets (three slice fields more): read with no model.
        let before_days = format!("7 3 2 5 1500 {}\n", at.timestamp_micros());
        let unserved = Entry {
            metered: Metered {
                served: Served::default(),
                ..entry.metered.clone()
            },
            ..entry.clone()
        };
        assert_eq!(parse_entry(&before_days), Some(unserved.clone()));
        let older = format!("{} 5 202611 1500\n", before_days.trim_end());
        assert_eq!(parse_entry(&older), Some(unserved));
        let teamless = Entry {
            metered: Metered {
                team: None,
                ..entry.metered.clone()
            },
            ..entry
        };
        assert_eq!(
            parse_entry(&format_entry(teamless.seq, &teamless.metered)),
            Some(teamless)
        );
        // Cut anywhere, even where the fields still parse, a line without its end is skipped.
        assert_eq!(parse_entry(&line[..line.len() - 2]), None);
        assert_eq!(parse_entry(&line[..line.len() / 2]), None);
    }

    #[test]
    fn under_steady_load_the_file_keeps_only_what_is_not_written() {
        let path = std::env::temp_dir().join(format!(
            "tollgate-journal-rotate-{}",
            crate::secret::Secret::random().digest()
        ));
        let file = std::fs::File::create(&path).unwrap();
        file.try_lock().unwrap();
        let mut journal = Journal::start(file, &path, "live", 4096).unwrap();
        let metered = Metered {
            key: KeyId(1),
            user: UserId(2),
            team: Some(TeamId(3)),
            cost: Money(10),
            at: Utc::now(),
            served: Served::default(),
        };
        // Always a few hundred entries behind the database, never drained.
        for round in 1..=20_u64 {
            for _ in 0..200 {
                journal.append(&metered).unwrap();
            }
            journal.written(round * 200 - 150);
            let len = std::fs::metadata(&path).unwrap().len();
            assert!(
                len < 4096 + 400 * 60,
                "round {round}: the journal is {len} bytes"
            );
        }
        let reread = std::fs::File::open(&path).unwrap();
        let (holder, entries) = read(&reread).unwrap().unwrap();
        assert_eq!(holder, "live");
        let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs.first(),
            Some(&(20 * 200 - 149)),
            "every unwritten entry kept"
        );
        assert_eq!(seqs.last(), Some(&4_000));
        assert_eq!(seqs.len(), 150);
        journal.written(4_000);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "tollgate-ledger-2 live\n"
        );
        std::fs::remove_file(&path).ok();
    }
}
