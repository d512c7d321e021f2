//! The retention sweep: a set time after a letter's business is over, its body and its
//! documents' content are deleted (with the file-drop copies the outbox still holds), in small
//! batches; the letter's facts, deliveries and timeline stay, and a `content_deleted` event
//! says when and under which rule. Safe to run in several processes at once: the store skips
//! letters another process holds and never deletes a letter twice. It also forgets webhook
//! secrets whose rotation overlap has ended.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

use crate::config::RetentionSettings;
use crate::domain::Clock;
use crate::store::{RetentionCutoff, Store, StoreError};

pub struct RetentionSweeper {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub settings: RetentionSettings,
    /// Deadlines are local dates: the installation's calendar time zone says when a day ends.
    pub time_zone: jiff::tz::TimeZone,
    /// `<data_dir>/outbox`: file drops there are rendered copies of a letter.
    pub outbox: PathBuf,
    /// Woken after a sweep wrote `content_deleted` events, so webhooks go out at once.
    pub events_written: Arc<Notify>,
}

/// The letters a sweep at `now` may empty: arrived more than `days` days ago, and a deadline in
/// force (an extended one counts) more than `days` whole days ago, or none. `None` when the rule
/// is off (`0`) or out of range.
pub fn cutoff(now: jiff::Timestamp, time_zone: &jiff::tz::TimeZone, days: u32) -> Option<RetentionCutoff> {
    if days == 0 {
        return None;
    }
    let created_before = now.as_millisecond().checked_sub(i64::from(days).checked_mul(86_400_000)?)?;
    let today = now.to_zoned(time_zone.clone()).date();
    let deadline_before = today.checked_sub(jiff::Span::new().try_days(i64::from(days)).ok()?).ok()?;
    Some(RetentionCutoff { created_before, deadline_before: deadline_before.to_string(), days })
}

impl RetentionSweeper {
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let every = Duration::from_secs(self.settings.sweep_interval_secs);
        while !*shutdown.borrow() {
            if let Err(e) = self.sweep(&shutdown).await {
                // nothing is lost: the next sweep takes the same letters
                tracing::warn!(error = %e, "retention sweep interrupted by a store error");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// One sweep: batch after batch until nothing more is due (or the process stops).
    /// Returns how many letters' content it deleted.
    pub async fn sweep(&self, shutdown: &watch::Receiver<bool>) -> Result<usize, StoreError> {
        let now = self.clock.now();
        self.store.forget_expired_webhook_secrets(now.as_millisecond()).await?;
        let Some(cutoff) = cutoff(now, &self.time_zone, self.settings.letter_content_days) else {
            return Ok(0);
        };
        let mut total = 0;
        loop {
            let batch = self.settings.batch_size;
            let deleted = self.store.delete_expired_content(&cutoff, now.as_millisecond(), batch).await?;
            total += deleted.len();
            if !deleted.is_empty() {
                self.events_written.notify_one();
                let outbox = self.outbox.clone();
                let letters: HashSet<String> = deleted.iter().map(|id| id.to_string()).collect();
                let removed = tokio::task::spawn_blocking(move || remove_file_drops(&outbox, &letters)).await;
                if let Ok(Err(e)) = removed {
                    tracing::warn!(error = %e, "could not remove file-drop copies of deleted letters");
                }
            }
            if deleted.len() < batch as usize || *shutdown.borrow() {
                break;
            }
        }
        if total > 0 {
            tracing::info!(letters = total, days = cutoff.days, "letter content deleted under the retention rule");
        }
        Ok(total)
    }
}

/// Remove `<outbox>/<channel>/<letter>_<delivery>.<ext>` for these letters. Files a provider
/// already collected are simply not there.
fn remove_file_drops(outbox: &Path, letters: &HashSet<String>) -> std::io::Result<()> {
    let channels = match std::fs::read_dir(outbox) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for channel in channels {
        let channel = channel?.path();
        if !channel.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&channel)? {
            let path = file?.path();
            let letter = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.split_once('_')).map(|(l, _)| l);
            if path.is_file() && letter.is_some_and(|l| letters.contains(l)) {
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_kept_for_whole_days_after_the_later_of_arrival_and_deadline() {
        let tz = jiff::tz::TimeZone::get("Europe/Copenhagen").unwrap();
        let now: jiff::Timestamp = "2027-02-15T10:00:00Z".parse().unwrap();
        let c = cutoff(now, &tz, 400).unwrap();
        assert_eq!(c.created_before, now.as_millisecond() - 400 * 86_400_000);
        // a deadline of 2026-01-10 ended 400 whole days before 2027-02-15; 2026-01-11 did not
        assert_eq!(c.deadline_before, "2026-01-11");
        assert!("2026-01-10" < c.deadline_before.as_str() && "2026-01-11" >= c.deadline_before.as_str());
        // no deadline compares as the empty string: always before
        assert!("" < c.deadline_before.as_str());
        // the local date counts: just after midnight in Copenhagen is still 23:xx UTC
        let late: jiff::Timestamp = "2027-02-14T23:30:00Z".parse().unwrap();
        assert_eq!(cutoff(late, &tz, 400).unwrap().deadline_before, "2026-01-11");
    }

    #[test]
    fn zero_keeps_content_forever() {
        assert_eq!(cutoff(jiff::Timestamp::now(), &jiff::tz::TimeZone::UTC, 0), None);
        assert!(cutoff(jiff::Timestamp::now(), &jiff::tz::TimeZone::UTC, u32::MAX).is_none());
    }

    #[test]
    fn only_the_deleted_letters_file_drops_go() {
        let dir = std::env::temp_dir().join(format!("bb-retention-{}", uuid::Uuid::new_v4().simple()));
        let sms = dir.join("sms");
        std::fs::create_dir_all(sms.join(".tmp")).unwrap();
        let (gone, kept) = (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string());
        for name in [format!("{gone}_1.txt"), format!("{gone}_2.txt"), format!("{kept}_3.txt")] {
            std::fs::write(sms.join(name), b"x").unwrap();
        }
        remove_file_drops(&dir, &HashSet::from([gone.clone()])).unwrap();
        let left: Vec<String> = std::fs::read_dir(&sms)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        assert_eq!(left, [format!("{kept}_3.txt")]);
        remove_file_drops(&dir.join("missing"), &HashSet::from([gone])).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
