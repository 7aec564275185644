home-title = 概要
home-your-roles = あなたのロール
home-no-roles = まだロールがありません。管理者が付与します。
tile-people = 在籍者
tile-companies = 会社
tile-audit = 監査記録
scope-group = グループ全体
scope-company = 会社

audit-title = 監査ログ
audit-count = { $count } 件
col-time = 日時
col-actor = 実行者
col-action = 操作
col-entity = 種類
col-record = 対象
col-detail = 内容
