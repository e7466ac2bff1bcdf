import FPMSystem
import FastCGI
import FastCGIClient
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

// Differential test: the same byte streams go to libfcgi (Tests/Oracle/fcgi_oracle.c, built
// here with the system's libfcgi-dev) and to RequestParser; both must accept with the same
// params and body, or both reject. Streams where we are deliberately stricter (or differ) than
// libfcgi are listed with `.diverges(reason)` and checked to diverge the documented way, so a
// change on either side shows up.

/// What one implementation made of a stream.
enum Reading: Equatable, CustomStringConvertible {
    /// Params as sorted "name=value" byte strings (libfcgi's environment form), body length
    /// and FNV-1a 64 hash.
    case accepted(params: [[UInt8]], bodyLength: Int, bodyHash: UInt64)
    case rejected(String)

    var isAccepted: Bool { if case .accepted = self { return true } else { return false } }

    var description: String {
        switch self {
        case .accepted(let p, let n, let h):
            return "accepted(\(p.count) params \(p.prefix(4).map { String(decoding: $0, as: UTF8.self).prefix(40) })…, body \(n) bytes #\(String(h, radix: 16)))"
        case .rejected(let why): return "rejected(\(why))"
        }
    }
}

func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var h: UInt64 = 1469598103934665603
    for b in bytes { h = (h ^ UInt64(b)) &* 1099511628211 }
    return h
}

/// RequestParser's reading: the first request up to its stdinEnd, as libfcgi would expose it
/// (libfcgi adds FCGI_ROLE=RESPONDER to the environment of every responder request).
func parserReading(_ stream: [UInt8]) -> Reading {
    var parser = RequestParser(management: ManagementValues(maxConns: 1, maxReqs: 1))
    parser.append(stream)
    var params: [[UInt8]] = []
    var body: [UInt8] = []
    var role = Role.responder
    do {
        while let event = try parser.nextEvent() {
            switch event {
            case .begin(_, let r, _): role = r
            case .params(let p):
                p.forEachBytes { params.append(Array($0) + [UInt8(ascii: "=")] + Array($1)) }
            case .stdin(let s): body += s
            case .abort: return .rejected("aborted by the server")
            case .stdinEnd:
                params.append(Array("FCGI_ROLE=\(role == .responder ? "RESPONDER" : "\(role)".uppercased())".utf8))
                return .accepted(params: params.sorted { $0.lexicographicallyPrecedes($1) }, bodyLength: body.count, bodyHash: fnv1a(body))
            default: continue
            }
        }
        return .rejected("stream ended before the request did")
    } catch {
        return .rejected("\(error)")
    }
}

/// The oracle binary, compiled once per test process.
enum Oracle {
    static let binary: Result<String, OracleError> = build()

    struct OracleError: Error, CustomStringConvertible {
        var description: String
    }

    static func build() -> Result<String, OracleError> {
        guard FileManager.default.fileExists(atPath: "/usr/include/fcgiapp.h") else {
            return .failure(OracleError(description:
                "/usr/include/fcgiapp.h is missing: install libfcgi-dev (`make test` does: `make deps`)"))
        }
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Oracle/fcgi_oracle.c").path
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fcgi-oracle-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let out = dir.appendingPathComponent("fcgi_oracle").path
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-O1", "-o", out, source, "-lfcgi"]
        let err = Pipe()
        cc.standardError = err
        do { try cc.run() } catch { return .failure(OracleError(description: "cannot run cc: \(error)")) }
        let msg = err.fileHandleForReading.readDataToEndOfFile()
        cc.waitUntilExit()
        guard cc.terminationStatus == 0 else {
            return .failure(OracleError(description: "building the libfcgi oracle failed:\n\(String(decoding: msg, as: UTF8.self))"))
        }
        return .success(out)
    }

