/// Logger metadata keys used by this module (one place, so dashboards can rely on them).
enum PostgresLogKey {
    static let backendPID = "postgres.backend_pid"
    static let error = "postgres.error"
    static let notice = "postgres.notice"
    static let attempt = "postgres.attempt"
}
