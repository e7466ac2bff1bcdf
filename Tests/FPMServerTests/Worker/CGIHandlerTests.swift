@testable import FPMServer
import FPMSystem
import FastCGI
import Foundation
import Testing

/// A request body held in memory, served in small pieces like a socket would.
final class BytesBody: RequestBodySource {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func readBody(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset, 32768)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }
}

/// A scratch directory with scripts, removed at deinit.
final class ScriptDirectory {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "cgi-unit-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    @discardableResult
    func script(_ name: String, _ text: String, mode: Int = 0o755) -> String {
        let file = path + "/" + name
        FileManager.default.createFile(atPath: file, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
        return file
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs `handler` on one request in this process; returns the raw CGI output and stderr.
func runCGI(_ handler: CGIHandler, script: String, root: String? = nil, body: [UInt8] = [],
            extra: [(String, String)] = []) throws -> (status: Int, head: String, body: [UInt8], errors: String) {
    var params: [(String, String)] = [("SCRIPT_FILENAME", script), ("REQUEST_METHOD", body.isEmpty ? "GET" : "POST"),
                                      ("SCRIPT_NAME", "/" + (script as NSString).lastPathComponent)]
    if let root { params.append(("DOCUMENT_ROOT", root)) }
    if !body.isEmpty { params.append(("CONTENT_LENGTH", String(body.count))) }
    params += extra
    let request = ServerRequest(params: FastCGIParams(params), body: BytesBody(body))
    let sink = BufferResponseSink()
    let response = ServerResponse(sink: sink)
    try handler.handle(request, response)
    try response.finish()
    let out = sink.output
    var split = out.count
    for i in 0..<max(0, out.count - 3) where out[i] == 13 && out[i + 1] == 10 && out[i + 2] == 13 && out[i + 3] == 10 {
        split = i
        break
    }
    let head = String(decoding: out[0..<split], as: UTF8.self)
    let bodyBytes = split + 4 <= out.count ? Array(out[(split + 4)...]) : []
    return (response.status, head, bodyBytes, String(decoding: sink.errors, as: UTF8.self))
}

@Suite struct CGIHandlerTests {
    @Test func runsAScriptWithItsEnvironment() throws {
        let dir = ScriptDirectory()
        let s = dir.script("env.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\necho \"gw=$GATEWAY_INTERFACE q=[$QUERY_STRING] m=$REQUEST_METHOD\"\necho oops >&2\nls /proc/self/fd | wc -l\n")
        let r = try runCGI(CGIHandler(), script: s, root: dir.path)
        #expect(r.status == 200)
        #expect(r.head.contains("Content-Type: text/plain"))
        let text = String(decoding: r.body, as: UTF8.self)
        #expect(text.contains("gw=CGI/1.1 q=[] m=GET"))
        #expect(r.errors.contains("oops"))
    }
}

@Suite struct CGIRunnerTests {
    @Test func echoesALargeBodyWhileReadingOutput() throws {
        let dir = ScriptDirectory()
        let s = dir.script("cat.cgi", "#!/bin/sh\nprintf 'Content-Type: application/octet-stream\\n\\n'\nexec cat\n")
        let body = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 9) }
        let r = try runCGI(CGIHandler(), script: s, root: dir.path, body: body)
        #expect(r.status == 200)
        #expect(r.body == body)
    }

    @Test func aScriptPastItsTimeoutIsKilledAndAnswered504() throws {
        let dir = ScriptDirectory()
        let s = dir.script("hang.cgi", "#!/bin/sh\necho $$ > \"$DOCUMENT_ROOT/pid\"\nsleep 300\n")
        let started = Date()
        let r = try runCGI(CGIHandler(terminateTimeout: 1), script: s, root: dir.path)
        #expect(r.status == 504)
        #expect(Date().timeIntervalSince(started) < 5)
        let pid = Int32((try? String(contentsOfFile: dir.path + "/pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1
        #expect(pid > 1)
        // The runner reaped it before returning.
        #expect(kill(pid, 0) == -1)
    }

    @Test func leftoversAreKilledAfterTheScriptExits() throws {
        let dir = ScriptDirectory()
        // The background sleep keeps stdout open; the runner gives it lingerSeconds, then kills the group.
        let s = dir.script("bg.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhi\\n'\nsleep 300 &\necho $! > \"$DOCUMENT_ROOT/bg\"\n")
        let handler = CGIHandler()
        handler.lingerSeconds = 0.3
        let r = try runCGI(handler, script: s, root: dir.path)
        #expect(String(decoding: r.body, as: UTF8.self) == "hi\n")
        let pid = Int32((try? String(contentsOfFile: dir.path + "/bg", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1
        #expect(pid > 1)
        // Killed (SIGKILL lands asynchronously; it may stay a zombie of init for a moment).
        let deadline = Date().addingTimeInterval(5)
        var gone = false
        while !gone && Date() < deadline {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            gone = stat.isEmpty || stat.contains(") Z ")
            if !gone { usleep(10_000) }
        }
        #expect(gone)
    }
}
