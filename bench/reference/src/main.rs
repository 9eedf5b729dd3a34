//! The reference server of bench/run: the benchmark's eight requests (list, the inbox in manual
//! order, get, toggle, update, create, move, changes) answered on the API's stack with nothing but
//! what they need. It sends the API's
//! exact SQL (bench/sql), TLS to PostgreSQL when the server offers it as sqlx's
//! `sslmode=prefer` does, verifies the token once per token (then a cache), checks the path's
//! user, and answers the API's bytes: the same JSON, `ETag`, `X-Total-Count`, `Location`.
//! What a request costs here is what this stack costs at least; bench/run compares the API
//! with it (bench/run checks the bytes of one response per scenario first).
//!
//! No validation, no problem documents, no logs, no metrics: it is a yardstick, not a server.

use std::num::NonZeroU8;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;
use time::format_description::well_known::iso8601::{Config, EncodedConfig, TimePrecision};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const COLUMNS: &str = r#""tasks"."id", "tasks"."owner", "tasks"."title", "tasks"."description", "tasks"."completed", "tasks"."completed_at", "tasks"."priority", "tasks"."tags", "tasks"."due_date", "tasks"."list_id", "tasks"."parent_id", "tasks"."position", "tasks"."subtask_count", "tasks"."completed_subtask_count", "tasks"."version", "tasks"."created_at", "tasks"."updated_at", "tasks"."recurrence", "tasks"."timezone", "tasks"."remind_at""#;
const RETURNED: &str = r#""id", "owner", "title", "description", "completed", "completed_at", "priority", "tags", "due_date", "list_id", "parent_id", "position", "subtask_count", "completed_subtask_count", "version", "created_at", "updated_at", "recurrence", "timezone", "remind_at""#;
const LOCK: &str =
    "((SELECT TRUE FROM (SELECT pg_advisory_xact_lock(hashtextextended($LOCK, 0))) AS locked))";

struct State {
    pool: Pool,
    key: DecodingKey,
    validation: Validation,
    verified: moka::sync::Cache<String, Arc<str>>,
    /// Users whose row was written by this process: once each, as the API does.
    ensured: moka::sync::Cache<Arc<str>, ()>,
    sql: Sql,
}

/// The statements, as the API sends them.
struct Sql {
    list: String,
    /// The inbox in manual order (`?list_id=inbox&sort=position`).
    position: String,
    get: String,
    toggle: String,
    update: String,
    ensure_user: &'static str,
    append: String,
    /// The first position among a top-level inbox task's siblings.
    first_in_inbox: &'static str,
    /// A task's new place.
    place: String,
    /// A top-level task put last among the siblings it has, in one statement.
    move_last: String,
    /// A top-level task put first among the siblings it has, in one statement, if no sibling
    /// is below the owner's number's key.
    move_first: String,
    /// A task placed last and inserted with its tags in one statement, by number of tags.
    insert: Vec<String>,
    /// A page of the owner's changes after a cursor, with the owner's last change number.
    changes: String,
}

