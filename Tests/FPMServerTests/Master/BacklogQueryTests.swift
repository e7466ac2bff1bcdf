@testable import FPMServer
import FPMSystem
import Gearman
import Testing

/// The master's backlog query: its epoll tag, how an answer becomes a pool's backlog, and one
/// query against a listening socket that answers as gearmand does, without blocking.
@Suite struct BacklogQueryTests {
    /// A listening socket on a port of its own in 20000..<60000.
    static func listener() -> (Int32, UInt16)? {
        var port = 20_000 + Int(SystemRandom.seed() % 40_000)
        for _ in 0..<100 {
            if let fd = try? Socket.listenTCP(host: "127.0.0.1", port: port, backlog: 4) { return (fd, UInt16(port)) }
            port = 20_000 + (port - 20_000 + 7919) % 40_000
        }
        return nil
    }

    @Test func theTagRoundTripsBesideTheOthers() {
        guard case .jobBacklog(let pool)? = Master.Wakeup(tag: Master.Wakeup.jobBacklog(pool: 4095).tag),
              case .admissionReply(let id)? = Master.Wakeup(tag: Master.Wakeup.admissionReply(77).tag) else {
            Issue.record("tags did not round-trip")
            return
        }
        #expect(pool == 4095 && id == 77)
    }

    @Test func theBacklogIsQueuedMinusRunningOverThePoolsFunctions() {
        let answer = [
            GearmanFunctionStatus(function: "sync", total: 10, running: 3, workers: 3),
            GearmanFunctionStatus(function: "mail", total: 4, running: 0, workers: 0),
            GearmanFunctionStatus(function: "other", total: 99, running: 0, workers: 0),
            GearmanFunctionStatus(function: "idle", total: 2, running: 2, workers: 2),
        ]
        #expect(BacklogQuery.backlog(in: answer, functions: ["sync", "mail", "idle"]) == 11)
        #expect(BacklogQuery.backlog(in: answer, functions: ["absent"]) == 0)
    }

    @Test func aQueryReadsTheStatusListWithoutBlocking() throws {
        let (listener, port) = try #require(Self.listener())
        defer { FileIO.close(listener) }
        let (fd, _) = try NonBlockingConnect.start(numericHost: "127.0.0.1", port: port)
        let query = BacklogQuery(server: 0, fd: fd, deadline: 0)
        defer { query.close() }
        // Writable: the connect ended. The first step checks it and sends `status`, then waits for input.
        #expect(try Poll.wait(fd, for: Poll.writable, timeoutMillis: 1000) != 0)
        #expect(query.step() == .wait(events: Epoll.input))
        let (peer, _) = try #require(try Socket.accept(listener))
        defer { FileIO.close(peer) }
        var request = [UInt8](repeating: 0, count: 16)
        let n = try request.withUnsafeMutableBytes { try FileIO.read(peer, into: $0) }
        #expect(Array(request[0..<n]) == Array("status\n".utf8))
        // The answer in two pieces: the query waits after the first.
        try FileIO.writeAll(peer, "sync\t5\t1\t2\n")
        #expect(query.step() == .wait(events: Epoll.input))
        try FileIO.writeAll(peer, "mail\t1\t0\t0\n.\n")
        guard case .answered(let answer) = query.step() else { Issue.record("no answer"); return }
        #expect(BacklogQuery.backlog(in: answer, functions: ["sync", "mail"]) == 5)
    }

    @Test func aRefusedConnectionFails() throws {
        // A port nothing listens on: bound, then closed.
        let (listener, port) = try #require(Self.listener())
        FileIO.close(listener)
        guard let (fd, _) = try? NonBlockingConnect.start(numericHost: "127.0.0.1", port: port) else { return }
        let query = BacklogQuery(server: 0, fd: fd, deadline: 0)
        defer { query.close() }
        #expect(try Poll.wait(fd, for: Poll.writable, timeoutMillis: 1000) != 0)
        guard case .failed(let reason) = query.step() else { Issue.record("a refused connect succeeded"); return }
        #expect(reason.contains("connect"))
    }
}
