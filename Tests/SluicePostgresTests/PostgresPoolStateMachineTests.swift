@testable import SluicePostgres
import Testing

/// The pool's bookkeeping without a database: leases never exceed the bound,
/// and discarded connections free their slot.
@Suite struct PostgresPoolStateMachineTests {
    @Test func slotsAreHandedOutUpToTheBoundThenCallersMustWait() {
        var machine = PostgresPoolStateMachine(maxConnections: 3)
        for _ in 0..<3 {
            guard case .lease(.slot) = machine.acquire(waiterID: nil, waiter: nil) else {
                Issue.record("expected a slot while below the bound")
                return
            }
        }
        guard case .enqueued = machine.acquire(waiterID: nil, waiter: nil) else {
            Issue.record("the fourth caller must wait")
            return
        }
        #expect(machine.open == 3)
        #expect(machine.leased == 3)
        #expect(machine.maxLeased == 3)
    }

    @Test func failedOpenGivesTheSlotBack() {
        var machine = PostgresPoolStateMachine(maxConnections: 1)
        guard case .lease(.slot) = machine.acquire(waiterID: nil, waiter: nil) else {
            Issue.record("expected a slot")
            return
        }
        guard case .none = machine.releaseSlot() else {
            Issue.record("no waiter to hand the slot to")
            return
        }
        #expect(machine.open == 0)
        #expect(machine.leased == 0)
        guard case .lease(.slot) = machine.acquire(waiterID: nil, waiter: nil) else {
            Issue.record("the slot must be available again")
            return
        }
    }

    @Test func closingFailsNewAcquires() {
        var machine = PostgresPoolStateMachine(maxConnections: 2)
        let (idle, waiters) = machine.close()
        #expect(idle.isEmpty)
        #expect(waiters.isEmpty)
        guard case .closed = machine.acquire(waiterID: nil, waiter: nil) else {
            Issue.record("a closed pool must refuse")
            return
        }
    }
}