impl Sql {
    fn new() -> Self {
        let lock = |n: u8| LOCK.replace("$LOCK", &format!("${n}"));
        let append = format!(
            r#"UPDATE "users" SET "append_seq" = "append_seq" + $1 WHERE "users"."id" = $2 AND {} RETURNING "append_seq""#,
            lock(3)
        );
        Self {
            list: format!(
                r#"SELECT {COLUMNS}, COUNT(*) OVER () AS "total" FROM "tasks" WHERE "tasks"."owner" = $1 ORDER BY "created_at" DESC, "tasks"."id" DESC LIMIT $2 OFFSET $3"#
            ),
            position: format!(
                r#"SELECT {COLUMNS}, COUNT(*) OVER () AS "total" FROM "tasks" WHERE "tasks"."owner" = $1 AND "tasks"."list_id" IS NULL ORDER BY COALESCE((SELECT p.position FROM tasks p WHERE p.id = tasks.parent_id), tasks.position) ASC, COALESCE(tasks.parent_id, tasks.id) ASC, tasks.parent_id IS NOT NULL ASC, tasks.position ASC, tasks.id ASC LIMIT $2 OFFSET $3"#
            ),
            get: format!(
                r#"SELECT {COLUMNS} FROM "tasks" WHERE "tasks"."id" = $1 AND "tasks"."owner" = $2 LIMIT $3"#
            ),
            toggle: format!(
                r#"UPDATE "tasks" SET "created_seq" = COALESCE(created_seq, changed_seq), "changed_seq" = nextval('change_numbers'), "completed" = NOT "completed", "completed_at" = (CASE WHEN ($1) THEN "completed_at" WHEN (NOT "completed") THEN $2 ELSE $3 END), "version" = (CASE WHEN ($4) THEN "version" ELSE "version" + $5 END), "updated_at" = (CASE WHEN ($6) THEN "updated_at" ELSE $7 END) WHERE "tasks"."id" = $8 AND "tasks"."owner" = $9 AND "tasks"."recurrence" IS NULL AND "tasks"."parent_id" IS NULL AND "subtask_count" = "completed_subtask_count" AND {} RETURNING {RETURNED}"#,
                lock(10)
            ),
            update: format!(
                r#"UPDATE "tasks" SET "created_seq" = COALESCE(created_seq, changed_seq), "changed_seq" = nextval('change_numbers'), "title" = $1, "description" = $2, "completed" = $3, "completed_at" = $4, "priority" = $5, "tags" = $6, "due_date" = $7, "version" = $8, "updated_at" = $9, "recurrence" = $10, "timezone" = $11, "remind_at" = $12 WHERE "tasks"."id" = $13 AND "tasks"."owner" = $14 AND "tasks"."version" = $15 AND {}"#,
                lock(16)
            ),
            ensure_user: r#"INSERT INTO "users" ("id", "email", "name", "created_at", "updated_at") VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("id") DO UPDATE SET "email" = "excluded"."email", "name" = "excluded"."name", "updated_at" = "excluded"."updated_at""#,

            first_in_inbox: r#"SELECT "tasks"."position" FROM "tasks" WHERE "tasks"."owner" = $1 AND "tasks"."list_id" IS NULL AND "tasks"."parent_id" IS NULL AND "tasks"."id" <> $2 ORDER BY "tasks"."owner" ASC, "tasks"."parent_id" ASC, "tasks"."list_id" ASC, "tasks"."position" ASC LIMIT $3"#,
            place: format!(
                r#"UPDATE "tasks" SET "created_seq" = COALESCE(created_seq, changed_seq), "changed_seq" = nextval('change_numbers'), "list_id" = $1, "parent_id" = $2, "position" = $3, "version" = "version" + $4, "updated_at" = $5 WHERE "tasks"."id" = $6 AND "tasks"."owner" = $7 RETURNING {RETURNED}"#
            ),
            move_last: move_to_end(&append, APPENDED, ""),
            move_first: move_to_end(
                &append,
                PREPENDED,
                &[
                    (r#""sibling"."list_id" = "tasks"."list_id""#, 8),
                    (r#"("sibling"."list_id" IS NULL AND "tasks"."list_id" IS NULL)"#, 10),
                ]
                .map(|(same_list, n)| {
                    format!(
                        r#" AND (NOT EXISTS(SELECT 1 FROM "tasks" AS "sibling" WHERE "sibling"."owner" = ${n} AND "sibling"."parent_id" IS NULL AND {same_list} AND "sibling"."id" <> ${} AND "sibling"."position" <= ({PREPENDED})))"#,
                        n + 1
                    )
                })
                .concat(),
            ),
            insert: (0..=MAX_TAGS).map(|tags| insert(&append, tags)).collect(),
            append,
            changes: format!(
                "SELECT {}, o.head, o.history_floor, p.kind, p.entity, p.seq, p.created, p.op FROM (SELECT GREATEST(COALESCE((SELECT MAX(x.changed_seq) FROM tasks x WHERE x.owner = users.id), 0), COALESCE((SELECT MAX(x.changed_seq) FROM lists x WHERE x.owner = users.id), 0), COALESCE((SELECT MAX(x.seq) FROM changes x WHERE x.owner = users.id), 0), users.history_floor) AS head, users.history_floor FROM users WHERE users.id = $1 LIMIT 1) o LEFT JOIN ( SELECT * FROM (SELECT 0 AS kind, id AS entity, changed_seq AS seq, CASE WHEN COALESCE(created_seq, changed_seq) > $2 THEN 1 ELSE 0 END AS created, 1 AS op FROM lists WHERE owner = $1 AND changed_seq > $2 UNION ALL SELECT 1 AS kind, id AS entity, changed_seq AS seq, CASE WHEN COALESCE(created_seq, changed_seq) > $2 THEN 1 ELSE 0 END AS created, 1 AS op FROM tasks WHERE owner = $1 AND changed_seq > $2 UNION ALL SELECT CAST(kind AS INTEGER), entity, seq, 0, CAST(op AS INTEGER) FROM changes WHERE owner = $1 AND seq > $2 AND op = 2) AS u ORDER BY seq LIMIT $3 ) p ON 1 = 1 LEFT JOIN tasks t ON p.kind = 1 AND t.owner = $1 AND t.id = p.entity ORDER BY p.seq",
                RETURNED
                    .split(", ")
                    .map(|column| format!("t.{}", column.trim_matches('"')))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// The position the owner's append number makes last, as the API writes it.
const APPENDED: &str = r#"'f0' || lpad(to_hex("append_seq"), 16, '0') || '80'"#;

/// The position the owner's append number makes first, as the API writes it.
const PREPENDED: &str =
    r#"'01' || lpad(to_hex(9223372036854775807 - "append_seq"), 16, '0') || '80'"#;

/// The API's move of a top-level task to one end of the siblings it has, without If-Match:
/// the owner's lock and next append number (`append`), then the task placed by it
/// (`position`) if top-level and, for the front, no sibling is below (`guard`).
fn move_to_end(append: &str, position: &str, guard: &str) -> String {
    format!(
        r#"WITH "appended" AS ({append}) UPDATE "tasks" SET "created_seq" = COALESCE(created_seq, changed_seq), "changed_seq" = nextval('change_numbers'), "position" = {position}, "version" = "version" + $4, "updated_at" = $5 FROM "appended" WHERE "tasks"."id" = $6 AND "tasks"."owner" = $7 AND "tasks"."parent_id" IS NULL{guard} RETURNING {RETURNED}"#
    )
}

/// The most tags a task has, as in the API.
const MAX_TAGS: usize = 10;

/// The API's insert of a task with no list or parent and `tags` tags: the owner's lock and
/// next append number (`append`), the task placed by it, its tag rows.
fn insert(append: &str, tags: usize) -> String {
    let tagged = (0..tags)
        .map(|n| {
            let row = format!(
                r#"SELECT "id", ${}, ${} FROM "inserted""#,
                23 + 2 * n,
                24 + 2 * n
            );
            if n == 0 {
                row
            } else {
                format!(" UNION ALL ({row})")
            }
        })
        .collect::<String>();
    let tagged = if tags == 0 {
        String::new()
    } else {
        format!(
            r#", "tagged" AS (INSERT INTO "task_tags" ("task_id", "tag_key", "owner") {tagged}) "#
        )
    };
    format!(
        r#"WITH "appended" AS ({append}) , "inserted" AS (INSERT INTO "tasks" ("id", "owner", "title", "description", "completed", "completed_at", "priority", "tags", "due_date", "list_id", "parent_id", "position", "subtask_count", "completed_subtask_count", "version", "created_at", "updated_at", "recurrence", "timezone", "remind_at") SELECT $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, {APPENDED}, $15, $16, $17, $18, $19, $20, $21, $22 FROM "appended" RETURNING "id", "position") {tagged}SELECT "position" FROM "inserted""#
    )
}

/// The API's timestamp: RFC 3339 in UTC with milliseconds, by `time`'s ISO 8601 writer as the
/// API writes it (the benchmark's timestamps all have four-digit years).
struct Timestamp(OffsetDateTime);

const WIRE: EncodedConfig = Config::DEFAULT
    .set_time_precision(TimePrecision::Second {
        decimal_digits: NonZeroU8::new(3),
    })
    .encode();

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buffer = [0u8; 32];
        let mut free: &mut [u8] = &mut buffer;
        let written = self
            .0
            .to_offset(time::UtcOffset::UTC)
            .format_into(&mut free, &Iso8601::<WIRE>)
            .map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(
            std::str::from_utf8(&buffer[..written]).map_err(serde::ser::Error::custom)?,
        )
    }
}

/// A task as the API writes it, field for field.
#[derive(Serialize)]
struct Task<'a> {
    id: Uuid,
    user_id: &'a str,
    title: &'a str,
    description: Option<&'a str>,
    completed: bool,
    completed_at: Option<Timestamp>,
    priority: &'static str,
    tags: &'a RawValue,
    due_date: Option<Timestamp>,
    recurrence: Option<&'a str>,
    timezone: &'a str,
    remind_at: Option<Timestamp>,
    list_id: Option<Uuid>,
    parent_id: Option<Uuid>,
    position: &'a str,
    subtask_count: i32,
    completed_subtask_count: i32,
    created_at: Timestamp,
    updated_at: Timestamp,
}

const PRIORITIES: [&str; 3] = ["low", "medium", "high"];

impl<'a> Task<'a> {
    /// A row selected with `COLUMNS` (or returned with `RETURNED`).
    fn of(row: &'a Row) -> Self {
        Self {
            id: row.get(0),
            user_id: row.get(1),
            title: row.get(2),
            description: row.get(3),
            completed: row.get(4),
            completed_at: row.get::<_, Option<OffsetDateTime>>(5).map(Timestamp),
            priority: PRIORITIES[usize::try_from(row.get::<_, i16>(6)).unwrap_or(1)],
            tags: serde_json::from_str(row.get(7)).unwrap_or_else(|_| empty_tags()),
            due_date: row.get::<_, Option<OffsetDateTime>>(8).map(Timestamp),
            list_id: row.get(9),
            parent_id: row.get(10),
            position: row.get(11),
            subtask_count: row.get(12),
            completed_subtask_count: row.get(13),
            created_at: Timestamp(row.get(15)),
            updated_at: Timestamp(row.get(16)),
            recurrence: row.get(17),
            timezone: row.get(18),
            remind_at: row.get::<_, Option<OffsetDateTime>>(19).map(Timestamp),
        }
    }
}

fn empty_tags() -> &'static RawValue {
    serde_json::from_str("[]").expect("[] is JSON")
}

fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now - time::Duration::nanoseconds(i64::from(now.nanosecond() % 1_000_000))
}

fn etag(version: i64) -> (&'static str, String) {
    ("ETag", format!("\"{version}\""))
}

/// A refusal: only its status matters here.
#[derive(Debug)]
struct Refused(StatusCode);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl actix_web::ResponseError for Refused {
    fn status_code(&self) -> StatusCode {
        self.0
    }
}

fn status(code: StatusCode) -> Refused {
    Refused(code)
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
}

impl State {
    /// The token's user, if the token is good and the path names them (or `me`).
    fn owner(&self, req: &HttpRequest, path_user: &str) -> Result<Arc<str>, Refused> {
        let token = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| status(StatusCode::UNAUTHORIZED))?;
        let user = match self.verified.get(token) {
            Some(user) => user,
            None => {
                let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
                    .map_err(|_| status(StatusCode::UNAUTHORIZED))?
                    .claims;
                let user: Arc<str> = claims.sub.into();
                self.verified.insert(token.to_owned(), user.clone());
                user
            }
        };
        if path_user != "me" && path_user != &*user {
            return Err(status(StatusCode::FORBIDDEN));
        }
        Ok(user)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, Refused> {
        self.pool
            .get()
            .await
            .map_err(|_| status(StatusCode::SERVICE_UNAVAILABLE))
    }
}

fn unavailable<E>(_: E) -> Refused {
    status(StatusCode::SERVICE_UNAVAILABLE)
}

type Reply = Result<HttpResponse, Refused>;

async fn list(state: web::Data<State>, req: HttpRequest, path: web::Path<String>) -> Reply {
    let owner = state.owner(&req, &path)?;
    // The benchmark's two listings: the default one, and the inbox in manual order.
    let sql = if req.query_string() == "list_id=inbox&sort=position" {
        &state.sql.position
    } else {
        &state.sql.list
    };
    let client = state.client().await?;
    let statement = client.prepare_cached(sql).await.map_err(unavailable)?;
    let rows = client
        .query(&statement, &[&&*owner, &100_i64, &0_i64])
        .await
        .map_err(unavailable)?;
    let total: i64 = rows.first().map_or(0, |row| row.get(20));
    let tasks: Vec<Task<'_>> = rows.iter().map(Task::of).collect();
    Ok(HttpResponse::Ok()
        .insert_header(("X-Total-Count", total.to_string()))
        .content_type("application/json")
        .body(serde_json::to_vec(&tasks).map_err(unavailable)?))
}

/// The owner's task `id`, read as the API reads it.
async fn read(
    state: &State,
    client: &deadpool_postgres::Client,
    owner: &str,
    id: Uuid,
) -> Result<Row, Refused> {
    let statement = client
        .prepare_cached(&state.sql.get)
        .await
        .map_err(unavailable)?;
    client
        .query_opt(&statement, &[&id, &owner, &1_i64])
        .await
        .map_err(unavailable)?
        .ok_or_else(|| status(StatusCode::NOT_FOUND))
}

fn one(row: &Row, code: StatusCode) -> Reply {
    Ok(HttpResponse::build(code)
        .insert_header(etag(row.get(14)))
        .content_type("application/json")
        .body(serde_json::to_vec(&Task::of(row)).map_err(unavailable)?))
}

async fn get(state: web::Data<State>, req: HttpRequest, path: web::Path<(String, Uuid)>) -> Reply {
    let (user, id) = path.into_inner();
    let owner = state.owner(&req, &user)?;
    let client = state.client().await?;
    let row = read(&state, &client, &owner, id).await?;
    one(&row, StatusCode::OK)
}

async fn toggle(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<(String, Uuid)>,
) -> Reply {
    let (user, id) = path.into_inner();
    let owner = state.owner(&req, &user)?;
    let client = state.client().await?;
    let statement = client
        .prepare_cached(&state.sql.toggle)
        .await
        .map_err(unavailable)?;
    let now = now();
    let row = client
        .query_opt(
            &statement,
            &[
                &false,
                &now,
                &None::<OffsetDateTime>,
                &false,
                &1_i64,
                &false,
                &now,
                &id,
                &&*owner,
                &&*owner,
            ],
        )
        .await
        .map_err(unavailable)?
        .ok_or_else(|| status(StatusCode::NOT_FOUND))?;
    one(&row, StatusCode::OK)
}

/// A page of changes as the API writes it; the benchmark's users have no lists.
#[derive(Serialize)]
struct Changes<'a> {
    tasks: Vec<Task<'a>>,
    deleted_tasks: Vec<Uuid>,
    lists: [Uuid; 0],
    deleted_lists: [Uuid; 0],
    cursor: String,
    has_more: bool,
}

