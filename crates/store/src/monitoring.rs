//! Tables of threat monitoring: event sources, detection rules and their overrides,
//! alerts with their evidence, dead letters and ingest counters.

entity!(source, "event_sources", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    name: String,
    /// The company whose events these are; `None` for the group's own systems.
    company_id: Option<String>,
    kind: String,
    /// SHA-256 of the source's token (the token itself is shown once).
    token_hash: String,
    /// The token's first characters, to tell tokens apart.
    token_hint: String,
    field_map: String,
    /// Longest expected gap between events; `None` when silence is normal.
    expected_secs: Option<i64>,
    enabled: bool,
    last_event_ms: Option<i64>,
    events_total: i64,
    malformed_total: i64,
    /// Set while the source is silent and its silence alert raised.
    silent_since_ms: Option<i64>,
    created_ms: i64,
    updated_ms: i64,
    /// Keeps its raw events for search (within the retention), not only those that matched.
    keep_raw: bool,
});

entity!(rule, "detection_rules", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    /// The Sigma rule's own `id`.
    rule_uid: Option<String>,
    title: String,
    level: String,
    status: String,
    /// `sigmahq` (imported) or `custom` (written here).
    origin: String,
    /// Unique: a re-import of the same file updates the rule.
    file_name: String,
    body: String,
    enabled: bool,
    /// Why the rule cannot be used (it is then left out of the engine).
    error: Option<String>,
    tags: String,
    created_by: Option<String>,
    created_ms: i64,
    updated_ms: i64,
});

entity!(rule_override, "rule_overrides", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    rule_id: String,
    company_id: Option<String>,
    source_id: Option<String>,
    /// With `value`: events whose field equals the value raise no alert. Without: the
    /// rule is off for the company or source.
    field: Option<String>,
    value: Option<String>,
    reason: String,
    expires_on: Option<String>,
    created_by: Option<String>,
    created_ms: i64,
});

entity!(alert, "alerts", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    company_id: Option<String>,
    source_id: Option<String>,
    rule_id: Option<String>,
    /// `rule`, `indicator` or `silence`.
    kind: String,
    title: String,
    severity: String,
    host: String,
    user_name: String,
    group_key: String,
    count: i64,
    first_ms: i64,
    last_ms: i64,
    state: String,
    resolution: Option<String>,
    assignee_id: Option<String>,
    acknowledged_ms: Option<i64>,
    acknowledged_by: Option<String>,
    closed_ms: Option<i64>,
    closed_by: Option<String>,
    note: String,
    incident_id: Option<String>,
    created_ms: i64,
    updated_ms: i64,
});

entity!(alert_event, "alert_events", {
    #[sea_orm(primary_key, auto_increment = false)]
    alert_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    seq: i32,
    at_ms: i64,
    host: String,
    user_name: String,
    raw: String,
});

entity!(dead_letter, "dead_letters", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    source_id: Option<String>,
    company_id: Option<String>,
    received_ms: i64,
    reason: String,
    raw: String,
});

entity!(ingest_minute, "ingest_minutes", {
    #[sea_orm(primary_key, auto_increment = false)]
    source_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    minute: i64,
    events: i64,
    malformed: i64,
    alerts: i64,
});

entity!(ingest_done, "ingest_done", {
    #[sea_orm(primary_key, auto_increment = false)]
    key: String,
    done_ms: i64,
});

