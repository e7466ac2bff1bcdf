// The client side on one connection: queue background jobs (what a FastCGI handler or the
// UDF does), run a job and wait for its result, echo, and ask a job's status.

import Gearman

/// How a foreground job ended, with everything the worker sent about it on the way.
public struct GearmanJobResult: Equatable, Sendable {
    public enum Outcome: Equatable, Sendable {
        /// WORK_COMPLETE, with its result.
        case complete([UInt8])
        /// WORK_FAIL (also what a worker's exception becomes without the `exceptions` option).
        case failed
        /// WORK_EXCEPTION, with its message (the client asked for exceptions).
        case exception([UInt8])
    }

    public var handle: String
    public var outcome: Outcome
    /// WORK_DATA parts, in order.
    public var data: [[UInt8]] = []
    /// WORK_WARNING parts, in order.
    public var warnings: [[UInt8]] = []
    /// WORK_STATUS reports, in order.
    public var progress: [(numerator: Int, denominator: Int)] = []

    public static func == (a: GearmanJobResult, b: GearmanJobResult) -> Bool {
        a.handle == b.handle && a.outcome == b.outcome && a.data == b.data && a.warnings == b.warnings
            && a.progress.map(\.numerator) == b.progress.map(\.numerator) && a.progress.map(\.denominator) == b.progress.map(\.denominator)
    }
}

/// A Gearman client on one connection to one job server; one job at a time.
public final class GearmanClient {
    public let connection: GearmanConnection

    /// Connects to `server`; `exceptions` sends OPTION_REQ "exceptions" first so that a
    /// worker's WORK_EXCEPTION reaches `submit` as such.
    public init(server: GearmanServerAddress, timeout: Double = 10, exceptions: Bool = false,
                limits: GearmanLimits = GearmanLimits()) throws(GearmanClientError) {
        connection = try GearmanConnection(server: server, timeout: timeout, limits: limits)
        if exceptions { try setOption("exceptions") }
    }

    public func close() { connection.close() }

    /// Queues a background job; returns its handle once the server has it (JOB_CREATED).
    @discardableResult
    public func submitBackground(function: String, payload: [UInt8], unique: String = "",
                                 priority: GearmanPriority = .normal) throws(GearmanClientError) -> String {
        try send(GearmanSubmission(function: function, unique: unique, payload: payload, priority: priority, background: true))
        return try awaitCreated()
    }

    /// Runs a job and waits for its end (within the connection's timeout for each packet).
    public func submit(function: String, payload: [UInt8], unique: String = "",
                       priority: GearmanPriority = .normal) throws(GearmanClientError) -> GearmanJobResult {
        try send(GearmanSubmission(function: function, unique: unique, payload: payload, priority: priority, background: false))
        let handle = try awaitCreated()
        var result = GearmanJobResult(handle: handle, outcome: .failed)
        while true {
            let response = try connection.receive()
            switch response {
            case .workComplete(let h, let bytes) where h == handle:
                result.outcome = .complete(bytes)
                return result
            case .workFail(let h) where h == handle:
                return result
            case .workException(let h, let message) where h == handle:
                result.outcome = .exception(message)
                return result
            case .workData(let h, let bytes) where h == handle: result.data.append(bytes)
            case .workWarning(let h, let bytes) where h == handle: result.warnings.append(bytes)
            case .workStatus(let h, let n, let d) where h == handle: result.progress.append((n, d))
            case .error(let code, let text): throw .serverError(code: code, text: text)
            case _ where Self.isLateReport(response): continue
            default: throw .protocolError(.unexpectedPacket(response.packet.type))
            }
        }
    }

    /// GET_STATUS for a job handle.
    public func status(handle: String) throws(GearmanClientError) -> GearmanJobStatus {
        try GearmanClientError.check(handle, "job handle", nonEmpty: true, maxLength: 64)
        try connection.send(.getStatus(handle: handle))
        switch try connection.receive() {
        case .statusRes(let status): return status
        case .error(let code, let text): throw .serverError(code: code, text: text)
        case let other: throw .protocolError(.unexpectedPacket(other.packet.type))
        }
    }

    /// ECHO_REQ → ECHO_RES.
    public func echo(_ bytes: [UInt8]) throws(GearmanClientError) -> [UInt8] {
        try connection.send(.echoReq(bytes))
        switch try connection.receive() {
        case .echoRes(let back): return back
        case .error(let code, let text): throw .serverError(code: code, text: text)
        case let other: throw .protocolError(.unexpectedPacket(other.packet.type))
        }
    }

    /// OPTION_REQ; the server confirms with OPTION_RES or refuses with ERROR.
    public func setOption(_ name: String) throws(GearmanClientError) {
        try GearmanClientError.check(name, "option", nonEmpty: true)
        try connection.send(.optionReq(name))
        switch try connection.receive() {
        case .optionRes: return
        case .error(let code, let text): throw .serverError(code: code, text: text)
        case let other: throw .protocolError(.unexpectedPacket(other.packet.type))
        }
    }

    private func send(_ submission: GearmanSubmission) throws(GearmanClientError) {
        try GearmanClientError.check(submission.function, "function name", nonEmpty: true)
        try GearmanClientError.check(submission.unique, "unique id", nonEmpty: false, maxLength: 64)
        try connection.send(.submit(submission))
    }

    private func awaitCreated() throws(GearmanClientError) -> String {
        while true {
            let response = try connection.receive()
            switch response {
            case .jobCreated(let handle): return handle
            case .error(let code, let text): throw .serverError(code: code, text: text)
            case _ where Self.isLateReport(response): continue
            case let other: throw .protocolError(.unexpectedPacket(other.packet.type))
            }
        }
    }

    /// A report about an earlier job of this connection that came after `submit` returned: the
    /// WORK_FAIL a worker sends after its WORK_EXCEPTION (gearmand forwards both to a client that
    /// asked for exceptions). Passed over.
    static func isLateReport(_ response: GearmanResponse) -> Bool {
        switch response {
        case .workComplete, .workFail, .workException, .workData, .workWarning, .workStatus: true
        default: false
        }
    }
}