/// The owner's changes after `?since=` (the benchmark reads no snapshot), 500 at most.
async fn changes(state: web::Data<State>, req: HttpRequest, path: web::Path<String>) -> Reply {
    const LIMIT: usize = 500;
    let owner = state.owner(&req, &path)?;
    let since: i64 = req
        .query_string()
        .strip_prefix("since=")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| status(StatusCode::UNPROCESSABLE_ENTITY))?;
    let client = state.client().await?;
    let statement = client
        .prepare_cached(&state.sql.changes)
        .await
        .map_err(unavailable)?;
    let rows = client
        .query(&statement, &[&&*owner, &since, &(LIMIT as i64 + 1)])
        .await
        .map_err(unavailable)?;
    let (head, floor): (i64, i64) = rows
        .first()
        .map_or((0, 0), |row| (row.get(20), row.get(21)));
    if since > head {
        return Err(status(StatusCode::UNPROCESSABLE_ENTITY));
    }
    if since < floor {
        return Err(status(StatusCode::GONE));
    }
    // Rows without a kind: the owner's row alone, when nothing changed.
    let entries: Vec<&Row> = rows
        .iter()
        .filter(|row| row.get::<_, Option<i32>>(22).is_some())
        .collect();
    let has_more = entries.len() > LIMIT;
    let mut page = Changes {
        tasks: Vec::new(),
        deleted_tasks: Vec::new(),
        lists: [],
        deleted_lists: [],
        cursor: if has_more {
            entries[LIMIT - 1].get::<_, i64>(24)
        } else {
            head
        }
        .to_string(),
        has_more,
    };
    for row in entries.into_iter().take(LIMIT) {
        if row.get::<_, i32>(22) != 1 {
            return Err(status(StatusCode::NOT_IMPLEMENTED));
        }
        if row.get::<_, Option<Uuid>>(0).is_some() {
            page.tasks.push(Task::of(row));
        } else {
            page.deleted_tasks.push(row.get(23));
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(serde_json::to_vec(&page).map_err(unavailable)?))
}