    /// libfcgi's reading of `stream`: the oracle gets a listening unix socket as fd 0; we
    /// connect, send, half-close, and wait (deadline) for it to exit.
    static func reading(_ stream: [UInt8], deadline: Double = 10) throws -> Reading {
        let binary = try binary.get()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fcgi-o-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/o.sock"
        let listenFD = try Socket.listenUnix(path: path, backlog: 8, mode: 0o600, owner: nil, group: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        let listenHandle = FileHandle(fileDescriptor: listenFD, closeOnDealloc: true)
        process.standardInput = listenHandle
        let output = Pipe()
        process.standardOutput = output
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        // Drain the oracle's output while it runs (a long parameter overflows the pipe).
        let collected = OutputBox()
        let drained = DispatchSemaphore(value: 0)
        let reader = output.fileHandleForReading
        Thread {
            collected.set(reader.readDataToEndOfFile())
            drained.signal()
        }.start()
        try process.run()
        try? listenHandle.close()  // the oracle has its copy as fd 0
        try? output.fileHandleForWriting.close()

        let client = try FastCGIClient(connectingTo: .unix(path), timeout: deadline)
        // The oracle may stop reading early (it rejected, or the body ended); a failed send
        // is then expected, and what it printed decides.
        try? client.sendRaw(stream)
        try? client.shutdownWrite()
        if exited.wait(timeout: .now() + deadline) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            _ = exited.wait(timeout: .now() + 5)
            client.close()
            _ = drained.wait(timeout: .now() + 5)
            return .rejected("libfcgi oracle hung (killed after \(deadline) s)")
        }
        client.close()
        guard drained.wait(timeout: .now() + deadline) == .success else { return .rejected("oracle output never closed") }
        let text = String(decoding: collected.get(), as: UTF8.self)
        var lines = text.split(separator: "\n").map(String.init)
        guard lines.first == "OK" else { return .rejected(lines.first ?? "no output, status \(process.terminationStatus)") }
        lines.removeFirst()
        var params: [[UInt8]] = []
        var length = -1
        var hash: UInt64 = 0
        for line in lines {
            if line.hasPrefix("P ") {
                params.append(hexBytes(line.dropFirst(2)))
            } else if line.hasPrefix("B ") {
                let f = line.split(separator: " ")
                length = Int(f[1])!
                hash = UInt64(f[2], radix: 16)!
            }
        }
        return .accepted(params: params.sorted { $0.lexicographicallyPrecedes($1) }, bodyLength: length, bodyHash: hash)
    }

    static func hexBytes(_ s: Substring) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }
}

final class OutputBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}

/// One stream of the corpus and what is expected of the two readings.
struct DifferentialCase: CustomTestStringConvertible, Sendable {
    enum Expectation: Sendable {
        /// Both accept with identical params and body.
        case bothAccept
        /// Both reject.
        case bothReject
        /// libfcgi accepts, RequestParser rejects, on purpose: `reason` says why.
        case strictlyRejected(reason: String)
        /// RequestParser accepts what libfcgi rejects: the stream is valid FastCGI (or a
        /// php-fpm tolerance) and libfcgi fails on it; `reason` says how.
        case libfcgiRejects(reason: String)
        /// Both accept but libfcgi reads different params or body; `reason` says why ours is right.
        case libfcgiMisreads(reason: String)
    }

    var name: String
    var stream: [UInt8]
    var expectation: Expectation
    /// For the divergent cases RequestParser accepts: a plain stream of the same request, which
    /// libfcgi reads correctly; our reading of `stream` must equal libfcgi's of this one.
    var equivalent: [UInt8]? = nil
    var testDescription: String { name }
}

