import FastCGI
import FastCGIClient
import Foundation
import Glibc
import Testing

/// Stops that drain through the real binary: `graceful_sigterm`, the listen backlog at a stop,
/// `fpmctl drain`, and a pool whose workers cannot start. php-fpm 8.2's SIGTERM is measured
/// the same way beside ours when it is installed.
@Suite(.serialized) struct GracefulStopTests {
    /// What a stop did to one slow request in flight and to connections waiting behind it.
    struct StopOutcome: CustomStringConvertible {
        /// The slow request's status; nil when it was cut (no complete answer).
        var inFlight: Int?
        var waiting: Int
        var waitingServed: Int
        var description: String {
            "in-flight request: \(inFlight.map { "answered \($0)" } ?? "cut"), waiting connections served: \(waitingServed) of \(waiting)"
        }
    }

    /// The accept queue of the listener on `port` as the kernel shows it (/proc/net/tcp: a
    /// LISTEN socket's rx_queue is its accept queue).
    static func acceptQueue(port: Int) -> Int {
        let wanted = String(format: ":%04X", port)
        for line in TestSupport.read("/proc/net/tcp").split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[1].hasSuffix(wanted), fields[3] == "0A" else { continue }
            let queues = fields[4].split(separator: ":")
            return Int(queues[1], radix: 16) ?? 0
        }
        return -1
    }

    /// One slow request in flight on a one-worker pool at `port`, `waiting` more in its accept
    /// queue, then `stop`; what each got.
    static func stopWithWaitingConnections(port: Int, slow: [(String, String)], quick: [(String, String)], waiting: Int = 3,
                                           running: () -> Bool, stop: () -> Void) -> StopOutcome {
        let slowStatus = Box<Int?>(nil)
        let served = Box<[Bool]>(Array(repeating: false, count: waiting))
        let lock = NSLock()
        let slowTask = BackgroundTask {
            guard let c = try? FastCGIClient(connectingTo: "127.0.0.1:\(port)", timeout: 30) else { return }
            defer { c.close() }
            if let r = try? c.request(params: slow), r.protocolStatus == .requestComplete { slowStatus.value = r.status }
        }
        #expect(running(), "the slow request is running")
        let quickTasks = (0..<waiting).map { i in
            BackgroundTask {
                guard let c = try? FastCGIClient(connectingTo: "127.0.0.1:\(port)", timeout: 30) else { return }
                defer { c.close() }
                if let r = try? c.request(params: quick), r.protocolStatus == .requestComplete, r.status == 200 {
                    lock.withLock { served.value[i] = true }
                }
            }
        }
        #expect(TestSupport.waitUntil(timeout: 10) { acceptQueue(port: port) == waiting }, "the connections wait in the accept queue")
        stop()
        #expect(slowTask.wait(timeout: 30))
        for task in quickTasks { #expect(task.wait(timeout: 30)) }
        return StopOutcome(inFlight: slowStatus.value, waiting: waiting, waitingServed: lock.withLock { served.value.filter { $0 }.count })
    }

    static func get(_ address: String, _ uri: String) throws -> FastCGIResponse {
        let c = try FastCGIClient(connectingTo: address, timeout: 5)
        defer { c.close() }
        return try c.request(params: TestSupport.params(uri: uri))
    }

    @Test func gracefulSigtermFinishesTheRequestInHandAndServesTheWaitingConnections() throws {
        let status = "127.0.0.1:\(TestSupport.freePort())"
        let server = try FPMServer(name: "graceful-sigterm", global: "graceful_sigterm = yes",
                                   pools: FPMServer.pool("pm.status_listen = \(status)", children: 1))
        #expect(server.waitForWorkers(1))
        #expect(try Self.get(status, "/ready").status == 200)
        var readyDuringStop: FastCGIResponse?
        let outcome = Self.stopWithWaitingConnections(
            port: server.port, slow: TestSupport.params(uri: "/sleep?ms=1500"), quick: TestSupport.params(uri: "/pid"),
            running: { server.waitUntilActive(1) },
            stop: {
                server.child.signal(SIGTERM)
                // From the stop's first moment, readiness is off, though the request still runs.
                _ = TestSupport.waitUntil(timeout: 1) {
                    readyDuringStop = try? Self.get(status, "/ready")
                    return readyDuringStop?.status == 503
                }
            })
        print("swift-fpm, graceful_sigterm = yes, SIGTERM: \(outcome)")
        #expect(outcome.inFlight == 200)
        #expect(outcome.waitingServed == outcome.waiting)
        #expect(readyDuringStop?.status == 503)
        #expect(readyDuringStop?.bodyText.hasPrefix("not ready: the master is stopping") == true)
        #expect(server.child.wait(timeout: 15) == 0)
        #expect(server.log.contains("Finishing ..."))
        #expect(!server.log.contains("Terminating ..."))
    }

    @Test func sigtermIsAFastStopByDefaultAsInPHPFPM() throws {
        let server = try FPMServer(name: "fast-sigterm", pools: FPMServer.pool(children: 1))
        #expect(server.waitForWorkers(1))
        let outcome = Self.stopWithWaitingConnections(
            port: server.port, slow: TestSupport.params(uri: "/sleep?ms=1500"), quick: TestSupport.params(uri: "/pid"),
            running: { server.waitUntilActive(1) }, stop: { server.child.signal(SIGTERM) })
        print("swift-fpm, graceful_sigterm = no, SIGTERM: \(outcome)")
        #expect(outcome.inFlight == nil)
        #expect(server.log.contains("Terminating ..."))
        if PHPFPMServer.installed {
            let php = try PHPFPMServer(children: 1)
            let started = php.dir + "/started"
            TestSupport.write(php.dir + "/sleep.php", "<?php touch('\(started)'); usleep(1500000); echo 'slept';\n")
            let phpOutcome = Self.stopWithWaitingConnections(
                port: php.port, slow: TestSupport.params(uri: "/sleep.php", script: php.dir + "/sleep.php"),
                quick: TestSupport.params(uri: "/echo.php", script: php.dir + "/echo.php"),
                running: { TestSupport.waitUntil { FileManager.default.fileExists(atPath: started) } },
                stop: { php.child.signal(SIGTERM) })
            print("php-fpm 8.2, SIGTERM: \(phpOutcome)")
            // php-fpm's TERM is "stop now": the request in hand is cut, as ours is by default.
            #expect(phpOutcome.inFlight == nil)
        }
    }

    @Test func sigquitAlsoServesTheWaitingConnections() throws {
        let server = try FPMServer(name: "quit-backlog", pools: FPMServer.pool(children: 1))
        #expect(server.waitForWorkers(1))
        let outcome = Self.stopWithWaitingConnections(
            port: server.port, slow: TestSupport.params(uri: "/sleep?ms=1000"), quick: TestSupport.params(uri: "/pid"),
            running: { server.waitUntilActive(1) }, stop: { server.child.signal(SIGQUIT) })
        print("swift-fpm, SIGQUIT: \(outcome)")
        #expect(outcome.inFlight == 200 && outcome.waitingServed == outcome.waiting)
        #expect(server.child.wait(timeout: 15) == 0)
        if PHPFPMServer.installed {
            let php = try PHPFPMServer(children: 1)
            let started = php.dir + "/started"
            TestSupport.write(php.dir + "/sleep.php", "<?php touch('\(started)'); usleep(1000000); echo 'slept';\n")
            let phpOutcome = Self.stopWithWaitingConnections(
                port: php.port, slow: TestSupport.params(uri: "/sleep.php", script: php.dir + "/sleep.php"),
                quick: TestSupport.params(uri: "/echo.php", script: php.dir + "/echo.php"),
                running: { TestSupport.waitUntil { FileManager.default.fileExists(atPath: started) } },
                stop: { php.child.signal(SIGQUIT) })
            print("php-fpm 8.2, SIGQUIT: \(phpOutcome)")
        }
    }
}
