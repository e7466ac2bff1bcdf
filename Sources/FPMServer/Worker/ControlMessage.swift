import FPMSystem

/// Messages the master sends a worker over their control socketpair (a unix stream socket).
package enum ControlMessage: Equatable, Sendable {
    /// Finish the request in hand, then exit (graceful stop without a signal interrupting handler code).
    case quit
    /// The error log (and the pool's access log) were reopened: take these descriptors over.
    case reopenLogs(errorLog: Int32, accessLog: Int32?)
}

/// What one non-blocking receive on the control channel found.
package enum ControlReceipt: Equatable, Sendable {
    case message(ControlMessage)
    /// EOF: the master is gone.
    case closed
    /// Nothing (complete) to read now.
    case none
}

// The wire format, encoded and decoded only here: one code byte per message; the descriptors
// of `reopenLogs` travel with that byte as SCM_RIGHTS (error log first), so a stream socket
// cannot split a message from its descriptors.
extension ControlMessage {
    /// The code byte of each message ('Q', 'L': readable in strace).
    enum Code: UInt8 {
        case quit = 0x51
        case reopenLogs = 0x4C
    }

    /// Sends without blocking (MSG_DONTWAIT|MSG_NOSIGNAL); false when it could not be sent.
    package func send(over channel: Int32) -> Bool {
        var code: UInt8
        var descriptors: (Int32, Int32) = (-1, -1)
        let count: Int
        switch self {
        case .quit:
            code = Code.quit.rawValue
            count = 0
        case .reopenLogs(let errorLog, let accessLog):
            code = Code.reopenLogs.rawValue
            descriptors.0 = errorLog
            if let accessLog { descriptors.1 = accessLog }
            count = accessLog == nil ? 1 : 2
        }
        return withUnsafeBytes(of: &code) { payload in
            withUnsafeBytes(of: &descriptors) { raw in
                SocketIO.send(channel, payload, passing: UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: Int32.self), count: count))
            }
        }
    }

    /// Receives one message without blocking.
    package static func receive(from channel: Int32) -> ControlReceipt {
        var code: UInt8 = 0
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: 4) { room in
            let (result, count) = withUnsafeMutableBytes(of: &code) { SocketIO.receive(channel, into: $0, descriptors: room) }
            let descriptors = UnsafeBufferPointer(rebasing: room[0..<count])
            switch result {
            case .endOfStream:
                descriptors.forEach(FileIO.close)
                return .closed
            case .wouldBlock:
                return .none
            case .bytes:
                if let message = decode(code: code, descriptors: descriptors) { return .message(message) }
                // Unknown, or without the descriptors its code needs: dropped, leaking nothing.
                descriptors.forEach(FileIO.close)
                return .none
            }
        }
    }

    /// The message a code byte and its descriptors stand for; nil when they do not make one.
    static func decode(code: UInt8, descriptors: UnsafeBufferPointer<Int32>) -> ControlMessage? {
        switch Code(rawValue: code) {
        case .quit where descriptors.isEmpty:
            return .quit
        case .reopenLogs where descriptors.count == 1:
            return .reopenLogs(errorLog: descriptors[0], accessLog: nil)
        case .reopenLogs where descriptors.count == 2:
            return .reopenLogs(errorLog: descriptors[0], accessLog: descriptors[1])
        default:
            return nil
        }
    }
}
