import FPMSystem
import Gearman

/// The master's question to gearmand about a job pool's backlog, without ever blocking its
/// loop: a non-blocking connect to gearmand's port, `status\n` once it is writable, the answer
/// read as it comes until the `.` line, all driven by the master's epoll, with a deadline. One
/// query per job pool at a time, one per pm tick; with several servers, one server per tick in
/// turn (the pool's backlog is the sum of each server's last answer).
final class BacklogQuery {
    enum Stage { case connecting, reading }

    let server: Int
    /// Owned until `close()`, which the master calls when the query ends.
    private var socket: OwnedDescriptor?
    let fd: Int32
    var stage: Stage
    let deadline: Int
    var reader = GearmanAdminReader()

    init(server: Int, fd: Int32, deadline: Int) {
        self.server = server
        self.socket = OwnedDescriptor(owning: fd)
        self.fd = fd
        // Connected at once or not, the first step checks the connect's outcome and sends
        // `status` (SO_ERROR is 0 on a connected socket).
        self.stage = .connecting
        self.deadline = deadline
    }

    /// Closes the socket (once).
    func close() { socket.take()?.close() }

    /// What one step found.
    enum Step: Equatable {
        /// Waiting for the socket again, for these epoll events.
        case wait(events: UInt32)
        /// gearmand's answer: every function's status.
        case answered([GearmanFunctionStatus])
        case failed(String)
    }

    /// `status\n` is 7 bytes: a fresh socket's buffer takes it in one send.
    static let request = GearmanAdminCommand.status.line

    /// The socket is ready (or was connected at once): goes as far as it can without blocking.
    func step() -> Step {
        if stage == .connecting {
            if let error = NonBlockingConnect.outcome(fd) { return .failed("\(error)") }
            stage = .reading
            do {
                let sent = try Self.request.withUnsafeBytes { buffer throws(SystemError) in try SocketIO.sendSome(fd, buffer) }
                guard sent == Self.request.count else { return .failed("send: the status command did not fit") }
            } catch {
                return .failed("\(error)")
            }
            return .wait(events: Epoll.input)
        }
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let received: SocketIO.Received
            do {
                received = try chunk.withUnsafeMutableBytes { buffer throws(SystemError) in try SocketIO.receive(fd, into: buffer, wait: false) }
            } catch {
                return .failed("\(error)")
            }
            switch received {
            case .bytes(let n):
                reader.append(chunk[0..<n])
                do {
                    if let lines = try reader.nextList() { return .answered(try GearmanFunctionStatus.parse(lines)) }
                } catch {
                    return .failed("\(error)")
                }
            case .wouldBlock:
                return .wait(events: Epoll.input)
            case .endOfStream:
                return .failed("gearmand closed the connection before the end of its answer")
            }
        }
    }

    /// A pool's backlog in `answer`: queued minus running, summed over the pool's functions.
    static func backlog(in answer: [GearmanFunctionStatus], functions: [String]) -> Int {
        answer.filter { functions.contains($0.function) }.reduce(0) { $0 + $1.waiting }
    }
}
