// gearmand's text port for monitoring: `status` (the backlog a job pool scales on),
// `workers`, `version`. A connection of its own: the text and binary protocols can share one,
// but a pool manager polling status should not sit in a worker's packet stream.

import FPMSystem
import Gearman

/// An admin connection to one job server.
public final class GearmanAdminConnection {
    public let server: GearmanServerAddress
    private var fd: Int32
    private var reader: GearmanAdminReader

    public init(server: GearmanServerAddress, timeout: Double = 10, limits: GearmanLimits = GearmanLimits()) throws(GearmanClientError) {
        self.server = server
        self.reader = GearmanAdminReader(limits: limits)
        do throws(ClientSocket.ConnectError) {
            fd = try ClientSocket.connect(host: server.host, port: server.port, timeout: timeout, bindAddress: nil)
        } catch {
            switch error {
            case .invalidPath: throw .invalidArgument("address \(server)")
            case .resolve(let host, let code): throw .resolve(host: host, code: code)
            case .system(let failure): throw .from(failure)
            }
        }
    }

    deinit { if fd >= 0 { FileIO.close(fd) } }

    public func close() {
        if fd >= 0 { FileIO.close(fd) }
        fd = -1
    }

    /// Per function: jobs queued or running, running, capable workers.
    public func status() throws(GearmanClientError) -> [GearmanFunctionStatus] {
        let lines = try list(.status)
        do throws(GearmanError) { return try GearmanFunctionStatus.parse(lines) } catch { throw .from(error) }
    }

    /// Every connection, with the functions its worker registered.
    public func workers() throws(GearmanClientError) -> [GearmanWorkerStatus] {
        let lines = try list(.workers)
        do throws(GearmanError) { return try GearmanWorkerStatus.parse(lines) } catch { throw .from(error) }
    }

    /// The server's version string (`1.1.20+ds`).
    public func version() throws(GearmanClientError) -> String {
        try reply(.version)
    }

    /// Sends `command` and reads its list answer.
    public func list(_ command: GearmanAdminCommand) throws(GearmanClientError) -> [String] {
        try send(command)
        while true {
            do throws(GearmanError) {
                if let lines = try reader.nextList() { return lines }
            } catch {
                throw .from(error)
            }
            try receive(command)
        }
    }

    /// Sends `command` and reads its one-line answer (after `OK `).
    public func reply(_ command: GearmanAdminCommand) throws(GearmanClientError) -> String {
        try send(command)
        while true {
            do throws(GearmanError) {
                if let text = try reader.nextReply() { return text }
            } catch {
                throw .from(error)
            }
            try receive(command)
        }
    }

    private func send(_ command: GearmanAdminCommand) throws(GearmanClientError) {
        guard fd >= 0 else { throw .closed }
        let fd = self.fd
        let failure = command.line.withUnsafeBytes { raw -> SystemError? in
            do throws(SystemError) { try FileIO.sendAll(fd, raw); return nil } catch { return error }
        }
        if let failure { throw .from(failure) }
    }

    private func receive(_ command: GearmanAdminCommand) throws(GearmanClientError) {
        guard fd >= 0 else { throw .closed }
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let fd = self.fd
        let received = chunk.withUnsafeMutableBytes { buffer -> Result<SocketIO.Received, SystemError> in
            do throws(SystemError) { return .success(try SocketIO.receive(fd, into: buffer, wait: true)) } catch { return .failure(error) }
        }
        switch received {
        case .success(.bytes(let n)): reader.append(chunk[0..<n])
        case .success(.endOfStream): throw .connectionClosed(during: "before the answer to \(command)")
        case .success(.wouldBlock): throw .timedOut(call: "recv")
        case .failure(let error): throw .from(error)
        }
    }
}
