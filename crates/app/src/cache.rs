//! Short-lived in-memory copies of what nearly every request reads: the principal behind a
//! session or token, the organisation's companies and departments, the handling
//! categories, people's names, and list counts. An entry is used
//! only while no write has committed on this instance since it was read (the store's
//! generation) and for a few seconds at most (half a minute for counts), which bounds how
//! long another instance's change (a revoked session, a disabled account) can go unseen here.

use crate::Principal;
use crate::accounts::SessionInfo;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const PRINCIPAL_TTL: Duration = Duration::from_secs(5);
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

#[derive(Default)]
pub struct Caches {
    principals: Mutex<HashMap<String, Entry<(Principal, Option<SessionInfo>, i64)>>>,
    org: Mutex<Option<Entry<(Vec<isms_store::org::company::Model>, Vec<isms_store::org::department::Model>)>>>,
    counts: Mutex<HashMap<String, Entry<u64>>>,
    cells: Mutex<HashMap<String, Entry<Vec<(i16, i16, i64)>>>>,
    categories: Mutex<Option<Entry<Vec<crate::assets::Category>>>>,
    /// People's names and employee numbers by id, as lists show them beside records.
    names: Mutex<Option<Entry<HashMap<String, (String, String)>>>>,
}

impl Caches {
    /// The cached principal for a session or token hash, if still current.
    pub fn principal(&self, key: &str, generation: u64, now_ms: i64) -> Option<(Principal, Option<SessionInfo>)> {
        let map = self.principals.lock().ok()?;
        let e = map.get(key)?;
        let (p, s, expires_ms) = &e.value;
        (e.generation == generation && e.at.elapsed() < PRINCIPAL_TTL && now_ms < *expires_ms).then(|| (p.clone(), s.clone()))
    }

    pub fn put_principal(&self, key: String, generation: u64, p: Principal, s: Option<SessionInfo>, expires_ms: i64) {
        if let Ok(mut map) = self.principals.lock() {
            if map.len() >= MAX_ENTRIES {
                map.retain(|_, e| e.generation == generation && e.at.elapsed() < PRINCIPAL_TTL);
                if map.len() >= MAX_ENTRIES {
                    map.clear();
                }
            }
            map.insert(key, Entry { generation, at: Instant::now(), value: (p, s, expires_ms) });
        }
    }

    pub fn count(&self, key: &str, generation: u64) -> Option<u64> {
        let map = self.counts.lock().ok()?;
        let e = map.get(key)?;
        (e.generation == generation && e.at.elapsed() < COUNT_TTL).then_some(e.value)
    }

    pub fn put_count(&self, key: String, generation: u64, n: u64) {
        if let Ok(mut map) = self.counts.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, Entry { generation, at: Instant::now(), value: n });
        }
    }

    /// Counts per cell of a heat map (likelihood, impact, risks).
    pub fn cells(&self, key: &str, generation: u64) -> Option<Vec<(i16, i16, i64)>> {
        let map = self.cells.lock().ok()?;
        let e = map.get(key)?;
        (e.generation == generation && e.at.elapsed() < COUNT_TTL).then(|| e.value.clone())
    }

    pub fn put_cells(&self, key: String, generation: u64, cells: Vec<(i16, i16, i64)>) {
        if let Ok(mut map) = self.cells.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, Entry { generation, at: Instant::now(), value: cells });
        }
    }

    pub fn org(&self, generation: u64) -> Option<(Vec<isms_store::org::company::Model>, Vec<isms_store::org::department::Model>)> {
        let g = self.org.lock().ok()?;
        let e = g.as_ref()?;
        (e.generation == generation && e.at.elapsed() < ORG_TTL).then(|| e.value.clone())
    }

    pub fn put_org(&self, generation: u64, value: (Vec<isms_store::org::company::Model>, Vec<isms_store::org::department::Model>)) {
        if let Ok(mut g) = self.org.lock() {
            *g = Some(Entry { generation, at: Instant::now(), value });
        }
    }

    pub fn categories(&self, generation: u64) -> Option<Vec<crate::assets::Category>> {
        let g = self.categories.lock().ok()?;
        let e = g.as_ref()?;
        (e.generation == generation && e.at.elapsed() < ORG_TTL).then(|| e.value.clone())
    }

    pub fn put_categories(&self, generation: u64, value: Vec<crate::assets::Category>) {
        if let Ok(mut g) = self.categories.lock() {
            *g = Some(Entry { generation, at: Instant::now(), value });
        }
    }

    /// The names known for `ids`, and the ids still to look up.
    pub fn person_names(&self, generation: u64, ids: &[String]) -> (HashMap<String, (String, String)>, Vec<String>) {
        let mut found = HashMap::new();
        let mut missing = vec![];
        let g = self.names.lock();
        match g.as_ref().ok().and_then(|g| g.as_ref()).filter(|e| e.generation == generation && e.at.elapsed() < ORG_TTL) {
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
                Some(e) if e.generation == generation && e.at.elapsed() < ORG_TTL && e.value.len() < MAX_ENTRIES * 10 => {
                    e.value.extend(add.iter().map(|(k, v)| (k.clone(), v.clone())))
                }
                _ => *g = Some(Entry { generation, at: Instant::now(), value: add.clone() }),
            }
        }
    }
}
