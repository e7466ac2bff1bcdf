// The worker side of the protocol on one connection: register functions, the grab loop
// (GRAB_JOB_UNIQ → JOB_ASSIGN_UNIQ, or NO_JOB → PRE_SLEEP → wait for NOOP → grab again), and
// the reports about the job in hand. Nothing here retries or reconnects: on an error whose
// `isConnectionLost` is true the caller drops the worker, waits what `ReconnectBackoff` says
// and makes a new one; the job in hand then goes back to gearmand's queue.

import Gearman

/// A Gearman worker on one connection to one job server.
public final class GearmanWorker {
    public let connection: GearmanConnection
    /// The functions registered with CAN_DO, in order.
    public private(set) var functions: [String]
    /// Whether PRE_SLEEP was sent and no NOOP has come since.
    public private(set) var isSleeping = false

    /// Connects to `server` and registers `functions` (and `clientID`, shown by `workers`),
    /// all in one write.
    public init(server: GearmanServerAddress, functions: [String], clientID: String? = nil, timeout: Double = 10,
                limits: GearmanLimits = GearmanLimits()) throws(GearmanClientError) {
        for function in functions { try GearmanClientError.check(function, "function name", nonEmpty: true) }
        if let clientID {
            try GearmanClientError.check(clientID, "client id", nonEmpty: true)
            guard !clientID.contains(" ") else { throw .invalidArgument("client id contains a space") }
        }
        connection = try GearmanConnection(server: server, timeout: timeout, limits: limits)
        self.functions = []
        var requests = clientID.map { [GearmanRequest.setClientID($0)] } ?? []
        requests += functions.map { .canDo(function: $0) }
        try connection.send(requests)
        self.functions = functions
    }

    /// The socket, to poll along with the caller's descriptors while sleeping.
    public var fileDescriptor: Int32 { connection.fileDescriptor }

    /// Closes the connection; reports left by the `…Later` calls and not flushed are dropped
    /// (the server then hands their jobs out again).
    public func close() { connection.close() }

    // MARK: Abilities

    public func register(_ function: String) throws(GearmanClientError) {
        try GearmanClientError.check(function, "function name", nonEmpty: true)
        try connection.send(.canDo(function: function))
        functions.append(function)
    }

    public func unregister(_ function: String) throws(GearmanClientError) {
        try connection.send(.cantDo(function: function))
        functions.removeAll { $0 == function }
    }

    /// RESET_ABILITIES: the server hands this worker nothing more (before it stops).
    public func unregisterAll() throws(GearmanClientError) {
        try connection.send(.resetAbilities)
        functions = []
    }

    // MARK: The grab loop

    /// Asks for a job: the job, or nil when none is queued for this worker's functions.
    /// NOOPs that arrive meanwhile (a wake-up from an earlier sleep) are passed over.
    public func grab() throws(GearmanClientError) -> GearmanJob? {
        try connection.send(.grabJobUniq)
        isSleeping = false
        while true {
            switch try connection.receive() {
            case .noop: continue
            case .noJob: return nil
            case .jobAssignUniq(let job), .jobAssign(let job): return job
            case .error(let code, let text): throw .serverError(code: code, text: text)
            case let other: throw .protocolError(.unexpectedPacket(other.packet.type))
            }
        }
    }

    /// Sends PRE_SLEEP: the server answers with a NOOP when a job for one of the functions
    /// comes in (or is queued already).
    public func sleep() throws(GearmanClientError) {
        try connection.send(.preSleep)
        isSleeping = true
    }

    /// Waits up to `timeoutMillis` (0: only what is already readable, -1: no limit) for the
    /// NOOP after `sleep`; true once it came (grab next), false on timeout.
    public func waitForWakeUp(timeoutMillis: Int32) throws(GearmanClientError) -> Bool {
        while let response = try connection.receive(timeoutMillis: timeoutMillis) {
            switch response {
            case .noop:
                isSleeping = false
                return true
            case .error(let code, let text): throw .serverError(code: code, text: text)
            case let other: throw .protocolError(.unexpectedPacket(other.packet.type))
            }
        }
        return false
    }

