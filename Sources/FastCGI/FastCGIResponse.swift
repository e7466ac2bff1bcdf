/// What an application answered to one request: its two output streams and END_REQUEST, and
/// the CGI reading of STDOUT (headers, a blank line, the body).
public struct FastCGIResponse: Sendable, Equatable {
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var appStatus: UInt32
    public var protocolStatus: ProtocolStatus
    /// From the `Status:` header (`Status: 404 Not Found` → 404); 200 without one.
    public var status: Int
    /// The CGI headers of STDOUT, in order. Empty when STDOUT has no blank line ending headers.
    public var headers: [(String, String)]
    /// STDOUT after the blank line; all of STDOUT when it has no header block.
    public var body: [UInt8]

    public init(stdout: [UInt8], stderr: [UInt8] = [], appStatus: UInt32 = 0, protocolStatus: ProtocolStatus = .requestComplete) {
        self.stdout = stdout
        self.stderr = stderr
        self.appStatus = appStatus
        self.protocolStatus = protocolStatus
        (headers, body) = Self.splitCGI(stdout)
        status = 200
        if let s = headers.last(where: { $0.0.lowercased() == "status" })?.1,
           let code = Int(s.prefix(while: { $0 >= "0" && $0 <= "9" })) {
            status = code
        }
    }

    /// The last value of header `name` (case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.last(where: { $0.0.lowercased() == lower })?.1
    }

    /// The body as UTF-8 text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    public static func == (a: FastCGIResponse, b: FastCGIResponse) -> Bool {
        a.stdout == b.stdout && a.stderr == b.stderr && a.appStatus == b.appStatus && a.protocolStatus == b.protocolStatus
    }

    /// Splits at the first empty line (`\r\n\r\n` or `\n\n`).
    static func splitCGI(_ out: [UInt8]) -> ([(String, String)], [UInt8]) {
        var i = 0
        var lineStart = 0
        var headerEnd = -1
        var bodyStart = 0
        while i < out.count {
            if out[i] == UInt8(ascii: "\n") {
                var lineEnd = i
                if lineEnd > lineStart && out[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                if lineEnd == lineStart {
                    headerEnd = lineStart
                    bodyStart = i + 1
                    break
                }
                lineStart = i + 1
            }
            i += 1
        }
        guard headerEnd >= 0 else { return ([], out) }
        var headers: [(String, String)] = []
        for rawLine in out[..<headerEnd].split(separator: UInt8(ascii: "\n")) {
            var line = rawLine[...]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = String(decoding: line[..<colon], as: UTF8.self)
            let value = String(decoding: line[(colon + 1)...].drop(while: { $0 == 32 || $0 == 9 }), as: UTF8.self)
            headers.append((name, value))
        }
        return (headers, Array(out[bodyStart...]))
    }
}