#[derive(Deserialize)]
struct Rename {
    title: String,
}

async fn update(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<(String, Uuid)>,
    body: web::Json<Rename>,
) -> Reply {
    let (user, id) = path.into_inner();
    let owner = state.owner(&req, &user)?;
    let client = state.client().await?;
    let row = read(&state, &client, &owner, id).await?;
    let version: i64 = row.get(14);
    if req.headers().get("if-match").and_then(|v| v.to_str().ok())
        != Some(&format!("\"{version}\""))
    {
        return Err(status(StatusCode::PRECONDITION_FAILED));
    }
    let mut task = Task::of(&row);
    task.title = &body.title;
    task.updated_at = Timestamp(now());
    let statement = client
        .prepare_cached(&state.sql.update)
        .await
        .map_err(unavailable)?;
    let written = client
        .execute(
            &statement,
            &[
                &task.title,
                &task.description,
                &task.completed,
                &task.completed_at.as_ref().map(|t| t.0),
                &row.get::<_, i16>(6),
                &row.get::<_, &str>(7),
                &task.due_date.as_ref().map(|t| t.0),
                &(version + 1),
                &task.updated_at.0,
                &task.recurrence,
                &task.timezone,
                &task.remind_at.as_ref().map(|t| t.0),
                &id,
                &&*owner,
                &version,
                &&*owner,
            ],
        )
        .await
        .map_err(unavailable)?;
    if written != 1 {
        return Err(status(StatusCode::PRECONDITION_FAILED));
    }
    Ok(HttpResponse::Ok()
        .insert_header(etag(version + 1))
        .content_type("application/json")
        .body(serde_json::to_vec(&task).map_err(unavailable)?))
}

