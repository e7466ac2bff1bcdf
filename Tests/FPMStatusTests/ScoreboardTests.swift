@testable import FPMStatus
import FPMSystem
import Foundation
import Testing

@Suite struct ScoreboardTests {
    func makeBoard(slots: Int = 3) throws -> (Scoreboard, String) {
        let path = NSTemporaryDirectory() + "sb-\(UUID().uuidString)"
        let sb = try Scoreboard(create: path, pool: "www", listen: "127.0.0.1:9000", pm: 1, slots: slots,
                                masterPID: 42, generation: 7)
        return (sb, path)
    }

    @Test func anotherMappingReadsTheHeaderAndSlots() throws {
        let (sb, path) = try makeBoard()
        defer { unlink(path) }
        let slot = sb.slot(1)
        slot.claim(pid: 1234, generation: 7)
        sb.countAcceptedConnection()
        sb.countAcceptedConnection()
        let now = SystemClock.monotonicNanos()
        slot.beginRequest(now: now, epochMicros: SystemClock.epochMicros())
        "POST".withBytes { m in "/index.php".withBytes { u in "a=1&b=2".withBytes { q in "/srv/index.php".withBytes { s in
            slot.requestInfo(method: m, uri: u, query: q, script: s, user: nil, contentLength: 17, now: now)
        } } } }

        let reader = try Scoreboard(open: path)
        #expect(reader.poolName == "www")
        #expect(reader.listenAddress == "127.0.0.1:9000")
        #expect(reader.masterPID == 42)
        #expect(reader.generation == 7)
        #expect(reader.acceptedConnections == 2)
        #expect(reader.slotCount == 3)
        let snap = try #require(reader.snapshot(1))
        #expect(snap.pid == 1234)
        #expect(snap.stage == .running)
        #expect(snap.method == "POST")
        #expect(snap.uri == "/index.php")
        #expect(snap.query == "a=1&b=2")
        #expect(snap.script == "/srv/index.php")
        #expect(snap.user == "")
        #expect(snap.contentLength == 17)
        #expect(snap.requests == 1)
        #expect(reader.snapshot(0) == nil)
        #expect(reader.snapshots().count == 1)
    }

    @Test func theMastersReadinessCrossesToAnotherMappingAndHealth() throws {
        let (sb, path) = try makeBoard()
        defer { unlink(path) }
        let reader = try Scoreboard(open: path)
        #expect(reader.masterReadiness == .ready, "a new board (and an older master's) reads as ready")
        sb.masterReadiness = .draining
        #expect(reader.masterReadiness == .draining)
        #expect(Health.input(reader, masterRunning: true).master == .draining)
        sb.masterReadiness = .stopping
        #expect(reader.masterReadiness == .stopping)
        // The field does not overlap the histogram before it.
        #expect(Scoreboard.H.histogramSum + 8 <= Scoreboard.H.masterReadiness)
        #expect(Scoreboard.H.masterReadiness + 8 <= Scoreboard.headerSize)
    }

    @Test func longStringsAreTruncatedNotOverflowed() throws {
        let (sb, path) = try makeBoard()
        defer { unlink(path) }
        let slot = sb.slot(0)
        slot.claim(pid: 1, generation: 1)
        let long = String(repeating: "x", count: 5000)
        long.withBytes { b in
            slot.requestInfo(method: b, uri: b, query: b, script: b, user: b, contentLength: 0, now: 0)
        }
        let snap = try #require(sb.snapshot(0))
        #expect(snap.method.count == 15)
        #expect(snap.uri.count == 255)
        #expect(snap.query.count == 511)
        #expect(snap.user.count == 31)
        // The neighbour slot is untouched.
        #expect(sb.snapshot(1) == nil)
    }

    @Test func endRequestRecordsDurationAndStage() throws {
        let (sb, path) = try makeBoard()
        defer { unlink(path) }
        let slot = sb.slot(2)
        slot.claim(pid: 9, generation: 1)
        slot.beginRequest(now: 1_000_000_000, epochMicros: 0)
        slot.endRequest(now: 1_250_000_000, cpuUserMicros: 10, cpuSystemMicros: 5, memory: 4096)
        let snap = try #require(sb.snapshot(2))
        #expect(snap.stage == .finishing)
        #expect(snap.durationMicros == 250_000)
        #expect(snap.memory == 4096)
        slot.markIdle(now: 2)
        #expect(sb.stage(2) == .idle)
        slot.release()
        #expect(sb.snapshot(2) == nil)
    }

    @Test func aFileThatIsNotAScoreboardIsRefused() throws {
        let path = NSTemporaryDirectory() + "not-sb-\(UUID().uuidString)"
        try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        #expect(throws: Scoreboard.OpenError.self) { try Scoreboard(open: path) }
    }

    @Test func readersNeverSeeATornSlotWhileAnotherProcessWrites() throws {
        let (sb, path) = try makeBoard(slots: 1)
        defer { unlink(path) }
        let slot = sb.slot(0)
        slot.claim(pid: 77, generation: 1)
        let pid = fork()
        if pid == 0 {
            // Child: alternate between two requests whose fields must never mix.
            for i in 0..<200_000 {
                let (m, u) = i % 2 == 0 ? ("GET", "/aaaaaaaaaaaaaaaa") : ("DELETE", "/bbbbbbbbbbbbbbbbbbbbbbbbbbbb")
                m.withBytes { mb in u.withBytes { ub in
                    slot.requestInfo(method: mb, uri: ub, query: nil, script: nil, user: nil, contentLength: i % 2, now: 0)
                } }
            }
            _exit(0)
        }
        let reader = try Scoreboard(open: path)
        var checked = 0
        while true {
            var status: Int32 = 0
            let done = waitpid(pid, &status, WNOHANG) == pid
            if let s = reader.snapshot(0), !s.method.isEmpty {
                let consistent = (s.method == "GET" && s.uri.hasPrefix("/a") && s.contentLength == 0)
                    || (s.method == "DELETE" && s.uri.hasPrefix("/b") && s.contentLength == 1)
                #expect(consistent, "torn read: \(s.method) \(s.uri) \(s.contentLength)")
                if !consistent { break }
                checked += 1
            }
            if done { break }
        }
        #expect(checked > 0)
    }
}

extension String {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var s = self
        return s.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
}

/// The slot field the master reads after a worker died: which connection it was serving.
@Suite struct ServingConnectionSlotTests {
    @Test func anotherMappingReadsTheConnectionInHand() throws {
        let (board, path) = try ScoreboardTests().makeBoard()
        defer { FileIO.unlink(path) }
        let slot = board.slot(2)
        slot.claim(pid: 1234, generation: 7)
        let reader = try Scoreboard(open: path)
        #expect(reader.slot(2).servingConnection == nil, "a claimed slot serves nothing")
        slot.servingConnection = 0
        #expect(reader.slot(2).servingConnection == 0, "descriptor 0 is a connection too")
        slot.servingConnection = 517
        #expect(reader.slot(2).servingConnection == 517)
        slot.servingConnection = nil
        #expect(reader.slot(2).servingConnection == nil)
        slot.servingConnection = 9
        slot.claim(pid: 99, generation: 8)
        #expect(reader.slot(2).servingConnection == nil, "a new worker's slot shows nothing of its predecessor's")
    }
}
