// One blocking connection to gearmand's binary port: packets out with one send each batch,
// packets in through the incremental parser, reading straight into its buffer. Timeouts come
// from the socket options; waits with a deadline poll first. Every socket call is FPMSystem's.

import FPMSystem
import Gearman

/// A connection carrying binary packets; the worker and the client are built on it.
public final class GearmanConnection {
    public let server: GearmanServerAddress
    private var fd: Int32
    private var parser: GearmanPacketParser
    /// Bytes not sent yet: what `enqueueEncoded` left for the next send or `flush` (one
    /// write for both: a worker's WORK_COMPLETE rides with its next GRAB_JOB_UNIQ).
    private var outbox: [UInt8] = []
    /// The most bytes one receive asks for beyond what the packet in progress needs.
    private static let receiveChunk = 64 * 1024

    /// Connects to `server`. `timeout` (seconds, 0: none) bounds the connect and every later
    /// send and blocking receive; `limits` bound what the server can make us buffer.
    public init(server: GearmanServerAddress, timeout: Double = 10, limits: GearmanLimits = GearmanLimits()) throws(GearmanClientError) {
        self.server = server
        self.parser = GearmanPacketParser(expecting: .response, limits: limits)
        do throws(ClientSocket.ConnectError) {
            fd = try ClientSocket.connect(host: server.host, port: server.port, timeout: timeout, bindAddress: nil)
        } catch {
            switch error {
            case .invalidPath: throw .invalidArgument("address \(server)")
            case .resolve(let host, let code): throw .resolve(host: host, code: code)
            case .system(let failure): throw .from(failure)
            }
        }
        // Small packets (WORK_COMPLETE, GRAB_JOB_UNIQ) must not wait for Nagle.
        Socket.setNoDelay(fd)
    }

    deinit { if fd >= 0 { FileIO.close(fd) } }

    /// The socket, for a caller that polls it along with its own descriptors; -1 once closed.
    public var fileDescriptor: Int32 { fd }

    /// Whether a whole response is already buffered (polling the socket would not show it).
    public var hasBufferedResponse: Bool { parser.bufferedCount > 0 && parser.bytesNeeded == 0 }

    /// Closes the connection. Idempotent.
    public func close() {
        if fd >= 0 { FileIO.close(fd) }
        fd = -1
    }

    // MARK: Sending

    /// Sends `requests` in one write, after whatever `enqueueEncoded` left waiting.
    public func send(_ requests: GearmanRequest...) throws(GearmanClientError) {
        try send(requests)
    }

    public func send(_ requests: [GearmanRequest]) throws(GearmanClientError) {
        for request in requests { request.packet.encode(into: &outbox) }
        try flush()
    }

    /// Lets `body` append encoded packets to what the next send or `flush` writes, sending
    /// nothing now: a report that needs no answer then costs no write of its own. The caller
    /// must flush before it waits on anything but this connection's next answer, and before
    /// it closes.
    public func enqueueEncoded(_ body: (inout [UInt8]) -> Void) {
        body(&outbox)
    }

    /// Whether `enqueueEncoded` left bytes that no write has carried yet.
    public var hasPendingOutput: Bool { !outbox.isEmpty }

    /// Sends bytes as they are (tests: garbage, split packets).
    public func sendRaw(_ bytes: [UInt8]) throws(GearmanClientError) {
        outbox.append(contentsOf: bytes)
        try flush()
    }

    /// Writes what is waiting (nothing when nothing is). The bytes are gone either way: after
    /// a failure the connection is lost and its reports with it (gearmand requeues the job).
    public func flush() throws(GearmanClientError) {
        guard !outbox.isEmpty else { return }
        guard fd >= 0 else { outbox.removeAll(keepingCapacity: true); throw .closed }
        let fd = self.fd
        let failure = outbox.withUnsafeBytes { raw -> SystemError? in
            do throws(SystemError) { try FileIO.sendAll(fd, raw); return nil } catch { return error }
        }
        // A large payload's buffer is not kept for the life of the connection.
        if outbox.capacity > 1 << 20 { outbox = [] } else { outbox.removeAll(keepingCapacity: true) }
        if let failure { throw .from(failure) }
    }

    // MARK: Receiving

    /// The next response, blocking up to the socket's receive timeout.
    public func receive() throws(GearmanClientError) -> GearmanResponse {
        while true {
            if let response = try buffered() { return response }
            try receiveOnce(during: "while a response was awaited")
        }
    }

    /// The next response if one arrives within `timeoutMillis` (0: only what is already
    /// readable, -1: no limit), nil otherwise.
    public func receive(timeoutMillis: Int32) throws(GearmanClientError) -> GearmanResponse? {
        let deadline = SystemClock.monotonicNanos() + Int(max(timeoutMillis, 0)) * 1_000_000
        while true {
            if let response = try buffered() { return response }
            let left = timeoutMillis < 0 ? -1 : SystemClock.millisecondsLeft(until: deadline, now: SystemClock.monotonicNanos())
            guard fd >= 0 else { throw .closed }
            guard SocketIO.waitReadable(fd, timeoutMillis: left) else { return nil }
            try receiveOnce(during: "while a response was awaited")
        }
    }

    private func buffered() throws(GearmanClientError) -> GearmanResponse? {
        do throws(GearmanError) {
            guard let packet = try parser.next() else { return nil }
            return try GearmanResponse(packet)
        } catch {
            throw .protocolError(error)
        }
    }

    /// One `recv` into the parser's buffer: enough for the packet in progress, at most one
    /// chunk more. EOF is an error here: every caller waits for a packet.
    private func receiveOnce(during: String) throws(GearmanClientError) {
        guard fd >= 0 else { throw .closed }
        let fd = self.fd
        let capacity = max(parser.bytesNeeded, Self.receiveChunk)
        var result: Result<SocketIO.Received, SystemError> = .success(.wouldBlock)
        _ = parser.fill(capacity: capacity) { buffer in
            do throws(SystemError) {
                let received = try SocketIO.receive(fd, into: buffer, wait: true)
                result = .success(received)
                if case .bytes(let n) = received { return n }
            } catch {
                result = .failure(error)
            }
            return 0
        }
        switch result {
        case .success(.bytes): return
        case .success(.endOfStream):
            if parser.bufferedCount > 0 { throw .protocolError(.truncated(buffered: parser.bufferedCount)) }
            throw .connectionClosed(during: during)
        case .success(.wouldBlock): throw .timedOut(call: "recv")
        case .failure(let error): throw .from(error)
        }
    }
}
