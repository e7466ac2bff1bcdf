/// gearmand's text protocol on the same port (the first byte not NUL): commands are lines,
/// answers are one line (`OK …`, `ERR CODE message`) or a list of lines ending with `.`.
/// Commands and the shapes of their answers; `GearmanAdminReader` splits the stream.

/// An admin command.
public enum GearmanAdminCommand: Equatable, Sendable {
    /// Per function: queued jobs, running jobs, capable workers. Answer: a list.
    case status
    /// Per connection: fd, address, client id, functions. Answer: a list.
    case workers
    /// The server's version. Answer: `OK version`.
    case version
    /// The server's pid. Answer: `OK pid`.
    case getpid
    /// Sets (or with nil, resets) a function's queue bound. Answer: `OK`.
    case maxqueue(function: String, size: Int?)

    /// The line to send.
    public var line: [UInt8] {
        switch self {
        case .status: Array("status\n".utf8)
        case .workers: Array("workers\n".utf8)
        case .version: Array("version\n".utf8)
        case .getpid: Array("getpid\n".utf8)
        case .maxqueue(let f, let size): Array("maxqueue \(f)\(size.map { " \($0)" } ?? "")\n".utf8)
        }
    }

    /// Whether the answer is a list ending with `.` (else one line).
    public var answersWithList: Bool {
        switch self {
        case .status, .workers: true
        case .version, .getpid, .maxqueue: false
        }
    }
}

/// One line of `status`: `FUNCTION\tTOTAL\tRUNNING\tAVAILABLE_WORKERS`. TOTAL counts the
/// running jobs too; `waiting` is the backlog a pool manager scales on.
public struct GearmanFunctionStatus: Equatable, Sendable {
    public var function: String
    /// Jobs queued or running.
    public var total: Int
    public var running: Int
    /// Workers that registered the function.
    public var workers: Int

    public init(function: String, total: Int, running: Int, workers: Int) {
        self.function = function
        self.total = total
        self.running = running
        self.workers = workers
    }

    /// Jobs no worker has taken yet.
    public var waiting: Int { max(0, total - running) }

    /// Reads a `status` list.
    public static func parse(_ lines: [String]) throws(GearmanError) -> [GearmanFunctionStatus] {
        var result: [GearmanFunctionStatus] = []
        result.reserveCapacity(lines.count)
        for line in lines {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 4, !f[0].isEmpty, let total = Int(f[1]), let running = Int(f[2]), let workers = Int(f[3]),
                  total >= 0, running >= 0, workers >= 0
            else { throw .malformedAdminLine(line) }
            result.append(GearmanFunctionStatus(function: String(f[0]), total: total, running: running, workers: workers))
        }
        return result
    }
}

/// One line of `workers`: `FD IP-ADDRESS CLIENT-ID : FUNCTION ...` (the client id is `-` when
/// none was set). Every connection is listed, clients and admin ones too (with no functions).
public struct GearmanWorkerStatus: Equatable, Sendable {
    public var fd: Int
    public var address: String
    public var clientID: String
    public var functions: [String]

    public init(fd: Int, address: String, clientID: String, functions: [String]) {
        self.fd = fd
        self.address = address
        self.clientID = clientID
        self.functions = functions
    }

    /// Reads a `workers` list.
    public static func parse(_ lines: [String]) throws(GearmanError) -> [GearmanWorkerStatus] {
        var result: [GearmanWorkerStatus] = []
        for line in lines {
            let words = line.split(separator: " ")
            guard words.count >= 4, words[3] == ":", let fd = Int(words[0]) else { throw .malformedAdminLine(line) }
            result.append(GearmanWorkerStatus(fd: fd, address: String(words[1]), clientID: String(words[2]),
                                              functions: words.dropFirst(4).map(String.init)))
        }
        return result
    }
}

/// Splits an admin answer stream into lines (LF or CRLF), in any chunking, bounded by the
/// limits. An `ERR` line ends a list early and is thrown as `.adminError`.
public struct GearmanAdminReader: Sendable {
    public let limits: GearmanLimits
    private var buffer: [UInt8] = []
    private var list: [String] = []

    public init(limits: GearmanLimits = GearmanLimits()) {
        self.limits = limits
    }

    public var bufferedCount: Int { buffer.count }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next line without its end, nil until one is whole.
    public mutating func nextLine() throws(GearmanError) -> String? {
        guard let lf = buffer.firstIndex(of: 0x0A) else {
            if buffer.count > limits.maxAdminLine { throw .adminResponseTooLarge(limit: limits.maxAdminLine) }
            return nil
        }
        guard lf <= limits.maxAdminLine else { throw .adminResponseTooLarge(limit: limits.maxAdminLine) }
        var lineEnd = lf
        if lineEnd > 0 && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        let line = String(decoding: buffer[0..<lineEnd], as: UTF8.self)
        buffer.removeSubrange(0...lf)
        return line
    }

    /// A one-line answer: what follows `OK ` (empty for a bare `OK`). Throws `.adminError`
    /// for `ERR`, `.malformedAdminLine` for anything else.
    public mutating func nextReply() throws(GearmanError) -> String? {
        guard let line = try nextLine() else { return nil }
        if line == "OK" { return "" }
        if line.hasPrefix("OK ") { return String(line.dropFirst(3)) }
        throw Self.error(line) ?? .malformedAdminLine(line)
    }

    /// A whole list (the lines before the `.`), nil until the `.` has arrived.
    public mutating func nextList() throws(GearmanError) -> [String]? {
        while let line = try nextLine() {
            if line == "." {
                defer { list = [] }
                return list
            }
            if list.isEmpty, let error = Self.error(line) { throw error }
            guard list.count < limits.maxAdminLines else { throw .adminResponseTooLarge(limit: limits.maxAdminLines) }
            list.append(line)
        }
        return nil
    }

    /// `ERR CODE message` as an error (gearmand writes the message with `+` for spaces).
    static func error(_ line: String) -> GearmanError? {
        guard line.hasPrefix("ERR ") else { return nil }
        let rest = line.dropFirst(4)
        let code = rest.prefix { $0 != " " }
        let message = rest.dropFirst(code.count).drop { $0 == " " }.replacingOccurrences(of: "+", with: " ")
        return .adminError(code: String(code), message: message)
    }
}

private extension Substring {
    func replacingOccurrences(of target: Character, with replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
