import FPMSystem

/// One idle kept connection on its way from a leaving worker to an idle sibling, over the
/// pool's hand-off socket (one self-connected datagram socket, `HandoffSocket`): the
/// descriptor travels as SCM_RIGHTS, the peer address beside it, so the adopter's access log
/// and status still name the client.
struct HandoffMessage: Equatable {
    var connection: Int32
    var peer: PeerAddress

    // The payload, encoded and decoded only here: a family byte (0 unix, 4 IPv4, 6 IPv6),
    // 16 address bytes (IPv4 in the first 4), the port big-endian.
    static let payloadSize = 19

    /// Sends it without blocking; false when the socket is full (the caller keeps the
    /// connection). The descriptor stays open here: the receiver gets its own.
    func send(over socket: Int32) -> Bool {
        withUnsafeTemporaryAllocation(byteCount: Self.payloadSize, alignment: 1) { payload in
            Self.encode(peer, into: payload)
            var fd = connection
            return withUnsafePointer(to: &fd) {
                SocketIO.send(socket, UnsafeRawBufferPointer(payload), passing: UnsafeBufferPointer(start: $0, count: 1))
            }
        }
    }

    /// The next connection waiting on the socket, or nil when none is. Extra descriptors are
    /// closed; a short payload (never sent by `send`) leaves the peer unknown (`unix`) rather
    /// than closing a connection the web server still uses.
    static func receive(from socket: Int32) -> HandoffMessage? {
        withUnsafeTemporaryAllocation(byteCount: payloadSize, alignment: 1) { payload in
            payload.initializeMemory(as: UInt8.self, repeating: 0)
            return withUnsafeTemporaryAllocation(of: Int32.self, capacity: 4) { room in
                let (_, count) = SocketIO.receive(socket, into: payload, descriptors: room)
                guard count >= 1 else { return nil }
                for extra in room[1..<count] { FileIO.close(extra) }
                return HandoffMessage(connection: room[0], peer: decode(UnsafeRawBufferPointer(payload)))
            }
        }
    }

    static func encode(_ peer: PeerAddress, into payload: UnsafeMutableRawBufferPointer) {
        payload.initializeMemory(as: UInt8.self, repeating: 0)
        switch peer.family {
        case .unix: payload[0] = 0
        case .ipv4: payload[0] = 4
        case .ipv6: payload[0] = 6
        }
        for (i, b) in peer.bytes.prefix(16).enumerated() { payload[1 + i] = b }
        payload[17] = UInt8(truncatingIfNeeded: peer.port >> 8)
        payload[18] = UInt8(truncatingIfNeeded: peer.port)
    }

    static func decode(_ payload: UnsafeRawBufferPointer) -> PeerAddress {
        let port = Int(payload[17]) << 8 | Int(payload[18])
        switch payload[0] {
        case 4: return PeerAddress(family: .ipv4, bytes: Array(payload[1...4]), port: port)
        case 6: return PeerAddress(family: .ipv6, bytes: Array(payload[1...16]), port: port)
        default: return PeerAddress(family: .unix, bytes: [], port: port)
        }
    }
}
