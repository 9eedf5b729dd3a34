use crate::error::Error;
use crate::executor::{Execute, Executor};
use crate::io::{PortalId, StatementId};
use crate::logger::QueryLogger;
use crate::message::{
    self, BackendMessageFormat, Bind, Close, CommandComplete, DataRow, ParameterDescription, Parse,
    ParseComplete, RowDescription,
};
use crate::statement::PgStatementMetadata;
use crate::{
    statement::PgStatement, PgArguments, PgConnection, PgQueryResult, PgRow, PgTypeInfo,
    PgValueFormat, Postgres,
};
use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_core::Stream;
use futures_util::{stream, TryStreamExt};
use sqlx_core::arguments::Arguments;
use sqlx_core::sql_str::SqlStr;
use sqlx_core::Either;
use std::sync::Arc;
use tracing::Instrument;

async fn prepare(
    conn: &mut PgConnection,
    sql: &str,
    arg_types: &[PgTypeInfo],
    metadata: Option<Arc<PgStatementMetadata>>,
    persistent: bool,
    resolve_column_origin: bool,
) -> Result<(StatementId, Arc<PgStatementMetadata>), Error> {
    let id = if persistent {
        let id = conn.inner.next_statement_id;
        conn.inner.next_statement_id = id.next();
        id
    } else {
        StatementId::UNNAMED
    };

    // build a list of type OIDs to send to the database in the PARSE command
    // we have not yet started the query sequence, so we are *safe* to cleanly make
    // additional queries here to get any missing OIDs
    let param_types = conn.resolve_types(arg_types).await?;

    // flush and wait until we are re-ready
    conn.wait_until_ready().await?;

    // next we send the PARSE command to the server
    conn.inner.stream.write_msg(Parse {
        param_types: &param_types,
        query: sql,
        statement: id,
    })?;

    if metadata.is_none() {
        // get the statement columns and parameters
        conn.inner
            .stream
            .write_msg(message::Describe::Statement(id))?;
    }

    // we ask for the server to immediately send us the result of the PARSE command
    conn.write_sync();
    conn.inner.stream.flush().await?;

    // indicates that the SQL query string is now successfully parsed and has semantic validity
    conn.inner.stream.recv_expect::<ParseComplete>().await?;

    let metadata = if let Some(metadata) = metadata {
        // each SYNC produces one READY FOR QUERY
        conn.recv_ready_for_query().await?;

        // we already have metadata
        metadata
    } else {
        let parameters = recv_desc_params(conn).await?;

        let row_desc = recv_desc_rows(conn).await?;

        // each SYNC produces one READY FOR QUERY
        conn.recv_ready_for_query().await?;

        let metadata = conn
            .resolve_statement_metadata::<true>(Some(parameters), row_desc, resolve_column_origin)
            .await?;

        // ensure that if we did fetch custom data, we wait until we are fully ready before
        // continuing
        conn.wait_until_ready().await?;

        metadata
    };

    Ok((id, metadata))
}

async fn recv_desc_params(conn: &mut PgConnection) -> Result<ParameterDescription, Error> {
    conn.inner.stream.recv_expect().await
}

async fn recv_desc_rows(conn: &mut PgConnection) -> Result<Option<RowDescription>, Error> {
    let rows: Option<RowDescription> = match conn.inner.stream.recv().await? {
        // describes the rows that will be returned when the statement is eventually executed
        message if message.format == BackendMessageFormat::RowDescription => {
            Some(message.decode()?)
        }

        // no data would be returned if this statement was executed
        message if message.format == BackendMessageFormat::NoData => None,

        message => {
            return Err(err_protocol!(
                "expecting RowDescription or NoData but received {:?}",
                message.format
            ));
        }
    };

    Ok(rows)
}

impl PgConnection {
    // wait for CloseComplete to indicate a statement was closed
    pub(super) async fn wait_for_close_complete(&mut self, mut count: usize) -> Result<(), Error> {
        // we need to wait for the [CloseComplete] to be returned from the server
        while count > 0 {
            match self.inner.stream.recv().await? {
                message if message.format == BackendMessageFormat::PortalSuspended => {
                    // there was an open portal
                    // this can happen if the last time a statement was used it was not fully executed
                }

                message if message.format == BackendMessageFormat::CloseComplete => {
                    // successfully closed the statement (and freed up the server resources)
                    count -= 1;
                }

                message => {
                    return Err(err_protocol!(
                        "expecting PortalSuspended or CloseComplete but received {:?}",
                        message.format
                    ));
                }
            }
        }

        Ok(())
    }

