//! The state of a list page — its filters, its order and its page — and the links that
//! change one of them while keeping the rest. The list components (`components.html`:
//! sortable headings, the pager, the count, export links) read it, so every list in the
//! product sorts, pages and keeps its filters the same way.

use crate::context::url_encode;

/// Rows on one page of a list, unless a list says otherwise.
pub const PAGE_SIZE: u64 = 50;

/// What a list page shows: where it lives, what it is filtered by, how it is ordered and
/// which page of how many.
#[derive(Debug, Clone)]
pub struct ListView {
    path: String,
    /// The id of the element the list's rows are swapped into on a partial reload, or
    /// empty for a list that reloads the whole page.
    pub target: &'static str,
    params: Vec<(&'static str, String)>,
    sort: String,
    dir: String,
    default_sort: &'static str,
    default_desc: bool,
    pub page: u64,
    pub pages: u64,
    pub total: u64,
}

impl ListView {
    pub fn new(path: impl Into<String>) -> Self {
        ListView {
            path: path.into(),
            target: "",
            params: vec![],
            sort: String::new(),
            dir: String::new(),
            default_sort: "",
            default_desc: false,
            page: 1,
            pages: 1,
            total: 0,
        }
    }

    /// Rows are swapped into the element with this id (htmx) rather than the whole page.
    pub fn swapped_into(mut self, target: &'static str) -> Self {
        self.target = target;
        self
    }

    /// A filter kept in every link; empty values are left out of the links.
    pub fn filter(mut self, name: &'static str, value: &str) -> Self {
        if !value.is_empty() {
            self.params.push((name, value.to_owned()));
        }
        self
    }

    /// The order: a column key (`default` when none is chosen, ascending) and `asc` or
    /// `desc`.
    pub fn sorted(mut self, sort: &str, dir: &str, default: &'static str) -> Self {
        self.sort = sort.to_owned();
        self.dir = match dir {
            "desc" | "asc" => dir.to_owned(),
            _ => String::new(),
        };
        self.default_sort = default;
        self
    }

    /// The default column comes in descending order (newest first).
    pub fn default_descending(mut self) -> Self {
        self.default_desc = true;
        self
    }

    /// The page shown (from 1) of `total` rows in pages of `size`.
    pub fn paged(mut self, page: Option<u64>, total: u64, size: u64) -> Self {
        self.total = total;
        self.pages = total.div_ceil(size.max(1)).max(1);
        self.page = page.unwrap_or(1).max(1);
        self
    }

    /// The query string with the given order and page; the filters always.
    fn query(&self, sort: &str, dir: &str, page: u64) -> String {
        let mut parts: Vec<String> = self.params.iter().map(|(k, v)| format!("{k}={}", url_encode(v))).collect();
        if !sort.is_empty() {
            parts.push(format!("sort={}", url_encode(sort)));
        }
        if !dir.is_empty() {
            parts.push(format!("dir={dir}"));
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
    }

    /// Whether `col` is the sorted column, and if so whether descending.
    fn current(&self, col: &str) -> Option<bool> {
        if self.sort.is_empty() {
            return (col == self.default_sort).then_some(if self.dir.is_empty() { self.default_desc } else { self.dir == "desc" });
        }
        (self.sort == col).then_some(self.dir == "desc")
    }

    /// The link a column heading points to: sorted by it ascending, or reversed when it
    /// already is ascending; back to the first page.
    pub fn sort_link(&self, col: &str) -> String {
        let dir = if self.current(col) == Some(false) { "desc" } else { "asc" };
        format!("{}{}", self.path, self.query(col, dir, 1))
    }

    /// The link to page `n` in the same order.
    pub fn page_link(&self, n: u64) -> String {
        format!("{}{}", self.path, self.query(&self.sort, &self.dir, n))
    }

    /// `path` (an export of this list) with the same filters and order, every row.
    pub fn export_link(&self, path: &str) -> String {
        format!("{path}{}", self.query(&self.sort, &self.dir, 1))
    }

    /// The arrow beside a sortable heading.
    pub fn sort_mark(&self, col: &str) -> &'static str {
        match self.current(col) {
            Some(false) => "▲",
            Some(true) => "▼",
            None => "",
        }
    }

    /// `aria-sort` of a sortable heading.
    pub fn aria_sort(&self, col: &str) -> &'static str {
        match self.current(col) {
            Some(false) => "ascending",
            Some(true) => "descending",
            None => "none",
        }
    }

    /// The row offset of the page shown.
    pub fn offset(&self, size: u64) -> u64 {
        (self.page - 1) * size
    }

    pub fn has_previous(&self) -> bool {
        self.page > 1
    }

    pub fn has_next(&self) -> bool {
        self.page < self.pages
    }

    pub fn previous(&self) -> u64 {
        (self.page - 1).clamp(1, self.pages)
    }

    pub fn next(&self) -> u64 {
        (self.page + 1).min(self.pages)
    }
}

/// The page of a list a request asks for (`?page=`), read beside the list's own query.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
pub struct PageQ {
    #[serde(default)]
    pub page: Option<u64>,
}

/// The page a query asks for as an offset, before the total is known.
pub fn offset_of(page: Option<u64>, size: u64) -> u64 {
    page.unwrap_or(1).max(1).saturating_sub(1).saturating_mul(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> ListView {
        ListView::new("/things").filter("q", "a b&c").filter("company", "").sorted("", "", "name").paged(Some(2), 120, 50)
    }

    #[test]
    fn links_keep_the_filters_and_drop_empty_ones() {
        let v = view();
        assert_eq!(v.page_link(3), "/things?q=a%20b%26c&page=3");
        assert_eq!(v.page_link(1), "/things?q=a%20b%26c");
        assert_eq!(v.export_link("/things/export.csv"), "/things/export.csv?q=a%20b%26c");
    }

    #[test]
    fn a_heading_sorts_ascending_then_reverses() {
        let v = view();
        assert_eq!(v.aria_sort("name"), "ascending");
        assert_eq!(v.sort_link("name"), "/things?q=a%20b%26c&sort=name&dir=desc");
        assert_eq!(v.sort_link("due"), "/things?q=a%20b%26c&sort=due&dir=asc");
        let v = ListView::new("/t").sorted("due", "desc", "name");
        assert_eq!(v.sort_mark("due"), "▼");
        assert_eq!(v.sort_mark("name"), "");
        assert_eq!(v.sort_link("due"), "/t?sort=due&dir=asc");
        // Newest first by default: the first click on that column turns it around.
        let v = ListView::new("/t").sorted("", "", "reported").default_descending();
        assert_eq!(v.aria_sort("reported"), "descending");
        assert_eq!(v.sort_link("reported"), "/t?sort=reported&dir=asc");
    }

    #[test]
    fn pages_count_from_one() {
        let v = ListView::new("/t").paged(Some(3), 120, 50);
        assert_eq!((v.page, v.pages, v.offset(50)), (3, 3, 100));
        assert!(v.has_previous() && !v.has_next());
        // Beyond the last page: shown as asked, with the way back.
        let v = ListView::new("/t").paged(Some(9), 120, 50);
        assert_eq!((v.page, v.previous()), (9, 3));
        let v = ListView::new("/t").paged(Some(0), 0, 50);
        assert_eq!((v.page, v.pages), (1, 1));
        assert_eq!(offset_of(Some(3), 50), 100);
        assert_eq!(offset_of(None, 50), 0);
    }
}
