@testable import FPMServer
import Testing

/// The status listener's epoll tags come back as themselves, beside the master's other wakeups.
@Suite struct StatusWakeupTests {
    @Test func statusTagsRoundTripAndDoNotOverlapTheOthers() {
        guard case .statusListener(let index)? = Master.Wakeup(tag: Master.Wakeup.statusListener(3).tag),
              case .statusConnection(let id)? = Master.Wakeup(tag: Master.Wakeup.statusConnection(1_000_000).tag) else {
            Issue.record("status tags did not round-trip")
            return
        }
        #expect(index == 3 && id == 1_000_000)
        guard case .workerOutput(let fd)? = Master.Wakeup(tag: Master.Wakeup.workerOutput(fd: Int32.max).tag),
              case .pendingConnection(let pool)? = Master.Wakeup(tag: Master.Wakeup.pendingConnection(pool: 999).tag) else {
            Issue.record("the other tags changed meaning")
            return
        }
        #expect(fd == Int32.max && pool == 999)
    }
}