    #[inline(always)]
    pub(crate) fn write_sync(&mut self) {
        self.inner
            .stream
            .write_msg(message::Sync)
            .expect("BUG: Sync should not be too big for protocol");

        // all SYNC messages will return a ReadyForQuery
        self.inner.pending_ready_for_query_count += 1;
    }

    async fn get_or_prepare(
        &mut self,
        sql: &str,
        parameters: &[PgTypeInfo],
        persistent: bool,
        // optional metadata that was provided by the user, this means they are reusing
        // a statement object
        metadata: Option<Arc<PgStatementMetadata>>,
        resolve_column_origin: bool,
    ) -> Result<(StatementId, Arc<PgStatementMetadata>), Error> {
        if let Some(statement) = self.inner.cache_statement.get_mut(sql) {
            return Ok((*statement).clone());
        }

        let statement = prepare(
            self,
            sql,
            parameters,
            metadata,
            persistent,
            resolve_column_origin,
        )
        .await?;

        if persistent && self.inner.cache_statement.is_enabled() {
            if let Some((id, _)) = self.inner.cache_statement.insert(sql, statement.clone()) {
                self.inner.stream.write_msg(Close::Statement(id))?;
                self.write_sync();

                self.inner.stream.flush().await?;

                self.wait_for_close_complete(1).await?;
                self.recv_ready_for_query().await?;
            }
        }

        Ok(statement)
    }