let differentialCorpus: [DifferentialCase] = {
    func enc(_ pairs: [(String, String)]) -> [UInt8] { NameValuePairs.encode(pairs) }
    let p = enc(nginxParams)
    let mid = p.count / 2
    let body = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    var cases: [DifferentialCase] = []
    func ok(_ name: String, _ s: [UInt8]) { cases.append(.init(name: name, stream: s, expectation: .bothAccept)) }
    func bad(_ name: String, _ s: [UInt8]) { cases.append(.init(name: name, stream: s, expectation: .bothReject)) }
    func strict(_ name: String, _ s: [UInt8], _ why: String) {
        cases.append(.init(name: name, stream: s, expectation: .strictlyRejected(reason: why)))
    }
    func theyReject(_ name: String, _ s: [UInt8], _ why: String, same: [UInt8]) {
        cases.append(.init(name: name, stream: s, expectation: .libfcgiRejects(reason: why), equivalent: same))
    }
    func theyMisread(_ name: String, _ s: [UInt8], _ why: String, same: [UInt8]) {
        cases.append(.init(name: name, stream: s, expectation: .libfcgiMisreads(reason: why), equivalent: same))
    }

    // Valid streams.
    ok("nginx request, no body", Wire.request(1, nginxParams))
    ok("request id 0x1234 with keep-conn", Wire.request(0x1234, nginxParams, keep: true))
    ok("no params at all", Wire.request(1, []))
    ok("params over several records, a pair spanning two", Wire.begin(1) + Wire.record(.params, 1, Array(p[..<mid]))
        + Wire.record(.params, 1, Array(p[mid...])) + Wire.record(.params, 1) + Wire.stdin(1, []))
    ok("params one byte per record", Wire.begin(1) + p.prefix(200).flatMap { Wire.record(.params, 1, [$0]) }
        + Wire.record(.params, 1, Array(p.dropFirst(200))) + Wire.record(.params, 1) + Wire.stdin(1, []))
    ok("padded PARAMS and STDIN records", Wire.begin(1) + Wire.record(.params, 1, p, padding: 7) + Wire.record(.params, 1)
        + Wire.record(.stdin, 1, [1, 2, 3], padding: 5) + Wire.record(.stdin, 1, padding: 1))
    for n in [127, 128, 129, 300, 65535, 70_000] {
        ok("name and value of \(n) bytes", Wire.request(1, [(String(repeating: "N", count: n), String(repeating: "v", count: n)), ("X", "y")]))
    }
    ok("non-minimal 4-byte lengths", Wire.begin(1) + Wire.record(.params, 1, [0x80, 0, 0, 1, 0x80, 0, 0, 2] + bytes("Kvv"))
        + Wire.record(.params, 1) + Wire.stdin(1, []))
    ok("empty value and duplicate names", Wire.request(1, [("A", ""), ("B", "1"), ("B", "2")]))
    ok("non-UTF-8 value bytes", Wire.begin(1) + Wire.record(.params, 1, [1, 3, 65, 0xFF, 0xC0, 0x80]) + Wire.record(.params, 1) + Wire.stdin(1, []))
    ok("body in several records", Wire.begin(1) + Wire.params(1, nginxParams)
        + Wire.record(.stdin, 1, bytes("hello ")) + Wire.record(.stdin, 1, bytes("world")) + Wire.record(.stdin, 1))
    ok("200 KB body", Wire.request(1, nginxParams, body: body))
    ok("GET_VALUES before BEGIN", Wire.record(.getValues, 0, enc([("FCGI_MAX_CONNS", "")])) + Wire.request(1, nginxParams))
    ok("GET_VALUES between PARAMS records", Wire.begin(1) + Wire.record(.params, 1, p)
        + Wire.record(.getValues, 0, enc([("FCGI_MPXS_CONNS", "")])) + Wire.record(.params, 1) + Wire.stdin(1, [9]))
    ok("empty unknown management record before BEGIN", Wire.record(200, 0) + Wire.request(1, nginxParams))
    ok("second request id while busy is refused (no empty records for it), first completes",
       Wire.begin(1) + Wire.begin(2) + Wire.record(.params, 2, enc([("Z", "z")])) + Wire.params(1, nginxParams)
        + Wire.record(.stdin, 2, [5]) + Wire.stdin(1, [6, 7]))
    ok("records after the request are not read", Wire.request(1, nginxParams) + [0xFF, 0xFF, 0xFF])

    // Malformed streams both reject.
    bad("empty stream", [])
    bad("version 0", Wire.record(1, 1, [0, 1, 0, 0, 0, 0, 0, 0], version: 0) + Wire.params(1, []) + Wire.stdin(1, []))
    bad("version 2", Wire.record(1, 1, [0, 1, 0, 0, 0, 0, 0, 0], version: 2) + Wire.params(1, []) + Wire.stdin(1, []))
    bad("header cut short", Array(Wire.begin(1).prefix(5)))
    bad("BEGIN body cut short at EOF", Array(Wire.begin(1).prefix(12)))
    bad("PARAMS never ended", Wire.begin(1) + Wire.record(.params, 1, p))
    bad("PARAMS record cut short at EOF", Wire.begin(1) + Array(Wire.record(.params, 1, p).prefix(40)))
    bad("truncated name-value pair", Wire.begin(1) + Wire.record(.params, 1, [4, 1] + bytes("NAM")) + Wire.record(.params, 1) + Wire.stdin(1, []))
    bad("4-byte length past the end", Wire.begin(1) + Wire.record(.params, 1, [1, 0x80, 0, 1, 0, 65] + bytes("abc"))
        + Wire.record(.params, 1) + Wire.stdin(1, []))
    bad("value length 2^31-1", Wire.begin(1) + Wire.record(.params, 1, [1, 0xFF, 0xFF, 0xFF, 0xFF, 65]) + Wire.record(.params, 1) + Wire.stdin(1, []))
    bad("STDIN before PARAMS ended", Wire.begin(1) + Wire.record(.params, 1, p) + Wire.record(.stdin, 1, [1]) + Wire.record(.params, 1) + Wire.stdin(1, []))
    bad("BEGIN followed by STDIN only", Wire.begin(1) + Wire.stdin(1, [1, 2]))
    bad("BEGIN body of 7 bytes", Wire.record(.beginRequest, 1, [0, 1, 0, 0, 0, 0, 0]) + Wire.params(1, []) + Wire.stdin(1, []))
    bad("BEGIN on request id 0", Wire.begin(0) + Wire.params(0, []) + Wire.stdin(0, []))
    bad("PARAMS after the PARAMS stream ended", Wire.begin(1) + Wire.params(1, nginxParams)
        + Wire.record(.params, 1, enc([("LATE", "1")])) + Wire.stdin(1, []))
    bad("STDOUT record sent to the application", Wire.begin(1) + Wire.record(.stdout, 1, [1]) + Wire.params(1, []) + Wire.stdin(1, []))
    bad("undefined record type on the request id", Wire.begin(1) + Wire.record(42, 1, [1]) + Wire.params(1, []) + Wire.stdin(1, []))
    bad("ABORT_REQUEST while params are read", Wire.begin(1) + Wire.record(.params, 1, p) + Wire.record(.abortRequest, 1)
        + Wire.record(.params, 1) + Wire.stdin(1, []))
    bad("STDIN never ended", Wire.begin(1) + Wire.params(1, nginxParams) + Wire.record(.stdin, 1, [1, 2, 3]))
    bad("STDIN record cut short at EOF", Wire.begin(1) + Wire.params(1, nginxParams) + Array(Wire.record(.stdin, 1, [1, 2, 3]).prefix(10)))

    // Deliberately stricter than libfcgi.
    strict("PARAMS for an unknown request id inside a request", Wire.begin(1) + Wire.record(.params, 7, enc([("X", "1")]))
        + Wire.params(1, nginxParams) + Wire.stdin(1, []),
        "libfcgi skips records of any other id; a record for an id never begun is a broken or hostile peer")
    strict("a second BEGIN_REQUEST for the active id", Wire.begin(1) + Wire.begin(1) + Wire.params(1, nginxParams) + Wire.stdin(1, []),
        "libfcgi answers CANT_MPX_CONN to its own id and carries on; the peer is confused about the request")
    strict("FILTER role by default", Wire.begin(1, role: 3) + Wire.params(1, nginxParams) + Wire.stdin(1, []) + Wire.record(.data, 1),
        "libfcgi accepts every role; we answer UNKNOWN_ROLE for roles not configured (responder only by default)")
    strict("AUTHORIZER role by default", Wire.begin(1, role: 2) + Wire.params(1, nginxParams) + Wire.stdin(1, []),
        "libfcgi accepts every role; we answer UNKNOWN_ROLE for roles not configured")
    strict("params over 256 KiB", Wire.request(1, [("BIG", String(repeating: "b", count: 300_000))]),
        "libfcgi has no bound on params; ParserLimits.maxParamsBytes defaults to 256 KiB")

    // RequestParser accepts valid streams libfcgi fails on.
    theyReject("padding after BEGIN_REQUEST", Wire.record(.beginRequest, 1, [0, 1, 0, 0, 0, 0, 0, 0], padding: 3)
        + Wire.params(1, nginxParams) + Wire.stdin(1, []),
        "padding is legal on every record; libfcgi never skips a BEGIN_REQUEST's padding and reads it as the next header",
        same: Wire.request(1, nginxParams))
    theyReject("padding on the empty PARAMS record", Wire.begin(1) + Wire.record(.params, 1, p) + Wire.record(.params, 1, padding: 255)
        + Wire.stdin(1, []),
        "libfcgi resets the padding count when it switches from PARAMS to STDIN, so the padding is read as a header",
        same: Wire.request(1, nginxParams))
    theyReject("unknown management record with content before BEGIN", Wire.record(200, 0, [1, 2, 3]) + Wire.request(1, nginxParams),
        "libfcgi answers UNKNOWN_TYPE but does not skip the record's content, which it then reads as a header",
        same: Wire.request(1, nginxParams))
    theyReject("empty STDIN records before BEGIN", Wire.record(.stdin, 1) + Wire.record(.stdin, 1) + Wire.request(1, nginxParams, body: [1]),
        "php-fpm skips empty STDIN records before BEGIN_REQUEST (servers send them); we do as php-fpm, libfcgi rejects",
        same: Wire.request(1, nginxParams, body: [1]))

    // Both accept; libfcgi reads the wrong params or body.
    theyMisread("empty records of a refused request id", Wire.begin(1) + Wire.begin(2) + Wire.params(2, [("Z", "z")])
        + Wire.params(1, nginxParams) + Wire.stdin(2, [5]) + Wire.stdin(1, [6, 7]),
        "after skipping an empty record of another id libfcgi keeps skipping, dropping the next record's content of the real request",
        same: Wire.request(1, nginxParams, body: [6, 7]))
    return cases
}()

