import FPM
import FPMSystem
import Glibc

/// A small app built on the FPM library exactly as a user's would be, for the integration
/// tests: routes on SCRIPT_NAME to behaviours the tests need (slow, echo, failing, crashing).
final class TestApp: Handler {
    var setUpCount = 0
    var leaked: [[UInt8]] = []
    /// What `/hold-fds` keeps open for the life of the worker (descriptors on /dev/null).
    var heldDescriptors: [Int32] = []

    func setUp(_ worker: WorkerInfo) throws {
        setUpCount += 1
        if let marker = getenv("TESTAPP_SETUP_MARKER") {
            let path = String(cString: marker) + ".\(worker.pid)"
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            if fd >= 0 { close(fd) }
        }
    }

    func handle(_ request: Request, _ response: Response) throws {
        let query = Dictionary(request.query, uniquingKeysWith: { $1 })
        try response.setHeader("Content-Type", "text/plain")
        try response.setHeader("X-Worker-PID", String(getpid()))
        switch request.scriptName {
        case "/sleep":
            let ms = Int(query["ms"] ?? "100") ?? 100
            slowRouteSleep(milliseconds: ms)
            try response.write("slept \(ms) pid \(getpid())\n")
        case "/echo":
            let body = try request.readBody(limit: 64 << 20)
            try response.setHeader("Content-Type", "application/octet-stream")
            try response.write(body)
        case "/big":
            let n = Int(query["bytes"] ?? "1048576") ?? 1_048_576
            var chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 65536)
            chunk[chunk.count - 1] = UInt8(ascii: "\n")
            var left = n
            while left > 0 {
                let k = min(left, chunk.count)
                try chunk.withUnsafeBytes { try response.write(UnsafeRawBufferPointer(rebasing: $0[0..<k])) }
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
            response.status = Int(query["code"] ?? "404") ?? 404
            try response.write("status \(response.status)\n")
        case "/env":
            let lines = ProcessEnvironment.entries().map { String(decoding: $0, as: UTF8.self) }
            try response.write(lines.sorted().joined(separator: "\n") + "\nuid=\(getuid()) gid=\(getgid()) cwd=\(cwd())\n")
        case "/leak":
            // 1 MiB of touched memory kept for the life of the worker (pm.max_memory tests).
            leaked.append([UInt8](repeating: UInt8(truncatingIfNeeded: leaked.count | 1), count: 1 << 20))
            try response.write("leaked \(leaked.count) MiB pid \(getpid())\n")
        case "/hold-fds":
            // Uses up descriptors (kept open until the worker ends): `n` more on /dev/null.
            let n = Int(query["n"] ?? "1") ?? 1
            for _ in 0..<max(0, min(n, 4096)) {
                let fd = open("/dev/null", O_RDONLY)
                if fd >= 0 { heldDescriptors.append(fd) }
            }
            try response.write("holding \(heldDescriptors.count) descriptors pid \(getpid())\n")
        case "/setup":
            try response.write("setups \(setUpCount)\n")
        default:
            try response.write("pid \(getpid())\n")
        }
    }
}

func cwd() -> String {
    var buf = [CChar](repeating: 0, count: 4096)
    return getcwd(&buf, buf.count) != nil ? String(cString: buf) : "?"
}

FPMMain.run(handlers: ["testapp": TestApp()])