#[derive(Deserialize)]
struct NewTask {
    title: String,
    #[serde(default)]
    tags: Vec<String>,
}

async fn create(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<NewTask>,
) -> Reply {
    let owner = state.owner(&req, &path)?;
    let client = state.client().await?;
    let now = now();
    if !state.ensured.contains_key(&owner) {
        let ensure = client
            .prepare_cached(state.sql.ensure_user)
            .await
            .map_err(unavailable)?;
        client
            .execute(
                &ensure,
                &[&&*owner, &None::<&str>, &None::<&str>, &now, &now],
            )
            .await
            .map_err(unavailable)?;
        state.ensured.insert(owner.clone(), ());
    }
    let id = Uuid::now_v7();
    let tags = serde_json::to_string(&body.tags).map_err(unavailable)?;
    let insert = client
        .prepare_cached(
            state
                .sql
                .insert
                .get(body.tags.len())
                .ok_or_else(|| status(StatusCode::UNPROCESSABLE_ENTITY))?,
        )
        .await
        .map_err(unavailable)?;
    let keys: Vec<String> = body.tags.iter().map(|tag| tag.to_lowercase()).collect();
    let owner_id: &str = &owner;
    let mut values: Vec<&(dyn ToSql + Sync)> = vec![
        &1_i64,
        &owner_id,
        &owner_id,
        &id,
        &owner_id,
        &body.title,
        &None::<&str>,
        &false,
        &None::<OffsetDateTime>,
        &1_i16,
        &tags,
        &None::<OffsetDateTime>,
        &None::<Uuid>,
        &None::<Uuid>,
        &0_i32,
        &0_i32,
        &1_i64,
        &now,
        &now,
        &None::<&str>,
        &"UTC",
        &None::<OffsetDateTime>,
    ];
    for key in &keys {
        values.extend([key as &(dyn ToSql + Sync), &owner_id]);
    }
    let position: String = client
        .query_opt(&insert, &values)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| status(StatusCode::NOT_FOUND))?
        .get(0);
    let tags_json = RawValue::from_string(tags).map_err(unavailable)?;
    let task = Task {
        id,
        user_id: &owner,
        title: &body.title,
        description: None,
        completed: false,
        completed_at: None,
        priority: "medium",
        tags: &tags_json,
        due_date: None,
        recurrence: None,
        timezone: "UTC",
        remind_at: None,
        list_id: None,
        parent_id: None,
        position: &position,
        subtask_count: 0,
        completed_subtask_count: 0,
        created_at: Timestamp(now),
        updated_at: Timestamp(now),
    };
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/{owner}/tasks/{id}")))
        .insert_header(etag(1))
        .content_type("application/json")
        .body(serde_json::to_vec(&task).map_err(unavailable)?))
}

