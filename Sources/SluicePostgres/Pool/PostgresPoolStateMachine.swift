/// The pool's bookkeeping. Pure: methods return what to do, and the pool
/// performs the side effects (resuming continuations, closing connections)
/// outside the lock.
struct PostgresPoolStateMachine {
    /// What a caller gets from the pool.
    enum Lease: Sendable {
        /// An idle connection.
        case connection(PostgresConnection)
        /// Permission to open a new connection (already counted in `open`).
        case slot
    }

    typealias Waiter = CheckedContinuation<Lease, any Error>

    enum AcquireAction {
        case lease(Lease)
        case enqueued
        case closed
    }

    enum ReleaseAction {
        case none
        case resume(Waiter, Lease)
        case close(PostgresConnection)
        case closeAndResume(PostgresConnection, Waiter, Lease)
    }

    let maxConnections: Int
    var idle: [PostgresConnection] = []
    /// Connections open or being opened (idle + leased).
    var open = 0
    /// Leases handed out (connections and slots).
    var leased = 0
    /// Highest `leased` ever seen.
    var maxLeased = 0
    var waiters: [(id: UInt64, continuation: Waiter)] = []
    var closed = false

    init(maxConnections: Int) { self.maxConnections = maxConnections }

    /// Hands out an idle connection or a slot, or queues `waiter` when given.
    mutating func acquire(waiterID: UInt64?, waiter: Waiter?) -> AcquireAction {
        if closed { return .closed }
        if let connection = idle.popLast() {
            noteLeased()
            return .lease(.connection(connection))
        }
        if open < maxConnections {
            open += 1
            noteLeased()
            return .lease(.slot)
        }
        guard let waiterID, let waiter else { return .enqueued }
        waiters.append((waiterID, waiter))
        return .enqueued
    }

    /// Removes a waiter that timed out or was cancelled; nil if it was already served.
    mutating func removeWaiter(_ id: UInt64) -> Waiter? {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
        return waiters.remove(at: index).continuation
    }

    /// A leased connection comes back; `healthy` false discards it.
    mutating func release(_ connection: PostgresConnection, healthy: Bool) -> ReleaseAction {
        leased -= 1
        if healthy && !closed {
            if !waiters.isEmpty {
                let waiter = waiters.removeFirst().continuation
                noteLeased()
                return .resume(waiter, .connection(connection))
            }
            idle.append(connection)
            return .none
        }
        open -= 1
        if !closed && !waiters.isEmpty && open < maxConnections {
            let waiter = waiters.removeFirst().continuation
            open += 1
            noteLeased()
            return .closeAndResume(connection, waiter, .slot)
        }
        return .close(connection)
    }

    /// A slot whose connection could not be opened is given back.
    mutating func releaseSlot() -> ReleaseAction {
        leased -= 1
        open -= 1
        if !closed && !waiters.isEmpty {
            let waiter = waiters.removeFirst().continuation
            open += 1
            noteLeased()
            return .resume(waiter, .slot)
        }
        return .none
    }

    /// Adds a connection opened in the background (warm-up) to the idle list.
    mutating func addIdle(_ connection: PostgresConnection) -> Bool {
        guard !closed, open < maxConnections else { return false }
        open += 1
        idle.append(connection)
        return true
    }

    /// Marks the pool closed; returns idle connections to close and waiters to fail.
    mutating func close() -> (idle: [PostgresConnection], waiters: [Waiter]) {
        closed = true
        let result = (idle, waiters.map(\.continuation))
        open -= idle.count
        idle.removeAll()
        waiters.removeAll()
        return result
    }

    private mutating func noteLeased() {
        leased += 1
        maxLeased = max(maxLeased, leased)
    }
}
