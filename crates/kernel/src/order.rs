//! The order of a list, as every list in the API and the pages takes it: `sort` names a
//! column by its key, `dir` is `asc` or `desc`; without `sort` the list's own default
//! order applies. The row id always breaks ties, so pages never overlap or skip a row.

use crate::{AppError, Result};
use sea_orm::{EntityTrait, Order, QueryOrder, Select};

/// A list's sortable columns: each key with its column; the first is the default, in
/// `default_desc` order when nothing is asked.
pub struct Columns<'a, E: EntityTrait> {
    pub keys: &'a [(&'static str, E::Column)],
    pub default_desc: bool,
    pub id: E::Column,
}

/// Orders `sel` as asked; an unknown key or direction is refused, naming `sort` or `dir`.
pub fn ordered<E: EntityTrait>(sel: Select<E>, cols: Columns<'_, E>, sort: Option<&str>, dir: Option<&str>) -> Result<Select<E>> {
    let sort = sort.map(str::trim).filter(|s| !s.is_empty());
    let desc = match dir.map(str::trim).filter(|d| !d.is_empty()) {
        None => sort.is_none() && cols.default_desc,
        Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(AppError::coded("dir", "sort-dir", "is asc or desc")),
    };
    let col = match sort {
        None => cols.keys.first().map(|(_, c)| *c),
        Some(key) => match cols.keys.iter().find(|(k, _)| *k == key) {
            Some((_, c)) => Some(*c),
            None => {
                let known: Vec<&str> = cols.keys.iter().map(|(k, _)| *k).collect();
                let known = known.join(", ");
                return Err(AppError::coded("sort", "sort-key", format!("is one of {known}")).into_with_arg("known", known));
            }
        },
    };
    let order = if desc { Order::Desc } else { Order::Asc };
    let sel = match col {
        Some(c) => sel.order_by(c, order.clone()),
        None => sel,
    };
    Ok(sel.order_by(cols.id, order))
}
