import FPMSystem

/// Messages the master sends a worker over their control socketpair (a unix stream socket).
package enum ControlMessage: Equatable, Sendable {
    /// Finish the request in hand, then exit (graceful stop without a signal interrupting handler code).
    case quit
    /// The master stops: finish the request in hand, serve the connections already waiting on
    /// the listener (they would be reset when it closes), then exit.
    case finish
    /// The pool's access log was reopened: take this descriptor over. (The error log never
    /// travels: a worker's lines reach it through the master, see `ErrorLog.forward`.)
    case reopenAccessLog(Int32)
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
// of `reopenAccessLog` travel with that byte as SCM_RIGHTS, so a stream socket
// cannot split a message from its descriptors.
extension ControlMessage {
    /// The code byte of each message ('Q', 'F', 'L': readable in strace).
    enum Code: UInt8 {
        case quit = 0x51
        case finish = 0x46
        case reopenAccessLog = 0x4C
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
        case .finish:
            code = Code.finish.rawValue
            count = 0
        case .reopenAccessLog(let accessLog):
            code = Code.reopenAccessLog.rawValue
            descriptors.0 = accessLog
            count = 1
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
        case .finish where descriptors.isEmpty:
            return .finish
        case .reopenAccessLog where descriptors.count == 1:
            return .reopenAccessLog(descriptors[0])
        default:
            return nil
        }
    }
}