entity!(feed, "intel_feeds", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    name: String,
    /// `taxii` (pulled) or a file format (`stix`, `misp-json`, `misp-csv`, `text`) imported by hand.
    format: String,
    /// TAXII: the discovery or API root address.
    url: Option<String>,
    /// TAXII: the collection's id.
    collection: Option<String>,
    /// `none`, `basic` or `bearer`.
    auth: String,
    username: Option<String>,
    /// The password or token, sealed with the instance's key.
    secret: Option<String>,
    /// TLP and confidence of indicators that carry none.
    default_tlp: String,
    default_confidence: i32,
    /// Minutes between pulls; `None`: pulled only on request.
    interval_minutes: Option<i32>,
    enabled: bool,
    /// TAXII `added_after` of the next pull.
    cursor: Option<String>,
    next_pull_ms: Option<i64>,
    /// An instance pulling the feed holds it until then.
    claimed_until_ms: Option<i64>,
    last_pull_ms: Option<i64>,
    last_ok_ms: Option<i64>,
    /// Why the last pull or import failed; the indicators of the last good one are kept.
    last_error: Option<String>,
    last_added: i64,
    /// The first refusals of the last pull or import, one per line.
    last_refused: String,
    indicator_count: i64,
    created_by: Option<String>,
    created_ms: i64,
    updated_ms: i64,
});

entity!(indicator, "indicators", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    feed_id: String,
    kind: String,
    /// Canonical: lower case, networks with their prefix, URLs without a bare trailing slash.
    value: String,
    /// The feed's id for it (STIX `indicator--…`, MISP uuid).
    external_id: Option<String>,
    name: String,
    tlp: String,
    confidence: i32,
    valid_from_ms: Option<i64>,
    valid_until_ms: Option<i64>,
    created_ms: i64,
    updated_ms: i64,
});

entity!(sighting, "sightings", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    /// `indicator id:source id`: one sighting per indicator and source, counted up.
    sighting_key: String,
    indicator_id: String,
    company_id: Option<String>,
    source_id: Option<String>,
    /// The latest alert the sighting raised or joined.
    alert_id: Option<String>,
    observed: String,
    count: i64,
    first_ms: i64,
    last_ms: i64,
    created_ms: i64,
});

entity!(suppression, "alert_suppressions", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    /// The alert group silenced: company, rule or indicator, host.
    group_key: String,
    company_id: Option<String>,
    /// The alert it was made from.
    alert_id: Option<String>,
    title: String,
    reason: String,
    /// Last day (UTC) it holds.
    expires_on: String,
    created_by: Option<String>,
    created_ms: i64,
    /// Lifted before its end.
    lifted_ms: Option<i64>,
    lifted_by: Option<String>,
});

entity!(rotation, "oncall_rotations", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    name: String,
    /// The company whose alerts it answers; `None`: every company's.
    company_id: Option<String>,
    /// New alerts of this severity and above page the person on call.
    min_severity: String,
    /// Minutes to wait for an acknowledgement before calling the next person and the lead.
    ack_minutes: i32,
    shift_hours: i32,
    /// When the first member's first shift began.
    anchor_ms: i64,
    /// The CSIRT lead, called on every escalation.
    lead_user_id: Option<String>,
    enabled: bool,
    created_by: Option<String>,
    created_ms: i64,
    updated_ms: i64,
});

entity!(rotation_member, "oncall_members", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    rotation_id: String,
    /// Turn order, from 0.
    position: i32,
    user_id: String,
});

entity!(cover, "oncall_covers", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    rotation_id: String,
    user_id: String,
    from_ms: i64,
    until_ms: i64,
    reason: String,
    created_by: Option<String>,
    created_ms: i64,
});

entity!(page, "alert_pages", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    alert_id: String,
    rotation_id: Option<String>,
    company_id: Option<String>,
    user_id: String,
    /// `on_call`, `next` or `lead`.
    reason: String,
    paged_ms: i64,
    /// On the first page of an alert: when to escalate if it is still not acknowledged.
    /// Cleared once escalated (or found acknowledged).
    escalate_ms: Option<i64>,
});

entity!(raw_event, "raw_events", {
    #[sea_orm(primary_key, auto_increment = false)]
    id: String,
    company_id: Option<String>,
    source_id: String,
    received_ms: i64,
    /// The event's own time when it carries a believable one, else when received.
    event_ms: i64,
    host: String,
    user_name: String,
    body: String,
    /// The body's length, for the size limit.
    bytes: i32,
});