    pub(crate) async fn run<'e, 'c: 'e, 'q: 'e>(
        &'c mut self,
        query: SqlStr,
        arguments: Option<PgArguments>,
        persistent: bool,
        metadata_opt: Option<Arc<PgStatementMetadata>>,
    ) -> Result<impl Stream<Item = Result<Either<PgQueryResult, PgRow>, Error>> + 'e, Error> {
        let mut running = self
            .start(query, arguments, persistent, metadata_opt)
            .await?;

        Ok(try_stream! {
            while let Some(result) = self.next_result(&mut running).await? {
                r#yield!(result);
            }

            Ok(())
        })
    }

    /// Sends a statement (preparing it first if need be); its results are then read with
    /// [`Self::next_result`].
    async fn start(
        &mut self,
        query: SqlStr,
        arguments: Option<PgArguments>,
        persistent: bool,
        metadata_opt: Option<Arc<PgStatementMetadata>>,
    ) -> Result<Running, Error> {
        let logger = QueryLogger::new(query, self.inner.log_settings.clone());
        let sql = logger.sql().as_str();

        // before we continue, wait until we are "ready" to accept more queries
        self.wait_until_ready().await?;

        let metadata: Arc<PgStatementMetadata>;

        let format = if let Some(mut arguments) = arguments {
            // Check this before we write anything to the stream.
            //
            // Note: Postgres actually interprets this value as unsigned,
            // making the max number of parameters 65535, not 32767
            // https://github.com/launchbadge/sqlx/issues/3464
            // https://www.postgresql.org/docs/current/limits.html
            let num_params = u16::try_from(arguments.len()).map_err(|_| {
                err_protocol!(
                    "PgConnection::run(): too many arguments for query: {}",
                    arguments.len()
                )
            })?;

            // prepare the statement if this our first time executing it
            // always return the statement ID here
            let (statement, metadata_) = self
                .get_or_prepare(sql, &arguments.types, persistent, metadata_opt, false)
                .await?;

            metadata = metadata_;

            // patch holes created during encoding
            arguments.apply_patches(self, &metadata.parameters).await?;

            // consume messages till `ReadyForQuery` before bind and execute
            self.wait_until_ready().await?;

            // bind to attach the arguments to the statement and create a portal
            self.inner.stream.write_msg(Bind {
                portal: PortalId::UNNAMED,
                statement,
                formats: &[PgValueFormat::Binary],
                num_params,
                params: &arguments.buffer,
                result_formats: &[PgValueFormat::Binary],
            })?;

            // executes the portal up to the passed limit
            // the protocol-level limit acts nearly identically to the `LIMIT` in SQL
            self.inner.stream.write_msg(message::Execute {
                portal: PortalId::UNNAMED,
                // Non-zero limits cause query plan pessimization by disabling parallel workers:
                // https://github.com/launchbadge/sqlx/issues/3673
                limit: 0,
            })?;
            // From https://www.postgresql.org/docs/current/protocol-flow.html:
            //
            // "An unnamed portal is destroyed at the end of the transaction, or as
            // soon as the next Bind statement specifying the unnamed portal as
            // destination is issued. (Note that a simple Query message also
            // destroys the unnamed portal."

            // we ask the database server to close the unnamed portal and free the associated resources
            // earlier - after the execution of the current query.
            self.inner
                .stream
                .write_msg(Close::Portal(PortalId::UNNAMED))?;

            // finally, [Sync] asks postgres to process the messages that we sent and respond with
            // a [ReadyForQuery] message when it's completely done. Theoretically, we could send
            // dozens of queries before a [Sync] and postgres can handle that. Execution on the server
            // is still serial but it would reduce round-trips. Some kind of builder pattern that is
            // termed batching might suit this.
            self.write_sync();

            // prepared statements are binary
            PgValueFormat::Binary
        } else {
            // Query will trigger a ReadyForQuery
            self.queue_simple_query(sql)?;

            // metadata starts out as "nothing"
            metadata = Arc::new(PgStatementMetadata::default());

            // and unprepared statements are text
            PgValueFormat::Text
        };

        self.inner.stream.flush().await?;

        Ok(Running {
            logger,
            metadata,
            format,
        })
    }

    /// The next row or command result of the statement [`Self::start`] sent; `None` once
    /// it is done and the connection is ready for the next one. A plain loop rather than a
    /// stream, so that what collects the results (`fetch_all`, `fetch_optional`, `execute`)
    /// takes each straight from the connection's buffer instead of through a generator's slot.
    async fn next_result(
        &mut self,
        running: &mut Running,
    ) -> Result<Option<Either<PgQueryResult, PgRow>>, Error> {
        loop {
            let message = self.inner.stream.recv().await?;

            match message.format {
                BackendMessageFormat::BindComplete
                | BackendMessageFormat::ParseComplete
                | BackendMessageFormat::ParameterDescription
                | BackendMessageFormat::NoData
                // unnamed portal has been closed
                | BackendMessageFormat::CloseComplete
                => {
                    // harmless messages to ignore
                }

                // "Execute phase is always terminated by the appearance of
                // exactly one of these messages: CommandComplete,
                // EmptyQueryResponse (if the portal was created from an
                // empty query string), ErrorResponse, or PortalSuspended"
                BackendMessageFormat::CommandComplete => {
                    // a SQL command completed normally
                    let cc: CommandComplete = message.decode()?;

                    let rows_affected = cc.rows_affected();
                    running.logger.increase_rows_affected(rows_affected);
                    return Ok(Some(Either::Left(PgQueryResult { rows_affected })));
                }

                BackendMessageFormat::EmptyQueryResponse => {
                    // empty query string passed to an unprepared execute
                }

                // Message::ErrorResponse is handled in self.stream.recv()

                // incomplete query execution has finished
                BackendMessageFormat::PortalSuspended => {}

                // indicates that a *new* set of rows are about to be returned
                BackendMessageFormat::RowDescription => {
                    running.metadata = self
                        .resolve_statement_metadata::<false>(None, Some(message.decode()?), false)
                        .await?;
                }

                BackendMessageFormat::DataRow => {
                    running.logger.increment_rows_returned();

                    // one of the set of rows returned by a SELECT, FETCH, etc query
                    let data: DataRow = message.decode()?;
                    return Ok(Some(Either::Right(PgRow {
                        data,
                        format: running.format,
                        metadata: Arc::clone(&running.metadata),
                    })));
                }

                BackendMessageFormat::ReadyForQuery => {
                    // processing of the query string is complete
                    self.handle_ready_for_query(message)?;
                    return Ok(None);
                }

                _ => {
                    return Err(err_protocol!(
                        "execute: unexpected message: {:?}",
                        message.format
                    ));
                }
            }
        }
    }
}

impl PgConnection {
    /// Sends `query` and hands each of its rows and command results to `each`, reading the
    /// statement to its end: an error after its first rows is still the statement's.
    async fn for_each_result(
        &mut self,
        query: Sendable,
        mut each: impl FnMut(Either<PgQueryResult, PgRow>),
    ) -> Result<(), Error> {
        let mut running = self
            .start(query.sql, query.arguments?, query.persistent, query.metadata)
            .await?;
        while let Some(result) = self.next_result(&mut running).await? {
            each(result);
        }
        Ok(())
    }
}

