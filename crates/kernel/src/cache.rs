//! Short-lived in-memory copies of what nearly every request reads: the organisation's
//! companies and departments, people's names and list counts here, and what a domain
//! keeps in its own shared state with `Slot` and `Keyed` (the principal behind a session,
//! the handling categories). An entry is used only while no write has committed on this
//! instance since it was read (the store's generation) and for a few seconds at most,
//! which bounds how long another instance's change (a revoked session, a disabled
//! account) can go unseen here.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const ORG_TTL: Duration = Duration::from_secs(30);
/// List counts and heat-map cells: a write on this instance refreshes them at once; one on
/// another instance shows within this time.
const COUNT_TTL: Duration = Duration::from_secs(30);
const MAX_ENTRIES: usize = 10_000;

struct Entry<T> {
    generation: u64,
    at: Instant,
    value: T,
}

impl<T> Entry<T> {
    fn fresh(&self, generation: u64, ttl: Duration) -> bool {
        self.generation == generation && self.at.elapsed() < ttl
    }
}

/// One cached value.
pub struct Slot<T> {
    ttl: Duration,
    value: Mutex<Option<Entry<T>>>,
}

impl<T: Clone> Slot<T> {
    pub const fn new(ttl: Duration) -> Self {
        Slot { ttl, value: Mutex::new(None) }
    }

    pub fn get(&self, generation: u64) -> Option<T> {
        let g = self.value.lock().ok()?;
        g.as_ref().filter(|e| e.fresh(generation, self.ttl)).map(|e| e.value.clone())
    }

    pub fn put(&self, generation: u64, value: T) {
        if let Ok(mut g) = self.value.lock() {
            *g = Some(Entry { generation, at: Instant::now(), value });
        }
    }
}

/// Cached values by key, at most `MAX_ENTRIES` of them.
pub struct Keyed<T> {
    ttl: Duration,
    map: Mutex<HashMap<String, Entry<T>>>,
}

impl<T: Clone> Keyed<T> {
    pub fn new(ttl: Duration) -> Self {
        Keyed { ttl, map: Mutex::new(HashMap::new()) }
    }

    pub fn get(&self, key: &str, generation: u64) -> Option<T> {
        let map = self.map.lock().ok()?;
        map.get(key).filter(|e| e.fresh(generation, self.ttl)).map(|e| e.value.clone())
    }

    pub fn put(&self, key: String, generation: u64, value: T) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= MAX_ENTRIES {
                map.retain(|_, e| e.fresh(generation, self.ttl));
                if map.len() >= MAX_ENTRIES {
                    map.clear();
                }
            }
            map.insert(key, Entry { generation, at: Instant::now(), value });
        }
    }
}

type OrgLists = (Vec<isms_store::org::company::Model>, Vec<isms_store::org::department::Model>);

pub struct Caches {
    /// Held while a missing count or heat map is computed, so a burst of readers after a
    /// write (or at the end of an entry's time) waits for one computation instead of each
    /// running its own over the whole register.
    miss: tokio::sync::Mutex<()>,
    org: Slot<OrgLists>,
    counts: Keyed<u64>,
    cells: Keyed<Vec<(i16, i16, i64)>>,
    /// People's names and employee numbers by id, as lists show them beside records.
    names: Mutex<Option<Entry<HashMap<String, (String, String)>>>>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            miss: tokio::sync::Mutex::const_new(()),
            org: Slot::new(ORG_TTL),
            counts: Keyed::new(COUNT_TTL),
            cells: Keyed::new(COUNT_TTL),
            names: Mutex::new(None),
        }
    }
}

impl Caches {
    pub fn count(&self, key: &str, generation: u64) -> Option<u64> {
        self.counts.get(key, generation)
    }

    pub fn put_count(&self, key: String, generation: u64, n: u64) {
        self.counts.put(key, generation, n)
    }

    /// The count under `key`, computed by `count` when missing — by one reader at a time:
    /// the others wait and read what it put.
    pub async fn count_once<E>(&self, key: String, generation: u64, count: impl std::future::Future<Output = Result<u64, E>>) -> Result<u64, E> {
        if let Some(n) = self.count(&key, generation) {
            return Ok(n);
        }
        let _one = self.miss.lock().await;
        if let Some(n) = self.count(&key, generation) {
            return Ok(n);
        }
        let n = count.await?;
        self.put_count(key, generation, n);
        Ok(n)
    }

    /// Waits until no other reader computes a missing count or heat map (for callers that
    /// compute several under one turn).
    pub async fn one_miss_at_a_time(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.miss.lock().await
    }

    /// Counts per cell of a heat map (likelihood, impact, risks).
    pub fn cells(&self, key: &str, generation: u64) -> Option<Vec<(i16, i16, i64)>> {
        self.cells.get(key, generation)
    }

    pub fn put_cells(&self, key: String, generation: u64, cells: Vec<(i16, i16, i64)>) {
        self.cells.put(key, generation, cells)
    }

    pub fn org(&self, generation: u64) -> Option<OrgLists> {
        self.org.get(generation)
    }

    pub fn put_org(&self, generation: u64, value: OrgLists) {
        self.org.put(generation, value)
    }

    /// The names known for `ids`, and the ids still to look up.
    pub fn person_names(&self, generation: u64, ids: &[String]) -> (HashMap<String, (String, String)>, Vec<String>) {
        let mut found = HashMap::new();
        let mut missing = vec![];
        let g = self.names.lock();
        match g.as_ref().ok().and_then(|g| g.as_ref()).filter(|e| e.fresh(generation, ORG_TTL)) {
            Some(e) => {
                for id in ids {
                    match e.value.get(id) {
                        Some(v) => {
                            found.insert(id.clone(), v.clone());
                        }
                        None => missing.push(id.clone()),
                    }
                }
            }
            None => missing = ids.to_vec(),
        }
        (found, missing)
    }

    /// Adds looked-up names; the set starts again when the generation moved or its time is up.
    pub fn put_person_names(&self, generation: u64, add: &HashMap<String, (String, String)>) {
        if let Ok(mut g) = self.names.lock() {
            match g.as_mut() {
                Some(e) if e.fresh(generation, ORG_TTL) && e.value.len() < MAX_ENTRIES * 10 => e.value.extend(add.iter().map(|(k, v)| (k.clone(), v.clone()))),
                _ => *g = Some(Entry { generation, at: Instant::now(), value: add.clone() }),
            }
        }
    }
}