    /// The loop a job worker runs between jobs: grab; if nothing is queued, sleep and wait
    /// for the wake-up in slices of `pollMillis`, asking `shouldStop` between them (a signal
    /// handler's flag). nil once `shouldStop` said true: nothing was grabbed, so nothing is
    /// owed to the server.
    /// Reports left by the `…Later` calls go out with the next grab, or before it returns nil.
    public func nextJob(pollMillis: Int32 = 1000, shouldStop: () -> Bool) throws(GearmanClientError) -> GearmanJob? {
        while true {
            if shouldStop() { try flush(); return nil }
            if let job = try grab() { return job }
            try sleep()
            repeat {
                if shouldStop() { return nil }
            } while try !waitForWakeUp(timeoutMillis: pollMillis)
        }
    }

    // MARK: Reports about the job in hand

    /// WORK_COMPLETE with the result: the job is done, the server forgets it.
    public func complete(_ job: GearmanJob, result: [UInt8] = []) throws(GearmanClientError) {
        try connection.send(.workComplete(handle: job.handle, result: result))
    }

    /// WORK_FAIL: the job is done and failed (a waiting client hears it).
    public func fail(_ job: GearmanJob) throws(GearmanClientError) {
        try connection.send(.workFail(handle: job.handle))
    }

    /// WORK_EXCEPTION: failed with a message. gearmand forwards it to clients that set the
    /// `exceptions` option and ends the job as failed for the rest.
    public func exception(_ job: GearmanJob, message: [UInt8]) throws(GearmanClientError) {
        try connection.send(.workException(handle: job.handle, exception: message))
    }

    // MARK: Reports that wait for the next grab

    /// WORK_COMPLETE as `complete` does, but written together with the next packet this worker
    /// sends (the next GRAB_JOB_UNIQ, normally): one write and one wake-up
    /// of gearmand fewer per job. Until then the job is not acknowledged: call `flush` before
    /// waiting on anything else or closing (`sleep` and `grab` carry it themselves).
    public func completeLater(_ job: GearmanJob, result: [UInt8] = []) {
        connection.enqueueEncoded { GearmanPacket.encode(.request, .workComplete, handle: job.handle, data: result, into: &$0) }
    }

    /// WORK_FAIL, sent as `completeLater` sends.
    public func failLater(_ job: GearmanJob) {
        connection.enqueueEncoded { GearmanPacket.encode(.request, .workFail, handle: job.handle, data: nil, into: &$0) }
    }

    /// WORK_EXCEPTION, sent as `completeLater` sends.
    public func exceptionLater(_ job: GearmanJob, message: [UInt8]) {
        connection.enqueueEncoded { GearmanPacket.encode(.request, .workException, handle: job.handle, data: message, into: &$0) }
    }

    /// Whether a report left by a `…Later` call is still unsent.
    public var hasPendingReport: Bool { connection.hasPendingOutput }

    /// Sends the reports the `…Later` calls left (nothing when there are none).
    public func flush() throws(GearmanClientError) {
        try connection.flush()
    }

    /// WORK_STATUS: progress, `numerator` of `denominator`.
    public func status(_ job: GearmanJob, numerator: Int, denominator: Int) throws(GearmanClientError) {
        try connection.send(.workStatus(handle: job.handle, numerator: numerator, denominator: denominator))
    }

    /// WORK_DATA: a part of the result, sent before the job completes.
    public func data(_ job: GearmanJob, _ bytes: [UInt8]) throws(GearmanClientError) {
        try connection.send(.workData(handle: job.handle, data: bytes))
    }

    /// WORK_WARNING: a warning a waiting client sees.
    public func warning(_ job: GearmanJob, _ bytes: [UInt8]) throws(GearmanClientError) {
        try connection.send(.workWarning(handle: job.handle, data: bytes))
    }

    /// ECHO_REQ → ECHO_RES: a round trip that proves the connection (not while sleeping).
    public func echo(_ bytes: [UInt8]) throws(GearmanClientError) -> [UInt8] {
        try connection.send(.echoReq(bytes))
        while true {
            switch try connection.receive() {
            case .echoRes(let back): return back
            case .noop: isSleeping = false
            case .error(let code, let text): throw .serverError(code: code, text: text)
            case let other: throw .protocolError(.unexpectedPacket(other.packet.type))
            }
        }
    }
}
