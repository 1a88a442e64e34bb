import SluicePostgres

/// The feature store's versioned schema. Each migration runs once, in order, in its own transaction, under an
/// advisory lock so that workers starting together do not race.
package enum FeatureStoreMigrations {
    package struct Migration: Sendable {
        package var version: Int
        package var description: String
        package var statements: @Sendable (_ schema: String) -> [String]
    }

    /// The feature log has no primary key on purpose: one row per source offset is guaranteed by committing
    /// the rows with the partition's next offset, fenced by its epoch, in one transaction (tests check it from
    /// the data), and a unique index there cost a third of the end-to-end throughput (measured 33–36k → 47–49k
    /// events/s in `sluice bench worker`). The (entity, event_time) index serves point-in-time reads.
    package static let all: [Migration] = [
        Migration(version: 1, description: "entities, feature log, consumer offsets") { s in [
            """
            CREATE TABLE \(s).entities (
                entity text PRIMARY KEY,
                source_topic text NOT NULL,
                source_partition int NOT NULL,
                event_time timestamptz NOT NULL,
                features json NOT NULL,
                state bytea NOT NULL,
                feature_set text NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            ) WITH (fillfactor = 80)
            """,
            "CREATE INDEX entities_source ON \(s).entities (source_topic, source_partition)",
            """
            CREATE TABLE \(s).feature_log (
                source_topic text NOT NULL,
                source_partition int NOT NULL,
                source_offset bigint NOT NULL,
                entity text NOT NULL,
                event_id text,
                event_time timestamptz NOT NULL,
                features json NOT NULL,
                prediction_id text NOT NULL,
                logged_at timestamptz NOT NULL DEFAULT now()
            ) PARTITION BY RANGE (event_time)
            """,
            "CREATE TABLE \(s).feature_log_default PARTITION OF \(s).feature_log DEFAULT",
            "CREATE INDEX feature_log_entity_time ON \(s).feature_log (entity, event_time)",
            """
            CREATE TABLE \(s).consumer_offsets (
                consumer_group text NOT NULL,
                topic text NOT NULL,
                partition int NOT NULL,
                next_offset bigint,
                max_event_time timestamptz,
                owner text,
                epoch bigint NOT NULL DEFAULT 0,
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (consumer_group, topic, partition))
            """,
        ] },
        // The model registry, and the prediction on each feature-log row: the log row of an event holds its features
        // and its score, so the predictions log is a view of the feature log (one row per offset, idempotent on
        // replay for the same reason the feature log is).
        Migration(version: 2, description: "model registry, predictions on the feature log") { s in [
            """
            CREATE TABLE \(s).models (
                name text NOT NULL,
                version int NOT NULL,
                format text NOT NULL CHECK (format IN ('xgboost-json', 'lightgbm-text', 'linear-json')),
                artifact bytea NOT NULL,
                sha256 text NOT NULL,
                feature_names text[] NOT NULL,
                output_count int NOT NULL,
                stage text NOT NULL CHECK (stage IN ('staging', 'shadow', 'production', 'archived')),
                reference json,
                metrics json,
                description text,
                created_at timestamptz NOT NULL DEFAULT now(),
                stage_changed_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (name, version))
            """,
            "CREATE UNIQUE INDEX models_one_production ON \(s).models (name) WHERE stage = 'production'",
            "CREATE UNIQUE INDEX models_one_shadow ON \(s).models (name) WHERE stage = 'shadow'",
            """
            CREATE TABLE \(s).model_stage_history (
                id bigserial PRIMARY KEY,
                name text NOT NULL,
                version int NOT NULL,
                from_stage text,
                to_stage text NOT NULL,
                changed_at timestamptz NOT NULL DEFAULT now(),
                FOREIGN KEY (name, version) REFERENCES \(s).models (name, version))
            """,
            "CREATE INDEX model_stage_history_name ON \(s).model_stage_history (name, id)",
            """
            ALTER TABLE \(s).feature_log
                ADD COLUMN model_name text,
                ADD COLUMN model_version int,
                ADD COLUMN score float8,
                ADD COLUMN scores float8[],
                ADD COLUMN explanation json,
                ADD COLUMN challenger_version int,
                ADD COLUMN challenger_score float8
            """,
            """
            CREATE VIEW \(s).predictions AS
            SELECT prediction_id, event_id, entity, event_time, logged_at, model_name, model_version, score, scores,
                   explanation, challenger_version, challenger_score, features, source_topic, source_partition, source_offset
            FROM \(s).feature_log WHERE model_version IS NOT NULL
            """,
        ] },
        // The drift monitor's output: every evaluation (with each feature's statistic) and every alert, firing
        // and resolved, as published to the drift-alerts topic.
        Migration(version: 3, description: "drift reports and alerts") { s in [
            """
            CREATE TABLE \(s).drift_reports (
                id bigserial PRIMARY KEY,
                model_name text NOT NULL,
                model_version int NOT NULL,
                evaluated_at timestamptz NOT NULL DEFAULT now(),
                window_start timestamptz,
                window_end timestamptz,
                window_events bigint NOT NULL,
                reference_source text NOT NULL,
                reference_events bigint NOT NULL,
                drifted_features int NOT NULL,
                total_features int NOT NULL,
                dataset_drift boolean NOT NULL,
                results json NOT NULL)
            """,
            "CREATE INDEX drift_reports_model ON \(s).drift_reports (model_name, id DESC)",
            """
            CREATE TABLE \(s).drift_alerts (
                alert_id text PRIMARY KEY,
                kind text NOT NULL CHECK (kind IN ('data_drift', 'prediction_drift', 'concept_drift')),
                state text NOT NULL CHECK (state IN ('firing', 'resolved')),
                severity text NOT NULL,
                model_name text NOT NULL,
                model_version int NOT NULL,
                feature text,
                test text NOT NULL,
                statistic float8,
                threshold float8,
                p_value float8,
                window_start timestamptz,
                window_end timestamptz,
                window_events bigint,
                snapshot_id text,
                created_at timestamptz NOT NULL DEFAULT now(),
                message json NOT NULL)
            """,
            "CREATE INDEX drift_alerts_model ON \(s).drift_alerts (model_name, created_at DESC)",
        ] },
        // Labels joined to the logged prediction they belong to (features as they were when the event was scored),
        // and the labelled snapshots exported from them. The two feature-log indexes serve the label join: by
        // prediction id (topic/partition/offset) and by event id.
        Migration(version: 4, description: "labels and snapshots") { s in [
            "CREATE INDEX feature_log_source_offset ON \(s).feature_log (source_offset, source_partition)",
            "CREATE INDEX feature_log_event_id ON \(s).feature_log (event_id) WHERE event_id IS NOT NULL",
            """
            CREATE TABLE \(s).labelled (
                prediction_id text PRIMARY KEY,
                event_id text,
                entity text NOT NULL,
                event_time timestamptz NOT NULL,
                model_name text,
                model_version int,
                score float8,
                scores float8[],
                features json NOT NULL,
                label float8 NOT NULL,
                label_time timestamptz NOT NULL,
                labelled_at timestamptz NOT NULL DEFAULT now(),
                label_topic text NOT NULL,
                label_partition int NOT NULL,
                label_offset bigint NOT NULL)
            """,
            "CREATE INDEX labelled_model_time ON \(s).labelled (model_name, event_time)",
            "CREATE INDEX labelled_time ON \(s).labelled (event_time)",
            """
            CREATE TABLE \(s).snapshots (
                snapshot_id text PRIMARY KEY,
                created_at timestamptz NOT NULL DEFAULT now(),
                reason text NOT NULL CHECK (reason IN ('manual', 'alert', 'schedule', 'api')),
                alert_id text,
                model_name text,
                model_version int,
                since timestamptz,
                until timestamptz,
                rows bigint NOT NULL,
                holdout_rows bigint NOT NULL,
                directory text NOT NULL,
                parquet_file text NOT NULL,
                csv_file text NOT NULL,
                manifest_file text NOT NULL,
                parquet_sha256 text NOT NULL,
                csv_sha256 text NOT NULL,
                manifest json NOT NULL)
            """,
            "CREATE INDEX snapshots_model ON \(s).snapshots (model_name, created_at DESC)",
            "CREATE INDEX snapshots_alert ON \(s).snapshots (alert_id) WHERE alert_id IS NOT NULL",
        ] },
        Migration(version: 5, description: "rolling model performance from labels; snapshot-order indexes on labelled") { s in [
            // Snapshots read labelled rows in (event_time, prediction_id) order so a selection gives the same bytes;
            // indexes in that order spare the COPY a sort.
            "DROP INDEX \(s).labelled_model_time",
            "DROP INDEX \(s).labelled_time",
            "CREATE INDEX labelled_model_time ON \(s).labelled (model_name, event_time, prediction_id)",
            "CREATE INDEX labelled_time ON \(s).labelled (event_time, prediction_id)",
            """
            CREATE TABLE \(s).performance_reports (
                id bigserial PRIMARY KEY,
                model_name text NOT NULL,
                model_version int NOT NULL,
                evaluated_at timestamptz NOT NULL DEFAULT now(),
                labelled bigint NOT NULL,
                window_labels int NOT NULL,
                accuracy float8,
                log_loss float8,
                mean_absolute_error float8,
                auc float8,
                error_estimate float8)
            """,
            "CREATE INDEX performance_reports_model ON \(s).performance_reports (model_name, id DESC)",
        ] },
        // Entity and event ids compare byte-wise ("C"): they are identifiers, never sorted for people, and a
        // locale's strcoll made every B-tree insert on them dearer. The feature log's (entity, event_time) index
        // alone took 2.66 s per 300,000 rows under C.UTF-8 and 2.07 s under "C" (docs/performance.md). Equality
        // is the same either way. The view depends on the columns, so it is recreated as it was; the tables are
        // not rewritten, their indexes on these columns are rebuilt.
        Migration(version: 6, description: "byte-wise collation for entity and event ids") { s in [
            "DROP VIEW \(s).predictions",
            "ALTER TABLE \(s).feature_log ALTER COLUMN entity TYPE text COLLATE \"C\", ALTER COLUMN event_id TYPE text COLLATE \"C\"",
            "ALTER TABLE \(s).entities ALTER COLUMN entity TYPE text COLLATE \"C\"",
            """
            CREATE VIEW \(s).predictions AS
            SELECT prediction_id, event_id, entity, event_time, logged_at, model_name, model_version, score, scores,
                   explanation, challenger_version, challenger_score, features, source_topic, source_partition, source_offset
            FROM \(s).feature_log WHERE model_version IS NOT NULL
            """,
        ] },
        // The few entity rows past 2 KB (the most active entities, rewritten by every transaction) are compressed on
        // each upsert; pglz, the default, took 2.6 % of the writer backend's time at saturation, and lz4 rewrites
        // them in less than half the time (docs/performance.md, ninth round). Servers built without lz4 keep pglz.
        // Existing rows stay as they are until rewritten.
        Migration(version: 7, description: "lz4 compression for entity rows") { s in [
            """
            DO $$
            BEGIN
                IF EXISTS (SELECT FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
                    ALTER TABLE \(s).entities ALTER COLUMN state SET COMPRESSION lz4, ALTER COLUMN features SET COMPRESSION lz4;
                END IF;
            END
            $$
            """,
        ] },
    ]

    /// Applies every migration the database does not have yet; returns the versions applied.
    @discardableResult
    package static func migrate(_ connection: PostgresConnection, schema: String) async throws -> [Int] {
        let s = try FeatureStore.quotedIdentifier(schema)
        return try await connection.transaction { connection in
            // One migrator at a time per schema (transaction-scoped advisory lock).
            try await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", ["sluice.migrate." + schema])
            try await connection.execute("CREATE SCHEMA IF NOT EXISTS \(s)")
            try await connection.execute("""
                CREATE TABLE IF NOT EXISTS \(s).schema_migrations (
                    version int PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """)
            let applied = Set(try await connection.query("SELECT version FROM \(s).schema_migrations").map { try $0.decode(Int32.self, column: 0) }.map(Int.init))
            if let newest = applied.max(), newest > (all.map(\.version).max() ?? 0) {
                throw FeatureStoreError(code: .schemaTooNew, message: "schema \(schema) is at version \(newest) but this sluice knows up to \(all.map(\.version).max() ?? 0); upgrade sluice")
            }
            var done: [Int] = []
            for migration in all where !applied.contains(migration.version) {
                for statement in migration.statements(s) {
                    try await connection.execute(statement)
                }
                try await connection.execute("INSERT INTO \(s).schema_migrations (version, description) VALUES ($1, $2)",
                                             [Int32(migration.version), migration.description])
                done.append(migration.version)
            }
            return done
        }
    }
}