/// What an `Execute` gives to send its statement with.
struct Sendable {
    sql: SqlStr,
    arguments: Result<Option<PgArguments>, Error>,
    persistent: bool,
    metadata: Option<Arc<PgStatementMetadata>>,
}

impl Sendable {
    fn of<'q>(mut query: impl Execute<'q, Postgres>) -> Self {
        // False positive: https://github.com/rust-lang/rust-clippy/issues/12560
        #[allow(clippy::map_clone)]
        let metadata = query.statement().map(|s| Arc::clone(&s.metadata));
        let arguments = query.take_arguments().map_err(Error::Encode);
        let persistent = query.persistent();
        Self {
            sql: query.sql(),
            arguments,
            persistent,
            metadata,
        }
    }
}

/// A statement sent and not yet read to its end: how to read its rows, and its log entry.
struct Running {
    logger: QueryLogger,
    metadata: Arc<PgStatementMetadata>,
    format: PgValueFormat,
}

impl<'c> Executor<'c> for &'c mut PgConnection {
    type Database = Postgres;

    fn fetch_many<'e, 'q, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, Error>>
    where
        'c: 'e,
        E: Execute<'q, Self::Database>,
        'q: 'e,
        E: 'q,
    {
        let query = Sendable::of(query);

        // `run`'s own stream, not re-yielded from a second `try_stream!`: that handed every
        // row through a second slot (a mutex locked twice) and a second instrumented poll of
        // the whole query.
        Box::pin(
            stream::once(
                async move {
                    self.run(query.sql, query.arguments?, query.persistent, query.metadata)
                        .await
                }
                .in_current_span(),
            )
            .try_flatten(),
        )
    }

    fn execute<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<PgQueryResult, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Self::Database>,
    {
        let query = Sendable::of(query);

        Box::pin(async move {
            let mut done = PgQueryResult::default();
            self.for_each_result(query, |result| {
                if let Either::Left(result) = result {
                    done.rows_affected += result.rows_affected;
                }
            })
            .await?;
            Ok(done)
        })
    }

    fn fetch_optional<'e, 'q, E>(self, query: E) -> BoxFuture<'e, Result<Option<PgRow>, Error>>
    where
        'c: 'e,
        E: Execute<'q, Self::Database>,
        'q: 'e,
        E: 'q,
    {
        let query = Sendable::of(query);

        Box::pin(async move {
            // With deferred constraints we need to check all responses as we
            // could get a OK response (with uncommitted data), only to get an
            // error response after (when the deferred constraint is actually
            // checked).
            let mut ret = None;
            self.for_each_result(query, |result| match result {
                Either::Right(r) if ret.is_none() => ret = Some(r),
                _ => {}
            })
            .await?;
            Ok(ret)
        })
    }

    fn fetch_all<'e, 'q, E>(self, query: E) -> BoxFuture<'e, Result<Vec<PgRow>, Error>>
    where
        'c: 'e,
        E: Execute<'q, Self::Database>,
        'q: 'e,
        E: 'q,
    {
        let query = Sendable::of(query);

        Box::pin(async move {
            let mut rows = Vec::new();
            self.for_each_result(query, |result| {
                if let Either::Right(row) = result {
                    rows.push(row);
                }
            })
            .await?;
            Ok(rows)
        })
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement, Error>>
    where
        'c: 'e,
    {
        Box::pin(async move {
            self.wait_until_ready().await?;

            let (_, metadata) = self
                .get_or_prepare(sql.as_str(), parameters, true, None, true)
                .await?;

            Ok(PgStatement { sql, metadata })
        })
    }

    #[cfg(feature = "offline")]
    fn describe<'e>(
        self,
        sql: SqlStr,
    ) -> BoxFuture<'e, Result<crate::describe::Describe<Self::Database>, Error>>
    where
        'c: 'e,
    {
        Box::pin(async move {
            self.wait_until_ready().await?;

            let (stmt_id, metadata) = self
                .get_or_prepare(sql.as_str(), &[], true, None, true)
                .await?;

            let nullable = self.get_nullable_for_columns(stmt_id, &metadata).await?;

            Ok(crate::describe::Describe {
                columns: metadata.columns.clone(),
                nullable,
                parameters: Some(Either::Left(metadata.parameters.clone())),
            })
        })
    }
}
