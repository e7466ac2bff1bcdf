import FPM
import FPMSystem
import Glibc

/// A small app built on the FPM library exactly as a user's would be, for the integration
/// tests: routes on the request's path to behaviours the tests need (slow, echo, failing,
/// crashing).
///
/// Its pool preparation (`PoolPreparing`) is on only when the master's environment has
/// TESTAPP_PREPARE (so other tests' pools start no preparation); it then appends "prepare" to
/// the file in the pool's env[TESTAPP_EVENTS] (setUp appends "setup PID"), and fails when the
/// pool's env[TESTAPP_PREPARE_FAIL] is set; it first sleeps env[TESTAPP_PREPARE_SLEEP_MS].
final class TestApp: Handler, PoolPreparing {
    var preparesPool: Bool { ProcessEnvironment.value("TESTAPP_PREPARE") != nil }

    func prepare(_ pool: PoolInfo) throws {
        let env = Dictionary(pool.environment, uniquingKeysWith: { $1 })
        if let path = env["TESTAPP_EVENTS"] { append("prepare \(Processes.pid)\n", to: path) }
        // A slow migration: the master must keep serving its loop meanwhile (on reload).
        if let ms = env["TESTAPP_PREPARE_SLEEP_MS"].flatMap({ UInt32($0) }) { SystemClock.sleep(nanos: Int(ms) * 1_000_000) }
        struct PrepareFailed: Error, CustomStringConvertible { var description: String }
        if let reason = env["TESTAPP_PREPARE_FAIL"] { throw PrepareFailed(description: "test preparation failed: \(reason)") }
    }

    /// pm.warm_template (WarmRoute.swift).
    let warm = WarmState()

    func warmUp(_ pool: PoolInfo) throws {
        try warm.warmUp(pool) { line, path in append(line, to: path) }
    }