/// Begins a write under the owner's lock, as the API's `OwnerWrite` does: the transaction, and
/// the owner's next append number.
async fn owner_write<'c>(
    state: &State,
    client: &'c mut deadpool_postgres::Object,
    owner: &str,
) -> Result<(deadpool_postgres::Transaction<'c>, i64), Refused> {
    let txn = client.transaction().await.map_err(unavailable)?;
    let append = txn
        .prepare_cached(&state.sql.append)
        .await
        .map_err(unavailable)?;
    let number: i64 = txn
        .query_one(&append, &[&1_i64, &owner, &owner])
        .await
        .map_err(unavailable)?
        .get(0);
    Ok((txn, number))
}

/// Moves a top-level task, the benchmark's, to the front (`{"after":null}`) or the end (`{}`)
/// of the siblings it has: one statement. When it writes nothing (a subtask, or an older front
/// below the number's), the service's read, then under the owner's lock and next append number
/// the task again, the first sibling's position for the front, and the update (in the inbox).
async fn move_task(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<(String, Uuid)>,
    body: web::Json<serde_json::Map<String, serde_json::Value>>,
) -> Reply {
    let (user, id) = path.into_inner();
    let owner = state.owner(&req, &user)?;
    let mut client = state.client().await?;
    let first = body.contains_key("after");
    let to_end = if first {
        &state.sql.move_first
    } else {
        &state.sql.move_last
    };
    let to_end = client.prepare_cached(to_end).await.map_err(unavailable)?;
    let (moved_at, owner_str) = (now(), &*owner);
    let params: [&(dyn ToSql + Sync); 11] = [
        &1_i64, &owner_str, &owner_str, &1_i64, &moved_at, &id, &owner_str, &owner_str, &id,
        &owner_str, &id,
    ];
    // The front's guards take the last four.
    let params = if first { &params[..] } else { &params[..7] };
    let moved = client
        .query_opt(&to_end, params)
        .await
        .map_err(unavailable)?;
    if let Some(row) = moved {
        return one(&row, StatusCode::OK);
    }
    read(&state, &client, &owner, id).await?;
    let (txn, number) = owner_write(&state, &mut client, &owner).await?;
    let get = txn
        .prepare_cached(&state.sql.get)
        .await
        .map_err(unavailable)?;
    let current = txn
        .query_opt(&get, &[&id, &&*owner, &1_i64])
        .await
        .map_err(unavailable)?
        .ok_or_else(|| status(StatusCode::NOT_FOUND))?;
    if current.get::<_, Option<Uuid>>(9).is_some() || current.get::<_, Option<Uuid>>(10).is_some() {
        return Err(status(StatusCode::NOT_IMPLEMENTED));
    }
    let last = format!("f0{number:016x}80");
    let position = if first {
        let first = txn
            .prepare_cached(state.sql.first_in_inbox)
            .await
            .map_err(unavailable)?;
        match txn
            .query_opt(&first, &[&&*owner, &id, &1_i64])
            .await
            .map_err(unavailable)?
        {
            Some(row) => {
                let first: &str = row.get(0);
                // As `Position::before`: the number's key, unless an older front is lower.
                let prepended = format!("01{:016x}80", i64::MAX - number);
                if prepended.as_str() < first {
                    prepended
                } else {
                    let first = fractional_index::FractionalIndex::from_string(first)
                        .map_err(unavailable)?;
                    fractional_index::FractionalIndex::new(None, Some(&first))
                        .ok_or_else(|| status(StatusCode::INTERNAL_SERVER_ERROR))?
                        .to_string()
                }
            }
            None => last,
        }
    } else {
        last
    };
    let place = txn
        .prepare_cached(&state.sql.place)
        .await
        .map_err(unavailable)?;
    let row = txn
        .query_opt(
            &place,
            &[
                &None::<Uuid>,
                &None::<Uuid>,
                &position,
                &1_i64,
                &now(),
                &id,
                &&*owner,
            ],
        )
        .await
        .map_err(unavailable)?
        .ok_or_else(|| status(StatusCode::NOT_FOUND))?;
    txn.commit().await.map_err(unavailable)?;
    one(&row, StatusCode::OK)
}

