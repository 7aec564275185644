home-title = Overview
home-your-roles = Your roles
home-no-roles = You have no roles yet. An administrator grants them.
tile-people = Active people
tile-companies = Companies
tile-audit = Audit entries
scope-group = Group-wide
scope-company = Company

audit-title = Audit trail
audit-count = { $count } entries
col-time = Time
col-actor = Who
col-action = Action
col-entity = Kind
col-record = Record
col-detail = Detail