@Suite("Differential: RequestParser vs libfcgi")
struct LibfcgiDifferentialTests {
    @Test("the libfcgi oracle builds (needs libfcgi-dev)")
    func oracleBuilds() throws {
        _ = try Oracle.binary.get()
    }

    @Test("both readings agree, or differ only where documented", arguments: differentialCorpus)
    func agree(_ c: DifferentialCase) throws {
        let ours = parserReading(c.stream)
        let theirs = try Oracle.reading(c.stream)
        switch c.expectation {
        case .bothAccept:
            #expect(ours.isAccepted, "RequestParser: \(ours)")
            #expect(ours == theirs, "RequestParser: \(ours)\nlibfcgi: \(theirs)")
        case .bothReject:
            #expect(!ours.isAccepted, "RequestParser: \(ours)")
            #expect(!theirs.isAccepted, "libfcgi: \(theirs)")
        case .strictlyRejected(let reason):
            #expect(!ours.isAccepted, "RequestParser should reject (\(reason)): \(ours)")
            #expect(theirs.isAccepted, "libfcgi no longer accepts (\(reason)): \(theirs)")
        case .libfcgiRejects(let reason):
            #expect(ours.isAccepted, "RequestParser should accept (\(reason)): \(ours)")
            #expect(!theirs.isAccepted, "libfcgi now accepts (\(reason)): \(theirs)")
        case .libfcgiMisreads(let reason):
            #expect(ours.isAccepted && theirs.isAccepted, "RequestParser: \(ours)\nlibfcgi: \(theirs)")
            #expect(ours != theirs, "libfcgi now reads it as we do (\(reason))")
        }
        if let equivalent = c.equivalent {
            // What we read must be what libfcgi reads from the same request without the quirk.
            #expect(ours == (try Oracle.reading(equivalent)), "RequestParser vs libfcgi on the plain equivalent")
        }
    }
}
