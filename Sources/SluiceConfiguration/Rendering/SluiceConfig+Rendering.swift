extension SluiceConfig {
    /// The effective configuration (file + environment + defaults) as YAML that `load` reads back, with every
    /// secret replaced: the PostgreSQL password (`postgres://user:<redacted>@host/db`), the HTTP token and Kafka
    /// properties whose key contains password, secret or sasl.oauthbearer. Used by `sluice config check`.
    package func renderEffective() -> String {
        var w = YAMLWriter()
        let d = DurationFormat.format
        let s = ByteSizeFormat.format
        w.comment("Effective Sluice configuration (secrets redacted)")
        w.section("kafka") { w in
            w.string("brokers", kafka.brokers)
            w.string("group", kafka.group)
            w.string("client_id", kafka.clientID)
            if kafka.properties.isEmpty {
                w.line("properties", "{}")
            } else {
                w.section("properties") { w in
                    for (key, value) in kafka.properties.redactedEntries {
                        w.line(YAMLWriter.scalar(key), YAMLWriter.quoted(value))
                    }
                }
            }
            w.section("consumer") { w in
                w.line("session_timeout", d(kafka.consumer.sessionTimeout))
                w.line("max_poll_interval", d(kafka.consumer.maxPollInterval))
                w.line("assignment_strategy", kafka.consumer.assignmentStrategy.rawValue)
                w.line("poll_batch_size", String(kafka.consumer.pollBatchSize))
                w.line("buffered_batches", String(kafka.consumer.bufferedBatches))
            }
            w.section("producer") { w in
                w.line("linger", d(kafka.producer.linger))
                w.line("batch_bytes", s(kafka.producer.batchBytes))
                w.line("compression", kafka.producer.compression.rawValue)
                w.line("message_timeout", d(kafka.producer.messageTimeout))
                w.line("max_message_bytes", s(kafka.producer.maxMessageBytes))
                w.line("idempotence", String(kafka.producer.idempotence))
            }
        }
        w.section("postgres") { w in
            w.line("url", YAMLWriter.quoted(postgres.url.redacted))
            w.line("pool_size", String(postgres.poolSize))
            w.line("connect_timeout", d(postgres.connectTimeout))
            w.string("schema", postgres.schema)
            w.line("synchronous_commit", postgres.synchronousCommit ? "true" : "false")
        }
        w.section("source") { w in
            w.line("topics", "[" + source.topics.map(YAMLWriter.scalar).joined(separator: ", ") + "]")
            w.string("entity", source.entity)
            w.string("event_time", source.eventTime)
            w.line("event_time_format", source.eventTimeFormat.rawValue)
            w.optionalString("event_id", source.eventID)
            w.line("allowed_lateness", d(source.allowedLateness))
            w.line("max_payload_bytes", s(source.maxPayloadBytes))
            w.line("max_future_skew", d(source.maxFutureSkew))
            if source.fields.isEmpty {
                w.line("fields", "{}")
            } else {
                w.section("fields") { w in
                    for field in source.fields {
                        w.line(YAMLWriter.scalar(field.name), YAMLWriter.scalar(field.typeSpelling))
                    }
                }
            }
        }
        w.list("features", features.map(Self.render))
        w.section("flush") { w in
            w.line("max_events", String(flush.maxEvents))
            w.line("max_interval", d(flush.maxInterval))
            w.line("commit_interval", d(flush.commitInterval))
        }
        w.section("state") { w in
            w.line("cache_max_entities", String(state.cacheMaxEntities))
            w.line("new_entity_filter", state.newEntityFilter ? "true" : "false")
        }
        w.section("dead_letter") { w in
            w.string("topic_suffix", deadLetter.topicSuffix)
            w.optionalString("topic", deadLetter.topic)
        }
        w.section("outputs") { w in
            w.string("predictions_topic", outputs.predictionsTopic)
            w.string("alerts_topic", outputs.alertsTopic)
            w.string("retrain_topic", outputs.retrainTopic)
            w.string("labels_topic", outputs.labelsTopic)
        }
        w.section("model") { w in
            w.string("name", model.name)
            w.line("explain_top_k", String(model.explainTopK))
            w.line("explain_method", model.explainMethod.rawValue)
            w.line("refresh_interval", d(model.refreshInterval))
            w.line("shadow", String(model.shadow))
        }
        w.section("drift") { w in
            w.line("enabled", String(drift.enabled))
            w.section("window") { w in
                switch drift.window {
                case .count(let events):
                    w.line("kind", "count")
                    w.line("size", String(events))
                case .time(let duration):
                    w.line("kind", "time")
                    w.line("duration", d(duration))
                }
            }
            switch drift.step {
            case .events(let events): w.line("step", String(events))
            case .duration(let duration): w.line("step", d(duration))
            }
            w.line("reference_events", String(drift.referenceEvents))
            w.section("alert") { w in
                w.line("consecutive", String(drift.alertConsecutive))
                w.line("cooldown", d(drift.alertCooldown))
            }
            w.line("dataset_share", String(drift.datasetShare))
            if drift.overrides.isEmpty {
                w.line("overrides", "{}")
            } else {
                w.section("overrides") { w in
                    for name in drift.overrides.keys.sorted() {
                        guard let override = drift.overrides[name] else { continue }
                        w.line(YAMLWriter.scalar(name),
                               YAMLWriter.flowMapping([("test", override.test.rawValue), ("threshold", String(override.threshold))]))
                    }
                }
            }
        }
        w.section("labels") { w in
            w.line("enabled", String(labels.enabled))
            w.line("horizon", d(labels.horizon))
            w.section("retry") { w in
                w.line("attempts", String(labels.retryAttempts))
                w.line("backoff", d(labels.retryBackoff))
            }
        }
        w.section("snapshots") { w in
            w.string("directory", snapshots.directory)
            w.line("on_alert", String(snapshots.onAlert))
            w.line("cooldown", d(snapshots.cooldown))
            w.line("schedule", snapshots.schedule.map(d) ?? "null")
            w.line("holdout_fraction", String(snapshots.holdoutFraction))
            w.line("row_group_rows", String(snapshots.rowGroupRows))
        }
        w.section("http") { w in
            w.string("address", http.address)
            if let tokenFile = http.tokenFile {
                w.comment("token: read from token_file")
                w.string("token_file", tokenFile)
            } else {
                w.line("token", http.token.map { YAMLWriter.quoted($0.redacted) } ?? "null")
            }
        }
        w.section("shutdown") { w in
            w.line("timeout", d(shutdown.timeout))
        }
        w.section("logging") { w in
            w.line("level", logging.level.rawValue)
            w.line("format", logging.format.rawValue)
        }
        return w.text
    }

    /// One feature as a flow mapping, the way DESIGN.md writes them.
    static func render(_ feature: FeatureDeclaration) -> String {
        var pairs: [(String, String)] = [("name", YAMLWriter.scalar(feature.name))]
        switch feature.kind {
        case .value(let field):
            pairs.append(("value", YAMLWriter.scalar(field)))
        case .aggregate(let function, let of, let window, let tile):
            pairs.append(("aggregate", function.rawValue))
            if let of { pairs.append(("of", YAMLWriter.scalar(of))) }
            if let window { pairs.append(("window", DurationFormat.formatMilliseconds(window))) }
            if let tile { pairs.append(("tile", DurationFormat.formatMilliseconds(tile))) }
        }
        return YAMLWriter.flowMapping(pairs)
    }
}
