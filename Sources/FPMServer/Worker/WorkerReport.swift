import FPMSystem

/// What a worker tells the master over its control channel (`ControlMessage` goes the other
/// way): which connections it keeps, so the master can hold a duplicate of each and keep a
/// hard-killed worker's idle ones alive (`KeptConnectionRegistry`). Fixed-size reports
/// (`KeptConnection.reportSize`), so a read of the stream never splits one; the encoding is
/// kept_handoff.c's, which the slow-request signal handler writes too.
package enum WorkerReport: Equatable, Sendable {
    /// The worker watches this connection (its descriptor number there) between requests; the
    /// master's copy of it arrived with the report.
    case kept(workerFD: Int32, peer: PeerAddress, connection: Int32)
    /// The worker passed it to the hand-off socket (reported just before): not its any more.
    case handedOn(workerFD: Int32)

    enum Code: UInt8 {
        case kept = 0x4B  // 'K'
        case handedOn = 0x48  // 'H'
    }

    /// Worker side: reports a kept connection, passing it. False when the channel is full (the
    /// connection is then only not protected against a hard kill).
    static func sendKept(_ fd: Int32, peer: PeerAddress, over channel: Int32) -> Bool {
        withUnsafeTemporaryAllocation(byteCount: HandoffMessage.payloadSize, alignment: 1) { payload in
            HandoffMessage.encode(peer, into: payload)
            return KeptConnection.report(over: channel, code: Code.kept.rawValue, fd: fd, payload: UnsafeRawBufferPointer(payload))
        }
    }

    /// Worker side: reports a connection about to be passed to the hand-off socket.
    static func sendHandedOn(_ fd: Int32, over channel: Int32) -> Bool {
        KeptConnection.report(over: channel, code: Code.handedOn.rawValue, fd: fd, payload: nil)
    }

    /// Master side: the next report, `.closed` at the channel's end (the worker is gone and
    /// everything it sent has been read), `.none` when nothing is waiting.
    enum Receipt: Equatable {
        case report(WorkerReport)
        case closed
        case none
    }

    static func receive(from channel: Int32) -> Receipt {
        withUnsafeTemporaryAllocation(byteCount: KeptConnection.reportSize, alignment: 4) { bytes in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: 4) { room in
                // A bad report is skipped (its descriptors closed), the next one read.
                for _ in 0..<64 {
                    let (result, count) = SocketIO.receive(channel, into: bytes, descriptors: room)
                    let descriptors = UnsafeBufferPointer(rebasing: room[0..<count])
                    switch result {
                    case .endOfStream:
                        descriptors.forEach(FileIO.close)
                        return .closed
                    case .wouldBlock:
                        return .none
                    case .bytes(let n):
                        if n == KeptConnection.reportSize, let report = decode(UnsafeRawBufferPointer(bytes), descriptors: descriptors) {
                            return .report(report)
                        }
                        descriptors.forEach(FileIO.close)
                    }
                }
                return .none
            }
        }
    }

    /// The report these bytes and descriptors make; nil when they make none.
    static func decode(_ bytes: UnsafeRawBufferPointer, descriptors: UnsafeBufferPointer<Int32>) -> WorkerReport? {
        guard bytes.count == KeptConnection.reportSize else { return nil }
        let fd = bytes.loadUnaligned(fromByteOffset: 1, as: Int32.self)
        switch Code(rawValue: bytes[0]) {
        case .kept where descriptors.count == 1:
            let peer = HandoffMessage.decode(UnsafeRawBufferPointer(rebasing: bytes[5..<(5 + HandoffMessage.payloadSize)]))
            return .kept(workerFD: fd, peer: peer, connection: descriptors[0])
        case .handedOn where descriptors.isEmpty:
            return .handedOn(workerFD: fd)
        default:
            return nil
        }
    }
}
