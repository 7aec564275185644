//! Small key-value settings the system keeps about itself (e.g. the pending setup token).

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr};

pub mod setting {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub value: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub async fn get(db: &impl ConnectionTrait, key: &str) -> Result<Option<String>, DbErr> {
    Ok(setting::Entity::find_by_id(key.to_owned()).one(db).await?.map(|m| m.value))
}

pub async fn put(db: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), DbErr> {
    let am = setting::ActiveModel { key: Set(key.to_owned()), value: Set(value.to_owned()) };
    setting::Entity::insert(am)
        .on_conflict(sea_orm::sea_query::OnConflict::column(setting::Column::Key).update_column(setting::Column::Value).to_owned())
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    setting::Entity::delete_by_id(key.to_owned()).exec(db).await?;
    Ok(())
}
