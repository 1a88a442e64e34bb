/// Bounded exponential backoff used when a lost connection is re-established
/// at its next use.
package struct PostgresReconnectPolicy: Sendable {
    /// Connection attempts per reconnect before giving up with `connectionFailed`.
    package var maxAttempts: Int
    /// Delay after the first failed attempt; doubles per attempt up to `maxDelay`.
    package var initialDelay: Duration
    package var maxDelay: Duration

    package init(maxAttempts: Int = 4, initialDelay: Duration = .milliseconds(50), maxDelay: Duration = .seconds(1)) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    /// Delay before attempt `attempt` (0-based; attempt 0 has none).
    func delay(beforeAttempt attempt: Int) -> Duration {
        guard attempt > 0 else { return .zero }
        var delay = initialDelay
        for _ in 1..<attempt {
            delay = delay * 2
            if delay >= maxDelay { return maxDelay }
        }
        return min(delay, maxDelay)
    }
}
