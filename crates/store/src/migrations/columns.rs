//! Column and constraint shapes every migration uses, so one id or time column is the
//! same type in every table.

use sea_orm_migration::prelude::*;

/// A UUID primary key stored as text.
pub fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string_len(36).not_null().primary_key().to_owned()
}

/// A reference to another record's id (nullable unless made `not_null`).
pub fn ref_id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string_len(36).to_owned()
}

/// Milliseconds since the Unix epoch, UTC.
pub fn ms(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

/// A yes/no column that is no unless set.
pub fn flag(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).boolean().not_null().default(false).to_owned()
}

/// A short enumerated code (`with_approval`, `terminal`).
pub fn code(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string_len(32).not_null().to_owned()
}

pub fn fk(from_tbl: impl IntoIden, from_col: impl IntoIden, to_tbl: impl IntoIden, to_col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from_tbl, from_col).to(to_tbl, to_col).to_owned()
}

pub fn index(name: &str, tbl: impl IntoIden, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(tbl);
    for c in cols {
        i.col(Alias::new(*c));
    }
    i.to_owned()
}
