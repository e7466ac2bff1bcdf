@testable import FPMServer
import Testing

/// pm.warm_template's decisions and messages: the master's request and the template's replies
/// survive the trip, a reaped template is told apart from a worker, a dead running template is
/// remade only while serving and wanted, a given-up one quietly reaped.
@Suite struct WarmTemplateTests {
    @Test(arguments: [(0, false, false), (7, true, false), (3, false, true), (1023, true, true)])
    func aRequestRoundTrips(_ slot: Int32, _ output: Bool, _ log: Bool) {
        let request = WarmTemplate.Request(slot: slot, output: output, log: log)
        let bytes = request.bytes
        #expect(bytes.count == WarmTemplate.Request.size)
        #expect(bytes.withUnsafeBytes { WarmTemplate.Request($0) } == request)
        #expect(request.descriptorCount == 1 + (output ? 2 : 0) + (log ? 1 : 0))
    }

    @Test func aMalformedRequestIsRefused() {
        #expect([UInt8](repeating: 0, count: 7).withUnsafeBytes { WarmTemplate.Request($0) } == nil)
        #expect(([0, 0, 0, 0, 8, 0, 0, 0] as [UInt8]).withUnsafeBytes { WarmTemplate.Request($0) } == nil)
    }

    @Test(arguments: [WarmTemplate.Reply.ready(warmUpNanos: 1_234_567), .failed("no table: ENOENT"), .forked(pid: 4242),
                      .error("fork: EAGAIN")])
    func aReplyRoundTrips(_ reply: WarmTemplate.Reply) {
        let line = reply.line
        #expect(line.hasSuffix("\n"))
        #expect(WarmTemplate.Reply(line: line.dropLast()) == reply)
    }

    @Test func aMultiLineFailureStaysOneLine() {
        let line = WarmTemplate.Reply.failed("first\nsecond").line
        #expect(line == "failed first; second\n")
    }

    @Test(arguments: ["", "ready", "ready -1", "pid 0", "pid x", "hello 1"])
    func garbageIsNoReply(_ line: String) {
        #expect(WarmTemplate.Reply(line: line[...]) == nil)
    }

    @Test func aReapedTemplateIsToldApartFromAWorker() {
        var registry = WarmTemplate.Registry()
        registry.started(.init(pool: "www", pid: 100, socket: 9))
        registry.started(.init(pool: "api", pid: 200, socket: 10))
        registry.warmedUp(pool: "www", nanos: 5)
        #expect(registry.byPool["www"]?.warmUpNanos == 5)
        #expect(registry.exited(300) == nil)
        #expect(registry.exited(100) == .running(.init(pool: "www", pid: 100, socket: 9, warmUpNanos: 5)))
        #expect(registry.byPool["www"] == nil)
        #expect(registry.exited(100) == nil)
        // Given up (failed warm-up, a reload): its exit is expected, once.
        #expect(registry.retire(pool: "api")?.pid == 200)
        #expect(registry.byPool.isEmpty)
        #expect(registry.exited(200) == .retired)
        #expect(registry.exited(200) == nil)
    }

    @Test func endingAllForgetsRunningAndRetiredTemplates() {
        var registry = WarmTemplate.Registry()
        registry.started(.init(pool: "www", pid: 100, socket: 9))
        registry.started(.init(pool: "api", pid: 200, socket: 10))
        _ = registry.retire(pool: "www")
        let all = registry.takeAll()
        #expect(all.running.map(\.pid) == [200])
        #expect(all.retired == [100])
        #expect(registry.byPool.isEmpty && registry.retired.isEmpty)
        #expect(registry.exited(100) == nil && registry.exited(200) == nil)
    }

    @Test func workersAskedForDuringAWarmUpAreHeldWithinTheLimit() {
        #expect(WarmTemplate.heldSpawns(pending: 0, running: 2, maxChildren: 4) == 1)
        #expect(WarmTemplate.heldSpawns(pending: 1, running: 2, maxChildren: 4) == 2)
        // An ondemand listener that keeps waking the master cannot pile up more than the room.
        #expect(WarmTemplate.heldSpawns(pending: 2, running: 2, maxChildren: 4) == 2)
        #expect(WarmTemplate.heldSpawns(pending: 0, running: 4, maxChildren: 4) == 0)
        #expect(WarmTemplate.spawnsOnReady(pending: 2, running: 2, maxChildren: 4, ondemand: false) == 2)
        #expect(WarmTemplate.spawnsOnReady(pending: 3, running: 3, maxChildren: 4, ondemand: false) == 1)
        #expect(WarmTemplate.spawnsOnReady(pending: 2, running: 0, maxChildren: 4, ondemand: true) == 0)
    }

    @Test(arguments: [Int32(0), 17, 65_535, Int32.max])
    func aTemplatesWakeupTagRoundTrips(_ fd: Int32) {
        guard case .warmTemplate(let back)? = Master.Wakeup(tag: Master.Wakeup.warmTemplate(fd: fd).tag) else {
            Issue.record("not a warm template's wakeup")
            return
        }
        #expect(back == fd)
        // The kinds below it keep their own.
        guard case .admissionReply(7)? = Master.Wakeup(tag: Master.Wakeup.admissionReply(7).tag) else {
            Issue.record("admission reply tag changed")
            return
        }
    }

    @Test func aDeadRunningTemplateIsRemadeOnlyWhileServingAndWanted() {
        let running = WarmTemplate.Exit.running(.init(pool: "www", pid: 1, socket: 3))
        #expect(WarmTemplate.Registry.remake(after: running, serving: true, poolWantsTemplate: true))
        #expect(!WarmTemplate.Registry.remake(after: running, serving: false, poolWantsTemplate: true))
        #expect(!WarmTemplate.Registry.remake(after: running, serving: true, poolWantsTemplate: false))
        #expect(!WarmTemplate.Registry.remake(after: .retired, serving: true, poolWantsTemplate: true))
    }
}