/// The TLS of sqlx's `sslmode=prefer`: encrypted when the server offers it, certificate not
/// checked.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is required"))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    let config: tokio_postgres::Config = env("DATABASE_URL").parse().expect("a PostgreSQL URL");
    let manager = Manager::from_config(
        config,
        tokio_postgres_rustls::MakeRustlsConnect::new(tls),
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let size = std::env::var("DB_MAX_CONNECTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let pool = Pool::builder(manager)
        .max_size(size)
        .build()
        .expect("a pool");
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    let state = web::Data::new(State {
        pool,
        key: DecodingKey::from_secret(env("BETTER_AUTH_SECRET").as_bytes()),
        validation,
        verified: moka::sync::Cache::new(100_000),
        ensured: moka::sync::Cache::new(100_000),
        sql: Sql::new(),
    });
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8000);
    HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route(
                "/health",
                web::get().to(|| async { HttpResponse::Ok().body(r#"{"status":"ok"}"#) }),
            )
            .route("/api/{user}/tasks", web::get().to(list))
            .route("/api/{user}/tasks", web::post().to(create))
            .route("/api/{user}/tasks/{id}", web::get().to(get))
            .route("/api/{user}/tasks/{id}", web::patch().to(update))
            .route("/api/{user}/tasks/{id}/complete", web::patch().to(toggle))
            .route("/api/{user}/tasks/{id}/move", web::post().to(move_task))
            .route("/api/{user}/changes", web::get().to(changes))
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
