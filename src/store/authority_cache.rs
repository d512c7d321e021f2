//! Authorities, by API key and by id, kept in memory for a few seconds: every API request
//! names its key, and looking it up in the database each time was one read in three on
//! `POST /v1/letters`; every delivery needs its authority. A change of an authority made through this process (office hours,
//! closing days) empties the cache at once; one made by another instance or the command line
//! is seen within `LIFETIME`. Unknown keys are not kept, so a new key works at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Authority;

/// How long a looked-up authority is used before it is read again.
pub(crate) const LIFETIME: Duration = Duration::from_secs(5);
/// Lookups kept at most; past that the cache starts over (an authority has a few keys).
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub(crate) struct AuthorityCache {
    inner: Mutex<Entries>,
}

/// How an authority was looked up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Lookup {
    KeyHash(String),
    Id(uuid::Uuid),
}

#[derive(Default)]
struct Entries {
    found: HashMap<Lookup, (Instant, Authority)>,
    /// Counts the changes: a lookup that began before one must not store what it read.
    generation: u64,
}

/// Taken before reading the database; `store` keeps the result only if nothing changed since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ticket(u64);

impl AuthorityCache {
    /// The cached authority if it is younger than `LIFETIME`, else a ticket to store what the
    /// database says.
    fn get(&self, lookup: &Lookup, now: Instant) -> Result<Authority, Ticket> {
        let entries = self.lock();
        match entries.found.get(lookup) {
            Some((read_at, authority)) if now.saturating_duration_since(*read_at) < LIFETIME => Ok(authority.clone()),
            _ => Err(Ticket(entries.generation)),
        }
    }

    fn store(&self, ticket: Ticket, lookup: Lookup, authority: &Authority, read_at: Instant) {
        let mut entries = self.lock();
        if entries.generation != ticket.0 {
            return;
        }
        if entries.found.len() >= CAPACITY {
            entries.found.clear();
        }
        entries.found.insert(lookup, (read_at, authority.clone()));
    }

    /// The cached authority, or what `read` finds (kept unless something changed meanwhile).
    pub(crate) async fn get_or_read<E>(
        &self,
        lookup: Lookup,
        read: impl Future<Output = Result<Option<Authority>, E>>,
    ) -> Result<Option<Authority>, E> {
        let asked_at = Instant::now();
        let ticket = match self.get(&lookup, asked_at) {
            Ok(cached) => return Ok(Some(cached)),
            Err(ticket) => ticket,
        };
        let found = read.await?;
        if let Some(authority) = &found {
            self.store(ticket, lookup, authority, asked_at);
        }
        Ok(found)
    }

    /// An authority changed: forget them all (changes are rare).
    pub(crate) fn invalidate(&self) {
        let mut entries = self.lock();
        entries.generation += 1;
        entries.found.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // the map holds no invariant a panicking holder could break
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authority(name: &str) -> Authority {
        Authority {
            id: uuid::Uuid::now_v7(),
            name: name.into(),
            cvr: "11111111".into(),
            created_at: 0,
            office_hours: None,
            time_zone: None,
            closing_days: sqlx::types::Json(vec![]),
        }
    }

    fn key(hash: &str) -> Lookup {
        Lookup::KeyHash(hash.into())
    }

    #[test]
    fn a_looked_up_authority_is_kept_for_its_lifetime() {
        let cache = AuthorityCache::default();
        let start = Instant::now();
        let ticket = cache.get(&key("k"), start).unwrap_err();
        cache.store(ticket, key("k"), &authority("Aarhus"), start);
        assert_eq!(cache.get(&key("k"), start + LIFETIME / 2).map(|a| a.name), Ok("Aarhus".to_owned()));
        assert!(cache.get(&key("k"), start + LIFETIME).is_err(), "read again after its lifetime");
        assert!(cache.get(&key("other"), start).is_err());
        let by_id = Lookup::Id(uuid::Uuid::now_v7());
        assert!(cache.get(&by_id, start).is_err(), "by id and by key are apart");
        cache.store(cache.get(&by_id, start).unwrap_err(), by_id.clone(), &authority("Odense"), start);
        assert_eq!(cache.get(&by_id, start).map(|a| a.name), Ok("Odense".to_owned()));
    }

    #[tokio::test]
    async fn the_database_is_read_only_when_nothing_fresh_is_kept() {
        let cache = AuthorityCache::default();
        // what the database would say; a cached answer shows by its name that it was not read
        let read = |name: &'static str| async move { Ok::<_, ()>(Some(authority(name))) };
        let first = cache.get_or_read(key("k"), read("Vejle")).await;
        let second = cache.get_or_read(key("k"), read("not read")).await;
        assert_eq!(first.map(|a| a.map(|a| a.name)), Ok(Some("Vejle".to_owned())));
        assert_eq!(second.map(|a| a.map(|a| a.name)), Ok(Some("Vejle".to_owned())), "kept");
        let unknown = cache.get_or_read(key("unknown"), async { Ok::<_, ()>(None) }).await;
        assert_eq!(unknown.map(|a| a.is_none()), Ok(true));
        assert!(cache.get(&key("unknown"), Instant::now()).is_err(), "an unknown key is not kept");
        cache.invalidate();
        let after_change = cache.get_or_read(key("k"), read("Vejle, renamed")).await;
        assert_eq!(after_change.map(|a| a.map(|a| a.name)), Ok(Some("Vejle, renamed".to_owned())));
    }

    #[test]
    fn a_change_empties_it_and_a_lookup_begun_before_the_change_is_not_kept() {
        let cache = AuthorityCache::default();
        let now = Instant::now();
        let before_change = cache.get(&key("k"), now).unwrap_err();
        cache.store(cache.get(&key("k"), now).unwrap_err(), key("k"), &authority("old"), now);
        cache.invalidate();
        assert!(cache.get(&key("k"), now).is_err(), "emptied by the change");
        // a read that began before the change may have seen the old row
        cache.store(before_change, key("k"), &authority("old"), now);
        assert!(cache.get(&key("k"), now).is_err());
        cache.store(cache.get(&key("k"), now).unwrap_err(), key("k"), &authority("new"), now);
        assert_eq!(cache.get(&key("k"), now).map(|a| a.name), Ok("new".to_owned()));
    }
}
