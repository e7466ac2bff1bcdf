import FPM
import Glibc

/// The example app: a greeting, a JSON endpoint, an echo, and a per-worker counter that shows
/// state living in the worker process between requests.
final class HelloApp: Handler {
    /// Set once per worker by `setUp`, after fork (what a real app would do with its database
    /// connection).
    var worker: WorkerInfo?
    var greeting = "Hello"
    var served = 0

    func setUp(_ worker: WorkerInfo) throws {
        self.worker = worker
        // env[HELLO_GREETING] in the pool config reaches the worker's environment.
        if let value = getenv("HELLO_GREETING") { greeting = String(cString: value) }
    }

    func handle(_ request: Request, _ response: Response) throws {
        served += 1
        let query = Dictionary(request.query, uniquingKeysWith: { $1 })
        switch request.scriptName {
        case "/", "/hello":
            response.contentType = "text/plain; charset=utf-8"
            try response.write("\(greeting), \(query["name"] ?? "world")!\n")
        case "/json":
            response.contentType = "application/json"
            let pid = worker?.pid ?? getpid()
            try response.write(#"{"pool":"\#(json(worker?.pool ?? ""))","pid":\#(pid),"served":\#(served),"method":"\#(json(request.method))"}"# + "\n")
        case "/echo":
            response.contentType = request.contentType ?? "application/octet-stream"
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = try chunk.withUnsafeMutableBytes { try request.read(into: $0) }
                if n == 0 { break }
                try chunk.withUnsafeBytes { try response.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        case "/form":
            let fields = try request.formFields()
            response.contentType = "text/plain; charset=utf-8"
            try response.write(fields.map { "\($0.0)=\($0.1)" }.joined(separator: "\n") + "\n")
        case "/throw":
            // A thrown error: the worker answers 500 and logs the error; the worker lives on.
            throw HelloError(message: "demo error from /throw")
        case "/crash":
            // A crash costs this request only: the master replaces the worker.
            fatalError("demo crash from /crash")
        default:
            response.status = 404
            response.contentType = "text/plain; charset=utf-8"
            try response.write("no route for \(request.scriptName)\n")
        }
    }

    func tearDown() {}

    func json(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if c.value < 0x20 { out += "\\u00" + (c.value < 0x10 ? "0" : "") + String(c.value, radix: 16) } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }
}

struct HelloError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