    func append(_ line: String, to path: String) {
        guard let fd = try? FileIO.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o644) else { return }
        try? FileIO.writeAll(fd, line)
        FileIO.close(fd)
    }

    var setUpCount = 0
    var leaked: [[UInt8]] = []
    /// What `/hold-fds` keeps open for the life of the worker (descriptors on /dev/null).
    var heldDescriptors: [Int32] = []

    /// The worker's pid as text, made once in setUp: the bench's `/pid` answer then costs what
    /// libfcgi's costs (it reads getpid once too), not two syscalls and a conversion per request.
    var pidText = String(Processes.pid)
    /// `/pid`'s whole answer, as bytes, made with `pidText`.
    var pidLine = Array("pid \(Processes.pid)\n".utf8)
    /// `/async…`: async routes (AsyncRoutes.swift).
    let asyncRoutes = AsyncRoutes()
    /// `/async`: `/pid`'s answer from an async handler that awaits nothing.
    let asyncPID = AsyncPID()

    struct SetUpFailed: Error, CustomStringConvertible { var description: String }

    func setUp(_ worker: WorkerInfo) throws {
        setUpCount += 1
        pidText = String(worker.pid)
        pidLine = Array("pid \(pidText)\n".utf8)
        asyncRoutes.pidText = pidText
        asyncPID.pidText = pidText
        if let marker = ProcessEnvironment.value("TESTAPP_SETUP_MARKER") {
            let path = marker + ".\(worker.pid)"
            if let fd = try? FileIO.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644) { FileIO.close(fd) }
        }
        if let events = ProcessEnvironment.value("TESTAPP_EVENTS") { append("setup \(worker.pid)\n", to: events) }
        try warm.buildIfMissing(worker) { line, path in append(line, to: path) }
        // A pool whose workers cannot start (admission tests: the master answers 503 for it).
        if let reason = ProcessEnvironment.value("TESTAPP_SETUP_FAIL") { throw SetUpFailed(description: "setUp failed: \(reason)") }
    }

    func handle(_ request: Request, _ response: Response) throws {
        try response.setHeader(.contentType, "text/plain")
        try response.setHeader("X-Worker-PID", pidText)
        let path = request.path
        // The bench's route first, answered like libfcgi's (no route compared, no query parsed).
        if path == "/pid" {
            try response.write(pidLine)
            return
        }
        let query = request.query
        switch path {
        case "/async":
            // The bench's async-vs-sync comparison: `/pid`'s answer, through the async path.
            try asyncPID.handle(request, response)
        case "/async/throw", "/async/sleep", "/async/hop":
            try asyncRoutes.handle(request, response)
        case "/sleep":
            let ms = Int(query["ms"] ?? "100") ?? 100
            slowRouteSleep(milliseconds: ms)
            try response.write("slept \(ms) pid \(pidText)\n")
        case "/request-id":
            try response.write("\(request.id)\n")
        case "/echo":
            let body = try request.body(limit: 64 << 20)
            try response.setHeader("Content-Type", "application/octet-stream")
            try response.write(body)
        case "/count":
            // The whole body in memory (up to 256 MiB), then its size: a large upload read whole.
            let body = try request.body(limit: 256 << 20)
            try response.write("read \(body.count)\n")
        case "/swallow":
            // Reads the body 1 KiB at a time and answers 200 whatever happens: a body that turns
            // out short or aborted must still not let this answer out.
            var chunk = [UInt8](repeating: 0, count: 1024)
            var total = 0
            do {
                while case let n = try request.read(into: &chunk), n > 0 { total += n }
            } catch {
                try response.write("swallowed: \(error)\n")
            }
            try response.write("read \(total)\n")
        case "/big":
            let n = Int(query["bytes"] ?? "1048576") ?? 1_048_576
            var chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 65536)
            chunk[chunk.count - 1] = UInt8(ascii: "\n")
            var left = n
            while left > 0 {
                let k = min(left, chunk.count)
                try response.write(chunk[0..<k])
                left -= k
            }
        case "/throw":
            struct Boom: Error, CustomStringConvertible { var description: String { "boom from the test app" } }
            throw Boom()
        case "/say":
            try response.write(sayRoute(query))
        case "/crash":
            fatalError("crash requested by the test")
        case "/status-code":
            response.status = HTTPResponse.Status(code: Int(query["code"] ?? "404") ?? 404)
            try response.write("status \(response.status.code)\n")
        case "/redirect":
            // `?code=N&to=URL`: a status with a Location (201 Created, 303 See Other…), for the
            // front ends that rewrite such answers (HAProxy's 302).
            response.status = HTTPResponse.Status(code: Int(query["code"] ?? "201") ?? 201)
            try response.setHeader("Location", query["to"] ?? "/items/7")
            try response.write("status \(response.status.code)\n")
        case "/env":
            let lines = ProcessEnvironment.entries().map { String(decoding: $0, as: UTF8.self) }
            try response.write(lines.sorted().joined(separator: "\n") + "\nuid=\(Processes.realIDs.user) gid=\(Processes.realIDs.group) cwd=\(Processes.workingDirectory ?? "?")\n")
        case "/leak":
            // 1 MiB of touched memory kept for the life of the worker (pm.max_memory tests).
            leaked.append([UInt8](repeating: UInt8(truncatingIfNeeded: leaked.count | 1), count: 1 << 20))
            try response.write("leaked \(leaked.count) MiB pid \(pidText)\n")
        case "/hold-fds":
            // Uses up descriptors (kept open until the worker ends): `n` more on /dev/null.
            let n = Int(query["n"] ?? "1") ?? 1
            for _ in 0..<max(0, min(n, 4096)) {
                if let fd = try? FileIO.open("/dev/null", O_RDONLY) { heldDescriptors.append(fd) }
            }
            try response.write("holding \(heldDescriptors.count) descriptors pid \(pidText)\n")
        case "/upload":
            try response.write(try uploadRoute(request))
        case "/warm":
            try warm.route(request, response)
        case "/setup":
            try response.write("setups \(setUpCount)\n")
        case "/relay":
            try relayRoute(request, response)
        default:
            try response.write(pidLine)
        }
    }
}


FPMMain.run(handlers: ["testapp": TestApp()], jobs: ["testjobs": TestJobs()])
