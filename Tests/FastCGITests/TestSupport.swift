import FastCGI

/// Byte builders for hand-made record streams (valid or deliberately not).
enum Wire {
    static func record(_ type: UInt8, _ id: UInt16, _ content: [UInt8] = [], padding: UInt8 = 0, version: UInt8 = 1) -> [UInt8] {
        precondition(content.count <= 65535)
        var out = RecordHeader(version: version, type: type, requestID: id, contentLength: UInt16(content.count),
                               paddingLength: padding).encode()
        out += content
        out += [UInt8](repeating: 0xAA, count: Int(padding))
        return out
    }

    static func record(_ type: RecordType, _ id: UInt16, _ content: [UInt8] = [], padding: UInt8 = 0) -> [UInt8] {
        record(type.rawValue, id, content, padding: padding)
    }

    static func begin(_ id: UInt16, role: UInt16 = 1, keep: Bool = false) -> [UInt8] {
        record(.beginRequest, id, [UInt8(role >> 8), UInt8(role & 0xff), keep ? 1 : 0, 0, 0, 0, 0, 0])
    }

    static func params(_ id: UInt16, _ pairs: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        Records.appendStream(type: .params, requestID: id, content: NameValuePairs.encode(pairs), to: &out)
        return out
    }

    static func stdin(_ id: UInt16, _ body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        Records.appendStream(type: .stdin, requestID: id, content: body, to: &out)
        return out
    }

    /// A whole responder request.
    static func request(_ id: UInt16 = 1, _ pairs: [(String, String)], body: [UInt8] = [], keep: Bool = false) -> [UInt8] {
        begin(id, keep: keep) + params(id, pairs) + stdin(id, body)
    }
}

/// A typical request as nginx's `fastcgi_params` (plus SCRIPT_FILENAME and a few headers) sends it.
let nginxParams: [(String, String)] = [
    ("SCRIPT_FILENAME", "/var/www/html/index.php"), ("QUERY_STRING", "page=2&sort=desc"),
    ("REQUEST_METHOD", "GET"), ("CONTENT_TYPE", ""), ("CONTENT_LENGTH", ""),
    ("SCRIPT_NAME", "/index.php"), ("REQUEST_URI", "/index.php?page=2&sort=desc"),
    ("DOCUMENT_URI", "/index.php"), ("DOCUMENT_ROOT", "/var/www/html"), ("SERVER_PROTOCOL", "HTTP/1.1"),
    ("REQUEST_SCHEME", "http"), ("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_SOFTWARE", "nginx/1.22.1"),
    ("REMOTE_ADDR", "127.0.0.1"), ("REMOTE_PORT", "52344"), ("REMOTE_USER", ""),
    ("SERVER_ADDR", "127.0.0.1"), ("SERVER_PORT", "80"), ("SERVER_NAME", "localhost"),
    ("REDIRECT_STATUS", "200"), ("HTTP_HOST", "localhost"), ("HTTP_USER_AGENT", "curl/7.88.1"),
    ("HTTP_ACCEPT", "*/*"), ("HTTP_ACCEPT_ENCODING", "gzip, deflate"), ("HTTP_CONNECTION", "keep-alive"),
]

let testManagement = ManagementValues(maxConns: 5, maxReqs: 5)

/// Events with slices copied to arrays (slices share the parser's buffer).
enum Event: Equatable, CustomStringConvertible {
    case begin(UInt16, Role, Bool)
    case params([([UInt8], [UInt8])])
    case stdin([UInt8])
    case stdinEnd
    case data([UInt8])
    case dataEnd
    case abort(UInt16)
    case reply([UInt8])
    case error(FastCGIError)

    init(_ e: ParserEvent) {
        switch e {
        case .begin(let id, let role, let keep): self = .begin(id, role, keep)
        case .params(let p): self = .params(p.bytePairs)
        case .stdin(let s): self = .stdin(Array(s))
        case .stdinEnd: self = .stdinEnd
        case .data(let s): self = .data(Array(s))
        case .dataEnd: self = .dataEnd
        case .abort(let id): self = .abort(id)
        case .reply(let r): self = .reply(r)
        }
    }

    static func == (a: Event, b: Event) -> Bool {
        switch (a, b) {
        case let (.begin(x, y, z), .begin(u, v, w)): return x == u && y == v && z == w
        case let (.params(x), .params(y)): return x.elementsEqual(y) { $0.0 == $1.0 && $0.1 == $1.1 }
        case let (.stdin(x), .stdin(y)), let (.data(x), .data(y)), let (.reply(x), .reply(y)): return x == y
        case (.stdinEnd, .stdinEnd), (.dataEnd, .dataEnd): return true
        case let (.abort(x), .abort(y)): return x == y
        case let (.error(x), .error(y)): return x == y
        default: return false
        }
    }

    var description: String {
        switch self {
        case .params(let p): return "params(\(p.map { "\(String(decoding: $0.0, as: UTF8.self))=\(String(decoding: $0.1, as: UTF8.self))" }))"
        case .stdin(let b): return "stdin(\(b.count) bytes)"
        case .data(let b): return "data(\(b.count) bytes)"
        case .reply(let r): return "reply(\(r))"
        case .begin(let id, let role, let keep): return "begin(\(id), \(role), keep: \(keep))"
        case .stdinEnd: return "stdinEnd"
        case .dataEnd: return "dataEnd"
        case .abort(let id): return "abort(\(id))"
        case .error(let e): return "error(\(e))"
        }
    }
}

/// Feeds `stream` to a parser in pieces cut at `cuts` (sorted offsets) and collects every event;
/// an error ends the list. Calls `requestFinished()` after each `stdinEnd` when `finishRequests`.
func parse(
    _ stream: [UInt8], cuts: [Int] = [], limits: ParserLimits = .init(), roles: Set<Role> = [.responder],
    finishRequests: Bool = true
) -> [Event] {
    var parser = RequestParser(limits: limits, management: testManagement, acceptedRoles: roles)
    var events: [Event] = []
    var start = 0
    for end in cuts + [stream.count] where end >= start {
        parser.append(Array(stream[start..<end]))
        start = end
        do {
            while let e = try parser.nextEvent() {
                events.append(Event(e))
                if case .stdinEnd = e, finishRequests { parser.requestFinished() }
            }
        } catch {
            events.append(.error(error))
            return events
        }
    }
    return events
}

/// The error parsing `stream` ends with, if any.
func parseError(_ stream: [UInt8], limits: ParserLimits = .init(), roles: Set<Role> = [.responder]) -> FastCGIError? {
    if case .error(let e)? = parse(stream, limits: limits, roles: roles).last { return e }
    return nil
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
